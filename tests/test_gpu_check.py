"""benchmarks/gpu_check.sh: its CPU run passes every step it can run, so the
GPU check cannot rot between GPU runs; its parts report failures, time limits
and missing wheels as rows rather than stopping."""
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import numpy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))
import gpu_check  # noqa: E402


def has_torch(python):
    return subprocess.run([python, '-c', 'import torch'], capture_output=True).returncode == 0


class TestCPURun(unittest.TestCase):

    def test_every_step_on_the_cpu(self):
        out = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, out)
        result = subprocess.run(['bash', 'benchmarks/gpu_check.sh', '--cpu',
                                 '--reference-python', sys.executable], cwd=ROOT,
                                env=dict(os.environ, OUT=out, PYTHON=sys.executable),
                                capture_output=True, text=True, timeout=900)
        self.assertEqual(result.returncode, 0, result.stdout[-4000:] + result.stderr[-2000:])
        with open(os.path.join(out, 'gpu_check.md')) as f:
            table = f.read()
        self.assertIn(table, result.stdout)  # the printed table is the written one
        rows = {check: (step, status, numbers) for step, check, status, numbers, _ in
                re.findall(r'^\| (\d) \| (.+?) \| (PASS|FAIL|SKIP) \| (.*) \| ([\d.]+) \|$',
                           table, re.M)}
        paired = 'PASS' if has_torch(sys.executable) else 'SKIP'
        expected = {
            'machine': ('1', 'PASS', 'cores {}'.format(os.cpu_count())),
            'quick tests ({} modules)'.format(len(gpu_check.QUICK_TESTS)):
                ('1', 'PASS', ' 0 skipped'),
            'prepare_ucf101': ('2', 'PASS', '4 train clips of 20 frames, 64x85'),
            'train.py': ('2', 'PASS', '4 iterations'),
            'train.py --resume': ('2', 'PASS', 'continued at iteration 4 to 6'),
            'evaluate.py, random C3D': ('2', 'PASS', 'of 2 videos on @numpy, JSON record'),
            'generate.py': ('2', 'PASS', '4 videos of 16 frames in a 32x32 GIF and MP4'),
            "one step, ours against Chainer's functions": ('3', 'PASS', 'arrays agree'),
            'paired benchmark': ('4', paired, 'ours' if paired == 'PASS' else 'import torch'),
            'SVC share': ('4', paired, 'ours' if paired == 'PASS' else 'needs paired'),
            'UCF-101 loading': ('4', 'PASS', 'clips/s with {} loader processes'.format(
                os.cpu_count())),
        }
        self.assertEqual(sorted(rows), sorted(expected))  # no GPU tests, no GPU memory
        for check, (step, status, fragment) in expected.items():
            self.assertEqual(rows[check][:2], (step, status), (check, rows[check]))
            self.assertIn(fragment, rows[check][2], check)
        score = float(re.search(r'IS ([\d.]+)', rows['evaluate.py, random C3D'][2]).group(1))
        self.assertTrue(1 <= score <= 2, score)  # 2 videos: at most 2
        with open(os.path.join(out, 'gpu_check.log')) as f:
            log = f.read()
        self.assertIn('train.py --resume', log)
        self.assertIn('resumed from', log)


class TestReporting(unittest.TestCase):

    def setUp(self):
        self.report = gpu_check.Report(io.StringIO())
        printed = contextlib.redirect_stdout(io.StringIO())  # the rows as they come
        printed.__enter__()
        self.addCleanup(printed.__exit__, None, None, None)

    def test_failures_skip_what_needs_them(self):
        step = gpu_check.Step(self.report, 2, 60)

        def fails():
            step.run([sys.executable, '-c', 'import sys; print("out"); '
                                            'sys.exit("error: the store is broken")'])
            return 'never', True

        self.assertEqual(step.check('first', lambda: ('1 thing', 'result')), 'result')
        self.assertIsNone(step.check('second', fails))
        self.assertIsNone(step.check('third', lambda: ('x', 1), needs=['first', 'second']))
        self.assertIsNone(step.check('fourth', lambda: {}['missing key']))
        self.assertEqual([row[:4] for row in self.report.rows], [
            (2, 'first', 'PASS', '1 thing'),
            (2, 'second', 'FAIL', '{} -c exited with 1: error: the store is broken'.format(
                os.path.basename(sys.executable))),
            (2, 'third', 'SKIP', 'needs second'),
            (2, 'fourth', 'FAIL', "KeyError: 'missing key'")])
        self.assertTrue(self.report.failed())
        self.assertIn('1 passed, 2 failed, 1 skipped', self.report.table('title'))
        self.assertIn('error: the store is broken', self.report.log.getvalue())

    def test_a_failing_unittest_row_names_its_tests(self):
        step = gpu_check.Step(self.report, 1, 60)
        program = ('import sys; sys.stderr.write("FAIL: test_a (m.C.test_a)\\nERROR: test_b '
                   '(m.C.test_b)\\nFAILED (failures=1, errors=1)\\n"); sys.exit(1)')
        self.assertIsNone(step.check('tests', lambda: step.run([sys.executable, '-c', program])))
        self.assertEqual(self.report.rows[0][3], '{} -c exited with 1: FAILED (failures=1, '
                         'errors=1) (test_a, test_b)'.format(os.path.basename(sys.executable)))

    def test_time_limit_ends_the_command_and_its_children(self):
        step = gpu_check.Step(self.report, 1, 2)
        pid_file = tempfile.mktemp()
        self.addCleanup(lambda: os.path.exists(pid_file) and os.remove(pid_file))
        start = time.monotonic()
        step.check('stuck', lambda: step.run(
            ['bash', '-c', 'sleep 60 & echo $! > {}; wait'.format(pid_file)]))
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(self.report.rows[-1][2], 'FAIL')
        self.assertIn('timed out', self.report.rows[-1][3])
        with open(pid_file) as f:
            child = f.read().strip()
        time.sleep(0.2)
        try:  # the stuck grandchild was ended too (at most a zombie waiting to be reaped)
            with open('/proc/{}/stat'.format(child)) as f:
                self.assertIn(f.read().split(')')[-1].split()[0], ('Z', 'X'))
        except FileNotFoundError:
            pass
        step.check('next', lambda: step.run(['true']))
        self.assertEqual(self.report.rows[-1][3], "the step's time limit was spent before true")

    def test_steps_compared_within_the_tolerance(self):
        rng = numpy.random.default_rng(0)
        initial = rng.standard_normal(100)
        change = rng.standard_normal(100)
        a = {'initial/W': initial, 'after/W': initial + change, 'loss_gen': 1.0,
             'loss_dis': -2.0}
        near = dict(a, **{'after/W': a['after/W'] + 0.05 * change})
        fraction, name = gpu_check.compare_steps(a, near)
        self.assertAlmostEqual(fraction, 0.5, places=3)
        self.assertEqual(name, 'W')
        with self.assertRaisesRegex(gpu_check.Failed, 'W: the sides differ'):
            gpu_check.compare_steps(a, dict(a, **{'after/W': a['after/W'] + 0.2 * change}))
        with self.assertRaisesRegex(gpu_check.Failed, 'not start from the same weights'):
            gpu_check.compare_steps(a, dict(a, **{'initial/W': initial + 1e-3}))
        with self.assertRaisesRegex(gpu_check.Failed, 'loss_dis'):
            gpu_check.compare_steps(a, dict(a, loss_dis=-2.01))

    def test_missing_wheels(self):
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        names = ['chainer-7.8.1-py3-none-any.whl', 'no_such_distribution-1.0-py3-none-any.whl',
                 'setuptools-73.0.1-py3-none-any.whl']
        for name in names:
            open(os.path.join(folder, name), 'w').close()
        listed = subprocess.run([sys.executable, 'benchmarks/gpu_check.py', 'missing-wheels',
                                 folder], cwd=ROOT, capture_output=True, text=True, check=True)
        # chainer and pkg_resources are importable here (the test suite needs both)
        self.assertEqual(listed.stdout.split(), [os.path.join(folder, names[1])])


class TestWithoutGPU(unittest.TestCase):

    @unittest.skipIf(subprocess.run([sys.executable, '-c', 'import cupy; assert cupy.cuda.'
                                     'runtime.getDeviceCount()'], capture_output=True)
                     .returncode == 0, 'a GPU is here: the GPU check would run in full')
    def test_gpu_check_says_there_is_no_gpu(self):
        out = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, out)
        result = subprocess.run([sys.executable, 'benchmarks/gpu_check.py', '--out', out],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 1, result.stderr)
        rows = re.findall(r'^\| 1 \| (.+?) \| (PASS|FAIL|SKIP) \| (.*?) \|', result.stdout, re.M)
        self.assertEqual([row[:2] for row in rows], [('machine', 'FAIL'),
                                                     ('the other checks', 'SKIP')])
        self.assertIn('no usable GPU: CuPy', rows[0][2])
        self.assertIn('gpu_check on an unknown machine', result.stdout)


if __name__ == '__main__':
    unittest.main()
