"""Does a conditional TGAN (paper §5.2) make the class it is asked for? The
classifier of the scores (C3D, or the offline classifier) labels ``--n``
videos generated for each class; the confusion matrix and the fraction
classified as their own label are printed (chance: 1 / classes):

    python -m evaluation.label_accuracy --result DIR --classifier classifier.npz
    python -m evaluation.label_accuracy --result DIR --c3d conv3d_deepnetA_ucf.npz --mean mean2.npz

The classifier's classes must be the run's, in the same order (classInd.txt
order for UCF-101 and C3D; the synthetic shapes for the offline classifier).
Class k's videos use z0 from numpy.random.RandomState(seed + k).
"""
import argparse

from runtime import chainer_compat  # noqa: F401  (before chainer)
import numpy

import datasets
from runtime.devices import get_device
from runtime.errors import UsageError, run_command
from evaluation import generation, sampling, snapshots
from evaluation.metrics.inception_score import PROTOCOLS, InceptionScore, classify


def confusion(generator, classifier, preprocess, mean, n, batchsize, seed, device):
    """(classes, classifier classes) counts: row k = predictions for videos of class k."""
    rows = []
    for k in range(generator.n_classes):
        z, labels = generation.draw(generator, n, seed + k, classes=[k])
        videos = generation.generate(generator, z, labels, batchsize=batchsize)
        probs, _ = classify((device.send(videos[i:i + batchsize])
                             for i in range(0, n, batchsize)), classifier, preprocess, mean)
        rows.append(numpy.bincount(probs.argmax(axis=1), minlength=probs.shape[1]))
    return numpy.stack(rows)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--result', required=True, help='a conditional run\'s result folder')
    p.add_argument('--iteration', type=int, help='snapshot iteration (default: the latest)')
    p.add_argument('--classifier', metavar='NPZ', help='the offline classifier')
    p.add_argument('--c3d', metavar='NPZ', help='C3D weights, conv3d_deepnetA_ucf.npz')
    p.add_argument('--mean', metavar='NPZ', help='C3D mean clip, mean2.npz')
    p.add_argument('--protocol', choices=sorted(PROTOCOLS),
                   help='the preprocessing (default: tgan with C3D, offline otherwise)')
    p.add_argument('--n', type=int, default=256, help='videos per class (default 256)')
    p.add_argument('--batchsize', type=int)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--gpu', type=int, default=-1, help='GPU id, -1 for CPU (default)')
    args = p.parse_args(argv)
    args.frechet, args.c3d_dropout = None, False
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.n < 1:
        raise UsageError('--n must be at least 1, got {}'.format(args.n))
    if args.batchsize is not None and args.batchsize < 1:
        raise UsageError('--batchsize must be at least 1, got {}'.format(args.batchsize))
    device = get_device(args.gpu)
    generator, config, _, iteration = snapshots.load_generator(args.result, args.iteration)
    if not generator.n_classes:
        raise UsageError('the generator of {} is unconditional: label accuracy is for a '
                         'conditional run (train.py --conditional)'.format(args.result))
    names, _ = datasets.load_classes(args.result)
    generator.to_device(device)
    scorer = InceptionScore(args, args.protocol and PROTOCOLS[args.protocol], device)
    scorer.check_fits(sampling.dataset_description(config))
    protocol = scorer.protocol
    counts = confusion(generator, scorer.classifier, protocol.preprocess, scorer.mean, args.n,
                       args.batchsize or protocol.batchsize, args.seed, device)
    if counts.shape[1] < len(names):
        raise UsageError('the classifier knows {} classes, the run {}: they must be the same '
                         'classes in the same order'.format(counts.shape[1], len(names)))
    print('{} iteration {}: {} videos per class; rows: the label asked for, columns: the '
          'classifier\'s class'.format(args.result, iteration, args.n))
    for name, row in zip(names, counts):
        print('{:>24} {}'.format(name[:24], ' '.join('{:5d}'.format(c) for c in row)))
    accuracy = numpy.trace(counts[:, :len(names)]) / counts.sum()
    print('label accuracy {:.3f} (chance {:.3f})'.format(accuracy, 1 / len(names)))
    return 0


if __name__ == '__main__':
    run_command(main)
