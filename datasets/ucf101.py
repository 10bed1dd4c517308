"""UCF-101 clips from the frame store that ``datasets.prepare_ucf101`` writes (docs/design.md §3).

The store (one folder, e.g. ``data/ucf101_64``):

- ``<subset>.u8`` per subset (train, test): every decoded frame of every clip,
  resized to rows x cols, as raw uint8 RGB, shape (frames, rows, cols, 3),
  read through a numpy memmap;
- ``index.json``, written last: the geometry, the class names in
  ``classInd.txt`` order and, per subset, the store's frame count and its clips
  (path, class name, 0-based class id, group, clip number and the first and
  last frame, inclusive, in the store), plus the clips that were skipped.
"""
import json
import os

import chainer
import numpy

from datasets._draws import Draws
from runtime.errors import UsageError

INDEX = 'index.json'
FORMAT = 1
SUBSETS = ('train', 'test')


def store_file(subset):
    return subset + '.u8'


def prepare_command(path):
    return ('python -m datasets.prepare_ucf101 --videos UCF-101/ --splits ucfTrainTestlist/ '
            '--split 1 --out {}'.format(path.rstrip('/')))


def read_index(path, again=None):
    """The index of the store in folder ``path``, checked against its files;
    ``again`` says how to fix a bad store (default: prepare it again)."""
    index_path = os.path.join(path, INDEX)
    again = again or 'prepare it again with `{}`'.format(prepare_command(path))
    try:
        with open(index_path) as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError('{}: cannot read the UCF-101 index ({}): {}'.format(
            index_path, str(e).splitlines()[0], again))
    try:
        frame_bytes = index['rows'] * index['cols'] * 3
        subsets = {s: (e['frames'], [(c['first'], c['last'], c['class_id']) for c in e['clips']])
                   for s, e in index['subsets'].items()}
        valid = index['format'] == FORMAT and len(index['classes']) > 0
    except (KeyError, TypeError):
        valid = False
    if not valid:
        raise UsageError('{}: not a UCF-101 store index of format {}: {}'.format(
            index_path, FORMAT, again))
    for subset, (frames, clips) in subsets.items():
        data = os.path.join(path, store_file(subset))
        size = os.path.getsize(data) if os.path.isfile(data) else None
        if size != frames * frame_bytes:
            raise UsageError('{}: expected {} bytes ({} frames of {}x{}x3 uint8) as {} says, '
                             'found {}: {}'.format(data, frames * frame_bytes, frames,
                                                   index['rows'], index['cols'], INDEX,
                                                   'no file' if size is None else size, again))
        if any(not (0 <= first <= last < frames and 0 <= class_id < len(index['classes']))
               for first, last, class_id in clips):
            raise UsageError('{}: clips outside {} or of unknown classes: {}'.format(
                index_path, data, again))
    return index


class UCF101(chainer.dataset.DatasetMixin):
    """Clips of one subset of a prepared UCF-101 store, as the original TGAN
    sampled them: ``frames`` consecutive frames from a random offset, cropped
    to ``size`` x ``size`` at columns ``crop_x:crop_x + size`` (10:74 of 85)
    and centred rows; uint8 (3, frames, size, size), a read-only view of the
    store (``datasets.to_float`` maps it to [-1, 1]).

    Args:
        path: the store folder.
        subset: 'train' or 'test'.
        crop_x: left column of the fixed crop.
        random_crop: crop at a random position instead (augmentation).
        flip: mirror half of the clips horizontally (augmentation).
        seed: the random windows, crops and flips are a function of
            (seed, index, how often the index was drawn): see ``_draws``.

    ``labels`` (0-based class ids, one per clip) and ``class_names`` serve
    the conditional model and the evaluation.
    """

    def __init__(self, path, frames=16, size=64, subset='train', crop_x=10,
                 random_crop=False, flip=False, seed=0):
        index = read_index(path)
        if subset not in index['subsets']:
            raise UsageError('{}: no subset {!r}; it has {}'.format(
                os.path.join(path, INDEX), subset, ', '.join(sorted(index['subsets']))))
        rows, cols = index['rows'], index['cols']
        if size > rows or crop_x + size > cols:
            raise UsageError('{}: {}x{} crops at column {} do not fit its {}x{} frames: '
                             'set size/crop_x to fit or prepare the store with larger '
                             '--rows/--cols'.format(os.path.join(path, INDEX), size, size,
                                                    crop_x, rows, cols))
        entry = index['subsets'][subset]
        self.clips = entry['clips']
        shortest = min((c['last'] - c['first'] + 1 for c in self.clips), default=0)
        if not self.clips or shortest < frames:
            raise UsageError('{}: the {} subset has {} clips, the shortest of {} frames; '
                             'frames={} needs longer clips'.format(
                                 os.path.join(path, INDEX), subset, len(self.clips),
                                 shortest, frames))
        self.store = numpy.memmap(os.path.join(path, store_file(subset)), numpy.uint8, 'r',
                                  shape=(entry['frames'], rows, cols, 3))
        self.frames, self.size = frames, size
        self.crop_x, self.random_crop, self.flip = crop_x, random_crop, flip
        self.class_names = index['classes']
        self.labels = numpy.array([c['class_id'] for c in self.clips], numpy.int32)
        self.first = numpy.array([c['first'] for c in self.clips])
        self.length = numpy.array([c['last'] - c['first'] + 1 for c in self.clips])
        self.draws = Draws(len(self.clips), seed)

    def __len__(self):
        return len(self.clips)

    def serialize(self, serializer):
        self.draws.serialize(serializer)

    def get_example(self, i):
        rng = self.draws.rng(i)
        start = self.first[i] + rng.integers(self.length[i] - self.frames + 1)
        rows, cols = self.store.shape[1:3]
        if self.random_crop:
            top, left = rng.integers(rows - self.size + 1), rng.integers(cols - self.size + 1)
        else:
            top, left = (rows - self.size) // 2, self.crop_x
        clip = self.store[start:start + self.frames, top:top + self.size, left:left + self.size]
        if self.flip and rng.integers(2):
            clip = clip[:, :, ::-1]
        return clip.transpose(3, 0, 1, 2)
