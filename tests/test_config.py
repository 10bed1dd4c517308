"""Presets, overrides and their validation (configs/__init__.py)."""
import os
import tempfile
import unittest

import configs
from runtime.errors import UsageError

PRESETS = sorted(f[:-5] for f in os.listdir(configs.CONFIG_DIR) if f.endswith('.yaml'))


class TestPresets(unittest.TestCase):

    def test_every_paper_experiment_has_a_preset(self):
        for dataset in ('ucf101', 'moving_mnist', 'golf', 'synthetic'):
            for method in ('svc', 'clip', 'gan'):
                self.assertIn('{}_{}'.format(dataset, method), PRESETS)
        self.assertIn('demo', PRESETS)

    def test_presets_train_with_the_papers_method_unless_baselines(self):
        for name in PRESETS:
            c = configs.load(name)
            method = name.rsplit('_', 1)[-1]
            expected = {'clip': ('wgan', 'clip'), 'gan': ('gan', 'none')}.get(
                method, ('wgan', 'svc'))
            self.assertEqual((c['objective'], c['constraint']), expected, name)
            if method == 'gan':
                self.assertEqual(c['critic']['noise_sigma'], 0.3, name)
            if name != 'demo':
                self.assertEqual((c['batchsize'], c['frames'], c['size'], c['svc_every']),
                                 (32, 16, 64, 5), name)
                self.assertEqual(c['optimizer'], {'name': 'rmsprop', 'lr': 5e-5, 'beta1': 0.5,
                                                  'beta2': 0.999, 'decay_from': 0,
                                                  'critic_lr': 0.0}, name)

    def test_original_initialisations(self):
        ucf = configs.load('ucf101_svc')
        self.assertEqual([ucf[k]['init'] for k in ('temporal_generator', 'image_generator',
                                                   'critic')], ['default', 'uniform', 'default'])
        mnist = configs.load('moving_mnist_clip')
        self.assertEqual([mnist[k]['init'] for k in ('temporal_generator', 'image_generator',
                                                     'critic')], ['uniform'] * 3)
        self.assertEqual(mnist['channels'], 1)


class TestLoading(unittest.TestCase):

    def write(self, text):
        fd, path = tempfile.mkstemp(suffix='.yaml')
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        self.addCleanup(os.remove, path)
        return path

    def test_base_chain_and_overrides(self):
        path = self.write('base: ucf101_clip\ncritic: {ch: 32}\n')
        c = configs.load(path, {'optimizer.lr': '1e-4', 'iterations': 7})
        self.assertEqual(c['constraint'], 'clip')        # from ucf101_clip
        self.assertEqual(c['dataset'], 'ucf101')         # from ucf101_svc
        self.assertEqual(c['critic'], {'ch': 32, 'depth': None, 'use_beta': False,
                                       'init': 'default', 'noise_sigma': 0.0})
        self.assertEqual((c['optimizer']['lr'], c['iterations']), (1e-4, 7))

    def test_an_override_of_one_dataset_argument_keeps_the_others(self):
        demo = configs.load('demo')['dataset_args']
        c = configs.load('demo', {'dataset_args.speed': [0.5, 1.0]})
        self.assertEqual(c['dataset_args'], dict(demo, speed=[0.5, 1.0]))
        whole = configs.load('demo', {'dataset_args': {'object_size': 8}})
        self.assertEqual(whole['dataset_args'], {'object_size': 8})  # a mapping replaces
        self.assertEqual(configs.load('demo')['dataset_args'], demo)

    def test_errors(self):
        cases = [
            ('critic: {widht: 3}\n', None, "unknown config key 'critic.widht'"),
            ('batchsize: 3.5\n', None, "'batchsize' must be an int"),
            ('critic: 3\n', None, "'critic' must be a mapping"),
            ('- a list\n', None, 'must hold a mapping'),
            ('a: [\n', None, 'not valid YAML'),
            ('seed: 1\n', {'critic.use_beta': 'yes'}, "'critic.use_beta' must be a bool"),
            ('dataset_args: {speed: 2}\n', {'dataset_args.speed.max': 3},
             'override dataset_args.speed.max: speed is not a mapping'),
            ('dataset_args: 3\n', {'dataset_args.speed': 3},
             'override dataset_args.speed: dataset_args is not a mapping'),
        ]
        for text, overrides, message in cases:
            with self.subTest(text=text):
                with self.assertRaisesRegex(UsageError, message):
                    configs.load(self.write(text), overrides)
        with self.assertRaisesRegex(UsageError, 'not found.*demo'):
            configs.load('no_such_preset')

    def test_saved_config_reloads_identically(self):
        c = configs.load('demo')
        fd, path = tempfile.mkstemp(suffix='.yaml')
        os.close(fd)
        self.addCleanup(os.remove, path)
        configs.save(c, path)
        self.assertEqual(configs.load(path), c)


if __name__ == '__main__':
    unittest.main()
