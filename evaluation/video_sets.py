"""Videos given as files, for scoring any model's samples (``python -m
evaluation.fvd``): an array of videos (N, T, H, W, 3) uint8 in an ``.npy`` or
``.npz`` file (memory-mapped where it can be), or a prepared UCF-101 store of
this project (its whole frames, not the training crops; docs/data.md)."""
import os

import numpy

from runtime.errors import UsageError
from runtime.npz import NpzError, NpzFile
from datasets import ucf101

MAX_NPZ_BYTES = 2 ** 33  # of the videos in one npz (10,000 clips of 16 x 128 x 128 x 3: 7.9 GB)
ARRAY_HELP = ('give an .npy or .npz file holding one uint8 array (N, T, H, W, 3), or a folder '
              'prepared by `python -m datasets.prepare_ucf101`')


class ArrayVideos:
    """The videos of one array, in the file's order."""

    def __init__(self, array, name):
        self.array, self.name = array, name

    def __len__(self):
        return len(self.array)

    def video(self, i):
        return self.array[i]


class StoreVideos:
    """The clips of a prepared UCF-101 store's subsets (each clip's every
    frame, rows x cols) of at least ``min_frames`` frames, in sorted order of
    their paths."""

    def __init__(self, path, subsets, min_frames=1):
        index = ucf101.read_index(path)
        missing = [s for s in subsets if s not in index['subsets']]
        if missing:
            raise UsageError('{}: no subset {}; it has {}'.format(
                os.path.join(path, ucf101.INDEX), ', '.join(missing),
                ', '.join(sorted(index['subsets']))))
        shape = (index['rows'], index['cols'], 3)
        self.clips = []
        for subset in subsets:
            entry = index['subsets'][subset]
            store = numpy.memmap(os.path.join(path, ucf101.store_file(subset)), numpy.uint8,
                                 'r', shape=(entry['frames'],) + shape)
            self.clips += [(c['path'], store, c['first'], c['last'] + 1) for c in entry['clips']
                           if c['last'] + 1 - c['first'] >= min_frames]
        self.clips.sort(key=lambda clip: clip[0])
        self.name = '{} ({})'.format(path, '+'.join(subsets))

    def __len__(self):
        return len(self.clips)

    def video(self, i):
        _, store, first, end = self.clips[i]
        return store[first:end]


def open_videos(path, subsets=('train',), min_frames=1):
    """An ``ArrayVideos`` or ``StoreVideos`` of ``path``, or one error line."""
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, ucf101.INDEX)):
            raise UsageError('{}: a folder without {}: {}'.format(path, ucf101.INDEX, ARRAY_HELP))
        return StoreVideos(path, subsets, min_frames)
    if not os.path.isfile(path):
        raise UsageError('{}: no such file: {}'.format(path, ARRAY_HELP))
    try:
        if path.endswith('.npz'):
            with NpzFile(path) as f:
                if len(f.files) != 1:
                    raise UsageError('{} holds {} arrays ({}): {}'.format(
                        path, len(f.files), ', '.join(f.files[:5]), ARRAY_HELP))
                array = f.read(f.files[0], max_bytes=MAX_NPZ_BYTES)
        else:
            array = numpy.load(path, mmap_mode='r', allow_pickle=False)
    except NpzError as e:
        raise UsageError('{} is not a readable .npy/.npz array ({}): {}'.format(
            path, e.detail, ARRAY_HELP))
    except UsageError:
        raise
    except Exception as e:
        raise UsageError('{} is not a readable .npy/.npz array ({}): {}'.format(
            path, type(e).__name__, ARRAY_HELP))
    return ArrayVideos(array, path)
