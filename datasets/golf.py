"""The golf scenes of Vondrick et al. (NIPS 2016), as TGAN used them (paper §6.1, docs/design.md §3).

Vondrick et al. distribute each (stabilised) clip as one JPEG: its frames,
128 x 128 each, stacked top to bottom in a vertical strip (128 wide, 128 x T
tall). A text file (``golf.txt`` here) lists the strips, one per line, by path
relative to the data folder (further fields on a line are ignored, as in
their loader). The original TGAN loader resized with nearest neighbours; we
average (INTER_AREA), which does not alias.
"""
import os

import chainer
import cv2
import numpy
from PIL import Image

from datasets._draws import Draws
from runtime.errors import UsageError

LIST = 'golf.txt'


class Golf(chainer.dataset.DatasetMixin):
    """A random ``frames``-long window of each strip, every frame resized to
    ``size`` x ``size`` (area averaging), uint8 (3, frames, size, size)
    (``datasets.to_float`` maps it to [-1, 1]).

    Args:
        path: the data folder, holding the list ``golf.txt``.
        seed: the windows are a function of (seed, index, how often the
            index was drawn): see ``_draws``.
    """

    def __init__(self, path, frames=16, size=64, seed=0):
        list_path = os.path.join(path, LIST)
        with open(list_path) as f:
            self.strips = [os.path.join(path, line.split()[0]) for line in f if line.strip()]
        if not self.strips:
            raise UsageError('{}: lists no clips'.format(list_path))
        missing = [s for s in self.strips if not os.path.isfile(s)]
        if missing:
            raise UsageError('{}: {} listed clips are missing, e.g. {}: the paths must be '
                             'relative to {}/'.format(list_path, len(missing), missing[0],
                                                      path.rstrip('/')))
        self.frames, self.size = frames, size
        self.draws = Draws(len(self.strips), seed)

    def __len__(self):
        return len(self.strips)

    def serialize(self, serializer):
        self.draws.serialize(serializer)

    def get_example(self, i):
        strip = self.read(i)
        width = strip.shape[1]  # of a frame, as decoded
        length = len(strip) // width
        if length < self.frames:
            raise UsageError('{} is a strip of {} frames, fewer than frames={}: remove it from '
                             'the list'.format(self.strips[i], length, self.frames))
        start = self.draws.rng(i).integers(length - self.frames + 1)
        window = strip[start * width:(start + self.frames) * width]
        window = cv2.resize(window, (self.size, self.size * self.frames),
                            interpolation=cv2.INTER_AREA)
        clip = window.reshape(self.frames, self.size, self.size, 3)
        return clip.transpose(3, 0, 1, 2)

    def read(self, i):
        """Strip ``i`` as uint8 RGB (height, width, 3), decoded at the coarsest
        JPEG scale (1, 1/2, 1/4 or 1/8) that keeps frames ``size`` wide or more.
        Opened as a JPEG only (Pillow would otherwise guess the format from the
        content, and an EPS file named .jpg runs Ghostscript), within Pillow's
        bound on pixels."""
        try:
            with Image.open(self.strips[i], formats=['JPEG']) as image:
                width, height = image.size
                image.draft('RGB', (self.size, self.size * (height // width)))
                return numpy.asarray(image.convert('RGB'))
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            raise UsageError('{}: cannot decode this JPEG ({}): replace it or remove it from '
                             'the list'.format(self.strips[i], e))
