"""Datasets from the web meet crafted files: UCF-101 clips that are too
large, FIFOs, a decoding process that dies, stores linked elsewhere; golf
strips that are not JPEGs; an IDX .gz that claims more than MNIST. Each is
skipped or refused in one line, nothing hangs, nothing outside --out is
touched."""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import numpy
from PIL import Image

import datasets  # noqa: F401  (compat before chainer)
from datasets import make_dataset
from datasets.ucf101 import store_file
from datasets.moving_mnist import read_digits
from runtime.errors import UsageError
from test_ucf101 import COLS, ROWS, make_ucf101, prepare, write_video

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIG = 'Archery/v_Archery_g01_c02.avi'  # a clip of TRAIN (30 frames)
FIFO = 'ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi'


class TestPrepareLimits(unittest.TestCase):

    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.videos, self.splits = make_ucf101(self.root)
        self.out = os.path.join(self.root, 'out')

    def tearDown(self):
        shutil.rmtree(self.root)

    def command(self, *args):
        return subprocess.run(
            [sys.executable, '-m', 'datasets.prepare_ucf101', '--videos', self.videos,
             '--splits', self.splits, '--out', self.out, '--rows', str(ROWS), '--cols',
             str(COLS), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)

    def test_clips_beyond_the_limits_are_skipped(self):
        # a GIF of 5000 x 8 frames under an .avi name, and a FIFO (it would block a reader)
        Image.new('RGB', (5000, 8)).save(os.path.join(self.videos, BIG), format='GIF')
        os.remove(os.path.join(self.videos, FIFO))
        os.mkfifo(os.path.join(self.videos, FIFO))
        done = self.command('--workers', '2', '--max-frames', '23')
        self.assertEqual(done.returncode, 0, done.stderr)
        for clip, why in ((BIG, 'frames of 5000 x 8, more than 4096 pixels a side'),
                          (FIFO, 'not a regular file'),
                          ('ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi',
                           'more than 23 frames (--max-frames)')):
            self.assertIn('warning: skipped {}: {}'.format(clip, why), done.stderr)
        with open(os.path.join(self.out, 'index.json')) as f:
            skipped = {s['path'] for s in json.load(f)['skipped']}
        self.assertTrue({BIG, FIFO} <= skipped)

    def test_a_dead_worker_ends_the_run(self):
        # the decoding process of one clip is killed (as the kernel does when memory runs out)
        script = textwrap.dedent('''
            import os, signal, sys
            from datasets import prepare_ucf101
            from runtime.errors import run_command
            work = prepare_ucf101._work
            def dying(task):
                if task[1]['path'] == {!r}:
                    os.kill(os.getpid(), signal.SIGKILL)
                return work(task)
            prepare_ucf101._work = dying
            run_command(lambda: prepare_ucf101.main(sys.argv[1:]))
        '''.format(BIG))
        done = subprocess.run(
            [sys.executable, '-c', script, '--videos', self.videos, '--splits', self.splits,
             '--out', self.out, '--rows', str(ROWS), '--cols', str(COLS), '--workers', '2'],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 2, done.stderr)
        line = done.stderr.strip().splitlines()[-1]
        self.assertTrue(line.startswith('error: a decoding process died'), done.stderr)
        self.assertIn(BIG, line)
        self.assertIn('rerun the same command', line)
        self.assertFalse(os.path.exists(os.path.join(self.out, 'index.json')))
        self.assertEqual(self.command('--workers', '2').returncode, 0)  # the rerun goes on
        self.assertTrue(os.path.exists(os.path.join(self.out, 'index.json')))

    def test_stores_linked_elsewhere_or_without_journal(self):
        target = os.path.join(self.root, 'precious')
        with open(target, 'wb') as f:
            f.write(b'keep me')
        os.makedirs(self.out)
        os.symlink(target, os.path.join(self.out, store_file('train')))
        with self.assertRaisesRegex(UsageError, r'train\.u8 is a symbolic link: the store is '
                                                r'written only into files of --out'):
            prepare(self.videos, self.splits, self.out)
        os.remove(os.path.join(self.out, store_file('train')))
        with open(os.path.join(self.out, store_file('train')), 'wb') as f:
            f.write(b'a finished store')
        with self.assertRaisesRegex(UsageError, r'train\.u8 exists without .*journal\.jsonl: '
                                                r'it is no unfinished preparation'):
            prepare(self.videos, self.splits, self.out)
        with open(target, 'rb') as f:
            self.assertEqual(f.read(), b'keep me')
        with open(os.path.join(self.out, store_file('train')), 'rb') as f:
            self.assertEqual(f.read(), b'a finished store')


class TestOtherFormats(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_golf_strip_that_is_no_jpeg(self):
        path = os.path.join(self.dir, 'frames-stable', 'a', '0001.jpg')
        os.makedirs(os.path.dirname(path))
        with open(os.path.join(self.dir, 'golf.txt'), 'w') as f:
            f.write('frames-stable/a/0001.jpg 1\n')
        # a PNG: Pillow's sniffing would decode it; an EPS would run Ghostscript
        Image.new('RGB', (128, 128 * 20)).save(path, format='PNG')
        with self.assertRaisesRegex(UsageError, r'0001\.jpg: cannot decode this JPEG'):
            make_dataset('golf', self.dir, 16, 64, 3)[0]
        with open(path, 'wb') as f:
            f.write(b'%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 128 2560\n')
        with self.assertRaisesRegex(UsageError, r'0001\.jpg: cannot decode this JPEG'):
            make_dataset('golf', self.dir, 16, 64, 3)[0]

    def test_idx_gz_header_read_first(self):
        # a .gz whose header claims 10 million images: refused before its data is read
        path = os.path.join(self.dir, 'train-images-idx3-ubyte.gz')
        with gzip.open(path, 'wb') as f:
            f.write(numpy.array([0x803, 10 ** 7, 28, 28], '>u4').tobytes())
            f.write(bytes(2 ** 20) * 4)
        with self.assertRaisesRegex(UsageError, r'not an IDX file of uint8 images \(magic '
                                                r'0x803, at most 300000 images'):
            read_digits(path)
        os.remove(path)
        os.mkfifo(path)
        with self.assertRaisesRegex(UsageError, r'idx3-ubyte\.gz: not a regular file'):
            read_digits(path)


if __name__ == '__main__':
    unittest.main()
