"""Sample videos from a fixed z0 while training: a PNG grid and an animated GIF."""
import os

import chainer
import numpy
from chainer import training

from media.video_files import to_uint8, write_videos
from models.common import one_hot


def save_previews(videos, path_stem, fps=8):
    """Write ``<stem>.png`` (frame strips) and ``<stem>.gif`` (animated grid)
    for uint8 videos (N, T, H, W, C); small frames are upscaled to >= 64 px."""
    scale = max(1, 64 // videos.shape[2])
    for ext in ('.png', '.gif'):
        write_videos(videos, path_stem + ext, fps, scale=scale)


class Preview(training.Extension):
    """Generate ``n_videos`` videos from a fixed z0 (drawn once from ``seed``)
    with BN in inference mode, and save them as ``preview/iter_N.{png,gif}``.
    A conditional generator's video i gets class i mod n_classes. With a
    ``check`` (uint8 videos -> whether each passes, e.g.
    ``evaluation.shape_motion.ShapeMotion``) the fraction of videos that pass
    is reported as ``preview_motion``, the fraction of frames whose shape
    passes as ``preview_frames``."""

    priority = training.PRIORITY_WRITER  # its report reaches this iteration's log

    def __init__(self, generator, n_videos=16, seed=0, check=None):
        self.generator, self.check = generator, check
        self.last = None  # (path stem, fractions of videos and frames that pass ``check``)
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
        videos = to_uint8(chainer.backend.CpuDevice().send(videos.array))
        save_previews(videos, stem)
        passed = frames = None
        if self.check is not None:
            videos_ok, frames_ok = self.check.measure(videos)
            passed, frames = float(videos_ok.mean()), float(frames_ok.mean())
            chainer.report({'preview_motion': passed, 'preview_frames': frames})
        self.last = stem, passed, frames
