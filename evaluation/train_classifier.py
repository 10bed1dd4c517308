"""Train the offline video classifier on a labelled dataset (the synthetic set):

    python -m evaluation.train_classifier --config results/demo_shapes/config.yaml \
        --out results/classifier_synthetic.npz

The dataset is the one a config describes (a preset name or YAML file, such as
a result folder's ``config.yaml``, plus ``--set KEY=VALUE``); the classifier
learns its ``labels`` (for the synthetic set: the kind of shape). Accuracy is
measured on clips of another seed and stored in the file with the dataset's
description, which ``evaluate.py --classifier`` checks against the videos.
"""
import argparse

from runtime import chainer_compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import numpy
import yaml

import configs
import datasets
from runtime.devices import get_device
from runtime.errors import UsageError, run_command
from evaluation.offline import save_classifier
from evaluation.sampling import dataset_description, make
from models.video_classifier import VideoClassifier


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default='synthetic_svc',
                   help='preset name or YAML file describing the dataset (default synthetic_svc)')
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                   help='override a config key, as in train.py (repeatable)')
    p.add_argument('--out', default='results/classifier_synthetic.npz')
    p.add_argument('--iterations', type=int, default=600)
    p.add_argument('--batchsize', type=int, default=32)
    p.add_argument('--ch', type=int, default=16, help='width of the first convolution')
    p.add_argument('--lr', type=float, default=1e-3, help='Adam step size')
    p.add_argument('--val-clips', type=int, default=512, help='clips to measure accuracy on')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--gpu', type=int, default=-1)
    return p.parse_args(argv)


def batch(dataset, indices, device):
    x = numpy.stack([dataset[int(i)] for i in indices])
    return datasets.to_float(device.send(x)), device.send(numpy.asarray(dataset.labels)[indices])


def accuracy(model, dataset, n, batchsize, device):
    model.layer_names = 'prob'
    correct = 0
    for start in range(0, n, batchsize):
        x, t = batch(dataset, numpy.arange(start, min(start + batchsize, n)), device)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            correct += int((model(x).array.argmax(axis=1) == t).sum())
    return correct / n


def main(argv=None):
    args = parse_args(argv)
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition('=')
        if not sep:
            raise UsageError('--set {!r}: expected KEY=VALUE'.format(item))
        overrides[key] = yaml.safe_load(value)
    config = configs.load(args.config, overrides)
    data = config['data'] or datasets.default_path(config['dataset'])
    description = dataset_description(config)
    train, val = make(description, data, args.seed), make(description, data, args.seed + 1)
    if not hasattr(train, 'labels'):
        raise UsageError('the {} dataset has no labels to train a classifier on'.format(
            config['dataset']))
    VideoClassifier.check_input(config['frames'], config['size'])
    n_classes = int(numpy.max(train.labels)) + 1
    device = get_device(args.gpu)
    numpy.random.seed(args.seed)
    model = VideoClassifier(n_classes, config['channels'], args.ch, layer_names='fc5')
    model.to_device(device)
    optimizer = chainer.optimizers.Adam(alpha=args.lr)
    optimizer.setup(model)
    rng = numpy.random.RandomState(args.seed)
    for it in range(1, args.iterations + 1):
        x, t = batch(train, rng.randint(len(train), size=args.batchsize), device)
        logits = model(x)
        loss = F.softmax_cross_entropy(logits, t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        if it % 50 == 0 or it == args.iterations:
            print('iteration {}: loss {:.4f}, batch accuracy {:.3f}'.format(
                it, float(loss.array), float(F.accuracy(logits, t).array)), flush=True)
    val_accuracy = accuracy(model, val, min(args.val_clips, len(val)), args.batchsize, device)
    model.layer_names = 'prob'
    meta = {'n_classes': n_classes, 'in_channels': config['channels'], 'ch': args.ch,
            'dataset': description, 'val_accuracy': val_accuracy,
            'iterations': args.iterations, 'seed': args.seed}
    save_classifier(args.out, model, meta)
    print('validation accuracy {:.3f} on {} clips of seed {}; saved {}'.format(
        val_accuracy, min(args.val_clips, len(val)), args.seed + 1, args.out))
    return 0


if __name__ == '__main__':
    run_command(main)
