"""train.py end to end on a tiny synthetic configuration (subprocesses)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import numpy
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the network of the paper's layout at 16x16 with tiny widths
TINY_NETWORK = """\
size: 16
frames: 16
z0_dim: 8
z1_dim: 8
temporal_generator: {ch: 16}
image_generator: {ch: 16}
critic: {ch: 4}
"""
# the learning rate decays from iteration 4 (so resumed runs restore the decay too)
TINY = 'base: demo\n' + TINY_NETWORK + """\
optimizer: {decay_from: 4}
batchsize: 4
dataset_args: {n_clips: 8, object_size: 6}
svc_every: 2
display_interval: 2
snapshot_interval: 3
preview_interval: 3
preview_videos: 4
"""


def train(*args, **kwargs):
    return subprocess.run([sys.executable, 'train.py', *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, **kwargs)


def tiny_config(text=TINY):
    """A new temporary folder holding ``text`` as tiny.yaml: (folder, config path)."""
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, 'tiny.yaml')
    with open(path, 'w') as f:
        f.write(text)
    return directory, path


def model_arrays(out, iteration):
    arrays = {}
    for name in ('temporal_generator', 'image_generator', 'critic'):
        with numpy.load(os.path.join(out, '{}_iter_{}.npz'.format(name, iteration))) as f:
            arrays.update({name + '/' + k: f[k] for k in f.files})
    return arrays


def one_error_line(case, result, *fragments):
    """Assert on ``case`` that the command ``result`` failed with exit status 2
    and one ``error:`` line that holds every fragment; returns the line."""
    case.assertEqual(result.returncode, 2, result.stdout + result.stderr)
    lines = result.stderr.strip().splitlines()
    case.assertEqual(len(lines), 1, result.stderr)
    case.assertTrue(lines[0].startswith('error: '), lines[0])
    for fragment in fragments:
        case.assertIn(fragment, lines[0])
    return lines[0]


class TrainTestCase(unittest.TestCase):

    def setUp(self):
        self.dir, self.config = tiny_config()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def out(self, name):
        return os.path.join(self.dir, name)

    def assertUsageError(self, result, *fragments):
        return one_error_line(self, result, *fragments)


class TestTrain(TrainTestCase):

    def test_run_writes_snapshots_previews_logs(self):
        out = self.out('run')
        result = train('--config', self.config, '--iterations', '4', '--out', out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('finished at iteration 4', result.stdout)
        for name in ('config.yaml', 'log', 'loss.png', 'critic.png',
                     'snapshot_iter_3.npz', 'snapshot_iter_4.npz',
                     'temporal_generator_iter_4.npz', 'image_generator_iter_4.npz',
                     'critic_iter_4.npz', 'preview/iter_00000003.png',
                     'preview/iter_00000004.gif'):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        with open(os.path.join(out, 'log')) as f:
            log = json.load(f)
        self.assertEqual([entry['iteration'] for entry in log], [2, 4])
        self.assertTrue(all(numpy.isfinite(entry['loss_dis']) for entry in log))
        self.assertIn('time_svc', log[-1])
        with Image.open(os.path.join(out, 'preview/iter_00000004.gif')) as gif:
            self.assertEqual((gif.n_frames, gif.size), (16, (128, 128)))  # 2x2 videos, x4
        with Image.open(os.path.join(out, 'preview/iter_00000004.png')) as png:
            self.assertEqual(png.size, (16 * 16 * 4, 4 * 16 * 4))  # a row of frames per video
        self.assertFalse([f for f in os.listdir(out) if f.startswith('.')])  # no temp files
        umask = os.umask(0)
        os.umask(umask)
        for name in ('snapshot_iter_4.npz', 'preview/iter_00000004.gif'):  # not private
            self.assertEqual(os.stat(os.path.join(out, name)).st_mode & 0o777, 0o666 & ~umask)

    def test_resume_continues_exactly(self):
        straight, resumed = self.out('straight'), self.out('resumed')
        self.assertEqual(train('--config', self.config, '--iterations', '6',
                               '--out', straight).returncode, 0)
        first = train('--config', self.config, '--iterations', '3', '--out', resumed)
        self.assertEqual(first.returncode, 0, first.stderr)
        second = train('--resume', resumed, '--iterations', '6')
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn('resumed from', second.stdout)
        a, b = model_arrays(straight, 6), model_arrays(resumed, 6)
        self.assertEqual(sorted(a), sorted(b))
        for key in a:
            numpy.testing.assert_array_equal(a[key], b[key], key)

    def test_a_run_tells_where_its_files_are(self):
        out = self.out('where')
        result = train('--config', self.config, '--iterations', '3', '--out', out)
        self.assertEqual(result.returncode, 0, result.stderr)
        for line in ('final preview: {}.gif'.format(os.path.join(out, 'preview', 'iter_00000003')),
                     'snapshot: {}'.format(os.path.join(out, 'snapshot_iter_3.npz')),
                     'continue: python train.py --resume {} --iterations 6'.format(out),
                     'samples:  python generate.py --result {}'.format(out)):
            self.assertIn(line, result.stdout)
        again = train('--resume', out)  # nothing left to train: says so, changes nothing
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn('finished at iteration 3', again.stdout)
        self.assertEqual(sorted(f for f in os.listdir(out) if f.startswith('snapshot')),
                         ['snapshot_iter_3.npz'])

    def test_loader_processes_save_the_end_of_the_run(self):
        """With a MultiprocessIterator the final snapshot (off the snapshot
        interval) is written before the trainer finalizes the iterator."""
        out = self.out('loaders')
        result = train('--config', self.config, '--iterations', '4', '--out', out,
                       '--set', 'loader_processes=2')
        self.assertEqual(result.returncode, 0, result.stderr)
        for name in ('snapshot_iter_3.npz', 'snapshot_iter_4.npz', 'preview/iter_00000004.gif'):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)

    def test_interrupt_saves_a_final_snapshot(self):
        out = self.out('interrupted')
        process = subprocess.Popen(
            [sys.executable, 'train.py', '--config', self.config, '--iterations', '100000',
             '--out', out], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(out, 'log')) and time.time() < deadline:
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        self.assertEqual(process.returncode, 0, stderr)
        self.assertIn('interrupted at iteration', stdout)
        iteration = int(stdout.split('interrupted at iteration ')[1].split(';')[0])
        self.assertGreaterEqual(iteration, 2)
        with numpy.load(os.path.join(out, 'snapshot_iter_{}.npz'.format(iteration))) as f:
            self.assertEqual(int(f['updater/iteration']), iteration)
        self.assertTrue(os.path.isfile(os.path.join(out, 'critic_iter_{}.npz'.format(iteration))))


class TestBadInput(TrainTestCase):

    def test_unknown_dataset(self):
        self.assertUsageError(train('--dataset', 'kinetics'), "unknown dataset 'kinetics'",
                              'synthetic')

    def test_missing_dataset_files(self):
        empty = self.out('empty')
        os.makedirs(empty)
        self.assertUsageError(train('--dataset', 'ucf101', '--data', empty),
                              'index.json missing', 'python -m datasets.prepare_ucf101')
        self.assertUsageError(train('--dataset', 'moving_mnist', '--data', empty),
                              'mnist_test_seq.npy missing')

    def test_bad_config_key(self):
        with open(self.config, 'a') as f:
            f.write('critic: {widht: 3}\n')
        self.assertUsageError(train('--config', self.config), "unknown config key 'critic.widht'",
                              'ch, depth, init')
        self.assertUsageError(train('--set', 'learning_rate=1'),
                              "unknown config key 'learning_rate'")
        self.assertUsageError(train('--config', 'no_such_preset'), 'ucf101_svc')

    def test_gpu_without_cupy(self):
        try:
            import cupy  # noqa: F401
            self.skipTest('CuPy is installed')
        except ImportError:
            pass
        self.assertUsageError(train('--gpu', '0'), '--gpu 0 needs CuPy')

    def test_resume_without_snapshot(self):
        self.assertUsageError(train('--resume', self.out('nothing')), 'no such file or folder')

    def test_resume_from_a_file_that_is_no_snapshot(self):
        self.assertUsageError(train('--resume', self.config), 'not a trainer snapshot')

    def test_resume_with_a_config_that_does_not_fit(self):
        out = self.out('run')
        self.assertEqual(train('--config', self.config, '--iterations', '1', '--out', out)
                         .returncode, 0)
        snapshot = os.path.join(out, 'snapshot_iter_1.npz')
        self.assertUsageError(train('--resume', snapshot, '--set', 'critic.ch=8'),
                              'does not fit this configuration')
        os.remove(os.path.join(out, 'config.yaml'))
        self.assertUsageError(train('--resume', snapshot), 'no config.yaml')


if __name__ == '__main__':
    unittest.main()
