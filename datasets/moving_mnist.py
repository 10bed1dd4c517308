"""Moving MNIST (Srivastava et al. 2015) from the canonical ``mnist_test_seq.npy`` (DESIGN §3)."""
import chainer
import numpy

from errors import UsageError


class MovingMNIST(chainer.dataset.DatasetMixin):
    """Random ``frames``-long windows of the (20, 10000, 64, 64) uint8 sequences,
    time first, scaled (x - 128) / 128 to float32 (1, frames, 64, 64).

    The window offsets come from ``self.rng``, which the updater saves in the
    trainer snapshot so that a resumed run draws the same windows.
    """

    def __init__(self, path, frames=16, seed=0):
        data = numpy.load(path, mmap_mode='r')
        if data.dtype != numpy.uint8 or data.ndim != 4 or data.shape[0] < frames:
            raise UsageError(
                '{}: expected uint8 (time >= {}, sequences, H, W) like mnist_test_seq.npy, '
                'got {} {}'.format(path, frames, data.dtype, data.shape))
        self.data, self.frames = data, frames
        self.rng = numpy.random.RandomState(seed)

    def __len__(self):
        return self.data.shape[1]

    def get_example(self, i):
        start = self.rng.randint(self.data.shape[0] - self.frames + 1)
        clip = numpy.asarray(self.data[start:start + self.frames, i], numpy.float32)
        return ((clip - 128) / 128)[None]
