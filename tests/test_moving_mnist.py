"""Moving MNIST: the canonical file and its generation from MNIST digit files (docs/design.md §3)."""
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy

import datasets  # noqa: F401  (compat before chainer)
from datasets import make_dataset
from datasets.moving_mnist import bounce, generate, read_digits
from runtime.errors import UsageError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def digits(n=7):
    """n 28 x 28 'digits': a bright 12 x 12 block of level 100 + 20 k in digit k."""
    d = numpy.zeros((n, 28, 28), numpy.uint8)
    for k in range(n):
        d[k, 8:20, 8:20] = 100 + 20 * k
    return d


def write_idx(path, images):
    header = numpy.array([0x803, len(images), 28, 28], '>u4').tobytes()
    with (gzip.open if path.endswith('.gz') else open)(path, 'wb') as f:
        f.write(header + images.tobytes())


class TestCanonicalFile(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, 'mnist_test_seq.npy')

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_windows_vary_and_repeat_with_the_seed(self):
        seq = numpy.arange(20, dtype=numpy.uint8)[:, None, None, None] * numpy.ones(
            (20, 3, 64, 64), numpy.uint8)
        numpy.save(self.path, seq)
        a = make_dataset('moving_mnist', self.dir, 16, 64, 1, seed=4)
        b = make_dataset('moving_mnist', self.dir, 16, 64, 1, seed=4)
        starts = []
        for _ in range(30):
            clip = a[1]
            numpy.testing.assert_array_equal(clip, b[1])
            frame = clip[0, :, 0, 0].astype(int)
            numpy.testing.assert_array_equal(frame, numpy.arange(frame[0], frame[0] + 16))
            starts.append(frame[0])
        self.assertEqual(set(starts), set(range(5)))  # every window of 16 in 20 frames

    def test_not_a_npy_file(self):
        with open(self.path, 'wb') as f:
            f.write(b'<html>not found</html>')
        with self.assertRaisesRegex(UsageError, r'mnist_test_seq.npy: not a .npy file.*'
                                                r'make_moving_mnist'):
            make_dataset('moving_mnist', self.dir, 16, 64, 1)

    def test_too_few_frames(self):
        numpy.save(self.path, numpy.zeros((10, 2, 64, 64), numpy.uint8))
        with self.assertRaisesRegex(UsageError, r'time >= 16.*\(10, 2, 64, 64\)'):
            make_dataset('moving_mnist', self.dir, 16, 64, 1)


class TestGeneration(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_read_idx_and_npz(self):
        write_idx(os.path.join(self.dir, 'train-images-idx3-ubyte.gz'), digits(7))
        write_idx(os.path.join(self.dir, 't10k-images-idx3-ubyte'), digits(3))
        numpy.testing.assert_array_equal(read_digits(self.dir), digits(7))
        numpy.testing.assert_array_equal(read_digits(self.dir, 'test'), digits(3))
        npz = os.path.join(self.dir, 'mnist.npz')
        numpy.savez(npz, x_train=digits(5), x_test=digits(2))
        numpy.testing.assert_array_equal(read_digits(self.dir), digits(5))  # npz first
        numpy.testing.assert_array_equal(read_digits(npz, 'test'), digits(2))

    def test_bad_digit_files(self):
        with self.assertRaisesRegex(UsageError, 'no MNIST file, expected one of mnist.npz'):
            read_digits(self.dir)
        path = os.path.join(self.dir, 'train-images-idx3-ubyte')
        with open(path, 'wb') as f:
            f.write(numpy.array([0x801, 2, 28, 28], '>u4').tobytes() + bytes(2 * 784))
        with self.assertRaisesRegex(UsageError, 'not an IDX file of uint8 images'):
            read_digits(path)
        write_idx(path, digits(2))
        with open(path, 'ab') as f:
            f.write(b'\0')  # one byte too many
        with self.assertRaisesRegex(UsageError, 'not an IDX file'):
            read_digits(path)
        npz = os.path.join(self.dir, 'mnist.npz')
        numpy.savez(npz, x_train=numpy.zeros((3, 32, 32), numpy.uint8))
        with self.assertRaisesRegex(UsageError, r'"x_train" is \(3, 32, 32\), expected \(N, 28, 28\)'):
            read_digits(npz)
        with self.assertRaisesRegex(UsageError, 'no array "x_test"'):
            read_digits(npz, 'test')

    def test_bouncing_digits(self):
        rng = numpy.random.default_rng(0)
        for _ in range(20):
            corners = bounce(rng, 20, 36, 3.6)
            self.assertTrue(((corners >= 0) & (corners <= 36)).all())
            steps = numpy.abs(numpy.diff(corners, axis=0)).sum(axis=1)
            self.assertTrue((steps > 0).all())  # always moving
            self.assertTrue((numpy.linalg.norm(numpy.diff(corners, axis=0), axis=1)
                             <= 3.6 + 1.5).all())
        out = generate(digits(), numpy.zeros((20, 8, 64, 64), numpy.uint8), 8, n_digits=1)
        for j in range(8):  # one whole digit in every frame
            levels = {numpy.unique(frame).tolist()[-1] for frame in out[:, j]}
            self.assertEqual(len(levels), 1)
            self.assertTrue(((out[:, j] > 0).sum(axis=(1, 2)) == 144).all())

    def test_two_digits_overlap_by_maximum(self):
        out = generate(digits(), numpy.zeros((20, 30, 64, 64), numpy.uint8), 30)
        areas = (out > 0).sum(axis=(2, 3))
        self.assertTrue(((areas >= 144) & (areas <= 288)).all())
        self.assertTrue((areas < 288).any())  # some overlap, and there the brighter wins
        levels = set(numpy.unique(out).tolist())
        self.assertLessEqual(levels, {0} | {100 + 20 * k for k in range(7)})

    def test_command_line(self):
        write_idx(os.path.join(self.dir, 'train-images-idx3-ubyte'), digits())
        out = os.path.join(self.dir, 'mm', 'mnist_test_seq.npy')

        def run(*args):
            return subprocess.run(
                [sys.executable, '-m', 'datasets.make_moving_mnist', '--mnist', self.dir,
                 '--sequences', '6', *args], cwd=ROOT, capture_output=True, text=True)

        result = run('--out', out, '--seed', '3')
        self.assertEqual(result.returncode, 0, result.stderr)
        first = numpy.load(out)
        self.assertEqual((first.shape, first.dtype), ((20, 6, 64, 64), numpy.uint8))
        self.assertEqual(make_dataset('moving_mnist', os.path.dirname(out), 16, 64, 1)[5].shape,
                         (1, 16, 64, 64))
        self.assertEqual(run('--out', out, '--seed', '3').returncode, 0)
        numpy.testing.assert_array_equal(numpy.load(out), first)  # seeded
        self.assertEqual(run('--out', out, '--seed', '4').returncode, 0)
        self.assertFalse(numpy.array_equal(numpy.load(out), first))
        self.assertEqual(sorted(os.listdir(os.path.dirname(out))), ['mnist_test_seq.npy'])
        with open(os.path.join(self.dir, 'mnist.npz'), 'wb') as f:
            f.write(b'<html>not found</html>')
        for mnist, message in ((os.path.join(self.dir, 'mm'), 'no MNIST file'),
                               (os.path.join(self.dir, 'nowhere'), 'no such file or folder'),
                               (os.path.join(self.dir, 'mnist.npz'), 'not a readable npz')):
            bad = run('--mnist', mnist, '--out', out)
            self.assertEqual(bad.returncode, 2, bad.stderr)
            self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)
            self.assertTrue(bad.stderr.startswith('error: '), bad.stderr)
            self.assertIn(message, bad.stderr)

    def test_not_enough_room_for_the_file(self):
        write_idx(os.path.join(self.dir, 'train-images-idx3-ubyte'), digits())
        out = os.path.join(self.dir, 'huge.npy')
        bad = subprocess.run(
            [sys.executable, '-m', 'datasets.make_moving_mnist', '--mnist', self.dir,
             '--sequences', str(10 ** 12), '--out', out], cwd=ROOT, capture_output=True,
            text=True)
        self.assertEqual(bad.returncode, 2, bad.stderr)
        self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)
        self.assertIn('error: cannot write {}: not enough free space: it needs about'.format(
            out), bad.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == '__main__':
    unittest.main()
