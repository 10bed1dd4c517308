"""Preprocessing of the tgan (paper) and tgan2 protocols, and the C3D mean file."""
import os
import shutil
import tempfile
import unittest

import cv2
import numpy

import evaluation  # noqa: F401  (compat before chainer)
from runtime.errors import UsageError
from evaluation.metrics.inception_score import (MEAN_SHAPE, PROTOCOLS, load_mean,
                                                offline_preprocess, tgan2_preprocess,
                                                tgan_preprocess)


def bilinear_align_corners(image, size):
    """(H, W) -> (size, size), sampling at i * (H - 1) / (size - 1) (Chainer's resize_images)."""
    h, w = image.shape
    ys, xs = numpy.arange(size) * (h - 1) / (size - 1), numpy.arange(size) * (w - 1) / (size - 1)
    y0, x0 = numpy.floor(ys).astype(int), numpy.floor(xs).astype(int)
    y1, x1 = numpy.minimum(y0 + 1, h - 1), numpy.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


class TestProtocols(unittest.TestCase):

    def setUp(self):
        rng = numpy.random.RandomState(0)
        self.videos = rng.uniform(-1, 1, (2, 3, 16, 64, 64)).astype(numpy.float32)
        self.mean = rng.uniform(80, 120, MEAN_SHAPE).astype(numpy.float32)

    def test_paper_protocol_numbers(self):
        p = PROTOCOLS['tgan']
        self.assertEqual((p.n_samples, p.runs, p.batchsize), (9984, 4, 48))
        self.assertEqual(p.n_samples, 208 * 48)
        self.assertEqual((PROTOCOLS['tgan2'].n_samples, PROTOCOLS['tgan2'].runs), (2048, 10))

    def test_each_protocol_its_dropout_and_eps(self):
        # the paper's script as it ran: dropout on (the `and` quirk), eps 1e-7 in
        # calc_inception.py; TGANv2's inception_score.py: eps 1e-20, dropout off
        settings = {name: (p.dropout, p.eps) for name, p in PROTOCOLS.items()}
        self.assertEqual(settings, {'tgan': (True, 1e-7), 'tgan-nodropout': (False, 1e-7),
                                    'tgan2': (False, 1e-20), 'offline': (False, 1e-7)})
        nodrop, tgan = PROTOCOLS['tgan-nodropout'], PROTOCOLS['tgan']
        self.assertEqual(nodrop._replace(name='tgan', dropout=True), tgan)

    def test_tgan_pixel_by_pixel_against_opencv(self):
        out = tgan_preprocess(self.videos, self.mean)
        self.assertEqual(out.shape, (2, 3, 16, 112, 112))
        self.assertEqual(out.dtype, numpy.float32)
        for n, t in ((0, 0), (1, 7), (1, 15)):
            rgb = self.videos[n, :, t].transpose(1, 2, 0) * 128 + 128      # (64, 64, 3)
            big = cv2.resize(rgb, (128, 128), interpolation=cv2.INTER_CUBIC)
            bgr = big[:, :, ::-1].transpose(2, 0, 1)                       # (3, 128, 128)
            expected = (bgr - self.mean[:, t, :, 21:149])[:, 8:120, 8:120]
            numpy.testing.assert_allclose(out[n, :, t], expected, rtol=1e-6, atol=1e-4)

    def test_tgan_channel_order_and_no_clipping(self):
        videos = -numpy.ones((1, 3, 16, 64, 64), numpy.float32)
        videos[:, 0] = 1.5                                   # red, beyond the tanh range
        out = tgan_preprocess(videos, numpy.zeros(MEAN_SHAPE, numpy.float32))
        numpy.testing.assert_allclose(out[0, 2], 1.5 * 128 + 128)   # red is last (BGR)
        numpy.testing.assert_allclose(out[0, 0], 0, atol=1e-4)
        numpy.testing.assert_allclose(out[0, 1], 0, atol=1e-4)

    def test_tgan2_bilinear_clip_and_mean_window(self):
        videos = self.videos.copy()
        videos[0, 0, 0, 0, 0] = 3.0                          # clipped to 1 before resizing
        out = tgan2_preprocess(videos, self.mean)
        self.assertEqual(out.shape, (2, 3, 16, 112, 112))
        clipped = numpy.clip(videos, -1, 1) * 128 + 128
        for n, t in ((0, 0), (1, 9)):
            for c in range(3):
                expected = bilinear_align_corners(clipped[n, 2 - c, t].astype(numpy.float64), 112)
                expected -= self.mean[c, t, 8:120, 8:120]
                numpy.testing.assert_allclose(out[n, c, t], expected, rtol=1e-5, atol=1e-3)

    def test_offline_only_clips(self):
        videos = numpy.array([-2.0, -0.5, 0.25, 1.5], numpy.float32).reshape(1, 1, 1, 2, 2)
        numpy.testing.assert_array_equal(offline_preprocess(videos).ravel(), [-1, -0.5, 0.25, 1])

    def test_c3d_needs_rgb_16_frames(self):
        for shape in ((1, 1, 16, 64, 64), (1, 3, 8, 64, 64)):
            for preprocess in (tgan_preprocess, tgan2_preprocess):
                with self.assertRaisesRegex(UsageError, 'C3D scores RGB videos of 16 frames'):
                    preprocess(numpy.zeros(shape, numpy.float32), self.mean)


class TestMeanFile(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def path(self, name, **arrays):
        path = os.path.join(self.dir, name)
        numpy.savez(path, **arrays)
        return path

    def test_loads_the_published_layout(self):
        mean = numpy.random.RandomState(0).uniform(0, 255, MEAN_SHAPE)
        loaded = load_mean(self.path('mean2.npz', mean=mean))
        self.assertEqual(loaded.dtype, numpy.float32)
        numpy.testing.assert_allclose(loaded, mean, rtol=1e-6)

    def test_errors(self):
        with self.assertRaisesRegex(UsageError, r'mean2\.npz not found: download mean2\.npz '
                                                r'from the release assets of pfnet-research/tgan2'):
            load_mean(os.path.join(self.dir, 'mean2.npz'))
        with self.assertRaisesRegex(UsageError, r'has no array "mean" \(keys: average\)'):
            load_mean(self.path('a.npz', average=numpy.zeros(MEAN_SHAPE)))
        with self.assertRaisesRegex(UsageError, r'"mean" is \(3, 16, 112, 112\), expected '
                                                r'\(3, 16, 128, 171\)'):
            load_mean(self.path('b.npz', mean=numpy.zeros((3, 16, 112, 112))))
        text = os.path.join(self.dir, 'c.npz')
        with open(text, 'w') as f:
            f.write('not an archive')
        with self.assertRaisesRegex(UsageError, 'not a readable npz file'):
            load_mean(text)


if __name__ == '__main__':
    unittest.main()
