"""The "3D model" baseline generator (paper §6.3, Table 4): one stack of 3-D
deconvolutions from z to the whole video, no separate temporal generator.

Also holds what the two baselines of Table 4 share: the generator interface
without labels (``UnconditionalGenerator``), the stride-2 deconvolution stack
from a 4x4 bottom (``DeconvStack``) and its size rule (``upsamplings``).
"""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from functions import choice
from runtime.errors import UsageError
from models import links
from models.common import check_condition, initializer

BOTTOM = 4  # spatial size of the first feature map


def upsamplings(frames, size, model):
    """(n, t) for a video of ``frames`` x ``size`` x ``size`` grown from a
    (t, 4, 4) bottom by n deconvolutions of stride 2: n = log2(size / 4),
    t = frames / 2^n; a one-line error where they are not whole numbers."""
    n = max(size // BOTTOM, 1).bit_length() - 1
    if n < 1 or size != BOTTOM << n or frames < 1 << n or frames % (1 << n):
        raise UsageError('{} cannot make {} frames of {}x{}: size must be 4 times a power of '
                         'two >= 2 (8, 16, 32, 64, ...) and frames a multiple of size / 4 '
                         '(both double at every stride-2 layer)'.format(model, frames, size, size))
    return n, frames >> n


class DeconvStack(chainer.Chain):
    """z -> Linear (no bias) + BN + ReLU, viewed as a (ch, *bottom) map, then
    ``n_up`` deconvolutions (kernel 4, stride 2, pad 1, no bias) + BN + ReLU
    that halve the channels and double every axis; ``len(bottom)``-D (3 for a
    video, 2 for an image). The output has ``out_channels = ch / 2^n_up``
    channels; each generator puts its own output layers on top. ``functions``: the
    deconvolution, BN and ReLU to compute with (functions/choice.py)."""

    def __init__(self, z_dim, bottom, ch, n_up, init, functions=choice.FAST):
        super().__init__()
        if ch >> n_up < 1:
            raise UsageError('generator width ch={} is too small: it is halved {} times, so it '
                             'must be at least {}'.format(ch, n_up, 1 << n_up))
        self.ch, self.bottom, self.n_up = ch, tuple(bottom), n_up
        self.out_channels, self.functions = ch >> n_up, functions
        units = ch * int(numpy.prod(bottom))
        w = initializer(init)
        with self.init_scope():
            self.l0 = L.Linear(z_dim, units, initialW=w, nobias=True)
            self.bn0 = links.BatchNormalization(units, functions=functions)
            for i in range(1, n_up + 1):
                setattr(self, 'dc{}'.format(i), links.DeconvolutionND(
                    len(bottom), ch >> (i - 1), ch >> i, 4, 2, 1, initialW=w, nobias=True,
                    functions=functions))
                setattr(self, 'bn{}'.format(i),
                        links.BatchNormalization(ch >> i, functions=functions))

    def forward(self, z):
        """(N, z_dim) -> (N, out_channels, *(2^n_up * bottom))."""
        relu = self.functions.relu
        h = relu(self.bn0(self.l0(z)))
        h = F.reshape(h, (h.shape[0], self.ch) + self.bottom)
        for i in range(1, self.n_up + 1):
            h = relu(self['bn{}'.format(i)](self['dc{}'.format(i)](h)))
        return h


class UnconditionalGenerator(chainer.Chain):
    """The generator interface of the project (``z_dim``, ``n_classes``,
    ``make_hidden``, ``forward(z, condition=None)``, ``parts``) for a
    generator without labels; subclasses implement ``generate(z)``."""

    n_classes = 0

    def __init__(self, z_dim):
        super().__init__()
        self.z_dim = z_dim

    def make_hidden(self, batchsize, rng):
        """z ~ U[-1, 1], drawn on the host from ``rng`` (a numpy RandomState)
        so that the stream is the same on CPU and GPU and can be resumed."""
        z = rng.uniform(-1, 1, (batchsize, self.z_dim))
        return self.xp.asarray(z.astype(numpy.float32))

    def forward(self, z, condition=None):
        """(N, z_dim) -> video (N, C, T, H, W) in [-1, 1]."""
        check_condition(type(self).__name__, self.n_classes, condition)
        return self.generate(z)

    def parts(self):
        """The links saved as separate files (``<name>_iter_N.npz``)."""
        return {'generator': self}


class Generator3D(UnconditionalGenerator):
    """The 3D model: z -> (ch, T/2^n, 4, 4) -> n - 1 3-D deconvolutions
    (``DeconvStack``) -> a last 3-D deconvolution (kernel 4, stride 2, pad 1,
    with bias) to ``channels`` + tanh; n = log2(size / 4).
    Paper (ch=512): 512x1x4x4 -> 256x2x8x8 -> 128x4x16x16 -> 64x8x32x32 -> Cx16x64x64.
    """

    def __init__(self, z_dim, channels, frames, size, ch=512, init='default',
                 functions=choice.FAST):
        super().__init__(z_dim)
        n, bottom_frames = upsamplings(frames, size, 'the 3D model')
        with self.init_scope():
            self.body = DeconvStack(z_dim, (bottom_frames, BOTTOM, BOTTOM), ch, n - 1, init,
                                    functions)
            self.out = links.DeconvolutionND(3, self.body.out_channels, channels, 4, 2, 1,
                                             initialW=initializer(init), functions=functions)

    def generate(self, z):
        return F.tanh(self.out(self.body(z)))
