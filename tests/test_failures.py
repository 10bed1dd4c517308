"""What long runs meet (train.py as a subprocess): a full disk, a file that
cannot be written, a diverging loss, bounded disk use and SIGKILL; each
followed by a --resume that ends where an uninterrupted run ends."""
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import numpy

from test_train import ROOT, TrainTestCase, model_arrays, train

# train.py's main with one batch or one weight made non-finite: the driver
# patches the batch conversion or the update at a given iteration, as a
# diverging run would meet them
INJECT = """\
import sys
sys.argv[0] = 'train.py'
import train  # first: its BLAS settings come before numpy
import datasets, numpy, updaters
what, at = sys.argv.pop(1), int(sys.argv.pop(1))
if what == 'batch':
    convert, calls = datasets.converter, []
    def nan_batch(batch, device=None):
        x = convert(batch, device)
        calls.append(1)
        return x * numpy.nan if len(calls) == at else x
    datasets.converter = nan_batch
else:
    update_core = updaters.WGANUpdater.update_core
    def nan_weight(self):
        update_core(self)
        if self.iteration + 1 == at:  # the update of iteration `at`
            self.get_optimizer('critic').target.c0.W.array[0, 0, 0, 0, 0] = numpy.inf
    updaters.WGANUpdater.update_core = nan_weight
from runtime.errors import run_command
run_command(lambda: train.main(sys.argv[1:]))
"""


def train_injected(what, at, *args):
    return subprocess.run([sys.executable, '-c', INJECT, what, str(at), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def limited_file_size(nbytes):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))


class FailureTestCase(TrainTestCase):

    def assertSameWeights(self, out_a, out_b, iteration):
        a, b = model_arrays(out_a, iteration), model_arrays(out_b, iteration)
        self.assertEqual(sorted(a), sorted(b))
        for key in a:
            numpy.testing.assert_array_equal(a[key], b[key], key)

    def straight(self, iterations=6):
        out = self.out('straight')
        result = train('--config', self.config, '--iterations', str(iterations), '--out', out)
        self.assertEqual(result.returncode, 0, result.stderr)
        return out

    def snapshots(self, out):
        return sorted(int(f[len('snapshot_iter_'):-4]) for f in os.listdir(out)
                      if f.startswith('snapshot_iter_'))

    def assertNoTemporaryFiles(self, out):
        self.assertEqual([f for f in os.listdir(out) if f.startswith('.')], [])


class TestOutput(FailureTestCase):

    def test_out_folder_that_cannot_be_created(self):
        blocker = self.out('a_file')
        open(blocker, 'w').close()
        line = self.assertUsageError(
            train('--config', self.config, '--out', os.path.join(blocker, 'run')),
            'cannot write {}'.format(os.path.join(blocker, 'run')), 'free in')
        self.assertIn('{} is a file, not a folder'.format(blocker), line)

    def test_a_writer_that_fails_keeps_the_last_snapshot_resumable(self):
        """Files may not grow past 150 kB (RLIMIT_FSIZE): the trainer snapshot
        of iteration 6 (~250 kB) fails half way; snapshot 3 stays the latest."""
        out = self.out('limited')
        first = train('--config', self.config, '--iterations', '3', '--out', out)
        self.assertEqual(first.returncode, 0, first.stderr)
        result = subprocess.run(
            [sys.executable, 'train.py', '--resume', out, '--iterations', '6'], cwd=ROOT,
            capture_output=True, text=True, timeout=300, preexec_fn=limited_file_size(150000))
        line = self.assertUsageError(
            result, 'cannot write {}'.format(os.path.join(out, 'snapshot_iter_6.npz')),
            'File too large', 'free in {}/'.format(out), 'snapshot_iter_3.npz',
            'python train.py --resume {}'.format(out))
        self.assertNotIn('Traceback', result.stdout + line)
        self.assertEqual(self.snapshots(out), [3])
        self.assertNoTemporaryFiles(out)
        resumed = train('--resume', out, '--iterations', '6')
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertSameWeights(self.straight(), out, 6)

    def test_full_disk_stops_before_a_snapshot_that_does_not_fit(self):
        """On a small filesystem (tmpfs, needs root): the free space is
        checked before a snapshot is written."""
        mount = tempfile.mkdtemp()
        self.addCleanup(os.rmdir, mount)
        if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount],
                          capture_output=True).returncode != 0:
            self.skipTest('cannot mount a tmpfs here (needs root)')
        self.addCleanup(subprocess.run, ['umount', mount], check=True)
        out = os.path.join(mount, 'run')
        first = train('--config', self.config, '--iterations', '3', '--out', out)
        self.assertEqual(first.returncode, 0, first.stderr)
        used = shutil.disk_usage(mount).used
        snapshot = os.path.getsize(os.path.join(out, 'snapshot_iter_3.npz'))
        # room for the previews and logs of 3 more iterations, not for a snapshot
        subprocess.run(['mount', '-o', 'remount,size={}'.format(used + 200000 + snapshot // 2),
                        mount], check=True)
        result = train('--resume', out, '--iterations', '6')
        self.assertUsageError(result, 'cannot write {}'.format(out), 'not enough free space',
                                'free in {}/'.format(out), 'snapshot_iter_3.npz')
        self.assertEqual(self.snapshots(out), [3])
        self.assertNoTemporaryFiles(out)
        moved = self.out('moved')  # room made: the run goes on elsewhere
        shutil.copytree(out, moved)
        resumed = train('--resume', moved, '--iterations', '6')
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertSameWeights(self.straight(), moved, 6)


class TestDivergence(FailureTestCase):

    def setUp(self):
        super().setUp()
        with open(self.config, 'a') as f:
            f.write('snapshot_interval: 2\n')

    def test_nan_batch_stops_the_run_before_its_snapshot(self):
        out = self.out('nan')
        result = train_injected('batch', 4, '--config', self.config, '--iterations', '6',
                                '--out', out)
        self.assertUsageError(result, 'iteration 4: ', 'critic_real is nan',
                                'loss_dis is nan', 'the run diverged',
                                'latest snapshot is {}'.format(
                                    os.path.join(out, 'snapshot_iter_2.npz')))
        self.assertEqual(self.snapshots(out), [2])
        self.assertFalse(os.path.exists(os.path.join(out, 'critic_iter_4.npz')))
        resumed = train('--resume', out, '--iterations', '6')
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertSameWeights(self.straight(), out, 6)

    def test_non_finite_weight_is_not_saved(self):
        """The losses of iteration 4 are finite (computed before its update),
        the weights after it are not: the snapshot check catches them."""
        out = self.out('inf')
        result = train_injected('weight', 4, '--config', self.config, '--iterations', '6',
                                '--out', out)
        self.assertUsageError(result, 'iteration 4: the weights hold NaN or infinite values',
                                'snapshot_iter_2.npz')
        self.assertEqual(self.snapshots(out), [2])

    def test_finite_runs_are_untouched(self):
        result = train_injected('batch', 100, '--config', self.config, '--iterations', '3',
                                '--out', self.out('fine'))
        self.assertEqual(result.returncode, 0, result.stderr)


class TestSnapshotKeep(FailureTestCase):

    def test_keeps_the_newest_snapshots_and_their_model_files(self):
        out = self.out('kept')
        result = train('--config', self.config, '--iterations', '7', '--out', out,
                       '--set', 'snapshot_interval=2', '--set', 'snapshot_keep=2')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.snapshots(out), [6, 7])
        for name in ('temporal_generator', 'image_generator', 'critic'):
            self.assertEqual(sorted(f for f in os.listdir(out) if f.startswith(name + '_iter')),
                             ['{}_iter_{}.npz'.format(name, i) for i in (6, 7)])
        resumed = train('--resume', out, '--iterations', '9')
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertEqual(self.snapshots(out), [8, 9])

    def test_negative_keep(self):
        self.assertUsageError(train('--config', self.config, '--set', 'snapshot_keep=-1',
                                      '--out', self.out('neg')), 'snapshot_keep -1')


class TestKill(FailureTestCase):

    def test_sigkill_then_resume_gives_the_uninterrupted_weights(self):
        """Killed at some moment after its first snapshot (maybe while writing
        the next one), a run resumes to the weights of a run never killed."""
        straight = self.straight(12)
        for delay in (0.0, 0.3):
            out = self.out('killed{}'.format(delay))
            process = subprocess.Popen(
                [sys.executable, 'train.py', '--config', self.config, '--iterations', '12',
                 '--out', out], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.time() + 120
            while not os.path.exists(os.path.join(out, 'snapshot_iter_3.npz')) and \
                    time.time() < deadline:
                time.sleep(0.01)
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            resumed = train('--resume', out, '--iterations', '12')
            self.assertEqual(resumed.returncode, 0, resumed.stderr)
            self.assertSameWeights(straight, out, 12)


if __name__ == '__main__':
    unittest.main()
