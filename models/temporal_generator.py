"""Temporal generator G0 (paper §3.1, Table 1; original ``FrameSeedGenerator``)."""
import chainer
import chainer.functions as F

from functions import choice
from models import links
from models.common import initializer, log2_int


class TemporalGenerator(chainer.Chain):
    """Maps one latent z0 to T per-frame latents z1^1..z1^T with 1-D deconvolutions.

    z0 is read as a length-1 signal with ``z0_dim`` channels; ``dc0`` (kernel 1)
    widens it, then log2(T) deconvolutions (kernel 4, stride 2, pad 1) double
    its length up to T; the last one outputs ``z1_dim`` channels through tanh.
    Paper widths (``ch=512``, T=16): 512, 256, 128, 128, then z1_dim.

    ``n_classes > 0`` is the conditional TGAN (paper §5.2): a one-hot label
    (N, n_classes) is concatenated to z0, so ``dc0`` reads z0_dim + n_classes
    channels.
    ``functions``: the deconvolution, BN and ReLU to compute with (functions/choice.py).
    Link names are the original's (``dc0..``, ``bn0..``) so its npz files load.
    """

    def __init__(self, z0_dim=100, z1_dim=100, frames=16, ch=512,
                 use_beta=False, init='default', n_classes=0,
                 functions=choice.FAST):
        super().__init__()
        self.z0_dim, self.z1_dim, self.frames = z0_dim, z1_dim, frames
        self.n_classes, self.functions = n_classes, functions
        self.n_layers = log2_int(frames, 'frames')
        widths = [max(ch >> i, ch // 4) for i in range(self.n_layers)]
        w = initializer(init)
        with self.init_scope():
            self.dc0 = links.DeconvolutionND(1, z0_dim + n_classes, widths[0], 1, 1, 0, initialW=w,
                                            functions=functions)
            for i in range(1, self.n_layers + 1):
                out = widths[i] if i < self.n_layers else z1_dim
                setattr(self, 'dc{}'.format(i),
                        links.DeconvolutionND(1, widths[i - 1], out, 4, 2, 1, initialW=w,
                                              functions=functions))
            for i, width in enumerate(widths):
                setattr(self, 'bn{}'.format(i),
                        links.BatchNormalization(width, use_beta=use_beta, functions=functions))

    def forward(self, z0, condition=None):
        """(N, z0_dim) [, one-hot (N, n_classes)] -> (N, z1_dim, T)."""
        if condition is not None:
            z0 = F.concat([z0, condition], axis=1)
        h = F.reshape(z0, (z0.shape[0], z0.shape[1], 1))
        for i in range(self.n_layers):
            h = self.functions.relu(self['bn{}'.format(i)](self['dc{}'.format(i)](h)))
        return F.tanh(self['dc{}'.format(self.n_layers)](h))
