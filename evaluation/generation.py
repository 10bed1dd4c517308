"""Videos to look at from a trained generator (generate.py): latents from a
seed, labels by class name or from the training prior (conditional TGAN,
paper §5.2), a linear path between two latents, and more frames per video
by frame interpolation (paper §5.1)."""
import difflib
import inspect

import chainer
import numpy

import datasets
from runtime.errors import UsageError
from models.common import one_hot


def class_ids(requested, names):
    """Class names (matched ignoring case) -> 0-based ids, or a one-line
    error listing the known names (the closest few when there are many)."""
    lower = {}
    for i, name in enumerate(names):
        lower.setdefault(name.lower(), i)
    ids = []
    for name in requested:
        i = names.index(name) if name in names else lower.get(name.lower())
        if i is None:
            if len(names) <= 10:
                known = 'the classes are {}'.format(', '.join(names))
            else:
                close = difflib.get_close_matches(name.lower(), list(lower), n=5, cutoff=0.4)
                known = '{}{} classes in all'.format(
                    'closest: {}; '.format(', '.join(names[lower[c]] for c in close))
                    if close else '', len(names))
            raise UsageError('--class {}: no such class ({})'.format(name, known))
        ids.append(i)
    return ids


def conditioning(generator, result, requested=None):
    """(class ids asked for or None, training class counts or None) of the
    run in ``result``: both None for an unconditional generator."""
    if not generator.n_classes:
        if requested:
            raise UsageError('--class: the generator of {} is unconditional; it takes no '
                             'labels'.format(result))
        return None, None
    names, counts = datasets.load_classes(result)
    if len(names) != generator.n_classes:
        raise UsageError('{}/classes.json lists {} classes but the generator has {}: give the '
                         'result folder the snapshot was trained in'.format(
                             result, len(names), generator.n_classes))
    return (class_ids(requested, names) if requested else None), counts


def has_frame_interpolation(generator):
    """Whether the generator's ``forward`` takes ``frame_factor`` (TGAN's)."""
    return 'frame_factor' in inspect.signature(generator.forward).parameters


def draw(generator, n, seed, steps=None, classes=None, prior=None):
    """Latents and labels from numpy.random.RandomState(seed), in this order:
    z_a for ``n`` rows, then (with ``steps``) z_b for the rows, then (for a
    conditional generator without ``classes``) one label per row from
    ``prior`` (class counts). Row i has label ``classes[i % len(classes)]``
    when classes are given. Without ``steps`` a row is one video; with it,
    row i is ``steps`` videos whose z goes linearly from z_a[i] to z_b[i]
    (both ends included). Returns (z (n*steps, z_dim) on the generator's
    device, labels (n*steps,) numpy ints or None), videos row by row."""
    rng = numpy.random.RandomState(seed)
    z = generator.make_hidden(n, rng)
    if steps is not None:
        z_b, xp = generator.make_hidden(n, rng), generator.xp
        weight = xp.linspace(0, 1, steps, dtype=numpy.float32)[None, :, None]
        z = ((1 - weight) * z[:, None] + weight * z_b[:, None]).reshape(n * steps, -1)
    labels = None
    if generator.n_classes:
        if classes:
            labels = numpy.resize(numpy.asarray(classes), n)
        else:
            prior = numpy.asarray(prior, numpy.float64)
            labels = rng.choice(generator.n_classes, n, p=prior / prior.sum())
        labels = numpy.repeat(labels, steps or 1)
    return z, labels


def generate(generator, z, labels=None, frame_factor=1, batchsize=16):
    """Videos (N, C, T', H, W) in [-1, 1] as a numpy array, in batches, with
    BN's running statistics; T' = frame_factor * T (frame interpolation)."""
    if frame_factor != 1 and not has_frame_interpolation(generator):
        raise UsageError('--frame-factor {}: the {} has no frame interpolation (paper §5.1 '
                         'is TGAN\'s temporal generator); leave --frame-factor out'.format(
                             frame_factor, type(generator).__name__))
    extra = {'frame_factor': frame_factor} if frame_factor != 1 else {}
    videos = []
    for start in range(0, len(z), batchsize):
        condition = None if labels is None else one_hot(
            labels[start:start + batchsize], generator.n_classes, generator.xp)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            batch = generator(z[start:start + batchsize], condition, **extra).array
        videos.append(chainer.backend.CpuDevice().send(batch))
    return numpy.concatenate(videos)
