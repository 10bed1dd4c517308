"""The Video GAN generator (Vondrick, Pirsiavash and Torralba, "Generating
Videos with Scene Dynamics", NIPS 2016, §3.1 and Fig. 1), the "Video GAN"
baseline of paper Table 4."""
import chainer.functions as F

from functions import choice
from models import links
from models.common import initializer
from models.generator_3d import BOTTOM, DeconvStack, UnconditionalGenerator, upsamplings


class VideoGANGenerator(UnconditionalGenerator):
    """Two streams from the same z, composed as video = m * f + (1 - m) * b.

    Foreground stream: z -> (ch, T/2^n, 4, 4) -> n - 1 3-D deconvolutions
    (``DeconvStack``, as the 3D model) -> two 3-D deconvolution heads (kernel
    4, stride 2, pad 1, with bias): the foreground f (``channels``, tanh) and
    the mask m (1 channel, sigmoid). Background stream: z -> (ch, 4, 4) ->
    n - 1 2-D deconvolutions -> a 2-D deconvolution to ``channels`` + tanh:
    one still image b, repeated over time. n = log2(size / 4).

    Paper size (ch=512, 16 frames of 64x64): foreground 512x1x4x4 -> 256x2x8x8
    -> 128x4x16x16 -> 64x8x32x32 -> Cx16x64x64; background 512x4x4 -> 256x8x8
    -> 128x16x16 -> 64x32x32 -> Cx64x64. Every layer is Vondrick et al.'s;
    their videos have 32 frames, which is ``frames=32`` here (a 2x4x4 bottom).
    Their L1 penalty on the mask is not used (the TGAN paper does not mention
    it); ``streams`` gives f, m and b for inspection. ``functions``: the
    deconvolution, BN and ReLU to compute with (functions/choice.py).
    """

    def __init__(self, z_dim, channels, frames, size, ch=512, init='default',
                 functions=choice.FAST):
        super().__init__(z_dim)
        n, bottom_frames = upsamplings(frames, size, 'the Video GAN generator')
        w = initializer(init)
        with self.init_scope():
            self.foreground_stream = DeconvStack(
                z_dim, (bottom_frames, BOTTOM, BOTTOM), ch, n - 1, init, functions)
            width = self.foreground_stream.out_channels
            self.foreground = links.DeconvolutionND(3, width, channels, 4, 2, 1, initialW=w,
                                                    functions=functions)
            self.mask = links.DeconvolutionND(3, width, 1, 4, 2, 1, initialW=w,
                                              functions=functions)
            self.background_stream = DeconvStack(z_dim, (BOTTOM, BOTTOM), ch, n - 1, init,
                                                 functions)
            self.background = links.Deconvolution2D(width, channels, 4, 2, 1, initialW=w,
                                                    functions=functions)

    def streams(self, z):
        """(N, z_dim) -> foreground f (N, C, T, H, W), mask m (N, 1, T, H, W)
        in [0, 1] and background b (N, C, H, W)."""
        h = self.foreground_stream(z)
        return (F.tanh(self.foreground(h)), F.sigmoid(self.mask(h)),
                F.tanh(self.background(self.background_stream(z))))

    def generate(self, z):
        f, m, b = self.streams(z)
        m = F.broadcast_to(m, f.shape)
        b = F.broadcast_to(F.expand_dims(b, 2), f.shape)
        return m * f + (1 - m) * b
