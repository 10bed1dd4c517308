"""The config key ``functions``: our FunctionNodes or Chainer's own, for the
whole model (functions/choice.py)."""
import os
import unittest
from unittest import mock

import numpy

import updaters  # noqa: F401  (compat before chainer)
import chainer

import configs
import models
from evaluation import snapshots
from functions import algorithms, batch_normalization, choice, leaky_relu
from models import links
from runtime.errors import UsageError
from updaters import SingularValueClipping, WGANUpdater

from test_train import TrainTestCase, train
from test_updater import params, run, tiny_setup

# every generator and critic of the project, at tiny sizes
TINY = {'size': 16, 'frames': 8, 'z0_dim': 6, 'z1_dim': 6, 'temporal_generator.ch': 16,
        'image_generator.ch': 16, 'generator_3d.ch': 16, 'video_gan.ch': 16, 'critic.ch': 4}
KINDS = [('tgan', 0), ('tgan', 3), ('3d', 0), ('video_gan', 0)]


def ours_refused():
    """Patches under which any of our FunctionNodes raises when it runs."""
    def refuse(*args, **kwargs):
        raise AssertionError('one of our functions ran')
    return [mock.patch.object(algorithms, name, refuse)
            for name in ('prepare', 'transpose_convolve')] + [
        mock.patch.object(batch_normalization.BatchNormalization, 'forward', refuse),
        mock.patch.object(leaky_relu.LeakyReLU, 'forward', refuse)]


def build(kind, n_classes, functions):
    config = configs.load('synthetic_svc', dict(TINY, generator=kind, functions=functions))
    config['n_classes'] = n_classes
    numpy.random.seed(0)
    return models.build_generator(config), models.build_critic(config)


def train_once(generator, critic, n_classes):
    """Loss of the critic on generated videos, backpropagated through both."""
    z = generator.make_hidden(4, numpy.random.RandomState(1))
    labels = numpy.eye(n_classes, dtype=numpy.float32)[[0, 2, 1, 2]] if n_classes else None
    video = generator(z, labels)
    score = chainer.functions.sum(critic(video, condition=labels))
    score.backward()
    return video.array, score.array


class TestSelect(unittest.TestCase):

    def test_names(self):
        self.assertIs(choice.select('fast'), choice.FAST)
        self.assertIs(choice.select('chainer'), choice.CHAINER)
        self.assertEqual(configs.DEFAULTS['functions'], 'fast')
        with self.assertRaisesRegex(UsageError, "functions 'cudnn': choose fast .* or chainer"):
            choice.select('cudnn')


class TestWholeModel(unittest.TestCase):

    def test_every_link_and_network_gets_the_choice(self):
        for kind, n_classes in KINDS:
            for name, functions in choice.CHOICES.items():
                generator, critic = build(kind, n_classes, name)
                chosen = [link for net in (generator, critic) for link in net.links()
                          if hasattr(link, 'functions')]
                with self.subTest(kind=kind, n_classes=n_classes, functions=name):
                    self.assertGreater(len([link for link in chosen if isinstance(
                        link, (links.BatchNormalization, links.ConvolutionND,
                               links.DeconvolutionND, links.Deconvolution2D))]), 5)
                    self.assertEqual({link.functions for link in chosen}, {functions})
                    self.assertIs(critic.functions, functions)

    def test_chainer_runs_none_of_ours_and_computes_the_same(self):
        """With ``chainer`` a forward and backward pass of every model runs none of
        our FunctionNodes (with ``fast`` they do), and gives our results."""
        for kind, n_classes in KINDS:
            with self.subTest(kind=kind, n_classes=n_classes):
                ours = train_once(*build(kind, n_classes, 'fast'), n_classes)
                patches = ours_refused()
                for patch in patches:
                    patch.start()
                try:
                    theirs = train_once(*build(kind, n_classes, 'chainer'), n_classes)
                    with self.assertRaisesRegex(AssertionError, 'one of our functions ran'):
                        train_once(*build(kind, n_classes, 'fast'), n_classes)
                finally:
                    for patch in patches:
                        patch.stop()
                for a, b in zip(ours, theirs):
                    numpy.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def training_step(functions, device='@numpy'):
    """Initial and updated weights and the losses of one WGAN update with SVC,
    from the same weights and batch whatever ``functions``."""
    updater, gen, critic = tiny_setup(WGANUpdater, SingularValueClipping(1), device=device,
                                      functions=functions)
    # RMSprop's first step is lr * g / |g|: a near-zero gradient's float32
    # rounding would flip it. With eps 1 a step is ~ lr * g.
    for optimizer in updater.get_all_optimizers().values():
        optimizer.hyperparam.eps, optimizer.hyperparam.lr = 1.0, 0.1
    initial = {'gen': params(gen), 'critic': params(critic)}
    observation, = run(updater, 1)
    return initial, {'gen': params(gen), 'critic': params(critic)}, observation


def assert_same_step(test, fast, chainer_step, share, loss_delta=1e-4, to_numpy=numpy.asarray):
    """Two ``training_step`` results from the same weights agree: each weight
    array's difference is at most ``share`` of the step's change of it (a
    wrong computation differs by the whole change), the losses to
    ``loss_delta`` (relative where they exceed 1)."""
    (initial, ours, obs_ours), (initial_theirs, theirs, obs_theirs) = fast, chainer_step
    for key in ('loss_gen', 'loss_dis'):
        test.assertAlmostEqual(obs_ours[key], obs_theirs[key],
                               delta=loss_delta * max(1, abs(obs_ours[key])))
    moved = 0
    for net in ours:
        for name, w in ours[net].items():
            w, w_theirs, w0, w0_theirs = (to_numpy(a) for a in (
                w, theirs[net][name], initial[net][name], initial_theirs[net][name]))
            numpy.testing.assert_array_equal(w0, w0_theirs)
            change = numpy.linalg.norm(w - w0)
            error = numpy.linalg.norm(w_theirs - w)
            test.assertLessEqual(error, share * change + 1e-6, (net, name, error, change))
            moved += change > 1e-4
    # every weight but the biases before a BN (which cancels them), the
    # critic's unused bn0 and its last bias (WGAN: mean real - mean fake)
    test.assertGreaterEqual(moved, 30)


class TestTrainingStep(unittest.TestCase):

    def test_one_step_gives_the_same_weights(self):
        assert_same_step(self, training_step(choice.FAST), training_step(choice.CHAINER),
                         share=1e-3)


class TestTrainScript(TrainTestCase):

    def test_chainer_functions_train_and_are_recorded(self):
        out = self.out('chainer')
        result = train('--config', self.config, '--iterations', '2', '--out', out,
                       '--set', 'functions=chainer')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(configs.load(os.path.join(out, 'config.yaml'))['functions'], 'chainer')
        # generate.py and evaluate.py load the run's generator with its functions
        generator, config, _, iteration = snapshots.load_generator(out, None)
        self.assertEqual(iteration, 2)
        self.assertEqual({link.functions for link in generator.links()
                          if hasattr(link, 'functions')}, {choice.CHAINER})

    def test_unknown_functions(self):
        self.assertUsageError(train('--config', self.config, '--set', 'functions=cudnn'),
                              "functions 'cudnn'", 'chainer')


if __name__ == '__main__':
    unittest.main()
