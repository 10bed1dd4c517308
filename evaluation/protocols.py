"""How generated videos are prepared for the classifier (docs/design.md §4).

``tgan``: the paper's protocol (the original ``calc_inception.py``): 9,984
samples in batches of 48, x*128+128 (no clipping), every frame resized
64->128x128 with OpenCV's bicubic filter, RGB->BGR, minus the C3D mean
(``mean2.npz``, columns 21:149), centre crop 112x112; 4 runs, seeds 0-3.
``tgan2``: TGANv2's: clip to [-1, 1], bilinear resize straight to 112x112,
RGB->BGR, minus the mean's rows and columns 8:120; 2,048 samples x 10 runs.
``offline``: the project's synthetic-set classifier: clip to [-1, 1], nothing else.
Every protocol reports mean +- population std over runs of fresh samples.
"""
import collections
import os

import chainer
import chainer.functions as F
import cv2
import numpy
from chainer import backend

from runtime.errors import UsageError

MEAN_SHAPE = (3, 16, 128, 171)
MEAN_HELP = ('download mean2.npz from the release assets of pfnet-research/tgan2 '
             '(README "Evaluation")')
CROP = 112


def load_mean(path):
    """C3D's BGR mean clip (3, 16, 128, 171), float32, from ``mean2.npz``."""
    if not os.path.isfile(path):
        raise UsageError('{} not found: {}'.format(path, MEAN_HELP))
    try:
        with numpy.load(path) as f:
            if 'mean' not in f.files:
                raise UsageError('{} has no array "mean" (keys: {}): {}'.format(
                    path, ', '.join(f.files) or 'none', MEAN_HELP))
            mean = f['mean']
    except UsageError:
        raise
    except Exception as e:
        raise UsageError('{} is not a readable npz file ({}): {}'.format(
            path, type(e).__name__, MEAN_HELP))
    if mean.shape != MEAN_SHAPE:
        raise UsageError('{}: "mean" is {}, expected {} (C3D\'s BGR mean clip): {}'.format(
            path, mean.shape, MEAN_SHAPE, MEAN_HELP))
    return mean.astype(numpy.float32)


def _check_c3d_input(videos):
    _, c, t, _, _ = videos.shape
    if (c, t) != MEAN_SHAPE[:2]:
        raise UsageError('C3D scores RGB videos of {} frames, these are {} channel(s) x {} '
                         'frames: use --classifier for other videos'.format(MEAN_SHAPE[1], c, t))


def tgan_preprocess(videos, mean):
    """(N, 3, 16, H, W) RGB in [-1, 1] -> (N, 3, 16, 112, 112) BGR, mean subtracted.

    OpenCV runs on the host; the result goes back to the videos' device.
    """
    _check_c3d_input(videos)
    device = backend.get_device_from_array(videos)
    x = chainer.backends.cuda.to_cpu(videos) * 128 + 128
    n, c, t, h, w = x.shape
    frames = x.transpose(0, 2, 3, 4, 1).reshape(n * t, h, w, c)
    size = MEAN_SHAPE[2]
    resized = numpy.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_CUBIC)
                           for f in frames])
    x = resized.reshape(n, t, size, size, c).transpose(0, 4, 1, 2, 3)[:, ::-1]
    left = (MEAN_SHAPE[3] - size) // 2                          # columns 21:149
    x = x - mean[:, :, :, left:left + size]
    top = (size - CROP) // 2                                    # 8:120
    x = x[:, :, :, top:top + CROP, top:top + CROP]
    return device.send(numpy.ascontiguousarray(x, numpy.float32))


def tgan2_preprocess(videos, mean):
    """TGANv2's: clip, bilinear (Chainer's resize_images) to 112x112 on the
    videos' device, x*128+128, RGB->BGR, minus the mean's rows and columns 8:120."""
    _check_c3d_input(videos)
    xp = backend.get_array_module(videos)
    x = xp.clip(videos, -1, 1) * 128 + 128
    n, c, t, h, w = x.shape
    frames = x.transpose(0, 2, 1, 3, 4).reshape(n * t, c, h, w)
    frames = F.resize_images(frames, (CROP, CROP)).array
    x = frames.reshape(n, t, c, CROP, CROP).transpose(0, 2, 1, 3, 4)[:, ::-1]
    x = x - xp.asarray(mean[:, :, 8:8 + CROP, 8:8 + CROP])      # as TGANv2 (not centred)
    return xp.ascontiguousarray(x, dtype=xp.float32)


def offline_preprocess(videos, mean=None):
    """The synthetic-set classifier reads the videos as generated, clipped."""
    xp = backend.get_array_module(videos)
    return xp.clip(videos, -1, 1).astype(xp.float32)


Protocol = collections.namedtuple(
    'Protocol', 'name n_samples runs batchsize preprocess uses_c3d')

PROTOCOLS = {
    'tgan': Protocol('tgan', 9984, 4, 48, tgan_preprocess, True),
    'tgan2': Protocol('tgan2', 2048, 10, 48, tgan2_preprocess, True),
    'offline': Protocol('offline', 2048, 4, 64, offline_preprocess, False),
}
