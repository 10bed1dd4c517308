"""The 3-D convolutional critic D (paper §3.1, Table 1; original ``VideoDiscriminator``)."""
import chainer
import chainer.functions as F

from runtime.errors import UsageError
from functions import choice
from models import links
from models.common import check_condition, initializer, log2_int


class Critic(chainer.Chain):
    """Scores a video (N, C, T, H, W) with one real number per video.

    ``depth`` (default log2(T)) 3-D convolutions (kernel 4, stride 2, pad 1)
    with LeakyReLU(0.2) double the channels from ``ch`` and halve T, H and W,
    with BN (no beta by default) after every convolution but the first; each
    of the t remaining time steps of the (N, ch*2^(depth-1), t, h, w) map is
    scored by a Conv2D with an h x w kernel (the paper's "fully connected"
    layer, applied as in the original's reshape) and the t scores are averaged.
    Paper: C x 16 x 64 x 64 -> 64 -> 128 -> 256 -> 512 x 1 x 4 x 4 -> 1.

    ``noise_sigma > 0`` adds Gaussian noise to the activations while training,
    as in the original's normal-GAN critic; the caller passes the random
    source (``noise``), so that the noise stream is seeded and resumable.
    ``n_classes > 0`` is the conditional critic (paper §5.2): the one-hot label
    broadcast to a (n_classes, T, H, W) volume is concatenated channel-wise to
    the video, so ``c0`` reads C + n_classes channels. The label half of that
    convolution is computed without building the volume (``_label_response``).
    ``functions``: the convolution, BN and leaky ReLU to compute with (functions/choice.py).
    Link names are the original's (``c0..``, ``bn0..``; ``bn0`` exists but is unused).
    """

    def __init__(self, in_channels=3, frames=16, size=64, ch=64, depth=None,
                 use_beta=False, init='default', noise_sigma=0.0, n_classes=0,
                 functions=choice.FAST):
        super().__init__()
        max_depth = log2_int(frames, 'frames')
        self.n_conv = max_depth if depth is None else depth
        top = size >> self.n_conv
        if not 1 <= self.n_conv <= max_depth or top << self.n_conv != size:
            raise UsageError('critic depth {} does not fit {} frames of {}x{}: T, H and W '
                             'must stay whole numbers when halved {} times'.format(
                                 self.n_conv, frames, size, size, self.n_conv))
        self.noise_sigma, self.n_classes = noise_sigma, n_classes
        self.functions = functions
        w = initializer(init)
        with self.init_scope():
            for i in range(self.n_conv):
                c_in = in_channels + n_classes if i == 0 else ch << (i - 1)
                setattr(self, 'c{}'.format(i),
                        links.ConvolutionND(3, c_in, ch << i, 4, 2, 1, initialW=w,
                                            functions=functions))
                setattr(self, 'bn{}'.format(i),
                        links.BatchNormalization(ch << i, use_beta=use_beta,
                                                 functions=functions))
            setattr(self, 'c{}'.format(self.n_conv), links.Convolution2D(
                ch << (self.n_conv - 1), 1, top, 1, 0, initialW=w, functions=functions))

    def _noisy(self, h, noise):
        if noise is None or not self.noise_sigma or not chainer.config.train:
            return h
        return h + noise.normal(0, self.noise_sigma, h.shape).astype(h.dtype)

    def _label_response(self, condition, shape):
        """The part of ``c0`` that reads the label volume: with the label k
        constant over (T, H, W), input channel k contributes W[:, C + k] summed
        over the taps that fall inside the volume, which per axis is a (out
        length, kernel) 0/1 matrix. Exactly conv(concat(x, volume)) - conv(x),
        at a cost independent of the batch's video size."""
        xp, stride, pad = self.xp, self.c0.stride, self.c0.pad
        w = self.c0.W[:, shape[1]:]                           # (out, K, kt, kh, kw)
        for length in shape[2:]:                              # contract T, then H, then W
            k = w.shape[2]
            out = (length + 2 * pad - k) // stride + 1
            source = xp.arange(out)[:, None] * stride - pad + xp.arange(k)
            inside = ((0 <= source) & (source < length)).astype(w.dtype)
            w = F.tensordot(w, inside, axes=([2], [1]))       # tap axis -> output axis, last
        response = F.transpose(w, (1, 0, 2, 3, 4))            # (K, out, T', H', W')
        y = F.matmul(condition, F.reshape(response, (response.shape[0], -1)))
        return F.reshape(y, (len(condition),) + response.shape[1:])

    def forward(self, x, noise=None, condition=None):
        """(N, C, T, H, W) [, one-hot labels (N, n_classes)] -> (N,) scores;
        ``noise``: an xp RandomState or None."""
        check_condition('critic', self.n_classes, condition)
        h = x
        for i in range(self.n_conv):
            if i == 0 and condition is not None:
                h = self.functions.convolution(
                    h, self.c0.W[:, :x.shape[1]], self.c0.b, self.c0.stride, self.c0.pad,
                ) + self._label_response(condition, x.shape)
            else:
                h = self['c{}'.format(i)](h)
            if i > 0:
                h = self['bn{}'.format(i)](h)
            h = self.functions.leaky_relu(self._noisy(h, noise), 0.2)
        n, c, t, height, width = h.shape
        h = F.reshape(F.transpose(h, (0, 2, 1, 3, 4)), (n * t, c, height, width))
        h = self['c{}'.format(self.n_conv)](h)
        return F.mean(F.reshape(h, (n, t)), axis=1)
