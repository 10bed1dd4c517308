"""blas_settings: OpenBLAS variables set before numpy loads, a user's kept."""
import os
import subprocess
import sys
import tempfile
import unittest

from runtime import blas_settings
from functions import threads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZEN4 = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n\nprocessor\t: 1\n'


def this_process_kernels():
    """The environment for a command that is to give this process's numbers
    exactly: the same OpenBLAS kernels (this process's numpy was loaded
    before blas_settings could choose them, the command's after)."""
    cores = [i['architecture'] for i in threads.numpy_blas() if i['internal_api'] == 'openblas']
    return dict(os.environ, **({'OPENBLAS_CORETYPE': cores[0]} if cores else {}))


def _environment_after_import(**preset):
    """OPENBLAS_* of a fresh Python that imported blas_settings, then numpy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OPENBLAS_')}
    env.update(preset, PYTHONPATH=ROOT)
    code = ('import runtime.blas_settings, numpy, os; '
            'print(os.environ.get("OPENBLAS_THREAD_TIMEOUT"), os.environ.get("OPENBLAS_CORETYPE"))')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return dict(zip(['OPENBLAS_THREAD_TIMEOUT', 'OPENBLAS_CORETYPE'], out))


class TestBlasSettings(unittest.TestCase):

    def test_first_cpu_reads_the_first_processor(self):
        with tempfile.NamedTemporaryFile('w', suffix='cpuinfo', delete=False) as f:
            f.write(ZEN4)
        try:
            cpu = blas_settings.first_cpu(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(cpu['vendor_id'], 'AuthenticAMD')
        self.assertEqual(cpu['cpu family'], '25')
        self.assertEqual(blas_settings.first_cpu(os.path.join(ROOT, 'no such file')), {})

    def test_zen_kernels_only_on_amd_family_19h(self):
        amd = {'vendor_id': 'AuthenticAMD', 'cpu family': '25'}
        self.assertEqual(blas_settings.settings(amd)['OPENBLAS_CORETYPE'], 'Zen')
        for cpu in ({'vendor_id': 'GenuineIntel', 'cpu family': '6'},
                    {'vendor_id': 'AuthenticAMD', 'cpu family': '26'}, {}):
            self.assertEqual(blas_settings.settings(cpu), {'OPENBLAS_THREAD_TIMEOUT': '4'})

    def test_import_sets_this_machines_values_and_keeps_the_users(self):
        expected = blas_settings.settings(blas_settings.first_cpu())
        got = _environment_after_import()
        self.assertEqual(got['OPENBLAS_THREAD_TIMEOUT'], '4')
        self.assertEqual(got['OPENBLAS_CORETYPE'], expected.get('OPENBLAS_CORETYPE', 'None'))
        got = _environment_after_import(OPENBLAS_THREAD_TIMEOUT='12', OPENBLAS_CORETYPE='Haswell')
        self.assertEqual(got, {'OPENBLAS_THREAD_TIMEOUT': '12', 'OPENBLAS_CORETYPE': 'Haswell'})


if __name__ == '__main__':
    unittest.main()
