"""FVD, the Fréchet Video Distance (Unterthiner et al. 2018): the Fréchet
distance between Gaussians fitted to I3D's 400 Kinetics logits (averaged over
time) of real and of generated videos, under the protocols published work
uses (docs/fvd.md "Protocols").

Every protocol sees videos as uint8 (N, T, H, W, 3), as the published code
does; a generator's output in [-1, 1] is first converted the protocol's way.
Then 16 frames, a resize to 224 pixels, values to [-1, 1] (I3D's input):

``videogpt`` (VideoGPT, TATS, DIGAN): output to uint8 as (clip(x) + 1) / 2 *
255 truncated; the first 16 frames; x / 255; the shorter side resized to 224
(bilinear, half-pixel centres, no antialiasing; the other side ceil(side *
224 / shorter)), centre crop 224x224; (x - 0.5) * 2; 2,048 videos, 10 trials.
``stylegan-v`` (StyleGAN-V's ``fvd2048_16f``): output to uint8 as x * 127.5 +
128 clamped to [0, 255], grey repeated to 3 channels; real clips are 16
consecutive frames from a random offset of the first 2,048 videos in sorted
order; each frame resized straight to 224x224 (bilinear); x / 255 * 2 - 1;
2,048 videos, one trial.

I3D's batch normalisation epsilon is the protocol's too: 1e-5 in the
PyTorch port VideoGPT's code runs the weights in, 1e-3 (Sonnet's, as the
weights were trained) in the TF-Hub model StyleGAN-V's TorchScript file
was exported from.
"""
import collections
import math

import chainer
import numpy
from chainer import backend

from runtime.errors import UsageError
from evaluation.frechet import frechet_distance, gaussian
from evaluation.table import format_fvd_table
from models.i3d import EPS_TF_HUB, EPS_VIDEOGPT, load_i3d

FRAMES = 16
SIZE = 224
LAYER = 'logits'

Protocol = collections.namedtuple(
    'Protocol', 'name n_samples runs batchsize crop real_order bn_eps to_uint8 source')


def videogpt_uint8(videos):
    """DIGAN's conversion of generator output (..., in [-1, 1]) to uint8:
    clamped, (x + 1) / 2 * 255, truncated toward zero."""
    xp = backend.get_array_module(videos)
    return ((xp.clip(videos, -1, 1) + 1) / 2 * 255).astype(numpy.uint8)


def stylegan_v_uint8(videos):
    """StyleGAN-V's conversion: x * 127.5 + 128 clamped to [0, 255], truncated."""
    xp = backend.get_array_module(videos)
    return xp.clip(videos * 127.5 + 128, 0, 255).astype(numpy.uint8)


PROTOCOLS = {
    'videogpt': Protocol('videogpt', 2048, 10, 16, True, 'random', EPS_VIDEOGPT, videogpt_uint8,
                         'wilson1yan/VideoGPT videogpt/fvd/fvd.py and videogpt/data.py; '
                         'sihyun-yu/digan src/scripts/compute_fvd_kvd.py'),
    'stylegan-v': Protocol('stylegan-v', 2048, 1, 16, False, 'sorted', EPS_TF_HUB,
                           stylegan_v_uint8,
                           'universome/stylegan-v src/metrics/frechet_video_distance.py and '
                           'src/metrics/metric_utils.py'),
}


def protocol_named(name):
    if name not in PROTOCOLS:
        raise UsageError('unknown FVD protocol {!r}: choose one of {} (docs/fvd.md '
                         '"Protocols")'.format(name, ', '.join(sorted(PROTOCOLS))))
    return PROTOCOLS[name]


def bilinear_matrix(n_in, n_out, xp=numpy):
    """(n_out, n_in) weights of a bilinear resize along one axis, half-pixel
    centres and no antialiasing (PyTorch's ``interpolate(mode='bilinear',
    align_corners=False)`` given a size): output i reads the input at
    (i + 0.5) * n_in / n_out - 0.5, clamped to [0, n_in - 1]."""
    source = numpy.clip((numpy.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
    low = numpy.floor(source).astype(int)
    high = numpy.minimum(low + 1, n_in - 1)
    frac = source - low
    weights = numpy.zeros((n_out, n_in))
    numpy.add.at(weights, (numpy.arange(n_out), low), 1 - frac)
    numpy.add.at(weights, (numpy.arange(n_out), high), frac)
    return xp.asarray(weights, numpy.float32)


def resize(frames, rows, cols, crop=None):
    """Bilinear resize (``bilinear_matrix``) of (..., H, W) float32 to (...,
    rows, cols), then with ``crop`` the centre crop * crop (computed only
    there); two matrix products, each one GEMM over all frames."""
    xp = backend.get_array_module(frames)
    *batch, h, w = frames.shape
    along_h, along_w = bilinear_matrix(h, rows, xp), bilinear_matrix(w, cols, xp)
    if crop:
        top, left = (rows - crop) // 2, (cols - crop) // 2
        along_h, along_w = along_h[top:top + crop], along_w[left:left + crop]
    x = frames.reshape(-1, w) @ along_w.T                                # (B * h, cols)
    x = x.reshape(-1, h, len(along_w)).transpose(0, 2, 1).reshape(-1, h) @ along_h.T
    return x.reshape(*batch, len(along_w), len(along_h)).swapaxes(-1, -2)


def clips(videos, n, protocol, seed, real=True, batchsize=64):
    """Yield uint8 batches (B, 16, H, W, C) of ``n`` videos of ``videos`` (an
    ``evaluation.video_sets`` set, at most all of it). Real videos: the
    protocol's choice (``sorted``: the first n in the set's order; ``random``:
    n at random without replacement, by ``seed``), each 16 consecutive frames
    from a random offset; generated videos: the first n, their first 16 frames."""
    rng = numpy.random.RandomState(seed)
    n = min(n, len(videos))
    if real and protocol.real_order == 'random':
        order = rng.permutation(len(videos))[:n]
    else:
        order = numpy.arange(n)
    for start in range(0, n, batchsize):
        batch = []
        for i in order[start:start + batchsize]:
            video = videos.video(int(i))
            offset = rng.randint(len(video) - FRAMES + 1) if real else 0
            batch.append(video[offset:offset + FRAMES])
        yield numpy.stack(batch)


def check_videos(videos, what):
    """uint8 (N, T, H, W, 3) (or grey, C = 1) with at least 16 frames, else one error line."""
    shape = getattr(videos, 'shape', None)
    if shape is None or len(shape) != 5 or shape[-1] not in (1, 3):
        raise UsageError('{}: videos must be an array (N, T, H, W, 3) of uint8, got shape {}'
                         .format(what, shape))
    if videos.dtype != numpy.uint8:
        raise UsageError('{}: videos must be uint8 (0..255), got {}: convert them (a '
                         'generator\'s [-1, 1] output to (x + 1) * 127.5)'.format(
                             what, videos.dtype))
    if shape[1] < FRAMES:
        raise UsageError('{}: FVD reads {} frames per video, these have {}'.format(
            what, FRAMES, shape[1]))
    if min(shape[2:4]) < 1:
        raise UsageError('{}: videos of {}x{} pixels'.format(what, *shape[2:4]))


def preprocess(videos, protocol):
    """uint8 (N, 16, H, W, C) -> I3D's input float32 (N, 3, 16, 224, 224) in [-1, 1]."""
    xp = backend.get_array_module(videos)
    x = videos.astype(xp.float32) / 255
    if x.shape[-1] == 1:
        x = xp.repeat(x, 3, axis=-1)
    x = x.transpose(0, 4, 1, 2, 3)  # (N, 3, T, H, W)
    h, w = x.shape[-2:]
    if protocol.crop:  # shorter side to 224, the other ceil(side * 224 / shorter); centre crop
        scale = SIZE / min(h, w)
        rows, cols = (SIZE, math.ceil(w * scale)) if h < w else (math.ceil(h * scale), SIZE)
        x = resize(x, rows, cols, crop=SIZE)
    else:
        x = resize(x, SIZE, SIZE)
    return xp.ascontiguousarray((x - 0.5) * 2, dtype=xp.float32)


def features(i3d, batches, protocol):
    """I3D logits (N, 400), float64 on the host, of uint8 (B, T, H, W, C)
    batches (their first 16 frames), in chunks of ``protocol.batchsize``."""
    found = []
    for videos in batches:
        check_videos(videos, 'videos')
        for start in range(0, len(videos), protocol.batchsize):
            x = preprocess(videos[start:start + protocol.batchsize, :FRAMES], protocol)
            with chainer.using_config('train', False), chainer.no_backprop_mode():
                logits = i3d(x, layers=[LAYER])[LAYER]
            logits = backend.CpuDevice().send(getattr(logits, 'array', logits))
            found.append(logits.reshape(len(logits), -1).astype(numpy.float64))
    if not found:
        raise UsageError('no videos to score')
    return numpy.concatenate(found)


def fvd(real, fake):
    """FVD of two (mu, sigma) Gaussians of I3D logits."""
    return frechet_distance(*real, *fake)


def statistics(i3d, batches, protocol):
    """(mu, sigma, n) of the I3D logits of the videos in ``batches``."""
    f = features(i3d, batches, protocol)
    mu, sigma = gaussian(f)
    return mu, sigma, len(f)


def as_uint8(videos, protocol):
    """(B, C, T, H, W) videos -> uint8 (B, T, H, W, C): the datasets' uint8
    as stored, anything else (a generator's [-1, 1]) the protocol's way."""
    if videos.dtype != numpy.uint8:
        videos = protocol.to_uint8(videos)
    return videos.transpose(0, 2, 3, 4, 1)


class FVD:
    """The metric ``fvd`` of evaluate.py (the contract: evaluation/metrics/__init__.py):
    I3D from --i3d, the real statistics of 2,048 clips of the dataset."""

    name = 'fvd'
    PROTOCOLS = PROTOCOLS
    real_layer = LAYER

    def __init__(self, args, protocol, device):
        if not args.i3d:
            raise UsageError('--metric fvd needs --i3d i3d_pretrained_400.pt (docs/fvd.md)')
        self.protocol = protocol or PROTOCOLS['videogpt']
        self.i3d, digest = load_i3d(args.i3d, eps=self.protocol.bn_eps)
        self.i3d.to_device(device)
        self.files = {args.i3d: digest}

    def check_fits(self, description):
        pass  # I3D takes any size: the protocol resizes to 224

    def statistics_key(self):
        return {'protocol': self.protocol.name, 'layer': LAYER,
                'classifier': sorted(self.files.values())}

    def real_features(self, batches):
        return features(self.i3d, (as_uint8(b, self.protocol) for b in batches), self.protocol)

    def run(self, batches, seed, real):
        return {'fvd': fvd(real, gaussian(self.real_features(batches)))}

    def describe(self):
        return '{} protocol, {} videos x {} runs'.format(
            self.protocol.name, self.protocol.n_samples, self.protocol.runs)

    def report(self, result, label, real_name):
        score = result['fvd']
        return ['FVD ({}, to {}): {:.2f} ± {:.2f}'.format(
            self.describe(), real_name, score['mean'], score['std']),
                format_fvd_table(label, score['mean'], score['std'], self.protocol.name)]

    def settings(self):
        return {k: v for k, v in self.protocol._asdict().items() if k != 'to_uint8'}
