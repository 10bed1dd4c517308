"""Prepare UCF-101 for training: decode the official videos into a frame store (docs/design.md §3).

    python -m datasets.prepare_ucf101 --videos UCF-101/ --splits ucfTrainTestlist/ \\
        --split 1 --out data/ucf101_64 [--workers N] [--rows 64] [--cols 85]

Reads ``classInd.txt``, ``trainlist0<split>.txt`` and ``testlist0<split>.txt``,
decodes every frame of every listed clip with the FFmpeg that
opencv-python-headless bundles (no system ffmpeg; frames are counted by
decoding, not from the container's metadata), resizes it to rows x cols
(64 x 85, the original TGAN's size) by area averaging (``cv2.INTER_AREA``;
the original used PIL's default filter) and writes the store that
``datasets.ucf101`` reads. Clips that cannot be opened, decode to fewer
than ``--min-frames`` frames, or exceed the limits of a clip (frames larger
than ``MAX_SIDE``, more than ``--max-frames`` frames, longer than
``--max-seconds`` to decode: a crafted file must not exhaust the machine) or
are not regular files (a FIFO would block) are skipped with a warning and
listed in the index. A decoding process that dies (killed for memory, a
decoder crash) ends the run with one line; the rerun goes on.

Resumable: each finished clip is appended to its subset's store file, flushed
to disk, and only then recorded in ``journal.jsonl``. A rerun after a kill
drops whatever follows the last recorded clip and decodes only the clips not
yet recorded. ``index.json``, which makes the store usable, is written
(atomically) only when every clip is done.
"""
import argparse
import concurrent.futures
import json
import os
import re
import stat
import sys
import time

import cv2
import numpy

from datasets.ucf101 import FORMAT, INDEX, SUBSETS, read_index, store_file
from runtime.errors import UsageError, run_command
from runtime.atomic import OutputError, atomic_path, make_folder, writing

JOURNAL = 'journal.jsonl'
MAX_SIDE = 4096  # pixels of a frame's side (UCF-101's clips are 320 x 240)
CLIP_NAME = re.compile(r'v_(?P<cls>.+)_g(?P<group>\d+)_c(?P<clip>\d+)\.avi$', re.IGNORECASE)


def read_classes(splits):
    """Class names in ``classInd.txt`` order (lines ``<1-based id> <name>``)."""
    path = os.path.join(splits, 'classInd.txt')
    names = []
    for number, fields in enumerate(_lines(path), 1):
        if len(fields) != 2 or fields[0] != str(number):
            raise UsageError('{}: line {} should be "{} <ClassName>", found {!r}'.format(
                path, number, number, ' '.join(fields)))
        names.append(fields[1])
    return names


def read_split(splits, subset, split, classes):
    """The clips of one subset: dicts with path, class name and id, group, clip."""
    path = os.path.join(splits, '{}list0{}.txt'.format(subset, split))
    ids = {name.lower(): i for i, name in enumerate(classes)}
    clips = []
    for fields in _lines(path):
        name = fields[0].replace('\\', '/')
        match = CLIP_NAME.search(name)
        # the class of the folder, else of the file name; both matched ignoring case,
        # as classInd.txt says HandstandPushups and the file names HandStandPushups
        class_id = ids.get(name.split('/')[0].lower())
        if class_id is None and match:
            class_id = ids.get(match.group('cls').lower())
        if match is None or class_id is None:
            raise UsageError('{}: {!r} is not <Class>/v_<Class>_g<group>_c<clip>.avi with a '
                             'class of classInd.txt'.format(path, name))
        clips.append({'path': name, 'class_name': classes[class_id], 'class_id': class_id,
                      'group': int(match.group('group')), 'clip': int(match.group('clip'))})
    if not clips:
        raise UsageError('{}: lists no clips'.format(path))
    return clips


def _lines(path):
    try:
        with open(path) as f:
            return [line.split() for line in f if line.strip()]
    except OSError as e:
        raise UsageError('{}: {}: give --splits the folder ucfTrainTestlist/ of the official '
                         'split files'.format(path, e.strerror))


def find_videos(videos):
    """Every .avi under ``videos``, by lower-case relative path (the lists and
    the folders do not agree on the case of HandstandPushups)."""
    found = {}
    for root, _, files in os.walk(videos):
        for name in files:
            if name.lower().endswith('.avi'):
                path = os.path.join(root, name)
                found[os.path.relpath(path, videos).replace(os.sep, '/').lower()] = path
    if not found:
        raise UsageError('no .avi files under {}: give --videos the folder UCF-101/ that '
                         'holds <Class>/v_*.avi'.format(videos))
    return found


class TooLarge(Exception):
    """A clip beyond the limits of one clip (the reason is the message)."""


def decode(path, rows, cols, max_frames=20000, max_seconds=600):
    """Every frame of a video, resized to (rows, cols), as uint8 RGB (frames,
    rows, cols, 3); TooLarge for frames larger than MAX_SIDE, more than
    ``max_frames`` frames or more than ``max_seconds`` of decoding."""
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    start, out = time.monotonic(), numpy.empty((0, rows, cols, 3), numpy.uint8)
    try:
        size = (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if max(size) > MAX_SIDE:
            raise TooLarge('frames of {:.0f} x {:.0f}, more than {} pixels a side'.format(
                *size, MAX_SIDE))
        n = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if max(frame.shape[:2]) > MAX_SIDE:
                raise TooLarge('frames of {} x {}, more than {} pixels a side'.format(
                    frame.shape[1], frame.shape[0], MAX_SIDE))
            if n == max_frames:
                raise TooLarge('more than {} frames (--max-frames)'.format(max_frames))
            if time.monotonic() - start > max_seconds:
                raise TooLarge('more than {} s to decode (--max-seconds)'.format(max_seconds))
            if n == len(out):  # grow by doubling: no list of frames beside the array
                out = numpy.concatenate([out, numpy.empty((max(n, 16),) + out.shape[1:],
                                                          numpy.uint8)])
            frame = cv2.resize(frame, (cols, rows), interpolation=cv2.INTER_AREA)
            out[n] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            n += 1
    finally:
        capture.release()
    return out[:n]


def _work(task):
    """Decode one clip in a worker: (subset, clip, frames or None, why it was skipped)."""
    subset, clip, path, rows, cols, min_frames, max_frames, max_seconds = task
    if path is None:
        return subset, clip, None, 'file not found'
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return subset, clip, None, 'not a regular file'
        frames = decode(path, rows, cols, max_frames, max_seconds)
    except TooLarge as e:
        return subset, clip, None, str(e)
    except OSError as e:
        return subset, clip, None, e.strerror
    except cv2.error as e:
        return subset, clip, None, 'decoding failed: {}'.format(str(e).strip().splitlines()[-1])
    if len(frames) < min_frames:
        return subset, clip, None, '{} frames decoded, fewer than {}'.format(
            len(frames), min_frames)
    return subset, clip, frames, None


def _worker_setup():
    cv2.setNumThreads(1)


class Journal:
    """The store files being written and the record of the clips they hold."""

    def __init__(self, out, header):
        self.path = os.path.join(out, JOURNAL)
        frame_bytes = header['rows'] * header['cols'] * 3
        make_folder(out)
        paths = {s: os.path.join(out, store_file(s)) for s in SUBSETS}
        for path in [self.path] + list(paths.values()):  # files of --out only
            if os.path.islink(path):
                raise UsageError('{} is a symbolic link: the store is written only into files '
                                 'of --out; remove the link or give a new --out'.format(path))
        for path in paths.values():
            if not os.path.exists(self.path) and os.path.exists(path):
                raise UsageError('{} exists without {}: it is no unfinished preparation and '
                                 'would be overwritten; remove it or give a new --out'.format(
                                     path, self.path))
        self.done, self.ends = self._recover(header), {s: 0 for s in SUBSETS}
        for (subset, _), record in self.done.items():
            self.ends[subset] = max(self.ends[subset], record['last'] + 1)
        for subset, path in paths.items():
            size = os.path.getsize(path) if os.path.exists(path) else 0
            if size < self.ends[subset] * frame_bytes:
                raise UsageError('{} is shorter than {} says: remove {} and start '
                                 'again'.format(path, self.path, out))
        self.stores = {s: _open_file(path, 'ab+') for s, path in paths.items()}
        for subset, store in self.stores.items():  # drop what follows the last recorded clip
            store.truncate(self.ends[subset] * frame_bytes)
        self.file = _open_file(self.path, 'a')

    def _recover(self, header):
        """The recorded clips by (subset, path); starts a journal if there is none."""
        if not os.path.exists(self.path):
            with atomic_path(self.path) as tmp, open(tmp, 'w') as f:
                f.write(json.dumps(header) + '\n')
            return {}
        with open(self.path, 'rb') as f:
            data = f.read()
        complete = data[:data.rfind(b'\n') + 1]  # a kill may leave half a line
        lines = complete.decode().splitlines()
        if json.loads(lines[0]) != header:
            raise UsageError('{} holds an unfinished preparation with {}: rerun with those '
                             'settings or give a new --out'.format(self.path, lines[0]))
        with open(self.path, 'r+b') as f:
            f.truncate(len(complete))
        records = [json.loads(line) for line in lines[1:]]
        return {(r['subset'], r['path']): r for r in records}

    def add(self, subset, clip, frames):
        """Append a clip's frames to the store, flush them, then record the clip."""
        store = self.stores[subset]
        with writing(store.name):
            store.write(frames.tobytes())
            store.flush()
            os.fsync(store.fileno())
        first = self.ends[subset]
        self.ends[subset] += len(frames)
        record = dict(clip, subset=subset, first=first, last=self.ends[subset] - 1)
        with writing(self.path):
            self.file.write(json.dumps(record) + '\n')
            self.file.flush()
            os.fsync(self.file.fileno())
        self.done[subset, clip['path']] = record

    def close(self):
        for f in list(self.stores.values()) + [self.file]:
            f.close()


def _open_file(path, mode):
    """``open(path, mode)``, never through a symbolic link."""
    with writing(path):
        return open(path, mode, opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW,
                                                                0o666))


class Progress:
    """A one-line progress report on stderr."""

    def __init__(self, total, done):
        self.total, self.done, self.skipped = total, done, 0
        self.start, self.resumed = time.time(), done

    def update(self, skipped=False):
        self.done += 1
        self.skipped += skipped
        rate = (self.done - self.resumed) / max(time.time() - self.start, 1e-9)
        left = (self.total - self.done) / rate if rate else 0
        sys.stderr.write('\r{}/{} clips ({} skipped), {:.1f} clips/s, {:.0f} min left  '.format(
            self.done, self.total, self.skipped, rate, left / 60))
        sys.stderr.flush()


def prepare(videos, splits, split, out, workers=None, rows=64, cols=85, min_frames=16,
            max_frames=20000, max_seconds=600):
    """Build (or finish) the store in ``out``; returns its index."""
    header = {'format': FORMAT, 'split': split, 'rows': rows, 'cols': cols,
              'min_frames': min_frames}
    index_path = os.path.join(out, INDEX)
    if os.path.exists(index_path):
        index = read_index(out, 'remove {} and prepare it again'.format(out))
        if {k: index.get(k) for k in header} != header:
            raise UsageError('{} holds a finished store with other settings: give a new '
                             '--out'.format(index_path))
        print('{} is already prepared (remove {} to prepare again)'.format(out, out))
        return index
    classes = read_classes(splits)
    lists = {s: read_split(splits, s, split, classes) for s in SUBSETS}
    found = find_videos(videos)
    journal = Journal(out, header)
    tasks = [(s, clip, found.get(clip['path'].lower()), rows, cols, min_frames, max_frames,
              max_seconds)
             for s in SUBSETS for clip in lists[s] if (s, clip['path']) not in journal.done]
    progress = Progress(sum(map(len, lists.values())), len(journal.done))
    skipped = []
    pool = concurrent.futures.ProcessPoolExecutor(workers or os.cpu_count(),
                                                  initializer=_worker_setup) \
        if workers != 1 else None
    try:
        results = _decoded(pool, tasks, 2 * (workers or os.cpu_count())) if pool \
            else map(_work, tasks)
        for subset, clip, frames, why in results:
            if frames is None:
                skipped.append({'subset': subset, 'path': clip['path'], 'reason': why})
                sys.stderr.write('\nwarning: skipped {}: {}\n'.format(clip['path'], why))
            else:
                journal.add(subset, clip, frames)
            progress.update(frames is None)
    finally:
        sys.stderr.write('\n')
        if pool:
            pool.shutdown(wait=False, cancel_futures=True)
        journal.close()
    index = dict(header, classes=classes, subsets={}, skipped=skipped)
    for subset in SUBSETS:
        records = [journal.done[subset, c['path']] for c in lists[subset]
                   if (subset, c['path']) in journal.done]
        index['subsets'][subset] = {
            'frames': journal.ends[subset],
            'clips': [{k: r[k] for k in ('path', 'class_name', 'class_id', 'group', 'clip',
                                          'first', 'last')} for r in records]}
    with atomic_path(index_path) as tmp, open(tmp, 'w') as f:
        json.dump(index, f, indent=1)
    os.remove(journal.path)
    for subset in SUBSETS:
        entry = index['subsets'][subset]
        print('{}: {} clips, {} frames, {:.2f} GB in {}'.format(
            subset, len(entry['clips']), entry['frames'],
            entry['frames'] * rows * cols * 3 / 1e9, os.path.join(out, store_file(subset))))
    print('skipped {} broken or missing clips (listed in {})'.format(len(skipped), index_path))
    return index


def _decoded(pool, tasks, ahead):
    """``_work``'s results in the order they finish, with at most ``ahead``
    tasks under way (decoded clips do not pile up); a worker that dies ends
    the run with one line, as a rerun goes on after the last clip. The pool
    breaks for every call once a worker died, so the death may show in a
    result or in the next submission: both end the run the same way."""
    tasks, running = iter(tasks), {}

    def submit_next():
        for task in tasks:
            try:
                running[pool.submit(_work, task)] = task
            except concurrent.futures.process.BrokenProcessPool:
                raise _died([task, *running.values()])
            return

    for _ in range(ahead):
        submit_next()
    while running:
        done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            task = running.pop(future)
            try:
                result = future.result()
            except concurrent.futures.process.BrokenProcessPool:
                raise _died([task, *running.values()])
            yield result
            submit_next()


def _died(tasks):
    """The one-line error for a decoding process that died during ``tasks``."""
    return UsageError(
        'a decoding process died (killed, e.g. for lack of memory, or a decoder '
        'crash) while it decoded one of {}: rerun the same command (it goes on '
        'after the last recorded clip), with --workers 1 to find the clip'.format(
            ', '.join(sorted({t[1]['path'] for t in tasks}))))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--videos', required=True, help='the UCF-101/ folder of <Class>/v_*.avi')
    p.add_argument('--splits', required=True, help='the ucfTrainTestlist/ folder')
    p.add_argument('--split', type=int, choices=(1, 2, 3), default=1)
    p.add_argument('--out', required=True, help='store folder, e.g. data/ucf101_64')
    p.add_argument('--workers', type=int, default=os.cpu_count(),
                   help='decoding processes (default: all cores)')
    p.add_argument('--rows', type=int, default=64)
    p.add_argument('--cols', type=int, default=85)
    p.add_argument('--min-frames', type=int, default=16,
                   help='skip clips that decode to fewer frames')
    p.add_argument('--max-frames', type=int, default=20000,
                   help='skip clips of more frames (default 20000)')
    p.add_argument('--max-seconds', type=float, default=600,
                   help='skip clips that take longer to decode (default 600)')
    args = p.parse_args(argv)
    try:
        prepare(args.videos, args.splits, args.split, args.out, args.workers,
                args.rows, args.cols, args.min_frames, args.max_frames, args.max_seconds)
    except OutputError as e:
        raise UsageError('{}; make room, then rerun the same command: it goes on after the '
                         'last recorded clip'.format(e))
    return 0


if __name__ == '__main__':
    run_command(main)
