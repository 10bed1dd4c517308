"""C3D: loads conv3d_deepnetA_ucf.npz's key layout exactly, pool5 is 4x4, dropout switch."""
import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest

import numpy

import models  # noqa: F401  (compat before chainer)
import chainer
import chainer.functions as F
import configs
import evaluate
from runtime.errors import UsageError
from evaluation.metrics.inception_score import MEAN_SHAPE
from models.c3d import C3D

# the published file's keys and shapes (docs/design.md §4)
LAYOUT = {'conv1a': (64, 3), 'conv2a': (128, 64), 'conv3a': (256, 128), 'conv3b': (256, 256),
          'conv4a': (512, 256), 'conv4b': (512, 512), 'conv5a': (512, 512),
          'conv5b': (512, 512), 'fc6': (4096, 8192), 'fc7': (4096, 4096), 'fc8': (101, 4096)}


def published_layout(rng):
    """Random weights under the published keys (He-scaled so activations survive)."""
    arrays = {}
    for name, (out, inp) in LAYOUT.items():
        shape = (out, inp, 3, 3, 3) if name.startswith('conv') else (out, inp)
        fan_in = int(numpy.prod(shape[1:]))
        w = rng.standard_normal(shape, dtype=numpy.float32)
        w *= numpy.float32(numpy.sqrt(2.0 / fan_in))
        arrays[name + '/W'] = w
        arrays[name + '/b'] = rng.uniform(-0.1, 0.1, out).astype(numpy.float32)
    return arrays


def inference():
    return chainer.using_config('train', False), chainer.no_backprop_mode()


class TestC3D(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.path = os.path.join(cls.dir, 'conv3d_deepnetA_ucf.npz')
        cls.arrays = published_layout(numpy.random.default_rng(0))
        numpy.savez(cls.path, **cls.arrays)
        cls.model = C3D(pretrained_model=cls.path)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)
        del cls.model, cls.arrays

    def test_loads_every_parameter_of_the_published_file(self):
        params = dict(self.model.namedparams())
        self.assertEqual(sorted(k.lstrip('/') for k in params), sorted(self.arrays))
        for key in ('conv1a/W', 'conv5b/b', 'fc6/W', 'fc8/W'):
            numpy.testing.assert_array_equal(params['/' + key].array, self.arrays[key])

    def test_clips_to_101_probabilities(self):
        x = numpy.random.RandomState(0).uniform(-100, 100, (2, 3, 16, 112, 112))
        self.model.layer_names = ['pool5', 'fc6', 'fc7', 'prob']
        with inference()[0], inference()[1]:
            pool5, fc6, fc7, prob = self.model(x.astype(numpy.float32))
        self.assertEqual(pool5.shape, (2, 512, 1, 4, 4))   # cover_all pooling: 7 -> 4
        self.assertEqual((fc6.shape, fc7.shape, prob.shape), ((2, 4096), (2, 4096), (2, 101)))
        numpy.testing.assert_allclose(prob.array.sum(axis=1), 1, rtol=1e-5)
        self.assertTrue((prob.array >= 0).all())
        self.assertGreater(float(fc7.array.std()), 0)       # the signal reaches the end

    def test_first_block_is_chainers_convolution_and_pooling(self):
        x = numpy.random.RandomState(1).normal(size=(1, 3, 4, 16, 16)).astype(numpy.float32)
        self.model.layer_names = 'pool1'
        with inference()[0], inference()[1]:
            out = self.model(x).array
            conv = F.relu(F.convolution_nd(x, self.arrays['conv1a/W'], self.arrays['conv1a/b'],
                                           pad=1))
            expected = F.max_pooling_nd(conv, (1, 2, 2)).array
        self.assertEqual(out.shape, (1, 64, 4, 8, 8))
        numpy.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)

    def test_dropout_switch(self):
        # the smallest clip whose pool5 is still 1x4x4: 2 frames of 100x100
        x = numpy.random.RandomState(2).uniform(-100, 100, (2, 3, 2, 100, 100))
        x = x.astype(numpy.float32)
        self.model.layer_names = 'fc7'
        try:
            with inference()[0], inference()[1]:
                a, b = self.model(x).array, self.model(x).array
                numpy.testing.assert_array_equal(a, b)       # off: deterministic
                self.model.dropout = True                    # the original's quirk
                c = self.model(x).array
        finally:
            self.model.dropout = False
        active = a > 0
        dropped = (c[active] == 0).mean()
        self.assertGreater(dropped, 0.3)
        self.assertLess(dropped, 0.7)
        kept = c[active] != 0      # kept units of fc7 see fc6 after its own dropout: differ
        self.assertFalse(numpy.allclose(c[active][kept], a[active][kept]))

    def test_evaluate_tgan_protocol_end_to_end(self):
        """evaluate.py's C3D path (paper protocol, dropout quirk) on a tiny RGB run."""
        result = os.path.join(self.dir, 'run')
        os.makedirs(result)
        config = configs.load('ucf101_svc', {'size': 16, 'temporal_generator.ch': 16,
                                                'image_generator.ch': 16})
        configs.save(config, os.path.join(result, 'config.yaml'))
        generator = models.build_generator(config)
        for name in ('temporal_generator', 'image_generator'):
            chainer.serializers.save_npz(os.path.join(result, name + '_iter_5.npz'),
                                         getattr(generator, name))
        mean = os.path.join(self.dir, 'mean2.npz')
        numpy.savez(mean, mean=numpy.full(MEAN_SHAPE, 100, numpy.float32))
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            evaluate.main(['--result', result, '--c3d', self.path, '--mean', mean,
                           '--n-samples', '2', '--runs', '1'])
            evaluate.main(['--result', result, '--c3d', self.path, '--mean', mean,
                           '--n-samples', '2', '--runs', '1', '--protocol', 'tgan-nodropout'])
        text = out.getvalue()
        # the default is the paper's script as it ran: dropout on; the table says so
        self.assertIn('Inception Score (tgan protocol, 2 videos x 1 runs, C3D dropout on)',
                      text)
        self.assertIn('ours marked >: tgan protocol, C3D dropout on', text)
        self.assertIn('Inception Score (tgan-nodropout protocol, 2 videos x 1 runs, C3D '
                      'dropout off)', text)
        with open(os.path.join(result, 'evaluation_iter_5_tgan-nodropout.json')) as f:
            self.assertFalse(json.load(f)['c3d_dropout'])
        self.assertRegex(text, r'> run iter 5 +\d+\.\d\d ± 0\.00')
        self.assertIn('  UCF-101 dataset', text)
        with open(os.path.join(result, 'evaluation_iter_5_tgan.json')) as f:
            record = json.load(f)
        self.assertTrue(record['c3d_dropout'])
        self.assertEqual(record['protocol']['batchsize'], 48)
        self.assertEqual(sorted(record['weights']), sorted([self.path, mean]))
        self.assertTrue(1.0 <= record['inception_score']['mean'] <= 2.0)

    def test_unknown_layer(self):
        with self.assertRaisesRegex(UsageError, 'unknown C3D layer.*fc9.*choose from conv1a'):
            self.model.layer_names = ['prob', 'fc9']


class TestC3DFileErrors(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_missing(self):
        with self.assertRaisesRegex(UsageError, r'nowhere\.npz not found: download '
                                                r'conv3d_deepnetA_ucf\.npz from the release '
                                                r'assets of pfnet-research/tgan2'):
            C3D(pretrained_model=os.path.join(self.dir, 'nowhere.npz'))

    def test_wrong_keys(self):
        path = os.path.join(self.dir, 'other.npz')
        numpy.savez(path, **{'conv1/W': numpy.zeros(3), 'fc/b': numpy.zeros(3)})
        with self.assertRaisesRegex(UsageError, r'not the expected weight file: missing keys '
                                                r'conv1a/W, conv1a/b.*\(found conv1/W, fc/b\)'):
            C3D(pretrained_model=path)

    def test_wrong_shapes(self):
        path = os.path.join(self.dir, 'small.npz')
        numpy.savez(path, **{name + '/' + p: numpy.zeros(1) for name in LAYOUT for p in 'Wb'})
        with self.assertRaisesRegex(UsageError, r'conv1a/W is \(1,\) \(expected '
                                                r'\(64, 3, 3, 3, 3\)\)'):
            C3D(pretrained_model=path)

    def test_not_an_npz(self):
        path = os.path.join(self.dir, 'page.npz')
        with open(path, 'w') as f:
            f.write('<html>Not Found</html>')
        with self.assertRaisesRegex(UsageError, 'not a readable npz file'):
            C3D(pretrained_model=path)


if __name__ == '__main__':
    unittest.main()

