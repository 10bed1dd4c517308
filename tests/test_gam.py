"""The Generative Adversarial Metric (evaluation/gam.py): thresholds and ratios
on hand-made scores, the comparison on models with known score distributions,
and the command line on two tiny result folders."""
import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import unittest

import numpy

import evaluation  # noqa: F401  (compat before chainer)
import chainer
import chainer.datasets
import chainer.functions as F
import configs
import models
from runtime.errors import UsageError
from evaluation import gam, sampling, snapshots
from test_blas_settings import this_process_kernels
from test_train import ROOT, TINY_NETWORK, tiny_config

# G1 with the default init: its videos vary enough that the critics' error rates are not all 0
TINY = ('base: synthetic_svc\n' + TINY_NETWORK.replace('image_generator: {ch: 16}',
                                                       'image_generator: {ch: 16, init: default}')
        + 'dataset_args: {n_clips: 64, object_size: 6}\n')


class TestThreshold(unittest.TestCase):

    def test_separable_scores_split_midway(self):
        t = gam.best_threshold([5, 7, 6], [2, 0, 1])
        self.assertEqual(t, 3.5)
        self.assertEqual((gam.real_error([5, 7, 6], t), gam.fake_error([2, 0, 1], t)), (0, 0))

    def test_overlapping_scores(self):
        # balanced accuracy (real >= t, fake < t): t=0.5: (1 + 1/3)/2, t=2.5: (3/4 + 2/3)/2 (best),
        # t=5.5: (1/4 + 1)/2
        real, fake = [1, 3, 4, 6], [0, 2, 5]
        t = gam.best_threshold(real, fake)
        self.assertEqual(t, 2.5)
        self.assertEqual(gam.real_error(real, t), 0.25)
        self.assertAlmostEqual(gam.fake_error(fake, t), 1 / 3)

    def test_a_score_equal_to_the_threshold_is_real(self):
        real, fake = [2, 2, 3], [1, 2]
        self.assertEqual(gam.best_threshold(real, fake), 1.5)
        self.assertEqual(gam.real_error(real, 2), 0)
        self.assertEqual(gam.fake_error(fake, 2), 0.5)

    def test_classes_are_weighted_equally(self):
        # plain accuracy would call everything fake (t=inf: 4 of 5 right); balanced picks 2.5
        self.assertEqual(gam.best_threshold([5], [0, 6, 7, 8]), 2.5)

    def test_no_better_than_chance_gives_the_lowest_threshold(self):
        self.assertEqual(gam.best_threshold([0, 1], [5, 6]), -math.inf)  # critic upside down
        self.assertEqual(gam.best_threshold([1, 1], [1, 1]), -math.inf)


class TestRatios(unittest.TestCase):

    def test_ratios_and_score(self):
        found = gam.gam(0.2, 0.25, 0.1, 0.3)
        self.assertAlmostEqual(found['r_test'], 0.8)
        self.assertAlmostEqual(found['r_samples'], 1 / 3)
        self.assertAlmostEqual(found['score'], 3.0)
        self.assertFalse(found['r_test_within_tolerance'])      # |log 0.8| > log 1.2
        self.assertTrue(gam.gam(0.2, 0.22, 0.1, 0.3)['r_test_within_tolerance'])
        self.assertTrue(gam.gam(0.24, 0.2, 0.1, 0.3)['r_test_within_tolerance'])  # 1.2 itself

    def test_zero_denominators(self):
        found = gam.gam(0.1, 0.0, 0.0, 0.2)
        self.assertEqual(found['r_test'], math.inf)
        self.assertEqual(found['score'], math.inf)
        self.assertEqual(found['r_samples'], 0.0)
        self.assertFalse(found['r_test_within_tolerance'])
        both = gam.gam(0.0, 0.0, 0.0, 0.0)
        self.assertTrue(math.isnan(both['r_test']) and math.isnan(both['score']))
        self.assertFalse(both['r_test_within_tolerance'])


class Level(chainer.Link):
    """A generator whose videos are constant, at a level ~ N(shift, 1)."""

    def __init__(self, shift):
        super().__init__()
        self.shift, self.z_dim, self.n_classes = shift, 1, 0

    def make_hidden(self, batchsize, rng):
        return rng.normal(self.shift, 1, (batchsize, 1)).astype(numpy.float32)

    def forward(self, z, condition=None):
        return chainer.Variable(numpy.tile(z[:, :, None, None, None], (1, 1, 2, 2, 2)))


class Darkness(chainer.Link):
    """A critic scoring -level: real levels ~ N(0, 1) score higher than a Level(d > 0)'s."""

    def __init__(self):
        super().__init__()
        self.modes = set()

    def forward(self, x, noise=None, condition=None):
        self.modes.add(chainer.config.train)
        return -F.mean(x, axis=(1, 2, 3, 4))


class TestCompare(unittest.TestCase):
    """Real levels ~ N(0, 1); with Level(d) and Darkness the best threshold is
    near -d/2 and both error rates near Phi(-d/2)."""
    N = 2000

    @classmethod
    def setUpClass(cls):
        levels = numpy.random.RandomState(5).normal(0, 1, 4 * cls.N).astype(numpy.float32)
        real = [numpy.full((1, 2, 2, 2), v) for v in levels]
        cls.real = (chainer.datasets.SubDataset(real, 0, 2 * cls.N),
                    chainer.datasets.SubDataset(real, 2 * cls.N, 4 * cls.N))

    def compare(self, a, b, seed=0):
        with contextlib.redirect_stderr(io.StringIO()):
            return gam.compare(a, b, *self.real, self.N, 500, seed, chainer.get_device('@numpy'))

    def test_a_model_against_its_copy_is_even(self):
        a = gam.Model(Level(1.0), Darkness(), 'wgan')
        b = gam.Model(Level(1.0), Darkness(), 'wgan')
        found = self.compare(a, b)
        for name in 'ab':  # Phi(-0.5) = 0.31: far from 0, so the ratios are not noise
            self.assertTrue(0.2 < found[name]['samples_error'] < 0.42, found)
            self.assertTrue(0.2 < found[name]['test_error'] < 0.42, found)
            self.assertTrue(-0.9 < found[name]['threshold'] < -0.1, found)
        self.assertTrue(0.75 < found['score'] < 1.33, found)
        self.assertTrue(0.75 < found['r_test'] < 1.33, found)
        self.assertEqual(a.critic.modes | b.critic.modes, {False})

    def test_the_better_generator_wins(self):
        good, bad = gam.Model(Level(0.5), Darkness(), 'wgan'), gam.Model(Level(3.0), Darkness(), 'wgan')
        found = self.compare(good, bad)
        # D_good's threshold (~ -0.25) catches nearly all of G_bad (P(N(3, 1) < 0.25) = 0.003);
        # D_bad's (~ -1.5) passes most of G_good (P(N(0.5, 1) < 1.5) = 0.84)
        self.assertLess(found['a']['samples_error'], 0.02)
        self.assertGreater(found['b']['samples_error'], 0.75)
        self.assertGreater(found['score'], 10)
        # D_bad is lenient, so it misses fewer real clips: r_test >> 1, inconclusive by Im et al.
        self.assertGreater(found['r_test'], 3)
        self.assertFalse(found['r_test_within_tolerance'])
        self.assertLess(self.compare(bad, good)['score'], 0.1)

    def test_normal_gan_critic_thresholds_its_logit_at_zero(self):
        found = self.compare(gam.Model(Level(1.0), Darkness(), 'gan'),
                             gam.Model(Level(2.0), Darkness(), 'gan'))
        self.assertEqual((found['a']['threshold'], found['b']['threshold']), (0.0, 0.0))
        self.assertAlmostEqual(found['a']['test_error'], 0.5, delta=0.04)   # P(N(0, 1) > 0)
        self.assertAlmostEqual(found['a']['samples_error'], 0.023, delta=0.01)  # P(N(2,1) <= 0)
        self.assertAlmostEqual(found['b']['samples_error'], 0.159, delta=0.025)  # P(N(1,1) <= 0)


def save_run(directory, config, seed, critic=True):
    """A result folder as train.py writes it, networks initialised from ``seed``."""
    os.makedirs(directory)
    configs.save(config, os.path.join(directory, 'config.yaml'))
    numpy.random.seed(seed)
    generator, critic_link = models.build_generator(config), models.build_critic(config)
    for name, link in dict(generator.parts(), critic=critic_link).items():
        if name != 'critic' or critic:
            chainer.serializers.save_npz(os.path.join(directory, name + '_iter_3.npz'), link)


class TestCommandLine(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir, path = tiny_config(TINY)
        cls.config = configs.load(path)
        cls.a, cls.b = os.path.join(cls.dir, 'a'), os.path.join(cls.dir, 'b')
        save_run(cls.a, cls.config, 0)
        save_run(cls.b, cls.config, 1)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def main(self, *args):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            gam.main(list(args))
        return out.getvalue()

    def test_end_to_end(self):
        done = subprocess.run([sys.executable, '-m', 'evaluation.gam', '--a', self.a, '--b', self.b,
                               '--n', '32', '--batchsize', '16', '--seed', '4'],
                              cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env=this_process_kernels())  # its numbers are recomputed below
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout, r'GAM score eps\(D_b, G_a\) / eps\(D_a, G_b\) = ')
        path = os.path.join(self.a, 'gam_iter_3_vs_b_iter_3.json')
        self.assertIn('record: ' + path, done.stdout)
        with open(path) as f:
            rec = json.load(f)
        self.assertEqual((rec['iteration_a'], rec['iteration_b'], rec['n'], rec['seed']),
                         (3, 3, 32, 4))
        self.assertEqual(len(rec['weights']), 6)
        self.assertEqual(rec['real']['seed'], 1)  # training seed 0 + 1: clips not trained on

        # the recorded numbers, recomputed from the snapshots: who scores whom, with which seeds
        ga, gb = (snapshots.load_generator(r, 3)[0] for r in (self.a, self.b))
        da, db = (snapshots.load_critic(r, 3, self.config) for r in (self.a, self.b))
        thr_clips, test_clips, _ = gam.split_real(self.config, self.config, None, None, 4)

        def scores(critic, batches):
            with contextlib.redirect_stderr(io.StringIO()):
                return gam.critic_scores((critic,), batches)[0]

        def real(critic, clips, seed):
            return scores(critic, sampling.from_dataset(clips, 32, 16, seed,
                                                        chainer.get_device('@numpy')))

        def fake(critic, generator, seed):
            return scores(critic, sampling.generated(generator, 32, 16, seed))

        t_a = gam.best_threshold(real(da, thr_clips, 4), fake(da, ga, 6))
        t_b = gam.best_threshold(real(db, thr_clips, 4), fake(db, gb, 7))
        expected = {'a': (t_a, gam.real_error(real(da, test_clips, 5), t_a),
                          gam.fake_error(fake(da, gb, 5), t_a)),
                    'b': (t_b, gam.real_error(real(db, test_clips, 5), t_b),
                          gam.fake_error(fake(db, ga, 4), t_b))}
        for name, (t, test_error, samples_error) in expected.items():
            self.assertEqual(rec[name]['threshold'], t if math.isfinite(t) else str(t))
            self.assertEqual(rec[name]['test_error'], test_error)
            self.assertEqual(rec[name]['samples_error'], samples_error)
        self.assertGreater(expected['a'][2], 0)  # so that a mix-up of seeds or critics shows
        score = gam.ratio(expected['b'][2], expected['a'][2])
        self.assertEqual(rec['score'], score if math.isfinite(score) else str(score))

    def test_json_option_and_same_folder_twice(self):
        path = os.path.join(self.dir, 'same.json')
        out = self.main('--a', self.a, '--b', self.a, '--n', '16', '--batchsize', '16',
                        '--json', path)
        self.assertIn('r_test = ', out)
        with open(path) as f:
            rec = json.load(f)
        self.assertEqual(rec['a']['rule'], 'WGAN: max accuracy, real vs own samples')
        self.assertEqual(rec['result_b'], self.a)

    def other_run(self, name, critic=True, **changes):
        directory = os.path.join(self.dir, name)
        if not os.path.isdir(directory):
            save_run(directory, dict(self.config, **changes), 0, critic)
        return directory

    def test_mismatched_datasets(self):
        bigger = self.other_run('size32', size=32)
        with self.assertRaisesRegex(UsageError, r'^the runs differ in size: 16 \(--a\) vs 32 '
                                                r'\(--b\); GAM compares models of the same data$'):
            self.main('--a', self.a, '--b', bigger)
        other = self.other_run('shapes', dataset_args={'n_clips': 64, 'object_size': 4})
        with self.assertRaisesRegex(UsageError, 'differ in dataset_args'):
            self.main('--a', other, '--b', self.a)
        done = subprocess.run([sys.executable, '-m', 'evaluation.gam', '--a', self.a,
                               '--b', bigger], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stderr.count('\n'), 1, done.stderr)
        self.assertTrue(done.stderr.startswith('error: the runs differ in size'), done.stderr)

    def test_missing_critic_snapshot(self):
        no_critic = self.other_run('no_critic', critic=False)
        with self.assertRaisesRegex(UsageError, 'critic_iter_3.npz not found'):
            self.main('--a', self.a, '--b', no_critic)

    def test_conditional_runs_are_refused(self):
        conditional = os.path.join(self.dir, 'conditional')
        os.makedirs(conditional, exist_ok=True)
        configs.save(dict(self.config, conditional=True),
                        os.path.join(conditional, 'config.yaml'))
        with self.assertRaisesRegex(UsageError, 'unconditional models: --b is conditional'):
            self.main('--a', self.a, '--b', conditional)


if __name__ == '__main__':
    unittest.main()
