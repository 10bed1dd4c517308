"""Shapes, names and variants of the networks at the paper configuration."""
import io
import unittest

import numpy

import models  # noqa: F401  (compat before chainer)
import chainer
from models import Critic, ImageGenerator, TemporalGenerator, VideoGenerator
from runtime.errors import UsageError
from runtime.npz import load_npz


def inference():
    return chainer.using_config('train', False), chainer.no_backprop_mode()


class TestPaperShapes(unittest.TestCase):

    def test_temporal_generator(self):
        g0 = TemporalGenerator(z0_dim=100, z1_dim=100, frames=16)
        z1 = g0(numpy.random.uniform(-1, 1, (3, 100)).astype(numpy.float32))
        self.assertEqual(z1.shape, (3, 100, 16))
        self.assertLessEqual(float(abs(z1.array).max()), 1.0)
        widths = [g0['dc{}'.format(i)].W.shape[1] for i in range(5)]
        self.assertEqual(widths, [512, 256, 128, 128, 100])

    def test_image_generator(self):
        g1 = ImageGenerator(100, 100, out_channels=3, size=64, ch=512)
        z = numpy.random.uniform(-1, 1, (4, 100)).astype(numpy.float32)
        x = g1(z, z)
        self.assertEqual(x.shape, (4, 3, 64, 64))
        self.assertEqual(g1.dc5.W.shape, (32, 3, 3, 3))
        self.assertEqual(g1.l0s.W.shape, (256 * 16, 100))

    def test_video_generator_and_critic(self):
        gen = VideoGenerator.from_config(100, 100, 16, 64, 3)
        critic = Critic(3, 16, 64, ch=64)
        z0 = gen.make_hidden(2, numpy.random.RandomState(0))
        self.assertEqual(z0.shape, (2, 100))
        self.assertTrue((-1 <= z0).all() and (z0 <= 1).all())
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            video = gen(z0)
            score = critic(video)
        self.assertEqual(video.shape, (2, 3, 16, 64, 64))
        self.assertLessEqual(float(abs(video.array).max()), 1.0)
        self.assertEqual(score.shape, (2,))
        self.assertEqual(critic.c3.W.shape, (512, 256, 4, 4, 4))
        self.assertEqual(critic.c4.W.shape, (1, 512, 4, 4))

    def test_video_is_g1_of_g0_frame_by_frame(self):
        gen = VideoGenerator.from_config(8, 6, 4, 8, 1, {'ch': 16}, {'ch': 16})
        z0 = gen.make_hidden(2, numpy.random.RandomState(1))
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            video = gen(z0).array
            z1 = gen.temporal_generator(z0).array          # (2, 6, 4)
            frame = gen.image_generator(z0[1:2], z1[1:2, :, 2]).array
        numpy.testing.assert_allclose(video[1, :, 2], frame[0], rtol=1e-5, atol=1e-6)


class TestVariants(unittest.TestCase):

    def test_original_link_names(self):
        names = lambda link: sorted(n for n, _ in link.namedlinks(skipself=True))  # noqa: E731
        self.assertEqual(names(TemporalGenerator()),
                         ['/bn0', '/bn1', '/bn2', '/bn3', '/dc0', '/dc1', '/dc2', '/dc3', '/dc4'])
        self.assertEqual(names(ImageGenerator()),
                         ['/bn0f', '/bn0s', '/bn1', '/bn2', '/bn3', '/bn4',
                          '/dc1', '/dc2', '/dc3', '/dc4', '/dc5', '/l0f', '/l0s'])
        self.assertEqual(names(Critic()),
                         ['/bn0', '/bn1', '/bn2', '/bn3', '/c0', '/c1', '/c2', '/c3', '/c4'])

    def test_use_beta(self):
        self.assertIsNone(getattr(TemporalGenerator().bn0, 'beta', None))
        self.assertIsNotNone(TemporalGenerator(use_beta=True).bn0.beta)
        self.assertIsNone(getattr(Critic().bn1, 'beta', None))
        self.assertIsNotNone(Critic(use_beta=True).bn1.beta)

    def test_initialisation(self):
        numpy.random.seed(0)
        uniform = Critic(init='uniform')
        default = Critic(init='default')
        self.assertLessEqual(float(abs(uniform.c1.W.array).max()), 0.01)
        self.assertGreater(float(abs(default.c1.W.array).max()), 0.05)
        with self.assertRaises(UsageError):
            Critic(init='xavier')

    def test_smaller_geometry(self):
        gen = VideoGenerator.from_config(100, 100, 16, 32, 1, {'ch': 512}, {'ch': 128})
        critic = Critic(1, 16, 32, ch=32)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            video = gen(gen.make_hidden(2, numpy.random.RandomState(0)))
            self.assertEqual(video.shape, (2, 1, 16, 32, 32))
            self.assertEqual(critic(video).shape, (2,))
        self.assertEqual(critic.c4.W.shape, (1, 256, 2, 2))

    def test_shallower_critic_averages_over_time(self):
        critic = Critic(1, 16, 32, ch=8, depth=3)
        self.assertEqual(critic.c3.W.shape, (1, 32, 4, 4))   # scores each of 2 time steps
        self.assertFalse(hasattr(critic, 'c4'))
        x = numpy.random.RandomState(0).uniform(-1, 1, (3, 1, 16, 32, 32)).astype(numpy.float32)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            score = critic(x).array
            h = x
            for i in range(3):
                h = critic['c{}'.format(i)](h)
                h = chainer.functions.leaky_relu(critic['bn{}'.format(i)](h) if i else h, 0.2)
            per_step = [critic.c3(h.array[:, :, t]).array.reshape(3) for t in range(2)]
        numpy.testing.assert_allclose(score, numpy.mean(per_step, axis=0), rtol=1e-5, atol=1e-6)

    def test_image_generator_without_z0(self):
        g1 = ImageGenerator(100, 100, 1, 16, ch=32, use_z0=False)
        self.assertFalse(hasattr(g1, 'l0s'))
        z = numpy.random.uniform(-1, 1, (3, 100)).astype(numpy.float32)
        with chainer.using_config('train', False):
            a = g1(z, z).array
            b = g1(numpy.zeros_like(z), z).array
        numpy.testing.assert_array_equal(a, b)

    def test_bad_geometry(self):
        with self.assertRaises(UsageError):
            TemporalGenerator(frames=12)
        with self.assertRaises(UsageError):
            Critic(frames=16, size=24)
        with self.assertRaisesRegex(UsageError, 'critic depth 5'):
            Critic(frames=16, size=64, depth=5)

    def test_critic_noise_only_with_a_source_and_in_training(self):
        critic = Critic(1, 16, 16, ch=4, noise_sigma=0.3)
        x = numpy.random.uniform(-1, 1, (2, 1, 16, 16, 16)).astype(numpy.float32)
        with chainer.using_config('train', False):
            clean = critic(x).array
            numpy.testing.assert_array_equal(
                critic(x, numpy.random.RandomState(0)).array, clean)
        a = critic(x, numpy.random.RandomState(0)).array
        b = critic(x, numpy.random.RandomState(0)).array
        c = critic(x, numpy.random.RandomState(1)).array
        numpy.testing.assert_array_equal(a, b)
        self.assertFalse(numpy.allclose(a, c))


class TestOriginalWeights(unittest.TestCase):
    """npz files as the original pfnet-research/tgan wrote them (snapshot_object
    of FrameSeedGeneratorNoBeta*, VideoGenerator*, VideoDiscriminatorNoBeta*)."""

    @staticmethod
    def _bn(prefix, n, beta=True):
        d = {prefix + '/gamma': numpy.random.rand(n).astype('f'),
             prefix + '/avg_mean': numpy.random.rand(n).astype('f'),
             prefix + '/avg_var': numpy.random.rand(n).astype('f') + 0.5,
             prefix + '/N': numpy.array(7)}
        if beta:
            d[prefix + '/beta'] = numpy.random.rand(n).astype('f')
        return d

    def _load(self, arrays, link):
        buf = io.BytesIO()
        numpy.savez(buf, **arrays)
        buf.seek(0)
        load_npz(buf, link)
        for key, value in arrays.items():
            layer, name = key.split('/')
            loaded = getattr(link[layer], name)
            numpy.testing.assert_array_equal(getattr(loaded, 'array', loaded), value, key)

    def test_frame_seed_generator(self):
        arrays = {}
        shapes = [(100, 512, 1), (512, 256, 4), (256, 128, 4), (128, 128, 4), (128, 100, 4)]
        for i, shape in enumerate(shapes):
            arrays['dc{}/W'.format(i)] = numpy.random.randn(*shape).astype('f')
            arrays['dc{}/b'.format(i)] = numpy.random.randn(shape[1]).astype('f')
        for i, n in enumerate([512, 256, 128, 128]):
            arrays.update(self._bn('bn{}'.format(i), n, beta=False))
        self._load(arrays, TemporalGenerator(100, 100, 16))

    def test_video_generator(self):
        arrays = {'l0s/W': numpy.random.randn(4096, 100).astype('f'),
                  'l0f/W': numpy.random.randn(4096, 100).astype('f'),
                  'dc5/W': numpy.random.randn(32, 3, 3, 3).astype('f'),
                  'dc5/b': numpy.random.randn(3).astype('f')}
        for i, (a, b) in enumerate([(512, 256), (256, 128), (128, 64), (64, 32)], 1):
            arrays['dc{}/W'.format(i)] = numpy.random.randn(a, b, 4, 4).astype('f')
            arrays.update(self._bn('bn{}'.format(i), b))
        arrays.update(self._bn('bn0s', 4096))
        arrays.update(self._bn('bn0f', 4096))
        self._load(arrays, ImageGenerator(100, 100, 3, 64, 512))

    def test_video_discriminator(self):
        arrays = {'c4/W': numpy.random.randn(1, 512, 4, 4).astype('f'),
                  'c4/b': numpy.random.randn(1).astype('f')}
        for i, (a, b) in enumerate([(3, 64), (64, 128), (128, 256), (256, 512)]):
            arrays['c{}/W'.format(i)] = numpy.random.randn(b, a, 4, 4, 4).astype('f')
            arrays['c{}/b'.format(i)] = numpy.random.randn(b).astype('f')
            arrays.update(self._bn('bn{}'.format(i), b, beta=False))
        self._load(arrays, Critic(3, 16, 64, 64))


if __name__ == '__main__':
    unittest.main()
