"""The commands meet crafted files as a user receives them (weights from a
third party, a colleague's result folder) and refuse them in one line with
nothing run: no pickle unpickled, no output written."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

import numpy

import evaluation  # noqa: F401  (compat before chainer)
from evaluation import train_classifier
from evaluation.metrics.inception_score import MEAN_SHAPE, load_mean
from runtime.errors import UsageError
from test_c3d import LAYOUT
from test_evaluate import quietly
from test_npz import Poison, npy_member
from test_train import ROOT, TINY, one_error_line, tiny_config


def command(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def poison(path, key, witness):
    """Rewrite the npz ``path`` with ``key`` an object array of its shape whose
    pickle creates ``witness``."""
    with numpy.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    shape = arrays[key].shape
    arrays[key] = numpy.empty(shape, object)
    arrays[key][...] = Poison(witness)
    numpy.savez(path, **arrays)


class TestPoisonedFiles(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir, config = tiny_config(TINY)
        cls.trained = os.path.join(cls.dir, 'run')
        done = command('train.py', '--config', config, '--out', cls.trained, '--iterations', '3')
        assert done.returncode == 0, done.stderr
        cls.classifier = os.path.join(cls.dir, 'classifier.npz')
        quietly(train_classifier.main, ['--config', config, '--out', cls.classifier,
                                        '--iterations', '1', '--ch', '4', '--val-clips', '8',
                                        '--batchsize', '8'])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def setUp(self):
        self.work = tempfile.mkdtemp(dir=self.dir)
        self.witness = os.path.join(self.work, 'pickle-ran')
        self.result = os.path.join(self.work, 'run')
        shutil.copytree(self.trained, self.result)

    def assertRefused(self, done, path, words):
        """One error line naming the file and saying ``words``; the pickle never ran."""
        line = one_error_line(self, done)
        self.assertTrue(line.startswith('error: {}: {}'.format(path, words)), line)
        self.assertFalse(os.path.exists(self.witness))

    def test_generate_result(self):
        path = os.path.join(self.result, 'image_generator_iter_3.npz')
        poison(path, 'l0f/W', self.witness)
        out = os.path.join(self.work, 'samples.gif')
        self.assertRefused(command('generate.py', '--result', self.result, '--out', out, '--n',
                                   '2'), path, 'array "l0f/W" holds Python objects')
        self.assertFalse(os.path.exists(out))

    def test_train_resume(self):
        path = os.path.join(self.result, 'snapshot_iter_3.npz')
        with numpy.load(path) as f:
            key = next(k for k in f.files if k.endswith('/W'))
        poison(path, key, self.witness)
        before = sorted(os.listdir(self.result))
        self.assertRefused(command('train.py', '--resume', self.result, '--iterations', '6'),
                           path, 'array "{}" holds Python objects'.format(key))
        self.assertEqual(sorted(os.listdir(self.result)), before)

    def test_evaluate_result_and_classifier(self):
        record = os.path.join(self.work, 'record.json')
        args = ['evaluate.py', '--result', self.result, '--n-samples', '4', '--runs', '1',
                '--batchsize', '4', '--json', record]
        classifier = os.path.join(self.work, 'classifier.npz')
        shutil.copy(self.classifier, classifier)
        poison(classifier, 'fc5/W', self.witness)
        self.assertRefused(command(*args, '--classifier', classifier), classifier,
                           'array "fc5/W" holds Python objects')
        path = os.path.join(self.result, 'temporal_generator_iter_3.npz')
        poison(path, 'dc0/W', self.witness)
        self.assertRefused(command(*args, '--classifier', self.classifier), path,
                           'array "dc0/W" holds Python objects')
        self.assertFalse(os.path.exists(record))

    def test_evaluate_c3d(self):
        # the published keys and shapes; the first array C3D loads is poisoned, the others
        # are headers without data, never read (a read of any of them would fail)
        weights = os.path.join(self.work, 'conv3d_deepnetA_ucf.npz')
        mean = os.path.join(self.work, 'mean2.npz')
        numpy.savez(mean, mean=numpy.zeros(MEAN_SHAPE, numpy.float32))
        numpy.savez(weights, **{'conv1a/W': numpy.zeros((64, 3, 3, 3, 3), numpy.float32)})
        poison(weights, 'conv1a/W', self.witness)
        with zipfile.ZipFile(weights, 'a') as archive:
            for name, (out, inp) in LAYOUT.items():
                shape = (out, inp, 3, 3, 3) if name.startswith('conv') else (out, inp)
                for key, shape in ((name + '/W', shape), (name + '/b', (out,))):
                    if key != 'conv1a/W':
                        npy_member(archive, key, {'descr': '<f4', 'fortran_order': False,
                                                  'shape': shape}, b'')
        args = ['evaluate.py', '--result', self.result, '--c3d', weights, '--mean', mean,
                '--n-samples', '4', '--runs', '1', '--batchsize', '4']
        self.assertRefused(command(*args), weights, 'array "conv1a/W" holds Python objects')
        poison(mean, 'mean', self.witness)
        with self.assertRaisesRegex(UsageError, r'mean2\.npz: array "mean" holds Python objects'):
            load_mean(mean)
        self.assertFalse(os.path.exists(self.witness))

if __name__ == '__main__':
    unittest.main()
