"""OpenBLAS settings that must be in the environment before numpy loads:
import this module before numpy (train.py, evaluate.py, generate.py and the
benchmarks import it first).

``OPENBLAS_THREAD_TIMEOUT=4``: OpenBLAS's threads sleep after 2^4 cycles
without work instead of spinning for 2^28 (its default, ~0.1 s). Between
matrix products the convolutions copy arrays on the same cores
(functions/threads.py), and a spinning BLAS thread takes a core from them.
Measured at the paper configuration on the 2-core machine
(benchmarks/bench_train.py): 8.47 s per iteration with the default, 8.05 s
with 4. A value the user set is kept.
"""
import os

os.environ.setdefault('OPENBLAS_THREAD_TIMEOUT', '4')
