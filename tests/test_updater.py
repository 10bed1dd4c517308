"""One training step of each objective (paper §4)."""
import unittest

import numpy

import updaters  # noqa: F401  (compat before chainer)
import chainer
from datasets import converter, to_float
from functions import choice
from models import Critic, VideoGenerator
from runtime.errors import UsageError
from updaters import (GANUpdater, NoConstraint, SingularValueClipping, WGANUpdater,
                      critic_rate, learning_rate_decay, make_optimizer)


def tiny_setup(updater_class, constraint, noise_sigma=0.0, seed=0, device='@numpy', data=None,
               spec=None, functions=choice.FAST, critic_spec=None):
    numpy.random.seed(seed)
    gen = VideoGenerator.from_config(8, 8, 16, 16, 1, {'ch': 16}, {'ch': 16},
                                     functions=functions)
    critic = Critic(1, 16, 16, ch=4, noise_sigma=noise_sigma, functions=functions)
    gen.to_device(device)
    critic.to_device(device)
    if data is None:
        data = [numpy.random.uniform(-1, 1, (1, 16, 16, 16)).astype(numpy.float32)
                for _ in range(8)]
    iterator = chainer.iterators.SerialIterator(data, 4)
    spec = spec or {'name': 'rmsprop', 'lr': 1e-3}
    updater = updater_class(iterator, make_optimizer(spec, gen),
                            make_optimizer(critic_spec or spec, critic),
                            constraint, seed=seed, device=device, converter=converter)
    return updater, gen, critic


def params(link):
    return {name: p.array.copy() for name, p in link.namedparams()}


def run(updater, iterations):
    """Run ``iterations`` updates; returns each iteration's observation."""
    observations = []
    for _ in range(iterations):
        observation = {}
        with chainer.reporter.Reporter().scope(observation):
            updater.update()
        observations.append({k: float(getattr(v, 'array', v)) for k, v in observation.items()})
    return observations


class TestWGANUpdater(unittest.TestCase):

    def test_one_iteration_updates_every_network(self):
        updater, gen, critic = tiny_setup(WGANUpdater, SingularValueClipping(5))
        before = {'gen': params(gen), 'critic': params(critic)}
        observation, = run(updater, 1)
        for name, link in (('gen', gen), ('critic', critic)):
            after = params(link)
            changed = [k for k in after if not numpy.array_equal(after[k], before[name][k])]
            weights = [k for k in after if k.endswith('/W')]
            self.assertTrue(set(weights) <= set(changed), (name, set(weights) - set(changed)))
        for key in ('loss_gen', 'loss_dis', 'critic_real', 'critic_fake'):
            self.assertTrue(numpy.isfinite(observation[key]), key)
        self.assertAlmostEqual(observation['loss_gen'], -observation['critic_fake'], places=5)
        self.assertAlmostEqual(observation['loss_dis'],
                               observation['critic_fake'] - observation['critic_real'], places=5)
        self.assertNotIn('time_svc', observation)

    def test_svc_after_every_fifth_iteration(self):
        updater, gen, critic = tiny_setup(WGANUpdater, SingularValueClipping(5))
        observations = run(updater, 5)
        self.assertEqual([('time_svc' in o) for o in observations], [False] * 4 + [True])
        self.assertGreater(observations[-1]['time_svc'], 0)
        for name, param in critic.namedparams():
            if param.ndim >= 2:
                norm = numpy.linalg.norm(param.array.reshape(param.shape[0], -1), 2)
                self.assertLessEqual(norm, 1 + 1e-5, name)

    def test_uint8_clips_train_as_their_float_values(self):
        """Real datasets yield uint8 clips: train.py's converter scales them on the device."""
        clips = numpy.random.RandomState(5).randint(0, 256, (8, 1, 16, 16, 16)).astype(numpy.uint8)
        results = []
        for data in (list(clips), list(to_float(clips))):
            updater, gen, critic = tiny_setup(WGANUpdater, SingularValueClipping(2), data=data)
            observations = run(updater, 2)
            results.append((observations, params(gen), params(critic)))
        for ours, theirs in zip(results[0][0], results[1][0]):
            ours.pop('time_svc', None), theirs.pop('time_svc', None)
            self.assertEqual(ours, theirs)
        for ours, theirs in zip(results[0][1:], results[1][1:]):
            for key in ours:
                numpy.testing.assert_array_equal(ours[key], theirs[key], key)

    def test_same_seed_same_run(self):
        results = []
        for _ in range(2):
            updater, gen, critic = tiny_setup(WGANUpdater, SingularValueClipping(2))
            run(updater, 3)
            results.append(params(gen))
        for key in results[0]:
            numpy.testing.assert_array_equal(results[0][key], results[1][key], key)


class TestStep(unittest.TestCase):

    def test_only_the_targets_gradients_are_computed(self):
        from updaters.wgan import _step
        numpy.random.seed(0)
        first, second = chainer.links.Linear(3, 4), chainer.links.Linear(4, 1)
        x = numpy.random.randn(5, 3).astype(numpy.float32)
        first.cleargrads()
        chainer.functions.sum(second(first(x)) ** 2).backward()
        expected = first.W.grad.copy()
        first.cleargrads()
        second.cleargrads()
        optimizer = chainer.optimizers.SGD(lr=1.0)
        optimizer.setup(first)
        before = first.W.array.copy()
        _step(optimizer, chainer.functions.sum(second(first(x)) ** 2))
        numpy.testing.assert_allclose(before - first.W.array, expected, rtol=1e-5)
        self.assertIsNone(second.W.grad)  # the other network's gradient was never computed


class TestLearningRateDecay(unittest.TestCase):

    def rates_after(self, name, iterations, decay_from=2, total=4, critic_lr=0.0):
        """The rates of G and the critic after ``iterations`` of a trainer whose
        rates decay from iteration ``decay_from`` to 0 at ``total``."""
        spec = {'name': name, 'lr': 1e-3, 'beta1': 0.0, 'beta2': 0.9, 'decay_from': decay_from,
                'critic_lr': critic_lr}
        updater, _, _ = tiny_setup(WGANUpdater, NoConstraint(), spec=spec,
                                   critic_spec=dict(spec, lr=critic_rate(spec)))
        trainer = chainer.training.Trainer(updater, (iterations, 'iteration'), out='.')
        decays = learning_rate_decay({'optimizer': spec, 'iterations': total}, updater)
        self.assertEqual(sorted(decays), ['lr_decay_critic', 'lr_decay_gen'])
        for key, decay in decays.items():
            trainer.extend(decay, name=key)
        trainer.run()
        attr = 'alpha' if name == 'adam' else 'lr'
        optimizers = updater.get_all_optimizers()
        return [getattr(optimizers[k], attr) for k in ('gen', 'critic')]

    def test_linear_from_decay_from_to_zero_at_the_last_iteration(self):
        for name in ('rmsprop', 'adam'):
            self.assertEqual(self.rates_after(name, 2), [1e-3, 1e-3], name)
            numpy.testing.assert_allclose(self.rates_after(name, 3), [5e-4, 5e-4], err_msg=name)
            self.assertEqual(self.rates_after(name, 4), [0.0, 0.0], name)

    def test_the_critics_own_rate_decays_from_itself(self):
        for name in ('rmsprop', 'adam'):
            self.assertEqual(self.rates_after(name, 2, critic_lr=4e-3), [1e-3, 4e-3], name)
            numpy.testing.assert_allclose(self.rates_after(name, 3, critic_lr=4e-3),
                                          [5e-4, 2e-3], err_msg=name)
            self.assertEqual(self.rates_after(name, 4, critic_lr=4e-3), [0.0, 0.0], name)

    def test_critic_rate_defaults_to_lr_and_is_checked(self):
        spec = {'name': 'adam', 'lr': 1e-3, 'critic_lr': 0.0}
        self.assertEqual(critic_rate(spec), 1e-3)
        self.assertEqual(critic_rate(dict(spec, critic_lr=3e-3)), 3e-3)
        with self.assertRaisesRegex(UsageError, r'optimizer\.critic_lr -0\.1: give the critic'):
            critic_rate(dict(spec, critic_lr=-0.1))

    def test_off_by_default_and_checked(self):
        spec = {'name': 'adam', 'lr': 1e-3, 'decay_from': 0, 'critic_lr': 0.0}
        updater, _, _ = tiny_setup(WGANUpdater, NoConstraint())
        self.assertEqual(learning_rate_decay({'optimizer': spec, 'iterations': 4}, updater), {})
        spec['decay_from'] = -1
        with self.assertRaisesRegex(UsageError, 'decay_from -1'):
            learning_rate_decay({'optimizer': spec, 'iterations': 4}, updater)


class TestGANUpdater(unittest.TestCase):

    def test_losses_are_cross_entropies(self):
        updater, gen, critic = tiny_setup(GANUpdater, NoConstraint(), noise_sigma=0.3)
        before = params(critic)
        observation, = run(updater, 1)
        self.assertGreater(observation['loss_dis'], 0)
        self.assertGreater(observation['loss_gen'], 0)
        self.assertNotEqual(params(critic)['/c1/W'].tolist(), before['/c1/W'].tolist())
        # at initialisation D outputs ~0 logits: loss_dis ~ 2 log 2, loss_gen ~ log 2
        self.assertLess(abs(observation['loss_dis'] - 2 * numpy.log(2)), 1.0)


if __name__ == '__main__':
    unittest.main()
