"""The video generator: G0 followed by G1 (paper §3.1, Fig. 1)."""
import chainer
import chainer.functions as F
import numpy

from functions import choice
from models.common import check_condition
from models.frame_interpolation import interpolate_in_time
from models.image_generator import ImageGenerator
from models.temporal_generator import TemporalGenerator


class VideoGenerator(chainer.Chain):
    """z0 ~ U[-1, 1]^z0_dim -> G0 -> z1^1..T; G1(z0, z1^t) for every t -> video.

    G1 runs on all N*T frames as one batch (its BN statistics are pooled over
    frames, as in the original). The children keep the original's names so
    that each can be saved and loaded on its own (``parts``).

    The generator interface of this project (shared with the baselines of
    Table 4): ``z_dim``, ``n_classes`` (0: unconditional), ``make_hidden``,
    ``forward(z, condition=None)`` and ``parts``.
    """

    def __init__(self, temporal_generator, image_generator):
        super().__init__()
        with self.init_scope():
            self.temporal_generator = temporal_generator
            self.image_generator = image_generator
        self.z_dim = temporal_generator.z0_dim
        self.n_classes = temporal_generator.n_classes

    @classmethod
    def from_config(cls, z0_dim, z1_dim, frames, size, channels,
                    temporal=None, image=None, n_classes=0, functions=choice.FAST):
        """Build G0 and G1 with matching latent sizes from config sections,
        both computing with ``functions`` (functions/choice.py)."""
        return cls(
            TemporalGenerator(z0_dim, z1_dim, frames, n_classes=n_classes, functions=functions,
                              **(temporal or {})),
            ImageGenerator(z0_dim, z1_dim, channels, size, n_classes=n_classes,
                           functions=functions, **(image or {})))

    def parts(self):
        """The links saved as separate files (``<name>_iter_N.npz``)."""
        return {'temporal_generator': self.temporal_generator,
                'image_generator': self.image_generator}

    def make_hidden(self, batchsize, rng):
        """z0 ~ U[-1, 1], drawn on the host from ``rng`` (a numpy RandomState)
        so that the stream is the same on CPU and GPU and can be resumed."""
        z0 = rng.uniform(-1, 1, (batchsize, self.z_dim))
        return self.xp.asarray(z0.astype(numpy.float32))

    def forward(self, z0, condition=None, frame_factor=1):
        """(N, z0_dim) [, one-hot labels (N, n_classes)] -> video (N, C, T', H, W)
        in [-1, 1], T' = frame_factor * T (frame interpolation, paper §5.1)."""
        check_condition('generator', self.n_classes, condition)
        z1 = interpolate_in_time(self.temporal_generator(z0, condition), frame_factor)
        n, z1_dim, frames = z1.shape
        z1 = F.reshape(F.transpose(z1, (0, 2, 1)), (n * frames, z1_dim))
        z0 = F.repeat(z0, frames, axis=0)                    # tile z0 (and the label) over T
        if condition is not None:
            condition = F.repeat(condition, frames, axis=0)
        frames_out = self.image_generator(z0, z1, condition)  # (N*T, C, H, W)
        _, c, h, w = frames_out.shape
        return F.transpose(F.reshape(frames_out, (n, frames, c, h, w)), (0, 2, 1, 3, 4))
