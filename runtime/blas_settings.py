"""OpenBLAS settings that must be in the environment before numpy loads:
import this module before numpy (train.py, evaluate.py, generate.py, the
evaluation package for ``python -m evaluation.*`` and the benchmarks import it
first). A value the user set is kept.

``OPENBLAS_THREAD_TIMEOUT=4``: OpenBLAS's threads sleep after 2^4 cycles
without work instead of spinning for 2^28 (its default, ~0.1 s). Between
matrix products the convolutions copy arrays on the same cores
(functions/threads.py), and a spinning BLAS thread takes a core from them.
Measured at the paper configuration on the 2-core machine
(benchmarks/bench_train.py): 8.47 s per iteration with the default, 8.05 s
with 4.

``OPENBLAS_CORETYPE=Zen`` on AMD family 19h CPUs (Zen 3 and Zen 4): numpy's
OpenBLAS runs its AVX-512 ("SkylakeX") kernels on Zen 4, whose AVX-512 units
are 256 bits wide; its AVX2 Zen kernels run this project's matrix products
5-20% faster there (e.g. (64, 128) @ (128, 300000): 136 against 162 GFLOP/s)
and the paper-configuration iteration ~4% faster (7.41 / 7.15 s against
7.16 / 6.83 s, two paired runs). Zen 3 has no AVX-512: OpenBLAS picks Zen
there anyway. Other CPUs keep OpenBLAS's own choice.
"""
import os


def first_cpu(path='/proc/cpuinfo'):
    """The fields of the first processor in /proc/cpuinfo ({} elsewhere)."""
    fields = {}
    try:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(':')
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def settings(cpu):
    """The OpenBLAS variables for a CPU described by ``first_cpu`` fields."""
    values = {'OPENBLAS_THREAD_TIMEOUT': '4'}
    if cpu.get('vendor_id') == 'AuthenticAMD' and cpu.get('cpu family') == '25':
        values['OPENBLAS_CORETYPE'] = 'Zen'
    return values


for _name, _value in settings(first_cpu()).items():
    os.environ.setdefault(_name, _value)
