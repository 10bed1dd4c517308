"""I3D (Carreira & Zisserman 2017), the Kinetics-400 classifier whose logits
FVD compares (docs/fvd.md).

Inception-v1 inflated to 3-D: every convolution is a "unit" (convolution
without bias, batch normalisation with the stored statistics, ReLU), padded
as TensorFlow's 'SAME' does for the size at hand (``same_padding``); nine
Inception modules ("Mixed"); max pooling that never picks the padding;
then an average pool of 2x7x7, a 1x1x1 convolution with bias to the 400
logits and their mean over the remaining time steps. Link names are those of
the state dict ``i3d_pretrained_400.pt`` (``Conv3d_1a_7x7.conv3d.weight`` is
``Conv3d_1a_7x7/conv3d/W``, ``bn.weight/bias/running_mean/running_var`` are
``bn/gamma/beta/avg_mean/avg_var``), which ``load_i3d`` reads.
"""
import os

import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from models.feature_extractor import FeatureExtractor
from runtime.errors import UsageError
from runtime.torch_file import read_tensors

# Batch normalisation's epsilon. The weights are TF-Hub's i3d-kinetics-400,
# trained and published with Sonnet's default 1e-3; the PyTorch port that
# VideoGPT, TATS and DIGAN run them in uses 1e-5 (docs/fvd.md).
EPS_TF_HUB = 1e-3
EPS_VIDEOGPT = 1e-5

# The layers in order: (endpoint, kind, arguments). A unit: (output channels,
# kernel, stride); a pool: (kernel, stride); a Mixed module: the output
# channels of its branches b0, b1a, b1b, b2a, b2b, b3b (Inception-v1's).
LAYERS = (
    ('Conv3d_1a_7x7', 'unit', (64, 7, 2)),
    ('MaxPool3d_2a_3x3', 'pool', ((1, 3, 3), (1, 2, 2))),
    ('Conv3d_2b_1x1', 'unit', (64, 1, 1)),
    ('Conv3d_2c_3x3', 'unit', (192, 3, 1)),
    ('MaxPool3d_3a_3x3', 'pool', ((1, 3, 3), (1, 2, 2))),
    ('Mixed_3b', 'mixed', (64, 96, 128, 16, 32, 32)),
    ('Mixed_3c', 'mixed', (128, 128, 192, 32, 96, 64)),
    ('MaxPool3d_4a_3x3', 'pool', ((3, 3, 3), (2, 2, 2))),
    ('Mixed_4b', 'mixed', (192, 96, 208, 16, 48, 64)),
    ('Mixed_4c', 'mixed', (160, 112, 224, 24, 64, 64)),
    ('Mixed_4d', 'mixed', (128, 128, 256, 24, 64, 64)),
    ('Mixed_4e', 'mixed', (112, 144, 288, 32, 64, 64)),
    ('Mixed_4f', 'mixed', (256, 160, 320, 32, 128, 128)),
    ('MaxPool3d_5a_2x2', 'pool', ((2, 2, 2), (2, 2, 2))),
    ('Mixed_5b', 'mixed', (256, 160, 320, 32, 128, 128)),
    ('Mixed_5c', 'mixed', (384, 192, 384, 48, 128, 128)),
)
AVERAGE_POOL = (2, 7, 7)
# Clips run through the network together on the CPU, where Chainer's 3-D
# convolution unfolds its input (im2col: 0.4 GB per 16x224x224 clip in the
# first layer alone) and one clip at a time was the fastest (docs/fvd.md); on
# a GPU, all of them.
CPU_CLIPS_PER_PASS = 1
WEIGHTS_HELP = ('download i3d_pretrained_400.pt, the state dict that VideoGPT, TATS and '
                'DIGAN use (see docs/fvd.md)')
# Chainer's names of batch normalisation's arrays -> PyTorch's
TORCH_BN_NAMES = {'gamma': 'weight', 'beta': 'bias', 'avg_mean': 'running_mean',
                  'avg_var': 'running_var'}


def _triple(v):
    return (v,) * 3 if isinstance(v, int) else tuple(v)


def same_padding(size, ksize, stride):
    """TensorFlow's 'SAME' padding of one axis of ``size``: (before, after),
    the odd cell after, so that the output has ceil(size / stride) cells."""
    out = -(-size // stride)
    total = max((out - 1) * stride + ksize - size, 0)
    return total // 2, total - total // 2


def pad_same(x, ksize, stride):
    """``(x, pad)``: where the 'SAME' padding is the same on both sides of
    every axis, x itself and that padding (for the convolution to apply);
    otherwise x padded with zeros and 0."""
    pads = [same_padding(n, k, s) for n, k, s in zip(x.shape[2:], ksize, stride)]
    if all(before == after for before, after in pads):
        return x, tuple(before for before, _ in pads)
    return F.pad(x, ((0, 0), (0, 0)) + tuple(pads), 'constant'), 0


def max_pool_same(x, ksize, stride):
    """Max pooling with TensorFlow's 'SAME' padding, which is never the
    maximum; one axis at a time (the maximum of a box is the maximum of its
    rows' maxima), as the elementwise maximum of k strided views."""
    for axis, k, s in zip((2, 3, 4), _triple(ksize), _triple(stride)):
        size = x.shape[axis]
        before, after = same_padding(size, k, s)
        if before or after:
            widths = [(0, 0)] * 5
            widths[axis] = (before, after)
            x = F.pad(x, widths, 'constant', constant_values=-numpy.inf)
        out = -(-size // s)
        h = None
        for j in range(k):
            index = [slice(None)] * 5
            index[axis] = slice(j, j + s * (out - 1) + 1, s)
            view = x[tuple(index)]
            h = view if h is None else F.maximum(h, view)
        x = h
    return x


class Unit3D(chainer.Chain):
    """Convolution ('SAME', no bias), batch normalisation with the stored
    statistics (the network is only ever run for inference), ReLU."""

    def __init__(self, in_channels, out_channels, ksize, stride=1, eps=EPS_TF_HUB):
        super().__init__()
        self.ksize, self.stride = _triple(ksize), _triple(stride)
        with self.init_scope():
            self.conv3d = L.ConvolutionND(3, in_channels, out_channels, ksize, stride,
                                          nobias=True, initialW=chainer.initializers.HeNormal())
            self.bn = L.BatchNormalization(out_channels, eps=eps)

    def forward(self, x):
        W = self.conv3d.W
        if self.ksize == (1, 1, 1) and self.stride == (1, 1, 1):  # a product over channels
            n, c, t, height, width = x.shape
            h = F.matmul(W.reshape(W.shape[:2]), x.reshape(n, c, -1))
            h = h.reshape(n, W.shape[0], t, height, width)
        else:
            x, pad = pad_same(x, self.ksize, self.stride)
            h = F.convolution_nd(x, W, None, self.stride, pad)
        bn = self.bn
        return F.relu(F.fixed_batch_normalization(h, bn.gamma, bn.beta, bn.avg_mean,
                                                  bn.avg_var, bn.eps))


class Mixed(chainer.Chain):
    """An Inception module: four branches side by side, concatenated on the
    channels: 1x1x1; 1x1x1 then 3x3x3 (twice); 3x3x3 max pool then 1x1x1."""

    def __init__(self, in_channels, channels, eps=EPS_TF_HUB):
        super().__init__()
        c0, c1a, c1b, c2a, c2b, c3b = channels
        with self.init_scope():
            self.b0 = Unit3D(in_channels, c0, 1, eps=eps)
            self.b1a = Unit3D(in_channels, c1a, 1, eps=eps)
            self.b1b = Unit3D(c1a, c1b, 3, eps=eps)
            self.b2a = Unit3D(in_channels, c2a, 1, eps=eps)
            self.b2b = Unit3D(c2a, c2b, 3, eps=eps)
            self.b3b = Unit3D(in_channels, c3b, 1, eps=eps)
        self.out_channels = c0 + c1b + c2b + c3b

    def forward(self, x):
        return F.concat((self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)),
                         self.b3b(max_pool_same(x, 3, 1))), axis=1)


class I3D(FeatureExtractor):
    """The Inception-v1 I3D of Kinetics-400 (RGB stream).

    Input: float32 clips (N, 3, T, H, W) with values in [-1, 1]. 'logits',
    the 400 class scores averaged over time (what FVD compares), needs
    T >= 9 and 193 <= H, W <= 224, so that the 2x7x7 average pool ends at
    one spatial cell (the FVD protocols give 16 frames of 224x224); the
    other layers take any size.

    Called as ``i3d(x)``, it returns the activations of ``layer_names`` as
    C3D does; ``i3d(x, layers=[...])`` returns a dict {name: activation}.
    ``eps`` is batch normalisation's epsilon (``EPS_TF_HUB`` or
    ``EPS_VIDEOGPT``, see docs/fvd.md).
    """

    available_layers = tuple(name for name, _, _ in LAYERS) + ('logits',)

    def __init__(self, layer_names='logits', n_classes=400, eps=EPS_TF_HUB):
        super().__init__()
        with self.init_scope():
            channels = 3
            for name, kind, args in LAYERS:
                if kind == 'unit':
                    setattr(self, name, Unit3D(channels, *args, eps=eps))
                    channels = args[0]
                elif kind == 'mixed':
                    setattr(self, name, Mixed(channels, args, eps=eps))
                    channels = self[name].out_channels
            self.logits = chainer.Chain()
            with self.logits.init_scope():
                self.logits.conv3d = L.ConvolutionND(3, channels, n_classes, 1)
        self.layer_names = layer_names

    def steps(self):
        steps = []
        for name, kind, args in LAYERS:
            if kind == 'pool':
                steps.append((name, lambda h, a=args: max_pool_same(h, *a)))
            else:
                steps.append((name, self[name]))
        steps.append(('logits', self.logits_of))
        return steps

    def logits_of(self, h):
        """The logits of Mixed_5c's activations ``h``: a 2x7x7 average pool
        (no padding), the 1x1x1 convolution, the mean over time."""
        h = F.average_pooling_nd(h, AVERAGE_POOL, 1)
        h = self.logits.conv3d(h)
        return F.mean(h[:, :, :, 0, 0], axis=2)

    def forward(self, x, layers=None):
        names = self.layer_names if layers is None else layers
        wanted = self.check_layers(names)
        x = chainer.as_variable(x)
        check_clips(x.array, 'logits' in wanted)
        steps = self.steps()
        per_pass = CPU_CLIPS_PER_PASS if chainer.backend.get_array_module(x) is numpy \
            else len(x)
        parts = [self.activations(x[i:i + per_pass], steps, wanted)
                 for i in range(0, len(x), per_pass)]
        out = {n: F.concat([part[n] for part in parts], axis=0) if len(parts) > 1
               else parts[0][n] for n in wanted}
        if layers is not None:
            return out
        return out[names] if isinstance(names, str) else tuple(out[n] for n in wanted)


def check_clips(x, logits):
    """One UsageError line unless ``x`` is a batch of clips I3D can take."""
    if x.ndim != 5 or not len(x) or x.shape[1] != 3 or x.dtype != numpy.float32:
        raise UsageError('I3D takes float32 RGB clips shaped (N, 3, T, H, W); got {} {}'.format(
            x.dtype, x.shape))
    if logits and (x.shape[2] < 9 or not all(193 <= n <= 224 for n in x.shape[3:])):
        raise UsageError('I3D\'s logits need clips of at least 9 frames of 193 to 224 pixels '
                         '(the FVD protocols give 16 frames of 224x224); got {} frames of '
                         '{}x{}'.format(*x.shape[2:]))
    reach = max(float(x.max()), -float(x.min())) if x.size else 0
    if reach > 1 + 1e-3:
        raise UsageError('I3D takes values in [-1, 1]; these reach {:.4g} (scale uint8 frames '
                         'as x / 127.5 - 1)'.format(reach))


def torch_keys(model):
    """{state-dict key: (link, attribute)} of every parameter and statistic
    of ``model`` (an I3D), in the file's naming."""
    keys = {}
    for path, link in model.namedlinks(skipself=True):
        prefix = path.lstrip('/').replace('/', '.') + '.'
        if isinstance(link, L.ConvolutionND):
            keys[prefix + 'weight'] = (link, 'W')
            if link.b is not None:
                keys[prefix + 'bias'] = (link, 'b')
        elif isinstance(link, L.BatchNormalization):
            for name, torch_name in TORCH_BN_NAMES.items():
                keys[prefix + torch_name] = (link, name)
    return keys


def load_i3d(path, eps=EPS_TF_HUB):
    """``(I3D, SHA-256 hex of the file)`` with the weights of the state dict
    at ``path`` (``i3d_pretrained_400.pt``), every key, shape and dtype checked
    before any is used; one UsageError line otherwise."""
    if not os.path.isfile(path):
        raise UsageError('{} not found: {}'.format(path, WEIGHTS_HELP))
    tensors, sha256 = read_tensors(path)
    model = I3D(eps=eps)
    targets = torch_keys(model)
    missing = sorted(set(targets) - set(tensors))
    extra = sorted(k for k in set(tensors) - set(targets)
                   if not k.endswith('.bn.num_batches_tracked'))
    if missing or extra:
        raise UsageError('{} is not the I3D state dict expected: {}{}{}; {}'.format(
            path, 'missing keys ' + _some(missing) if missing else '',
            '; ' if missing and extra else '',
            'unexpected keys ' + _some(extra) if extra else '', WEIGHTS_HELP))
    wrong = []
    for key, (link, name) in targets.items():
        expected, found = getattr(link, name).shape, tensors[key]
        if found.shape != expected or found.dtype.kind != 'f':
            wrong.append('{} is {} {} (expected float {})'.format(
                key, found.dtype, found.shape, expected))
    if wrong:
        raise UsageError('{} is not the I3D state dict expected: {}{}; {}'.format(
            path, '; '.join(wrong[:3]), ' ...' if len(wrong) > 3 else '', WEIGHTS_HELP))
    for key, (link, name) in targets.items():
        target = getattr(link, name)
        target = target.array if isinstance(target, chainer.Variable) else target
        target[...] = tensors[key]
    return model, sha256


def _some(keys):
    return ', '.join(keys[:6]) + (' ... ({} in all)'.format(len(keys)) if len(keys) > 6 else '')
