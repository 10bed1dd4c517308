"""Sample videos from a fixed z0 while training: a PNG grid and an animated GIF."""
import math
import os

import chainer
import numpy
from chainer import training
from PIL import Image

from extensions.atomic import atomic_path
from models.common import one_hot


def to_uint8(videos):
    """(N, C, T, H, W) in [-1, 1] -> uint8 (N, T, H, W, C)."""
    x = numpy.clip(numpy.rint((videos + 1) * 127.5), 0, 255).astype(numpy.uint8)
    return x.transpose(0, 2, 3, 4, 1)


def frame_strips(videos):
    """One row per video, its frames left to right: (N*H, T*W, C)."""
    n, t, h, w, c = videos.shape
    return videos.transpose(0, 2, 1, 3, 4).reshape(n * h, t * w, c)


def video_grid(videos, cols=None):
    """Videos tiled row by row in a grid of ``cols`` columns (default: near
    square), per frame: (T, rows*H, cols*W, C)."""
    n, t, h, w, c = videos.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    padded = numpy.zeros((rows * cols, t, h, w, c), numpy.uint8)
    padded[:n] = videos
    grid = padded.reshape(rows, cols, t, h, w, c).transpose(2, 0, 3, 1, 4, 5)
    return grid.reshape(t, rows * h, cols * w, c)


def _image(array, scale):
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    return image


def save_previews(videos, path_stem, fps=8):
    """Write ``<stem>.png`` (frame strips) and ``<stem>.gif`` (animated grid)
    for uint8 videos (N, T, H, W, C); small frames are upscaled to >= 64 px."""
    scale = max(1, 64 // videos.shape[2])
    with atomic_path(path_stem + '.png') as tmp:
        _image(frame_strips(videos), scale).save(tmp, format='PNG')
    frames = [_image(f, scale) for f in video_grid(videos)]
    with atomic_path(path_stem + '.gif') as tmp:
        frames[0].save(tmp, format='GIF', save_all=True, append_images=frames[1:],
                       duration=int(1000 / fps), loop=0)


class Preview(training.Extension):
    """Generate ``n_videos`` videos from a fixed z0 (drawn once from ``seed``)
    with BN in inference mode, and save them as ``preview/iter_N.{png,gif}``.
    A conditional generator's video i gets class i mod n_classes."""

    def __init__(self, generator, n_videos=16, seed=0):
        self.generator = generator
        self.z0 = generator.make_hidden(n_videos, numpy.random.RandomState(seed))
        self.labels = numpy.arange(n_videos) % generator.n_classes if generator.n_classes \
            else None

    def __call__(self, trainer):
        xp = self.generator.xp
        condition = None if self.labels is None else one_hot(
            self.labels, self.generator.n_classes, xp)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            videos = self.generator(xp.asarray(self.z0), condition)
        stem = os.path.join(trainer.out, 'preview', 'iter_{:08d}'.format(
            trainer.updater.iteration))
        save_previews(to_uint8(chainer.backend.CpuDevice().send(videos.array)), stem)
