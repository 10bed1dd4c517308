"""The baseline generators of paper Table 4: the 3D model (§6.3) and the
Video GAN generator (Vondrick et al., NIPS 2016)."""
import unittest

import numpy

import models  # noqa: F401  (compat before chainer)
import chainer
import chainer.functions as F
from runtime.errors import UsageError
from models.generator_3d import Generator3D
from models.video_gan_generator import VideoGANGenerator

BASELINES = (Generator3D, VideoGANGenerator)


def small(cls, frames=4, size=16, ch=16, channels=3):
    numpy.random.seed(0)
    return cls(8, channels, frames, size, ch=ch)


def generate(gen, z):
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return gen(z).array


class TestPaperSize(unittest.TestCase):
    """z in R^100, 16 frames of 3 x 64 x 64, ch=512."""

    def test_video_shape_and_range(self):
        for cls in BASELINES:
            with self.subTest(cls.__name__):
                numpy.random.seed(0)
                gen = cls(100, 3, 16, 64)
                z = gen.make_hidden(2, numpy.random.RandomState(0))
                video = generate(gen, z)
                self.assertEqual(video.shape, (2, 3, 16, 64, 64))
                self.assertLessEqual(float(abs(video).max()), 1.0)
                self.assertGreater(float(abs(video[0] - video[1]).max()), 1e-3)
                self.assertEqual((gen.z_dim, gen.n_classes), (100, 0))
                self.assertEqual(gen.parts(), {'generator': gen})

    def test_3d_model_layers(self):
        gen = Generator3D(100, 3, 16, 64)
        body = gen.body
        self.assertEqual(body.l0.W.shape, (512 * 1 * 4 * 4, 100))
        self.assertIsNone(body.l0.b)
        self.assertEqual(body.bottom, (1, 4, 4))
        self.assertEqual([body['dc{}'.format(i)].W.shape for i in (1, 2, 3)],
                         [(512, 256, 4, 4, 4), (256, 128, 4, 4, 4), (128, 64, 4, 4, 4)])
        self.assertTrue(all(body['dc{}'.format(i)].b is None for i in (1, 2, 3)))
        self.assertEqual([body['bn{}'.format(i)].gamma.shape[0] for i in range(4)],
                         [512 * 16, 256, 128, 64])
        self.assertEqual(gen.out.W.shape, (64, 3, 4, 4, 4))
        self.assertEqual(gen.out.b.shape, (3,))
        self.assertEqual((gen.out.stride, gen.out.pad), (2, 1))
        self.assertEqual(sum(p.size for p in gen.params()), 11858819)

    def test_video_gan_layers(self):
        gen = VideoGANGenerator(100, 3, 16, 64)
        fg, bg = gen.foreground_stream, gen.background_stream
        self.assertEqual(fg.l0.W.shape, (512 * 1 * 4 * 4, 100))
        self.assertEqual(fg.bottom, (1, 4, 4))
        self.assertEqual([fg['dc{}'.format(i)].W.shape for i in (1, 2, 3)],
                         [(512, 256, 4, 4, 4), (256, 128, 4, 4, 4), (128, 64, 4, 4, 4)])
        self.assertEqual(gen.foreground.W.shape, (64, 3, 4, 4, 4))
        self.assertEqual(gen.mask.W.shape, (64, 1, 4, 4, 4))
        self.assertEqual(bg.l0.W.shape, (512 * 4 * 4, 100))
        self.assertEqual(bg.bottom, (4, 4))
        self.assertEqual([bg['dc{}'.format(i)].W.shape for i in (1, 2, 3)],
                         [(512, 256, 4, 4), (256, 128, 4, 4), (128, 64, 4, 4)])
        self.assertEqual(gen.background.W.shape, (64, 3, 4, 4))
        self.assertEqual(sum(p.size for p in gen.params()), 15454983)

    def test_video_gan_streams(self):
        numpy.random.seed(0)
        gen = VideoGANGenerator(100, 3, 16, 64)
        z = gen.make_hidden(2, numpy.random.RandomState(0))
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            f, m, b = gen.streams(z)
        self.assertEqual((f.shape, m.shape, b.shape),
                         ((2, 3, 16, 64, 64), (2, 1, 16, 64, 64), (2, 3, 64, 64)))

    def test_vondrick_32_frames(self):
        # Vondrick et al.'s own network: 32 frames from a 512 x 2 x 4 x 4 bottom
        gen = VideoGANGenerator(100, 3, 32, 64)
        self.assertEqual(gen.foreground_stream.bottom, (2, 4, 4))
        self.assertEqual(gen.foreground_stream.l0.W.shape, (512 * 2 * 4 * 4, 100))


class TestVideoGANComposition(unittest.TestCase):

    def setUp(self):
        self.gen = small(VideoGANGenerator)
        self.z = self.gen.make_hidden(3, numpy.random.RandomState(2))

    def test_video_is_mask_blend_of_streams(self):
        gen, z = self.gen, self.z
        video = generate(gen, z)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            h = gen.foreground_stream(z)
            f = F.tanh(gen.foreground(h)).array
            m = F.sigmoid(gen.mask(h)).array
            b = F.tanh(gen.background(gen.background_stream(z))).array
        self.assertGreater(float(m.max() - m.min()), 1e-3)          # a real blend
        expected = m * f + (1 - m) * b[:, :, None]
        numpy.testing.assert_allclose(video, expected, rtol=1e-5, atol=1e-6)
        self.assertLessEqual(float(abs(video).max()), 1.0)

    def test_saturated_mask_selects_a_stream(self):
        gen, z = self.gen, self.z
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            f = F.tanh(gen.foreground(gen.foreground_stream(z))).array
            b = F.tanh(gen.background(gen.background_stream(z))).array
        gen.mask.b.array[...] = 100                                  # m = 1: all foreground
        numpy.testing.assert_allclose(generate(gen, z), f, rtol=1e-5, atol=1e-6)
        gen.mask.b.array[...] = -100                                 # m = 0: the still background
        video = generate(gen, z)
        for t in range(video.shape[2]):
            numpy.testing.assert_allclose(video[:, :, t], b, rtol=1e-5, atol=1e-6)
        self.assertGreater(float(abs(f[:, :, 0] - b).max()), 1e-3)   # the two differ


class TestInterface(unittest.TestCase):

    def test_make_hidden(self):
        for cls in BASELINES:
            with self.subTest(cls.__name__):
                gen = small(cls)
                a = gen.make_hidden(5, numpy.random.RandomState(7))
                b = gen.make_hidden(5, numpy.random.RandomState(7))
                rng = numpy.random.RandomState(8)
                c, d = gen.make_hidden(5, rng), gen.make_hidden(5, rng)
                self.assertEqual((a.shape, a.dtype), ((5, 8), numpy.float32))
                numpy.testing.assert_array_equal(a, b)
                self.assertFalse(numpy.allclose(a, c))
                self.assertFalse(numpy.allclose(c, d))
                self.assertTrue((-1 <= a).all() and (a <= 1).all())
                self.assertGreater(float(a.std()), 0.3)

    def test_condition_is_refused(self):
        for cls in BASELINES:
            with self.subTest(cls.__name__):
                gen = small(cls)
                z = gen.make_hidden(2, numpy.random.RandomState(0))
                label = numpy.eye(5, dtype=numpy.float32)[:2]
                with self.assertRaises(UsageError) as caught:
                    gen(z, label)
                self.assertIn('unconditional', str(caught.exception))
                self.assertNotIn('\n', str(caught.exception))

    def test_other_sizes(self):
        # n = log2(size / 4) stride-2 layers; the bottom has frames / 2^n steps
        for cls in BASELINES:
            for frames, size in ((8, 16), (2, 8), (4, 16)):
                with self.subTest(cls.__name__, frames=frames, size=size):
                    gen = small(cls, frames, size, channels=1)
                    video = generate(gen, gen.make_hidden(2, numpy.random.RandomState(0)))
                    self.assertEqual(video.shape, (2, 1, frames, size, size))

    def test_bad_frames_or_size(self):
        for cls in BASELINES:
            for frames, size in ((6, 16), (2, 16), (16, 48), (16, 4), (16, 0), (0, 8)):
                with self.subTest(cls.__name__, frames=frames, size=size):
                    with self.assertRaises(UsageError) as caught:
                        small(cls, frames, size)
                    message = str(caught.exception)
                    self.assertNotIn('\n', message)
                    self.assertIn('{} frames of {}x{}'.format(frames, size, size), message)

    def test_too_narrow(self):
        for cls in BASELINES:
            with self.subTest(cls.__name__):
                with self.assertRaisesRegex(UsageError, 'ch=4 is too small.*at least 8'):
                    small(cls, 16, 64, ch=4)                 # halved 3 times: 4 -> 2 -> 1 -> 0
                small(cls, 16, 64, ch=8)                     # 8 -> 4 -> 2 -> 1 channels

    def test_unknown_init(self):
        with self.assertRaisesRegex(UsageError, 'unknown initialisation'):
            Generator3D(8, 3, 4, 16, ch=16, init='bogus')

    def test_gradients_reach_every_parameter(self):
        for cls in BASELINES:
            with self.subTest(cls.__name__):
                gen = small(cls)
                z = gen.make_hidden(4, numpy.random.RandomState(3))
                gen.cleargrads()                             # Chainer starts grads at NaN
                with chainer.using_config('train', True):
                    F.sum(gen(z)).backward()
                for name, param in gen.namedparams():
                    self.assertIsNotNone(param.grad, name)
                    self.assertTrue(numpy.isfinite(param.grad).all(), name)
                    self.assertGreater(float(abs(param.grad).max()), 0, name)


if __name__ == '__main__':
    unittest.main()
