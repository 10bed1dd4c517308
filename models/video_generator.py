"""The video generator: G0 followed by G1 (paper §3.1, Fig. 1)."""
import chainer
import chainer.functions as F
import numpy

from models.image_generator import ImageGenerator
from models.temporal_generator import TemporalGenerator


class VideoGenerator(chainer.Chain):
    """z0 ~ U[-1, 1]^z0_dim -> G0 -> z1^1..T; G1(z0, z1^t) for every t -> video.

    G1 runs on all N*T frames as one batch (its BN statistics are pooled over
    frames, as in the original). The children keep the original's names so
    that each can be saved and loaded on its own.
    """

    def __init__(self, temporal_generator, image_generator):
        super().__init__()
        with self.init_scope():
            self.temporal_generator = temporal_generator
            self.image_generator = image_generator

    @classmethod
    def from_config(cls, z0_dim, z1_dim, frames, size, channels,
                    temporal=None, image=None):
        """Build G0 and G1 with matching latent sizes from config sections."""
        return cls(
            TemporalGenerator(z0_dim, z1_dim, frames, **(temporal or {})),
            ImageGenerator(z0_dim, z1_dim, channels, size, **(image or {})))

    def make_hidden(self, batchsize, rng):
        """z0 ~ U[-1, 1], drawn on the host from ``rng`` (a numpy RandomState)
        so that the stream is the same on CPU and GPU and can be resumed."""
        z0 = rng.uniform(-1, 1, (batchsize, self.temporal_generator.z0_dim))
        return self.xp.asarray(z0.astype(numpy.float32))

    def forward(self, z0):
        """(N, z0_dim) -> video (N, C, T, H, W) in [-1, 1]."""
        z1 = self.temporal_generator(z0)                    # (N, z1_dim, T)
        n, z1_dim, frames = z1.shape
        z1 = F.reshape(F.transpose(z1, (0, 2, 1)), (n * frames, z1_dim))
        z0 = F.repeat(z0, frames, axis=0)                    # tile z0 over T
        frames_out = self.image_generator(z0, z1)            # (N*T, C, H, W)
        _, c, h, w = frames_out.shape
        return F.transpose(F.reshape(frames_out, (n, frames, c, h, w)), (0, 2, 1, 3, 4))
