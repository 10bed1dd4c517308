"""UCF-101: preparation from .avi files and the dataset on its store (docs/design.md §3)."""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import cv2
import numpy

import datasets  # noqa: F401  (compat before chainer)
import chainer
from datasets import make_dataset, prepare_ucf101
from datasets.ucf101 import UCF101, store_file
from runtime.errors import UsageError
from runtime.npz import load_npz

CLASSES = ['ApplyEyeMakeup', 'Archery', 'HandstandPushups']
# (list path, frames written); None: a corrupt file
TRAIN = [('ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi', 24),
         ('Archery/v_Archery_g01_c02.avi', 30),
         ('Archery/v_Archery_g02_c01.avi', None),
         ('HandstandPushups/v_HandStandPushups_g03_c04.avi', 18),
         ('ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi', 20)]
TEST = [('ApplyEyeMakeup/v_ApplyEyeMakeup_g05_c01.avi', 17),
        ('Archery/v_Archery_g06_c01.avi', 10)]  # too short: skipped
ROWS, COLS = 16, 20


def red(t):
    """The red level of frame t of every test video (green 50, blue 200)."""
    return 10 + 7 * t


def write_video(path, frames, width=40, height=32):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 25, (width, height))
    assert writer.isOpened()
    for t in range(frames):
        writer.write(numpy.full((height, width, 3), (200, 50, red(t)), numpy.uint8))  # BGR
    writer.release()


def make_ucf101(root):
    """Tiny UCF-101 in the official layout: UCF-101/<Class>/v_*.avi and ucfTrainTestlist/."""
    videos, splits = os.path.join(root, 'UCF-101'), os.path.join(root, 'ucfTrainTestlist')
    os.makedirs(splits)
    for name, frames in TRAIN + TEST:
        path = os.path.join(videos, name)
        if frames is None:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(b'RIFF\x00\x00\x00\x00AVI not really' * 50)
        else:
            write_video(path, frames)
    with open(os.path.join(splits, 'classInd.txt'), 'w') as f:
        f.writelines('{} {}\r\n'.format(i + 1, c) for i, c in enumerate(CLASSES))
    with open(os.path.join(splits, 'trainlist01.txt'), 'w') as f:
        f.writelines('{} {}\r\n'.format(name, CLASSES.index(name.split('/')[0]) + 1)
                     for name, _ in TRAIN)
    with open(os.path.join(splits, 'testlist01.txt'), 'w') as f:
        f.writelines(name + '\r\n' for name, _ in TEST)
    return videos, splits


def prepare(videos, splits, out, **kwargs):
    """Run the preparation in this process; returns (index, stdout, stderr)."""
    kwargs = dict(dict(workers=1, rows=ROWS, cols=COLS), **kwargs)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        index = prepare_ucf101.prepare(videos, splits, 1, out, **kwargs)
    return index, stdout.getvalue(), stderr.getvalue()


class TestPrepare(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp()
        cls.videos, cls.splits = make_ucf101(cls.root)
        cls.out = os.path.join(cls.root, 'ucf101')
        cls.index, cls.stdout, cls.stderr = prepare(cls.videos, cls.splits, cls.out, workers=2)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root)

    def store(self, subset):
        return numpy.fromfile(os.path.join(self.out, store_file(subset)),
                              numpy.uint8).reshape(-1, ROWS, COLS, 3)

    def test_index_contents(self):
        with open(os.path.join(self.out, 'index.json')) as f:
            index = json.load(f)
        self.assertEqual(index, self.index)
        self.assertEqual(index['classes'], CLASSES)
        self.assertEqual((index['rows'], index['cols'], index['split']), (ROWS, COLS, 1))
        train = index['subsets']['train']['clips']
        self.assertEqual([c['path'] for c in train],  # list order, corrupt clip left out
                         [name for name, frames in TRAIN if frames])
        self.assertEqual([(c['class_name'], c['class_id'], c['group'], c['clip'])
                          for c in train],
                         [('ApplyEyeMakeup', 0, 1, 1), ('Archery', 1, 1, 2),
                          ('HandstandPushups', 2, 3, 4), ('ApplyEyeMakeup', 0, 2, 1)])
        test = index['subsets']['test']['clips']
        self.assertEqual([(c['path'], c['class_id']) for c in test], [(TEST[0][0], 0)])

    def test_frame_counts_and_contents(self):
        for subset, clips in (('train', TRAIN), ('test', TEST)):
            entry = self.index['subsets'][subset]
            store = self.store(subset)
            self.assertEqual(len(store), entry['frames'])
            written = dict(clips)
            spans = sorted((c['first'], c['last']) for c in entry['clips'])
            self.assertEqual(sum(last - first + 1 for first, last in spans), len(store))
            self.assertTrue(all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:])))
            for clip in entry['clips']:
                frames = store[clip['first']:clip['last'] + 1].astype(int)
                self.assertEqual(len(frames), written[clip['path']])  # counted by decoding
                # RGB, in order, every pixel of the resized frame
                expected = [(red(t), 50, 200) for t in range(len(frames))]
                numpy.testing.assert_allclose(frames.mean(axis=(1, 2)), expected, atol=4)
                self.assertLess(numpy.ptp(frames, axis=(1, 2)).max(), 8)

    def test_broken_clips_are_reported_and_skipped(self):
        skipped = {s['path']: s['reason'] for s in self.index['skipped']}
        self.assertEqual(set(skipped), {TRAIN[2][0], TEST[1][0]})
        self.assertIn('0 frames decoded', skipped[TRAIN[2][0]])
        self.assertIn('10 frames decoded, fewer than 16', skipped[TEST[1][0]])
        self.assertIn('warning: skipped Archery/v_Archery_g02_c01.avi: 0 frames', self.stderr)
        self.assertIn('skipped 2 broken or missing clips', self.stdout)
        self.assertIn('train: 4 clips, 92 frames', self.stdout)
        self.assertIn('7/7 clips (2 skipped)', self.stderr)  # the progress line
        self.assertFalse(os.path.exists(os.path.join(self.out, 'journal.jsonl')))

    def test_rerun_of_a_finished_store(self):
        index, stdout, _ = prepare(self.videos, self.splits, self.out, workers=2)
        self.assertEqual(index, self.index)
        self.assertIn('already prepared', stdout)
        with self.assertRaisesRegex(UsageError, 'other settings: give a new --out'):
            prepare(self.videos, self.splits, self.out, rows=32)
        broken = os.path.join(self.root, 'broken')
        shutil.copytree(self.out, broken)
        os.remove(os.path.join(broken, 'test.u8'))
        with self.assertRaisesRegex(UsageError, r'test.u8: expected .*: remove .*broken and '
                                                r'prepare it again$'):
            prepare(self.videos, self.splits, broken)

    def test_resume_after_a_kill(self):
        out = os.path.join(self.root, 'killed')
        decode, calls = prepare_ucf101.decode, []

        def killed_after_three(path, rows, cols, *limits):
            if len(calls) == 3:
                raise KeyboardInterrupt
            calls.append(os.path.relpath(path, self.videos))
            return decode(path, rows, cols, *limits)

        with mock.patch.object(prepare_ucf101, 'decode', killed_after_three):
            with self.assertRaises(KeyboardInterrupt):
                prepare(self.videos, self.splits, out)
        self.assertFalse(os.path.exists(os.path.join(out, 'index.json')))
        with self.assertRaisesRegex(UsageError, 'index.json missing.*prepare_ucf101'):
            make_dataset('ucf101', out, 16, 16, 3)
        # a kill in the middle of writing the next clip: frames and half a record
        with open(os.path.join(out, store_file('train')), 'ab') as f:
            f.write(b'\x01' * (ROWS * COLS * 3 * 5 + 7))
        with open(os.path.join(out, 'journal.jsonl'), 'a') as f:
            f.write('{"subset": "train", "path": "Arch')
        done = list(calls)
        calls.clear()
        with mock.patch.object(prepare_ucf101, 'decode', lambda *a: calls.append(
                os.path.relpath(a[0], self.videos)) or decode(*a)):
            index, _, stderr = prepare(self.videos, self.splits, out)
        # the two finished clips are not decoded again; the broken one is retried
        self.assertEqual(done, [name for name, _ in TRAIN[:3]])
        self.assertEqual(calls, [name for name, _ in TRAIN[2:] + TEST])
        self.assertIn('7/7 clips (2 skipped)', stderr)
        self.assertEqual(index['skipped'], self.index['skipped'])
        for subset in ('train', 'test'):  # the same clips as an uninterrupted run
            store = numpy.fromfile(os.path.join(out, store_file(subset)), numpy.uint8)
            store = store.reshape(-1, ROWS, COLS, 3)
            clips = {c['path']: c for c in index['subsets'][subset]['clips']}
            self.assertEqual(len(store), index['subsets'][subset]['frames'])
            for clip in self.index['subsets'][subset]['clips']:
                mine = clips[clip['path']]
                self.assertEqual(mine['last'] - mine['first'], clip['last'] - clip['first'])
                numpy.testing.assert_array_equal(
                    store[mine['first']:mine['last'] + 1],
                    self.store(subset)[clip['first']:clip['last'] + 1])
        UCF101(out, frames=16, size=16, crop_x=2)  # the store checks out

    def test_resume_refuses_other_settings(self):
        out = os.path.join(self.root, 'other')
        os.makedirs(out)
        with open(os.path.join(out, 'journal.jsonl'), 'w') as f:
            f.write(json.dumps({'format': 1, 'split': 1, 'rows': 64, 'cols': 85,
                                'min_frames': 16}) + '\n')
        with self.assertRaisesRegex(UsageError, 'unfinished preparation.*rerun with those'):
            prepare(self.videos, self.splits, out)

    def test_resume_refuses_a_store_shorter_than_its_journal(self):
        out = os.path.join(self.root, 'short')
        os.makedirs(out)
        header = {'format': 1, 'split': 1, 'rows': ROWS, 'cols': COLS, 'min_frames': 16}
        record = dict(subset='train', path=TRAIN[0][0], first=0, last=23)
        with open(os.path.join(out, 'journal.jsonl'), 'w') as f:
            f.write(json.dumps(header) + '\n' + json.dumps(record) + '\n')
        with self.assertRaisesRegex(UsageError, r'train.u8 is shorter than .*journal.jsonl says'):
            prepare(self.videos, self.splits, out)

    def test_bad_inputs(self):
        out = os.path.join(self.root, 'bad')
        with self.assertRaisesRegex(UsageError, r'classInd.txt: No such file.*--splits'):
            prepare(self.videos, self.root, out)
        with self.assertRaisesRegex(UsageError, r'no .avi files under .*--videos'):
            prepare(self.splits, self.splits, out)
        splits = os.path.join(self.root, 'badsplits')
        shutil.copytree(self.splits, splits)
        with open(os.path.join(splits, 'testlist01.txt'), 'a') as f:
            f.write('Bowling/v_Bowling_g01_c01.avi\n')
        with self.assertRaisesRegex(UsageError, "testlist01.txt: 'Bowling/.*classInd"):
            prepare(self.videos, splits, out)

    def test_command_line(self):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        result = subprocess.run(
            [sys.executable, '-m', 'datasets.prepare_ucf101', '--videos', self.videos,
             '--splits', self.root, '--split', '1', '--out', os.path.join(self.root, 'cli')],
            cwd=root, capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn('error: ', result.stderr)
        self.assertIn('classInd.txt', result.stderr)

    def test_out_that_cannot_be_written(self):
        blocker = os.path.join(self.root, 'a_file')
        open(blocker, 'w').close()
        with self.assertRaisesRegex(UsageError, r'cannot write .*a_file/store: .*a_file is a file, not a folder'):
            prepare(self.videos, self.splits, os.path.join(blocker, 'store'))

    def test_full_disk_while_decoding_is_resumable(self):
        """A store write that fails (here: the second clip's) is one line;
        the rerun goes on from the clips recorded before it."""
        out = os.path.join(self.root, 'full')
        real = prepare_ucf101.Journal.add
        calls = []

        class FullDisk:
            def __init__(self, f):
                self.f, self.name = f, f.name

            def write(self, data):
                raise OSError(28, 'No space left on device')

            def close(self):
                self.f.close()

        def failing(journal, subset, clip, frames):
            calls.append(1)
            if len(calls) == 2:
                journal.stores[subset] = FullDisk(journal.stores[subset])
            real(journal, subset, clip, frames)

        with mock.patch.object(prepare_ucf101.Journal, 'add', failing):
            with self.assertRaisesRegex(UsageError, r'cannot write .*\.u8: No space left on '
                                                    r'device .*rerun the same command'):
                with contextlib.redirect_stderr(io.StringIO()):
                    prepare_ucf101.main(['--videos', self.videos, '--splits', self.splits,
                                         '--out', out, '--workers', '1', '--rows', str(ROWS),
                                         '--cols', str(COLS)])
        self.assertFalse(os.path.exists(os.path.join(out, 'index.json')))
        prepare(self.videos, self.splits, out)
        self.assertTrue(os.path.exists(os.path.join(out, 'index.json')))


def write_store(path, clips, rows=64, cols=85, classes=('A', 'B')):
    """A store in the documented format with exactly known frames: red is the
    column, green the row, blue the frame's number within its clip."""
    frames = []
    index = {'format': 1, 'split': 1, 'rows': rows, 'cols': cols, 'min_frames': 16,
             'classes': list(classes), 'skipped': [], 'subsets': {}}
    entries = []
    for n, (length, class_id) in enumerate(clips):
        first = sum(len(f) for f in frames)
        clip = numpy.empty((length, rows, cols, 3), numpy.uint8)
        clip[..., 0] = numpy.arange(cols)
        clip[..., 1] = numpy.arange(rows)[:, None]
        clip[..., 2] = numpy.arange(length)[:, None, None]
        frames.append(clip)
        entries.append({'path': 'x/v_x_g01_c{:02d}.avi'.format(n), 'class_name': classes[class_id],
                        'class_id': class_id, 'group': 1, 'clip': n, 'first': first,
                        'last': first + length - 1})
    numpy.concatenate(frames).tofile(os.path.join(path, 'train.u8'))
    index['subsets']['train'] = {'frames': sum(map(len, frames)), 'clips': entries}
    with open(os.path.join(path, 'index.json'), 'w') as f:
        json.dump(index, f)


class TestDataset(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        write_store(self.dir, [(20, 0), (16, 1), (40, 1), (25, 0)])

    def tearDown(self):
        shutil.rmtree(self.dir)

    def assertWindow(self, clip, length):
        """A run of consecutive frames of one clip; returns (start, left, top)."""
        self.assertEqual((clip.shape, clip.dtype), ((3, 16, 64, 64), numpy.uint8))
        pixels = clip.astype(int)
        start = pixels[2, 0, 0, 0]
        numpy.testing.assert_array_equal(pixels[2, :, 0, 0], numpy.arange(start, start + 16))
        self.assertLessEqual(start + 16, length)
        return start, pixels[0, 0, 0, 0], pixels[1, 0, 0, 0]

    def test_fixed_crop_of_the_original(self):
        d = make_dataset('ucf101', self.dir, 16, 64, 3)
        self.assertEqual(len(d), 4)
        numpy.testing.assert_array_equal(d.labels, [0, 1, 1, 0])
        self.assertEqual(d.class_names, ['A', 'B'])
        clip = d[2]
        self.assertWindow(clip, 40)
        pixels = clip.astype(int)
        numpy.testing.assert_array_equal(pixels[0, 3, 5], numpy.arange(10, 74))  # columns 10:74
        numpy.testing.assert_array_equal(pixels[1, 3, :, 5], numpy.arange(64))  # all 64 rows
        self.assertEqual(d[1][2, 0, 0, 0], 0)  # a 16-frame clip starts at its frame 0

    def test_random_windows_crops_and_flips(self):
        d = make_dataset('ucf101', self.dir, 16, 64, 3, seed=3, random_crop=True, flip=True)
        starts, lefts, flipped = set(), set(), set()
        for _ in range(40):
            clip = d[2]
            start, left, top = self.assertWindow(clip, 40)
            columns = clip[0, 0, 0].astype(int)
            step = columns[1] - columns[0]
            self.assertIn(step, (1, -1))
            numpy.testing.assert_array_equal(numpy.diff(columns), step)
            left = min(columns[0], columns[-1])
            self.assertTrue(0 <= left <= 85 - 64 and top == 0)
            starts.add(start)
            lefts.add(left)
            flipped.add(step < 0)
        self.assertGreater(len(starts), 5)
        self.assertGreater(len(lefts), 5)
        self.assertEqual(flipped, {True, False})

    def test_draws_are_reproducible_and_resumable(self):
        a, b = UCF101(self.dir, seed=1), UCF101(self.dir, seed=1)
        first = [a[2] for _ in range(3)]
        self.assertFalse(numpy.array_equal(first[0], first[1]) and
                         numpy.array_equal(first[1], first[2]))
        for clip in first:
            numpy.testing.assert_array_equal(clip, b[2])
        snapshot = os.path.join(self.dir, 'snapshot.npz')
        chainer.serializers.save_npz(snapshot, a)
        expected = [a[i] for i in (2, 0, 2)]
        c = UCF101(self.dir, seed=1)
        load_npz(snapshot, c)
        for i, clip in zip((2, 0, 2), expected):
            numpy.testing.assert_array_equal(c[i], clip)

    def test_loader_processes_draw_what_one_process_draws(self):
        def batches(iterator):
            try:
                return [chainer.dataset.concat_examples(iterator.next()) for _ in range(6)]
            finally:
                iterator.finalize()

        order = chainer.iterators.ShuffleOrderSampler
        serial = batches(chainer.iterators.SerialIterator(
            UCF101(self.dir, random_crop=True, flip=True), 2,
            order_sampler=order(numpy.random.RandomState(0))))
        parallel = batches(chainer.iterators.MultiprocessIterator(
            UCF101(self.dir, random_crop=True, flip=True), 2, n_processes=2,
            order_sampler=order(numpy.random.RandomState(0))))
        for s, p in zip(serial, parallel):
            numpy.testing.assert_array_equal(s, p)
        # three epochs: every clip drawn three times, with different windows
        self.assertEqual(len({a.tobytes() for batch in serial for a in batch}), 12)

    def test_updater_snapshot_resumes_the_draws(self):
        """A run of 2 + 2 updates from a trainer snapshot ends where 4 do."""
        from models import Critic, VideoGenerator
        from updaters import NoConstraint, WGANUpdater, make_optimizer

        def setup():
            numpy.random.seed(0)
            gen = VideoGenerator.from_config(8, 8, 16, 16, 3, {'ch': 16}, {'ch': 16})
            critic = Critic(3, 16, 16, ch=4)
            data = UCF101(self.dir, size=16, random_crop=True, flip=True, seed=5)
            iterator = chainer.iterators.SerialIterator(
                data, 3, order_sampler=chainer.iterators.ShuffleOrderSampler(
                    numpy.random.RandomState(0)))
            spec = {'name': 'rmsprop', 'lr': 1e-3}
            updater = WGANUpdater(iterator, make_optimizer(spec, gen),
                                  make_optimizer(spec, critic), NoConstraint(),
                                  converter=datasets.converter)
            return updater, critic

        snapshot = os.path.join(self.dir, 'updater.npz')
        straight, critic = setup()
        for n in range(4):
            if n == 2:
                chainer.serializers.save_npz(snapshot, straight)
                draws = straight.get_iterator('main').dataset.draws.counts.copy()
            straight.update()
        resumed, resumed_critic = setup()
        load_npz(snapshot, resumed)
        self.assertEqual(draws.sum(), 6)  # 2 batches of 3
        numpy.testing.assert_array_equal(resumed.get_iterator('main').dataset.draws.counts,
                                         draws)
        for _ in range(2):
            resumed.update()
        for (name, a), (_, b) in zip(sorted(critic.namedparams()),
                                     sorted(resumed_critic.namedparams())):
            numpy.testing.assert_array_equal(a.array, b.array, name)

    def write_index(self, index):
        with open(os.path.join(self.dir, 'index.json'), 'w') as f:
            json.dump(index, f)

    def test_store_checks(self):
        with self.assertRaisesRegex(UsageError, r'crops at column 30 do not fit'):
            make_dataset('ucf101', self.dir, 16, 64, 3, crop_x=30)
        with self.assertRaisesRegex(UsageError, r'shortest of 16 frames; frames=20'):
            make_dataset('ucf101', self.dir, 20, 64, 3)
        with self.assertRaisesRegex(UsageError, r"no subset 'test'"):
            make_dataset('ucf101', self.dir, 16, 64, 3, subset='test')
        with self.assertRaisesRegex(UsageError, 'unknown dataset_args.*crop; valid keys: '
                                                'crop_x, flip, random_crop, subset'):
            make_dataset('ucf101', self.dir, 16, 64, 3, crop=1)
        with self.assertRaisesRegex(UsageError, r'clips are \(3, 16, 64, 64\).*\(1, 16, 64, 64\)'):
            make_dataset('ucf101', self.dir, 16, 64, 1)
        with open(os.path.join(self.dir, 'index.json')) as f:
            index = json.load(f)
        index['subsets']['train']['clips'][3]['last'] = 101
        self.write_index(index)
        with self.assertRaisesRegex(UsageError, r'index.json: clips outside .*train.u8'):
            make_dataset('ucf101', self.dir, 16, 64, 3)
        index['subsets']['train']['clips'][3]['last'] = 100
        del index['rows']
        self.write_index(index)
        with self.assertRaisesRegex(UsageError, r'index.json: not a UCF-101 store index'):
            make_dataset('ucf101', self.dir, 16, 64, 3)
        index['rows'] = 64
        self.write_index(index)
        store = os.path.join(self.dir, 'train.u8')
        with open(store, 'r+b') as f:
            f.truncate(os.path.getsize(store) - 1)
        with self.assertRaisesRegex(UsageError, r'train.u8: expected 1648320 bytes \(101 '
                                                r'frames of 64x85x3 uint8\).*found 1648319: '
                                                r'prepare it again with `python -m '
                                                r'datasets.prepare_ucf101'):
            make_dataset('ucf101', self.dir, 16, 64, 3)
        os.remove(store)
        with self.assertRaisesRegex(UsageError, r'train.u8: expected .*found no file'):
            make_dataset('ucf101', self.dir, 16, 64, 3)
        with open(os.path.join(self.dir, 'index.json'), 'w') as f:
            f.write('{"format": 1, "rows"')
        with self.assertRaisesRegex(UsageError, r'index.json: cannot read the UCF-101 index'):
            make_dataset('ucf101', self.dir, 16, 64, 3)
        os.remove(os.path.join(self.dir, 'index.json'))
        with self.assertRaisesRegex(UsageError, r'index.json missing in .*; prepare it from '
                                                r'the official videos with `python -m '
                                                r'datasets.prepare_ucf101'):
            make_dataset('ucf101', self.dir, 16, 64, 3)


if __name__ == '__main__':
    unittest.main()
