#!/usr/bin/env python
"""Clips per second each dataset delivers through the iterator ``train.py`` uses.

For UCF-101, Moving MNIST and golf: batches of 32 clips of 16 frames, 64 x 64,
through ``train.make_iterator`` with ``loader_processes`` 0 (SerialIterator)
and N (MultiprocessIterator), including ``concat_examples`` (what the updater
does next; the uint8 clips are scaled later, on the device), with train.py's
allocator setting (``runtime/allocator.py``; ``--system-malloc``: glibc's default).
Without --data, the UCF-101 store is prepared here, by
``datasets.prepare_ucf101``, from synthetic .avi files of 320 x 240 (the
size of UCF-101's videos), which also times the preparation; Moving MNIST and
golf get synthetic files in their formats. Also estimates the store size of
the full UCF-101 train split.

    python benchmarks/bench_loading.py [--processes 2] [--batches 40] [--data data/ucf101_64]
                                       [--system-malloc]
"""
import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime import allocator  # noqa: E402
from runtime import chainer_compat  # noqa: E402,F401
import chainer  # noqa: E402
import cv2  # noqa: E402
import numpy  # noqa: E402

import datasets  # noqa: E402
import train  # noqa: E402
from datasets import prepare_ucf101, ucf101  # noqa: E402
from datasets.moving_mnist import generate  # noqa: E402

# UCF-101 split 1 train clips; about 186 frames per clip on average (7.2 s per clip
# on average at 25 fps, some clips 29.97 fps): an assumption, --data measures a store
TRAIN_CLIPS, MEAN_FRAMES = 9537, 186


def smooth_frames(rng, frames, height, width):
    """Moving colour gradients: compressible like real video, unlike noise."""
    y, x = numpy.mgrid[:height, :width]
    phase = rng.uniform(0, 2 * numpy.pi, 3)
    out = numpy.empty((frames, height, width, 3), numpy.uint8)
    for t in range(frames):
        for c in range(3):
            out[t, ..., c] = 127 + 100 * numpy.sin((x + 3 * t) / 17 + (y - 2 * t) / 23
                                                   + phase[c])
    return out


def make_ucf101(root, clips, frames):
    """``clips`` synthetic .avi files in the official layout; returns (videos, splits)."""
    videos, splits = os.path.join(root, 'UCF-101'), os.path.join(root, 'ucfTrainTestlist')
    os.makedirs(splits)
    rng = numpy.random.RandomState(0)
    names = []
    for i in range(clips):
        name = 'Class{0}/v_Class{0}_g{1:02d}_c01.avi'.format(i % 2, i)
        os.makedirs(os.path.dirname(os.path.join(videos, name)), exist_ok=True)
        writer = cv2.VideoWriter(os.path.join(videos, name), cv2.VideoWriter_fourcc(*'MJPG'),
                                 25, (320, 240))
        for frame in smooth_frames(rng, frames, 240, 320):
            writer.write(frame)
        writer.release()
        names.append(name)
    with open(os.path.join(splits, 'classInd.txt'), 'w') as f:
        f.write('1 Class0\n2 Class1\n')
    with open(os.path.join(splits, 'trainlist01.txt'), 'w') as f:
        f.writelines('{} {}\n'.format(n, i % 2 + 1) for i, n in enumerate(names[1:]))
    with open(os.path.join(splits, 'testlist01.txt'), 'w') as f:
        f.write(names[0] + '\n')
    return videos, splits


def make_moving_mnist(root, sequences):
    folder = os.path.join(root, 'moving_mnist')
    os.makedirs(folder)
    digits = numpy.random.RandomState(0).randint(0, 256, (100, 28, 28)).astype(numpy.uint8)
    out = numpy.lib.format.open_memmap(os.path.join(folder, 'mnist_test_seq.npy'), 'w+',
                                       numpy.uint8, (20, sequences, 64, 64))
    generate(digits, out, sequences)
    out.flush()
    return folder


def make_golf(root, clips):
    folder = os.path.join(root, 'golf')
    rng = numpy.random.RandomState(0)
    names = []
    for i in range(clips):
        name = 'frames/{:04d}.jpg'.format(i)
        os.makedirs(os.path.join(folder, 'frames'), exist_ok=True)
        strip = smooth_frames(rng, 32, 128, 128).reshape(32 * 128, 128, 3)
        cv2.imwrite(os.path.join(folder, name), strip)
        names.append(name)
    with open(os.path.join(folder, 'golf.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    return folder


def clips_per_second(dataset, processes, batch, batches):
    iterator = train.make_iterator(dataset, batch, 0, processes)
    try:
        for _ in range(3):  # start the workers, fill the prefetch queue
            chainer.dataset.concat_examples(iterator.next())
        start = time.perf_counter()
        for _ in range(batches):
            chainer.dataset.concat_examples(iterator.next())
        return batch * batches / (time.perf_counter() - start)
    finally:
        iterator.finalize()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--processes', type=int, default=os.cpu_count(),
                   help='loader processes of the MultiprocessIterator (default: all cores)')
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--batches', type=int, default=40)
    p.add_argument('--data', help='a prepared UCF-101 store to read instead of a synthetic one')
    p.add_argument('--clips', type=int, default=24, help='synthetic UCF-101 clips')
    p.add_argument('--system-malloc', action='store_true',
                   help="glibc's default allocation, not train.py's allocator setting")
    args = p.parse_args()
    kept = not args.system_malloc and allocator.keep_freed_memory()
    print('freed memory kept (as train.py does): {}'.format(kept))
    root = tempfile.mkdtemp()
    try:
        paths = {}
        if args.data:
            paths['ucf101'] = args.data
        else:
            videos, splits = make_ucf101(root, args.clips, MEAN_FRAMES)
            out = os.path.join(root, 'ucf101_64')
            start = time.perf_counter()
            with contextlib.redirect_stderr(io.StringIO()), \
                    contextlib.redirect_stdout(io.StringIO()):
                prepare_ucf101.prepare(videos, splits, 1, out, workers=os.cpu_count())
            seconds = time.perf_counter() - start
            print('prepare_ucf101: {} clips of {} frames 320x240 in {:.1f} s with {} workers: '
                  '{:.1f} clips/s, {:.0f} frames/s'.format(
                      args.clips, MEAN_FRAMES, seconds, os.cpu_count(), args.clips / seconds,
                      args.clips * MEAN_FRAMES / seconds))
            paths['ucf101'] = out
        paths['moving_mnist'] = make_moving_mnist(root, 2000)
        paths['golf'] = make_golf(root, 64)
        channels = {'ucf101': 3, 'moving_mnist': 1, 'golf': 3}
        for name, path in paths.items():
            dataset = datasets.make_dataset(name, path, 16, 64, channels[name])
            for processes in (0, args.processes):
                rate = clips_per_second(dataset, processes, args.batch, args.batches)
                print('{:13s} {:>2d} loader processes ({}): {:7.0f} clips/s'.format(
                    name, processes, 'MultiprocessIterator' if processes else 'SerialIterator',
                    rate))
        index = ucf101.read_index(paths['ucf101'])
        entry = index['subsets']['train']
        frame_bytes = index['rows'] * index['cols'] * 3
        print('UCF-101 train split 1 store, estimated: {} clips x {} frames x {} bytes '
              '({}x{}x3 uint8) = {:.1f} GB'.format(
                  TRAIN_CLIPS, MEAN_FRAMES, frame_bytes, index['rows'], index['cols'],
                  TRAIN_CLIPS * MEAN_FRAMES * frame_bytes / 1e9))
        if args.data:
            print('this store: {} train clips, {:.1f} frames on average, {:.2f} GB'.format(
                len(entry['clips']), entry['frames'] / len(entry['clips']),
                entry['frames'] * frame_bytes / 1e9))
    finally:
        shutil.rmtree(root)


if __name__ == '__main__':
    main()
