"""Videos to score: sampled from a trained generator (``evaluation.snapshots``
loads it), or drawn from a dataset, in batches on the chosen device, with a
progress line."""
import sys

import chainer
import numpy

import datasets
from runtime.errors import UsageError
from models.common import one_hot


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


def generated(generator, n, batchsize, seed, label='sampling', prior=None):
    """Yield ``n`` videos (xp arrays, (B, C, T, H, W) in [-1, 1]) in batches,
    z0 drawn from numpy.random.RandomState(seed), BN with running statistics.
    A conditional generator's labels are drawn from ``prior`` (class counts
    or probabilities: the training class prior, as the paper's §5.2 score)."""
    rng, progress = numpy.random.RandomState(seed), Progress(label, n)
    if generator.n_classes:
        prior = numpy.asarray(prior, numpy.float64)
        prior = prior / prior.sum()
    for start in range(0, n, batchsize):
        b = min(batchsize, n - start)
        z = generator.make_hidden(b, rng)
        condition = None if not generator.n_classes else one_hot(
            rng.choice(generator.n_classes, b, p=prior), generator.n_classes, generator.xp)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            videos = generator(z, condition).array
        progress.update(b)
        yield videos


def from_dataset(dataset, n, batchsize, seed, device, label='real videos', as_stored=False,
                 first=False):
    """Yield ``n`` clips of ``dataset`` in batches on ``device``: a random
    choice by ``seed``, without replacement unless ``n`` exceeds the set
    (``first``: the first ``n`` clips, in the set's order). Clips as float32
    in [-1, 1] (``datasets.to_float``), or ``as_stored`` (a real set's uint8)."""
    if len(dataset) == 0:
        raise UsageError('the dataset is empty')
    rng, progress = numpy.random.RandomState(seed), Progress(label, n)
    if first and n <= len(dataset):
        order = numpy.arange(n)
    else:
        order = rng.choice(len(dataset), n, replace=n > len(dataset))
    for start in range(0, n, batchsize):
        clips = device.send(numpy.stack([dataset[int(i)] for i in order[start:start + batchsize]]))
        progress.update(len(clips))
        yield clips if as_stored else datasets.to_float(clips)
