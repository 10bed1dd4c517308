"""The conditional TGAN (paper §5.2), frame interpolation (§5.1) and the
Table 4 presets: label plumbing, the critic's label volume, training and
scoring with labels, interpolated frames."""
import json
import os
import shutil
import unittest

import numpy

import models  # noqa: F401  (compat before chainer)
import chainer
import chainer.functions as F
import configs
import datasets
from runtime.errors import UsageError
from evaluation import sampling, snapshots
from models import Critic, VideoGenerator
from models.common import one_hot
from models.frame_interpolation import interpolate_in_time
from test_train import TINY, tiny_config, train

K = 4


def inference():
    return chainer.using_config('train', False), chainer.no_backprop_mode()


def tiny_conditional(n_classes=K):
    """LeCun-normal G1: with the paper's Uniform(0.01) an untrained G1's
    frames are all ~0, so nothing could be seen to change."""
    return VideoGenerator.from_config(8, 6, 4, 16, 1, {'ch': 16}, {'ch': 16, 'init': 'default'},
                                      n_classes=n_classes)


class TestConditionalModels(unittest.TestCase):

    def setUp(self):
        numpy.random.seed(0)
        self.z = numpy.random.uniform(-1, 1, (K, 8)).astype(numpy.float32)
        self.labels = one_hot(numpy.arange(K), K, numpy)

    def test_label_plumbing_at_the_paper_size(self):
        gen = VideoGenerator.from_config(100, 100, 16, 64, 3, n_classes=101)
        self.assertEqual(gen.temporal_generator.dc0.W.shape[0], 100 + 101)  # z0 ++ label
        self.assertEqual(gen.image_generator.l0c.W.shape, (256 * 16, 101))
        self.assertEqual(gen.image_generator.dc1.W.shape[0], 512 + 256)     # three maps
        critic = Critic(3, 16, 64, n_classes=101)
        self.assertEqual(critic.c0.W.shape, (64, 3 + 101, 4, 4, 4))
        self.assertEqual(gen.n_classes, 101)

    def test_generator_uses_the_label(self):
        gen = tiny_conditional()
        z = numpy.repeat(self.z[:1], K, axis=0)
        with inference()[0], inference()[1]:
            video = gen(z, self.labels).array
        self.assertEqual(video.shape, (K, 1, 4, 16, 16))
        self.assertLessEqual(float(abs(video).max()), 1.0)
        for k in range(1, K):  # same z0, another class: another video
            self.assertGreater(float(abs(video[k] - video[0]).max()), 1e-4)

    def test_critic_uses_the_label(self):
        critic = Critic(1, 4, 16, ch=8, n_classes=K)
        x = numpy.repeat(numpy.random.uniform(-1, 1, (1, 1, 4, 16, 16)).astype('f'), K, axis=0)
        with inference()[0], inference()[1]:
            scores = critic(x, condition=self.labels).array
        self.assertGreater(float(scores.max() - scores.min()), 1e-4)

    def test_label_volume_shortcut_is_the_concatenation(self):
        """c0 on the video + the label broadcast to (K, T, H, W), as the paper
        describes it, equals the critic's cheaper computation, values and
        weight gradients."""
        critic = Critic(3, 8, 16, ch=8, n_classes=K)
        x = numpy.random.uniform(-1, 1, (3, 3, 8, 16, 16)).astype(numpy.float32)
        labels = one_hot([2, 0, 3], K, numpy)
        volume = numpy.broadcast_to(labels[:, :, None, None, None], (3, K, 8, 16, 16))
        w = critic.c0.W
        explicit = F.convolution_nd(numpy.concatenate([x, volume], axis=1), w, critic.c0.b, 2, 1)
        shortcut = (F.convolution_nd(x, w[:, :3], critic.c0.b, 2, 1) +
                    critic._label_response(labels, x.shape))
        numpy.testing.assert_allclose(shortcut.array, explicit.array, rtol=1e-5, atol=1e-5)
        seed = numpy.random.uniform(-1, 1, explicit.shape).astype(numpy.float32)
        grads = [chainer.grad([F.sum(y * seed)], [w])[0].array for y in (explicit, shortcut)]
        numpy.testing.assert_allclose(grads[1], grads[0], rtol=1e-4, atol=1e-4)

    def test_labels_must_match_the_model(self):
        with self.assertRaisesRegex(UsageError, 'conditional: give one label'):
            tiny_conditional()(self.z)
        with self.assertRaisesRegex(UsageError, 'unconditional: it takes no labels'):
            tiny_conditional(0)(self.z, self.labels)
        with self.assertRaisesRegex(UsageError, 'conditional: give one label'):
            Critic(1, 4, 16, ch=8, n_classes=K)(numpy.zeros((1, 1, 4, 16, 16), 'f'))

    def test_unlabeled_dataset_is_refused(self):
        class Unlabeled(list):
            pass
        with self.assertRaisesRegex(UsageError, 'golf dataset has no class labels'):
            datasets.Labeled(Unlabeled([0]), 'golf')

    def test_n_classes_comes_from_the_dataset(self):
        data = datasets.Labeled(datasets.make_dataset(
            'synthetic', None, 4, 16, 1, n_clips=16, object_size=4), 'synthetic')
        self.assertEqual(datasets.n_classes(data, 0), 4)
        self.assertEqual(data.class_counts(), numpy.bincount(data.labels, minlength=4).tolist())
        clip, label = data[3]
        self.assertEqual((clip.shape, label), ((1, 4, 16, 16), data.labels[3]))
        with self.assertRaisesRegex(UsageError, 'n_classes 7 but the labeled dataset has 4'):
            datasets.n_classes(data, 7)


class TestFrameInterpolation(unittest.TestCase):

    def test_latents(self):
        z1 = numpy.random.uniform(-1, 1, (2, 5, 4)).astype(numpy.float32)
        up = interpolate_in_time(z1, 3).array
        self.assertEqual(up.shape, (2, 5, 12))
        numpy.testing.assert_array_equal(up[:, :, ::3], z1)   # the original frames' latents
        numpy.testing.assert_allclose(up[:, :, 1], z1[:, :, 0] * 2 / 3 + z1[:, :, 1] / 3,
                                      rtol=1e-6)
        numpy.testing.assert_allclose(up[:, :, 10:], numpy.repeat(z1[:, :, 3:], 2, axis=2),
                                      rtol=1e-6, atol=1e-7)  # holds after the last frame
        with self.assertRaises(UsageError):
            interpolate_in_time(z1, 0)

    def test_video_keeps_the_original_frames(self):
        gen = tiny_conditional(0)
        z = gen.make_hidden(2, numpy.random.RandomState(3))
        with inference()[0], inference()[1]:
            video = gen(z).array
            doubled = gen(z, frame_factor=2).array
        self.assertEqual(doubled.shape, (2, 1, 8, 16, 16))
        numpy.testing.assert_allclose(doubled[:, :, ::2], video, rtol=1e-5, atol=1e-6)
        self.assertGreater(float(abs(doubled[:, :, 1] - video[:, :, 0]).max()), 1e-5)


class TestTrainAndScore(unittest.TestCase):

    def setUp(self):
        self.dir, self.config = tiny_config(TINY + 'conditional: true\n')

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_conditional_run_trains_resumes_and_samples_from_the_prior(self):
        out = os.path.join(self.dir, 'run')
        result = train('--config', self.config, '--iterations', '3', '--out', out)
        self.assertEqual(result.returncode, 0, result.stderr)
        config = configs.load(os.path.join(out, 'config.yaml'))
        self.assertEqual((config['conditional'], config['n_classes']), (True, 4))
        with open(os.path.join(out, 'classes.json')) as f:
            classes = json.load(f)
        self.assertEqual(classes['names'], ['square', 'disc', 'triangle', 'cross'])
        self.assertEqual(sum(classes['counts']), 8)  # TINY has 8 clips
        resumed = train('--resume', out, '--iterations', '4')
        self.assertEqual(resumed.returncode, 0, resumed.stderr)

        generator, _, _, iteration = snapshots.load_generator(out, None)
        self.assertEqual((iteration, generator.n_classes), (4, 4))
        only = [0, 0, 1, 0]  # a prior with one class: every video is of class 2
        videos = numpy.concatenate(list(sampling.generated(generator, 5, 2, 7, prior=only)))
        z = generator.make_hidden(5, numpy.random.RandomState(7))
        with inference()[0], inference()[1]:
            expected = generator(z, one_hot([2] * 5, 4, numpy)).array
        numpy.testing.assert_allclose(videos[:2], expected[:2], rtol=1e-5, atol=1e-6)

    def test_baseline_generators_train_and_load(self):
        for kind in ('3d', 'video_gan'):
            out = os.path.join(self.dir, kind)
            result = train('--config', self.config, '--iterations', '3', '--out', out,
                           '--set', 'conditional=false', '--set', 'generator=' + kind,
                           '--set', 'generator_3d.ch=16', '--set', 'video_gan.ch=16')
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(os.path.isfile(os.path.join(out, 'generator_iter_3.npz')))
            generator, _, files, _ = snapshots.load_generator(out, None)
            self.assertEqual(type(generator).__name__,
                             {'3d': 'Generator3D', 'video_gan': 'VideoGANGenerator'}[kind])
            self.assertEqual(files, [os.path.join(out, 'generator_iter_3.npz')])

    def test_conditional_needs_labels(self):
        result = train('--config', self.config, '--iterations', '1', '--set', 'generator=3d',
                       '--out', os.path.join(self.dir, 'bad'))
        self.assertEqual(result.returncode, 2)
        self.assertIn("conditional model is TGAN's", result.stderr)


class Levels(chainer.Link):
    """A conditional 'generator' whose video of class k is the constant k / K."""
    n_classes, z_dim = K, 2

    def make_hidden(self, batchsize, rng):
        return rng.uniform(-1, 1, (batchsize, self.z_dim)).astype(numpy.float32)

    def forward(self, z, condition=None):
        level = condition.argmax(axis=1).astype(numpy.float32) / K
        return chainer.Variable(numpy.broadcast_to(level[:, None, None, None, None],
                                                   (len(z), 1, 2, 2, 2)).copy())


class LevelClassifier(chainer.Link):
    """Classifies a constant video of level k / K as class order[k]."""

    def __init__(self, order):
        super().__init__()
        self.order, self.layer_names = numpy.asarray(order), ('prob',)

    def forward(self, x):
        k = numpy.rint(x.reshape(len(x), -1).mean(axis=1) * K).astype(int)
        return [chainer.Variable(numpy.eye(K, dtype=numpy.float32)[self.order[k]])]


class TestLabelAccuracy(unittest.TestCase):

    def test_each_class_is_generated_and_counted_in_its_row(self):
        from evaluation.label_accuracy import confusion
        from evaluation.metrics.inception_score import offline_preprocess
        device = chainer.get_device('@numpy')
        found = confusion(Levels(), LevelClassifier([0, 1, 2, 3]), offline_preprocess, None,
                          5, 2, 0, device)
        numpy.testing.assert_array_equal(found, 5 * numpy.eye(K, dtype=int))
        swapped = confusion(Levels(), LevelClassifier([1, 0, 3, 2]), offline_preprocess, None,
                            3, 2, 0, device)
        numpy.testing.assert_array_equal(swapped, 3 * numpy.eye(K, dtype=int)[[1, 0, 3, 2]])


class TestPresets(unittest.TestCase):

    def test_every_table_4_row_is_a_preset(self):
        rows = {  # preset: (generator, objective, constraint, conditional)
            'ucf101_3d_clip': ('3d', 'wgan', 'clip', False),
            'ucf101_3d_svc': ('3d', 'wgan', 'svc', False),
            'ucf101_video_gan_gan': ('video_gan', 'gan', 'none', False),
            'ucf101_video_gan_svc': ('video_gan', 'wgan', 'svc', False),
            'ucf101_gan': ('tgan', 'gan', 'none', False),
            'ucf101_clip': ('tgan', 'wgan', 'clip', False),
            'ucf101_svc': ('tgan', 'wgan', 'svc', False),
            'ucf101_conditional_svc': ('tgan', 'wgan', 'svc', True),
        }
        for name, expected in rows.items():
            c = configs.load(name)
            self.assertEqual((c['dataset'], c['generator'], c['objective'], c['constraint'],
                              c['conditional']), ('ucf101',) + expected, name)
        self.assertFalse(configs.load('moving_mnist_svc_no_z0')['image_generator']['use_z0'])
        self.assertEqual(configs.load('moving_mnist_3d_gan')['generator'], '3d')


if __name__ == '__main__':
    unittest.main()
