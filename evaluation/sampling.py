"""Videos to score: sampled from a trained generator's snapshot, or drawn
from a dataset, in batches on the chosen device, with a progress line."""
import os
import sys

import chainer
import numpy

import config as config_lib
import datasets
import models
from errors import UsageError

# per-model files: ours (train.py) and the original pfnet-research/tgan's
SNAPSHOT_NAMES = (('temporal_generator_iter_{}.npz', 'image_generator_iter_{}.npz'),
                  ('gen_iter_{}.npz', 'vgen_iter_{}.npz'))


def load_generator(result, iteration, config=None):
    """The video generator of ``result`` at ``iteration`` (train=False use).

    The network is described by ``config`` (a preset name or YAML file) or
    else by ``result/config.yaml``; its weights come from the per-model files
    ``temporal_generator_iter_N.npz`` + ``image_generator_iter_N.npz``, or the
    original code's ``gen_iter_N.npz`` + ``vgen_iter_N.npz``.
    ``iteration`` None: the latest. Returns (generator, config, [weight files], iteration).
    """
    if not os.path.isdir(result):
        raise UsageError('--result {}: no such folder'.format(result))
    if iteration is None:
        iteration = latest_iteration(result)
        if iteration is None:
            raise UsageError('no generator snapshots (image_generator_iter_N.npz or '
                             'vgen_iter_N.npz) in {}'.format(result))
    if config is None:
        config = os.path.join(result, 'config.yaml')
        if not os.path.isfile(config):
            raise UsageError('{} not found: give the network\'s preset with --config (e.g. '
                             '--config ucf101_svc for an original TGAN result)'.format(config))
    config = config_lib.load(config)
    for names in SNAPSHOT_NAMES:
        files = [os.path.join(result, n.format(iteration)) for n in names]
        if all(os.path.isfile(f) for f in files):
            break
    else:
        raise UsageError('no generator snapshot for iteration {} in {}: expected {} (latest '
                         'iteration there: {})'.format(iteration, result, ' + '.join(
                             n.format(iteration) for n in SNAPSHOT_NAMES[0]),
                             latest_iteration(result)))
    generator = models.build_generator(config)
    for link, path in zip((generator.temporal_generator, generator.image_generator), files):
        try:
            chainer.serializers.load_npz(path, link)
        except (KeyError, ValueError) as e:
            raise UsageError('{} does not fit the network of the config ({}): '
                             'pass the preset it was trained with via --config'.format(
                                 path, str(e).splitlines()[0][:200]))
    return generator, config, files, iteration


def dataset_description(config):
    """What a classifier (or cached statistics) depends on in a config."""
    return {key: config[key] for key in ('dataset', 'frames', 'size', 'channels',
                                         'dataset_args')}


def make(description, data, seed):
    """The dataset a description (``dataset_description``) names, reading ``data``."""
    d = description
    return datasets.make_dataset(d['dataset'], data, d['frames'], d['size'], d['channels'],
                                 seed=seed, **d['dataset_args'])


class Progress:
    """Progress on stderr: one line rewritten in a terminal, else a line per 10%."""

    def __init__(self, label, total):
        self.label, self.total, self.done = label, total, 0
        self.tty = sys.stderr.isatty()

    def update(self, n):
        before, self.done = self.done, self.done + n
        if self.tty:
            print('\r{}: {}/{} videos'.format(self.label, self.done, self.total),
                  end='\n' if self.done >= self.total else '', file=sys.stderr, flush=True)
        elif before * 10 // self.total != self.done * 10 // self.total:
            print('{}: {}/{} videos'.format(self.label, self.done, self.total),
                  file=sys.stderr, flush=True)


def generated(generator, n, batchsize, seed, label='sampling'):
    """Yield ``n`` videos (xp arrays, (B, C, T, H, W) in [-1, 1]) in batches,
    z0 drawn from numpy.random.RandomState(seed), BN with running statistics."""
    rng, progress = numpy.random.RandomState(seed), Progress(label, n)
    for start in range(0, n, batchsize):
        b = min(batchsize, n - start)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            videos = generator(generator.make_hidden(b, rng)).array
        progress.update(b)
        yield videos


def from_dataset(dataset, n, batchsize, seed, device, label='real videos'):
    """Yield ``n`` clips of ``dataset`` in batches on ``device``: a random
    choice by ``seed``, without replacement unless ``n`` exceeds the set."""
    if len(dataset) == 0:
        raise UsageError('the dataset is empty')
    rng, progress = numpy.random.RandomState(seed), Progress(label, n)
    order = rng.choice(len(dataset), n, replace=n > len(dataset))
    for start in range(0, n, batchsize):
        clips = numpy.stack([dataset[int(i)] for i in order[start:start + batchsize]])
        progress.update(len(clips))
        yield device.send(clips)


def latest_iteration(result):
    """The highest iteration with a generator snapshot in ``result``, or None."""
    found = [int(f.rsplit('_', 1)[1][:-4]) for f in os.listdir(result)
             if f.startswith(('image_generator_iter_', 'vgen_iter_')) and f.endswith('.npz')]
    return max(found) if found else None
