"""Datasets: each yields (C, T, H, W) clips (docs/design.md §3). The real videos come
as the uint8 they are stored in, often as read-only views of the store: the
loader and the transfer to the device move 4x fewer bytes and the batch is
gathered in one copy (UCF-101 on the 2-core machine, benchmarks/bench_loading.py:
5,069 clips/s as float32 clips, 30,164 as uint8 views). The synthetic set
yields float32 in [-1, 1]. ``to_float`` maps a batch of either to float32 in
[-1, 1] on its device; ``converter``, which train.py hands to the updater,
gathers a batch on the device and calls it, and so does the evaluation."""
import inspect
import os

from runtime import chainer_compat  # noqa: F401
import numpy
import chainer
from chainer import backend

from runtime.errors import UsageError
from datasets.labeled import Labeled, load_classes, n_classes, save_classes  # noqa: F401

NAMES = ('synthetic', 'moving_mnist', 'ucf101', 'golf')

# Files each real dataset needs under its --data folder, and how to get them.
_REQUIRED = {
    'moving_mnist': (['mnist_test_seq.npy'],
                     'download mnist_test_seq.npy (Srivastava et al., see README "Data") into it '
                     'or generate it from MNIST with `python -m datasets.make_moving_mnist '
                     '--mnist DIR --out {path}/mnist_test_seq.npy`'),
    'ucf101': (['index.json'],
               'prepare it from the official videos with `python -m datasets.prepare_ucf101 '
               '--videos UCF-101/ --splits ucfTrainTestlist/ --split 1 --out {path}` (README "Data")'),
    'golf': (['golf.txt'],
             'download the golf clips of Vondrick et al. and their list file (README "Data")'),
}


def to_float(clips):
    """Clips (a batch or one) as float32 in [-1, 1] on their own device:
    uint8 values x become (x - 128) / 128 (docs/design.md §3); float32 comes back
    as it is."""
    if clips.dtype != numpy.uint8:
        return clips
    xp = backend.get_array_module(clips)
    out = xp.subtract(clips, 128, dtype=xp.float32)
    out *= 1 / 128
    return out


@chainer.dataset.converter()
def converter(batch, device=None):
    """The updaters' batch conversion: the examples gathered on ``device``
    (``concat_examples``), their clips as float32 in [-1, 1] (``to_float``);
    a labelled batch gives (clips, labels)."""
    arrays = chainer.dataset.concat_examples(batch, device)
    if isinstance(arrays, tuple):
        return (to_float(arrays[0]),) + arrays[1:]
    return to_float(arrays)


def default_path(name):
    return os.path.join('data', name)


def make_dataset(name, path, frames, size, channels, seed=0, **args):
    """The training set named ``name``, reading its files from ``path``."""
    if name not in NAMES:
        raise UsageError('unknown dataset {!r}: choose one of {}'.format(name, ', '.join(NAMES)))
    if name == 'synthetic':
        from datasets.synthetic import SyntheticMovingShapes
        _check_args(SyntheticMovingShapes, args, name)
        dataset = SyntheticMovingShapes(frames=frames, size=size, channels=channels,
                                        seed=seed, **args)
    else:
        dataset = _make_real(name, path, frames, size, seed, args)
    shape = dataset[0].shape
    if shape != (channels, frames, size, size):
        raise UsageError('{} clips are {} but the config asks for (channels, frames, size, size) '
                         '= {}: set channels/frames/size to match'.format(
                             name, shape, (channels, frames, size, size)))
    return dataset


def _check_args(cls, args, name):
    valid = set(inspect.signature(cls).parameters) - {'path', 'frames', 'size', 'channels', 'seed'}
    unknown = sorted(set(args) - valid)
    if unknown:
        raise UsageError('unknown dataset_args key(s) for {}: {}; valid keys: {}'.format(
            name, ', '.join(unknown), ', '.join(sorted(valid))))


def _make_real(name, path, frames, size, seed, args):
    files, how = _REQUIRED[name]
    missing = [f for f in files if not os.path.isfile(os.path.join(path, f))]
    if missing:
        raise UsageError('{} data not found: {} missing in {}/; {}'.format(
            name, ', '.join(missing), path.rstrip('/'), how.format(path=path)))
    if name == 'moving_mnist':
        from datasets.moving_mnist import MovingMNIST
        _check_args(MovingMNIST, args, name)
        return MovingMNIST(os.path.join(path, files[0]), frames, seed, **args)
    if name == 'ucf101':
        from datasets.ucf101 import UCF101 as cls
    else:
        from datasets.golf import Golf as cls
    _check_args(cls, args, name)
    return cls(path, frames=frames, size=size, seed=seed, **args)
