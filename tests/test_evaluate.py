"""evaluate.py end to end on a tiny synthetic run with a tiny offline classifier, and its errors."""
import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import unittest

import numpy

import evaluation  # noqa: F401  (compat before chainer)
import chainer
import configs
import evaluate
import models
from runtime.errors import UsageError
from evaluation import label_accuracy, sampling, snapshots, train_classifier
from evaluation.offline import load_classifier
from evaluation.metrics.inception_score import MEAN_SHAPE
from test_blas_settings import this_process_kernels
from test_train import ROOT, TINY_NETWORK, tiny_config

TINY = 'base: synthetic_svc\n' + TINY_NETWORK + 'dataset_args: {n_clips: 64, object_size: 6}\n'


def quietly(fn, *args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        fn(*args)
    return out.getvalue()


class EvaluateTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir, cls.config = tiny_config(TINY)
        # a result folder as train.py writes it: config.yaml + per-model snapshots
        cls.result = os.path.join(cls.dir, 'run')
        os.makedirs(cls.result)
        config = configs.load(cls.config)
        configs.save(config, os.path.join(cls.result, 'config.yaml'))
        numpy.random.seed(0)
        cls.generator = models.build_generator(config)
        for name in ('temporal_generator', 'image_generator'):
            chainer.serializers.save_npz(os.path.join(cls.result, '{}_iter_3.npz'.format(name)),
                                         getattr(cls.generator, name))
        cls.classifier = os.path.join(cls.dir, 'classifier.npz')
        quietly(train_classifier.main, ['--config', cls.config, '--out', cls.classifier,
                                        '--iterations', '5', '--ch', '4', '--val-clips', '16',
                                        '--batchsize', '8'])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def evaluate(self, *args):
        return quietly(evaluate.main, list(args))


class TestEndToEnd(EvaluateTestCase):

    def test_generated_videos_score_and_record(self):
        record_path, stats = self.path('record.json'), self.path('stats')
        args = ['--result', self.result, '--classifier', self.classifier, '--n-samples', '24',
                '--runs', '2', '--batchsize', '8', '--frechet', 'fc4', '--real-samples', '32',
                '--stats-dir', stats, '--json', record_path]
        done = subprocess.run([sys.executable, 'evaluate.py', *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=120,
                              env=this_process_kernels())  # its scores are compared below
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout, r'Inception Score \(offline protocol, 24 videos x 2 runs\): '
                                      r'\d+\.\d\d ± \d+\.\d\d')
        self.assertIn('saved to', done.stdout)
        with open(record_path) as f:
            record = json.load(f)
        scores = [r['inception_score'] for r in record['runs']]
        self.assertEqual([r['seed'] for r in record['runs']], [0, 1])
        self.assertEqual(record['seeds'], [0, 1])
        self.assertEqual(record['samples'], 24)
        self.assertEqual(record['protocol']['name'], 'offline')
        self.assertAlmostEqual(record['inception_score']['mean'], numpy.mean(scores))
        self.assertAlmostEqual(record['inception_score']['std'], numpy.std(scores))
        n_classes = load_classifier(self.classifier)[1]['n_classes']
        for score in scores:
            self.assertTrue(1.0 <= score <= n_classes, score)
        self.assertTrue(all(r['frechet_distance'] > 0 for r in record['runs']))
        with open(self.classifier, 'rb') as f:
            self.assertEqual(record['weights'], {self.classifier: hashlib.sha256(f.read())
                                                 .hexdigest()})
        self.assertEqual(sorted(os.path.basename(p) for p in record['snapshot']),
                         ['image_generator_iter_3.npz', 'temporal_generator_iter_3.npz'])
        self.assertLessEqual({'python', 'chainer', 'numpy', 'opencv'}, set(record['versions']))
        self.assertEqual(len(os.listdir(stats)), 1)

        # the same command again: real statistics come from the cache, scores repeat
        out = self.evaluate(*args)
        self.assertIn('read from', out)
        with open(record_path) as f:
            again = json.load(f)
        self.assertEqual(again['runs'], record['runs'])

    def conditional_run(self, with_classes=True):
        """A conditional result folder as train.py writes it (tiny, untrained)."""
        result = self.path('conditional')
        os.makedirs(result, exist_ok=True)
        config = configs.load(self.config, {'conditional': True, 'n_classes': 4})
        configs.save(config, os.path.join(result, 'config.yaml'))
        for name, link in models.build_generator(config).parts().items():
            chainer.serializers.save_npz(os.path.join(result, name + '_iter_2.npz'), link)
        classes = os.path.join(result, 'classes.json')
        if with_classes:
            with open(classes, 'w') as f:
                json.dump({'names': ['square', 'disc', 'triangle', 'cross'],
                           'counts': [1, 2, 3, 4]}, f)
        elif os.path.exists(classes):
            os.remove(classes)
        return result

    def test_conditional_run_scores_with_the_training_class_prior(self):
        """Paper §5.2: the conditional TGAN is scored with labels drawn from the
        training class prior (classes.json beside the snapshots)."""
        args = ['--classifier', self.classifier, '--n-samples', '8', '--runs', '1',
                '--json', self.path('conditional.json')]
        with self.assertRaisesRegex(UsageError, 'classes.json not found'):
            self.evaluate('--result', self.conditional_run(with_classes=False), *args)
        out = self.evaluate('--result', self.conditional_run(), *args)
        self.assertIn('labels drawn from the training class prior of 4 classes', out)
        self.assertRegex(out, r'Inception Score \(offline protocol, 8 videos x 1 runs\)')

    def test_label_accuracy_command(self):
        out = quietly(label_accuracy.main, ['--result', self.conditional_run(), '--classifier',
                                            self.classifier, '--n', '6', '--batchsize', '4'])
        rows = [line.split() for line in out.splitlines()
                if line.split()[:1] in (['square'], ['disc'], ['triangle'], ['cross'])]
        self.assertEqual([len(r) for r in rows], [5] * 4)
        self.assertEqual([sum(map(int, r[1:])) for r in rows], [6] * 4)  # 6 videos per class
        diagonal = sum(int(r[1 + i]) for i, r in enumerate(rows))
        self.assertIn('label accuracy {:.3f} (chance 0.250)'.format(diagonal / 24), out)
        with self.assertRaisesRegex(UsageError, 'unconditional'):
            quietly(label_accuracy.main, ['--result', self.result, '--classifier',
                                          self.classifier])

    def test_real_videos_and_subset_passed_to_the_dataset(self):
        record_path = self.path('real.json')
        out = self.evaluate('--config', self.config, '--dataset', 'synthetic', '--classifier',
                            self.classifier, '--n-samples', '16', '--runs', '2',
                            '--json', record_path)
        self.assertIn('Inception Score (offline protocol, 16 videos x 2 runs)', out)
        with open(record_path) as f:
            record = json.load(f)
        self.assertEqual(record['real']['description']['size'], 16)
        self.assertIsNone(record['snapshot'])
        with self.assertRaisesRegex(UsageError, 'unknown dataset_args key.*synthetic: subset'):
            self.evaluate('--config', self.config, '--dataset', 'synthetic', '--subset', 'train',
                          '--classifier', self.classifier, '--n-samples', '8', '--runs', '1')

    def test_original_file_names_load(self):
        original = self.path('original')
        os.makedirs(original, exist_ok=True)
        for ours, theirs in (('temporal_generator', 'gen'), ('image_generator', 'vgen')):
            shutil.copy(os.path.join(self.result, '{}_iter_3.npz'.format(ours)),
                        os.path.join(original, '{}_iter_3.npz'.format(theirs)))
        generator, _, files, iteration = snapshots.load_generator(original, None, self.config)
        self.assertEqual(iteration, 3)
        self.assertEqual(os.path.basename(files[1]), 'vgen_iter_3.npz')
        with contextlib.redirect_stderr(io.StringIO()):
            ours = next(sampling.generated(self.generator, 4, 4, seed=7))
            theirs = next(sampling.generated(generator, 4, 4, seed=7))
        self.assertEqual(ours.shape, (4, 1, 16, 16, 16))
        numpy.testing.assert_array_equal(ours, theirs)

    def test_classifier_file(self):
        model, meta = load_classifier(self.classifier)
        self.assertEqual(meta['dataset']['size'], 16)
        self.assertEqual(meta['n_classes'], 4)
        self.assertTrue(0 <= meta['val_accuracy'] <= 1)
        x = numpy.zeros((2, 1, 16, 16, 16), numpy.float32)
        with chainer.using_config('train', False):
            self.assertEqual(model(x).shape, (2, 4))


class TestErrors(EvaluateTestCase):

    def assertUsage(self, pattern, *args):
        with self.assertRaisesRegex(UsageError, pattern):
            self.evaluate(*args)

    def test_what_to_score(self):
        self.assertUsage('give --result DIR .* or --dataset NAME', '--classifier', self.classifier)
        self.assertUsage(r'--result .*nowhere: no such folder', '--result', self.path('nowhere'),
                         '--classifier', self.classifier)
        self.assertUsage(r'no generator snapshot for iteration 99 .*latest iteration there: 3',
                         '--result', self.result, '--iteration', '99',
                         '--classifier', self.classifier)
        self.assertUsage(r'temporal_generator_iter_3\.npz does not fit the network of the '
                         r'config \(array "[^"]+" is \([\d, ]+\), expected',
                         '--result', self.result, '--config', 'synthetic_svc',
                         '--classifier', self.classifier)
        self.assertUsage("unknown dataset 'ucf'", '--dataset', 'ucf',
                         '--classifier', self.classifier)

    def test_which_classifier(self):
        self.assertUsage('C3D needs both --c3d conv3d_deepnetA_ucf.npz and --mean mean2.npz',
                         '--result', self.result)
        self.assertUsage('either --classifier or --c3d', '--result', self.result,
                         '--classifier', self.classifier, '--c3d', 'x.npz', '--mean', 'y.npz')
        self.assertUsage('the tgan protocol is for C3D', '--result', self.result,
                         '--classifier', self.classifier, '--protocol', 'tgan')
        self.assertUsage('classifier .*none.npz not found: train one with', '--result',
                         self.result, '--classifier', self.path('none.npz'))
        self.assertUsage('--frechet conv9: not a layer of the classifier; choose from conv1',
                         '--result', self.result, '--classifier', self.classifier,
                         '--frechet', 'conv9')
        self.assertUsage('--n-samples must be at least 1', '--result', self.result,
                         '--classifier', self.classifier, '--n-samples', '0')

    def test_c3d_files(self):
        mean = self.path('mean2.npz')
        numpy.savez(mean, mean=numpy.zeros(MEAN_SHAPE, numpy.float32))
        self.assertUsage(r'c3d\.npz not found: download conv3d_deepnetA_ucf\.npz from the '
                         r'release assets of pfnet-research/tgan2', '--result', self.result,
                         '--c3d', self.path('c3d.npz'), '--mean', mean)
        bad_mean = self.path('bad_mean.npz')
        numpy.savez(bad_mean, mean=numpy.zeros((3, 16, 112, 112), numpy.float32))
        self.assertUsage(r'"mean" is \(3, 16, 112, 112\), expected \(3, 16, 128, 171\)',
                         '--result', self.result, '--c3d', self.path('c3d.npz'),
                         '--mean', bad_mean)

    def test_record_that_cannot_be_written(self):
        blocker = self.path('a_file')
        open(blocker, 'w').close()
        self.assertUsage(r'cannot write .*a_file/r.json: .*a_file is a file, not a folder', '--result',
                         self.result, '--classifier', self.classifier, '--n-samples', '8',
                         '--runs', '1', '--json', os.path.join(blocker, 'r.json'))

    def test_classifier_must_fit_the_videos(self):
        other = self.path('classifier32.npz')
        with numpy.load(self.classifier) as f:
            arrays = dict(f)
        meta = json.loads(str(arrays['meta']))
        meta['dataset']['size'] = 32
        arrays['meta'] = numpy.array(json.dumps(meta))
        numpy.savez(other, **arrays)
        self.assertUsage('trained on videos with size 32, these have 16', '--result',
                         self.result, '--classifier', other)

    @unittest.skipIf(chainer.backends.cuda.available, 'CuPy is installed here')
    def test_gpu_without_cupy(self):
        self.assertUsage('--gpu 0 needs CuPy', '--result', self.result,
                         '--classifier', self.classifier, '--gpu', '0')

    def test_command_line_prints_one_line(self):
        done = subprocess.run([sys.executable, 'evaluate.py', '--result', self.path('nowhere'),
                               '--classifier', self.classifier], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stderr.count('\n'), 1)
        self.assertTrue(done.stderr.startswith('error: --result '), done.stderr)

    def test_training_needs_eight_frames(self):
        with self.assertRaisesRegex(UsageError, 'needs frames and size >= 8, got 4 and 16'):
            quietly(train_classifier.main, ['--config', self.config, '--set', 'frames=4',
                                            '--out', self.path('c.npz'), '--iterations', '1'])


if __name__ == '__main__':
    unittest.main()


class TestTable(unittest.TestCase):

    def test_our_row_is_placed_by_score_and_marked(self):
        from evaluation.table import format_table
        lines = format_table('ours', 11.80, 0.05).splitlines()
        names = [line[2:].split('  ')[0].strip() for line in lines[1:]]
        self.assertEqual(names.index('ours'), names.index('TGAN (weight clipping)') + 1)
        self.assertEqual(names.index('TGAN (SVC)'), names.index('ours') + 1)
        marked = [line for line in lines if line.startswith('>')]
        self.assertEqual(len(marked), 1)
        self.assertIn('11.80 ± 0.05', marked[0])
        self.assertIn(' 34.49 ± 0.03', format_table('ours', 1, 0))
        top = format_table('ours', 40, 1).splitlines()
        self.assertLess(top.index(next(l for l in top if 'UCF-101 dataset' in l)),
                        top.index(next(l for l in top if l.startswith('>'))))
