"""The offline synthetic dataset (docs/design.md §3)."""
import os
import unittest

import numpy

import datasets  # noqa: F401  (compat before chainer)
import chainer
from datasets import converter, make_dataset, to_float
from datasets.synthetic import SHAPES, SyntheticMovingShapes, shape_mask
from runtime.errors import UsageError


class TestSynthetic(unittest.TestCase):

    def test_format(self):
        d = SyntheticMovingShapes(n_clips=20, frames=16, size=64, channels=1)
        self.assertEqual(len(d), 20)
        clip = d[3]
        self.assertEqual(clip.shape, (1, 16, 64, 64))
        self.assertEqual(clip.dtype, numpy.float32)
        self.assertEqual(clip.min(), -1.0)
        self.assertEqual(clip.max(), 1.0)

    def test_deterministic_by_seed_and_index(self):
        a = SyntheticMovingShapes(n_clips=10, size=32, seed=5)
        b = SyntheticMovingShapes(n_clips=10, size=32, seed=5)
        c = SyntheticMovingShapes(n_clips=10, size=32, seed=6)
        numpy.testing.assert_array_equal(a[7], b[7])
        numpy.testing.assert_array_equal(a[7], a[7])
        self.assertFalse(numpy.array_equal(a[7], c[7]))
        self.assertFalse(numpy.array_equal(a[7], a[8]))

    def test_objects_move_and_stay_inside(self):
        d = SyntheticMovingShapes(n_clips=30, size=32, shapes=['square'], n_objects=(1, 1),
                                  object_size=10, speed=(1.0, 2.0))
        for i in range(len(d)):
            clip = d[i][0] > 0
            areas = clip.sum(axis=(1, 2))
            self.assertTrue((areas == 100).all(), areas)  # whole square in every frame
            centres = [numpy.argwhere(frame).mean(axis=0) for frame in clip]
            steps = numpy.linalg.norm(numpy.diff(centres, axis=0), axis=1)
            self.assertTrue((steps <= 2.0 + 1.5).all(), steps)   # speed <= 2 px/frame
            self.assertGreater(numpy.mean(steps > 0), 0.8, steps)  # and moving

    def test_labels_are_shapes(self):
        d = SyntheticMovingShapes(n_clips=40, size=32, n_objects=(1, 1), object_size=12)
        self.assertEqual(set(d.labels.tolist()), set(range(len(SHAPES))))
        def trimmed(mask):
            ys, xs = numpy.nonzero(mask)
            return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]

        for i in range(len(d)):
            numpy.testing.assert_array_equal(
                trimmed(d[i][0, 0] > 0), trimmed(shape_mask(SHAPES[d.labels[i]], 12)))

    def test_colour(self):
        clip = SyntheticMovingShapes(n_clips=2, size=32, channels=3)[0]
        self.assertEqual(clip.shape, (3, 16, 32, 32))

    def test_make_dataset_checks_shape_and_arguments(self):
        d = make_dataset('synthetic', None, 16, 32, 1, n_clips=4)
        self.assertEqual(d[0].shape, (1, 16, 32, 32))
        with self.assertRaisesRegex(UsageError, 'unknown dataset_args.*colour'):
            make_dataset('synthetic', None, 16, 32, 1, colour=1)
        with self.assertRaisesRegex(UsageError, 'unknown dataset'):
            make_dataset('kinetics', None, 16, 32, 1)
        with self.assertRaisesRegex(UsageError, 'larger than the frame'):
            make_dataset('synthetic', None, 16, 8, 1)


if __name__ == '__main__':
    unittest.main()


class TestToFloat(unittest.TestCase):

    def test_uint8_to_minus_one_one_and_float32_as_is(self):
        values = numpy.arange(256, dtype=numpy.uint8)
        store = numpy.broadcast_to(values, (2, 3, 256))  # a read-only, strided batch
        x = to_float(store[:, ::2])
        self.assertEqual(x.dtype, numpy.float32)
        numpy.testing.assert_array_equal(x[1, 0], (values.astype(numpy.float32) - 128) / 128)
        self.assertEqual((x.min(), x.max()), (-1, 127 / 128))
        clips = numpy.zeros((2, 1, 4, 8, 8), numpy.float32)
        self.assertIs(to_float(clips), clips)

    def test_converter_gathers_and_scales_clips_not_labels(self):
        clips = [numpy.full((1, 2, 2, 2), v, numpy.uint8) for v in (0, 128, 255)]
        x = converter(clips, chainer.get_device('@numpy'))
        self.assertEqual((x.shape, x.dtype), ((3, 1, 2, 2, 2), numpy.float32))
        numpy.testing.assert_array_equal(x[:, 0, 0, 0, 0], [-1, 0, 127 / 128])
        x, labels = converter([(c, i) for i, c in enumerate(clips)], chainer.get_device('@numpy'))
        numpy.testing.assert_array_equal(x[:, 0, 0, 0, 0], [-1, 0, 127 / 128])
        numpy.testing.assert_array_equal(labels, [0, 1, 2])


class TestMovingMNIST(unittest.TestCase):

    def setUp(self):
        import tempfile
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, 'mnist_test_seq.npy')

    def tearDown(self):
        import shutil
        shutil.rmtree(self.dir)

    def test_windows_of_the_canonical_file(self):
        seq = numpy.random.RandomState(0).randint(0, 256, (20, 5, 64, 64)).astype(numpy.uint8)
        numpy.save(self.path, seq)
        d = make_dataset('moving_mnist', self.dir, 16, 64, 1)
        self.assertEqual(len(d), 5)
        clip = d[2]
        self.assertEqual((clip.shape, clip.dtype), ((1, 16, 64, 64), numpy.uint8))
        starts = [t for t in range(5) if numpy.array_equal(clip[0], seq[t:t + 16, 2])]
        self.assertEqual(len(starts), 1)
        numpy.testing.assert_array_equal(
            to_float(clip)[0], (seq[starts[0]:starts[0] + 16, 2].astype(numpy.float32) - 128) / 128)

    def test_wrong_dtype_or_shape(self):
        numpy.save(self.path, numpy.zeros((20, 5, 64, 64), numpy.float32))
        with self.assertRaisesRegex(UsageError, 'expected uint8'):
            make_dataset('moving_mnist', self.dir, 16, 64, 1)
        numpy.save(self.path, numpy.zeros((20, 5, 32, 32), numpy.uint8))
        with self.assertRaisesRegex(UsageError, r'clips are \(1, 16, 32, 32\)'):
            make_dataset('moving_mnist', self.dir, 16, 64, 1)

    def test_missing_file(self):
        with self.assertRaisesRegex(UsageError, 'mnist_test_seq.npy missing'):
            make_dataset('moving_mnist', self.dir, 16, 64, 1)
