"""Moving MNIST (Srivastava et al. 2015): the canonical ``mnist_test_seq.npy``
and its generation from MNIST digits (docs/design.md §3)."""
import gzip
import os

import chainer
import numpy

from datasets._draws import Draws
from runtime.errors import UsageError
from runtime.npz import NpzError, read_arrays

DIGIT = 28  # MNIST digits are 28 x 28
MAX_DIGITS = 300000  # MNIST has 70,000 digits, EMNIST 280,000: a file claiming more is not one


class MovingMNIST(chainer.dataset.DatasetMixin):
    """Random ``frames``-long windows of the (20, 10000, 64, 64) uint8 sequences,
    time first: uint8 (1, frames, 64, 64), a read-only view of the file
    (``datasets.to_float`` maps it to [-1, 1]).

    The windows are a function of (seed, index, how often the index was
    drawn): see ``_draws``.
    """

    def __init__(self, path, frames=16, seed=0):
        try:
            data = numpy.load(path, mmap_mode='r', allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UsageError('{}: not a .npy file ({}): download mnist_test_seq.npy again or '
                             'generate it with `python -m datasets.make_moving_mnist`'.format(
                                 path, str(e).splitlines()[0]))
        if data.dtype != numpy.uint8 or data.ndim != 4 or data.shape[0] < frames:
            raise UsageError(
                '{}: expected uint8 (time >= {}, sequences, H, W) like mnist_test_seq.npy, '
                'got {} {}'.format(path, frames, data.dtype, data.shape))
        self.data, self.frames = data, frames
        self.draws = Draws(data.shape[1], seed)

    def __len__(self):
        return self.data.shape[1]

    def serialize(self, serializer):
        self.draws.serialize(serializer)

    def get_example(self, i):
        start = self.draws.rng(i).integers(self.data.shape[0] - self.frames + 1)
        return self.data[None, start:start + self.frames, i]


def read_digits(path, subset='train'):
    """MNIST images as uint8 (n, 28, 28) from ``mnist.npz`` (arrays x_train,
    x_test) or the IDX files ``<train|t10k>-images-idx3-ubyte[.gz]``; ``path``
    is such a file or the folder that holds it."""
    if not os.path.exists(path):
        raise UsageError('{}: no such file or folder: give --mnist the MNIST IDX files\' folder '
                         'or mnist.npz'.format(path))
    if os.path.isdir(path):
        names = ['mnist.npz'] + ['{}-images{}idx3-ubyte{}'.format(
            'train' if subset == 'train' else 't10k', sep, gz)
            for sep in ('-', '.') for gz in ('', '.gz')]
        found = [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
        if not found:
            raise UsageError('{}: no MNIST file, expected one of {}'.format(
                path, ', '.join(names)))
        path = found[0]
    if not os.path.isfile(path):  # a FIFO would block the read
        raise UsageError('{}: not a regular file: give --mnist the MNIST IDX files\' folder or '
                         'mnist.npz'.format(path))
    if path.endswith('.npz'):
        try:
            digits = read_arrays(path, {'x_' + subset: ((None, DIGIT, DIGIT), numpy.uint8)},
                                 max_bytes=MAX_DIGITS * DIGIT * DIGIT)['x_' + subset]
        except NpzError as e:
            raise UsageError('{}: expected uint8 (n, 28, 28) digits'.format(e))
    else:
        digits = read_idx(path)
    if digits.dtype != numpy.uint8 or digits.shape[1:] != (DIGIT, DIGIT):
        raise UsageError('{}: expected uint8 (n, 28, 28) digits, got {} {}'.format(
            path, digits.dtype, digits.shape))
    return digits


def read_idx(path):
    """uint8 (n, 28, 28) images from an IDX file (``.gz`` or not): its header
    is read and checked first, then exactly the bytes it announces."""
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        try:
            header = f.read(16)
            magic, n, rows, cols = (int(v) for v in numpy.frombuffer(
                header.ljust(16, b'\0'), '>u4'))
            size = n * rows * cols
            if (magic != 0x803 or (rows, cols) != (DIGIT, DIGIT) or n > MAX_DIGITS):
                size = -1
            else:
                data = f.read(size)
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise UsageError('{}: cannot read it ({}): download it again'.format(
                path, str(e)[:80] or type(e).__name__))
        if size < 0 or len(data) != size or f.read(1):
            raise UsageError('{}: not an IDX file of uint8 images (magic 0x803, at most {} '
                             'images of 28 x 28, and n x rows x cols bytes after the '
                             'header)'.format(path, MAX_DIGITS))
    return numpy.frombuffer(data, numpy.uint8).reshape(n, rows, cols)


def bounce(rng, frames, room, speed):
    """Top-left corners (frames, 2) of a digit moving at constant ``speed``
    (pixels per frame) in a random direction, reflected at the walls of
    [0, room]."""
    position = rng.uniform(0, room, 2)
    angle = rng.uniform(0, 2 * numpy.pi)
    velocity = speed * numpy.array([numpy.sin(angle), numpy.cos(angle)])
    corners = numpy.empty((frames, 2))
    for t in range(frames):
        corners[t] = position
        position = position + velocity
        low, high = position < 0, position > room
        position = numpy.where(low, -position, numpy.where(high, 2 * room - position, position))
        velocity = numpy.where(low | high, -velocity, velocity)
    return numpy.rint(corners).astype(int)


def generate(digits, out, sequences=10000, frames=20, size=64, n_digits=2, speed=3.6,
             seed=0):
    """Fill ``out`` (frames, sequences, size, size) uint8 with Moving MNIST
    (Srivastava et al.): each sequence shows ``n_digits`` random digits
    bouncing independently; where they overlap the brighter pixel wins.
    The default speed, 3.6 pixels per frame, is their step of 0.1 of the
    free range (64 - 28). Sequence j depends only on (seed, j)."""
    room = size - DIGIT
    for j in range(sequences):
        rng = numpy.random.default_rng([seed, j])
        canvas = numpy.zeros((frames, size, size), numpy.uint8)
        for _ in range(n_digits):
            digit = digits[rng.integers(len(digits))]
            for t, (y, x) in enumerate(bounce(rng, frames, room, speed)):
                patch = canvas[t, y:y + DIGIT, x:x + DIGIT]
                numpy.maximum(patch, digit, out=patch)
        out[:, j] = canvas
    return out
