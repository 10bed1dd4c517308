"""CPU array work split over the cores the BLAS uses.

numpy copies and adds on one core and releases the GIL while it does, so the
layout copies and sums around the convolutions' matrix products and the
passes of batch normalisation run, chunk by chunk of the batch, on as many
Python threads as OpenBLAS runs matrix products. (A spinning idle OpenBLAS
thread would take a core from them: runtime/blas_settings.py.) Measured on the 2-core
machine: a strided copy of a 67 MB activation into a grid, 7.1 ms on one
thread, 4.2 ms on two; at the paper configuration (benchmarks/bench_train.py)
8.6 s per iteration before, 7.5 s after.
"""
import concurrent.futures
import functools
import os

import numpy

_pools = {}

# CPU work goes through the batch in chunks of about this many bytes, so that
# the scattered side of a layout copy stays in cache (measured: 2-3x faster
# on large batches). A GPU runs the whole batch in one kernel: chunks would
# only multiply its kernel launches.
CHUNK_BYTES = 1 << 18


def batch_chunks(a):
    """Slices of the batch axis of ``a`` (N, ...) of ~CHUNK_BYTES each on
    the CPU, the whole batch on a GPU; for a 0-dimensional ``a``, the whole
    array (``...``)."""
    if a.ndim == 0:
        return [Ellipsis]
    if not isinstance(a, numpy.ndarray):
        return [slice(None)]
    n = a.shape[0]
    step = max(1, CHUNK_BYTES * n // max(1, a.nbytes))
    return [slice(i, i + step) for i in range(0, n, step)]


def numpy_blas():
    """threadpoolctl's description of the BLAS numpy runs: the one in numpy's
    wheel (``numpy.libs``) where there is one (OpenCV's wheel brings another
    OpenBLAS), else every BLAS loaded."""
    from threadpoolctl import threadpool_info
    blas = [info for info in threadpool_info() if info['user_api'] == 'blas']
    return [info for info in blas if 'numpy' in info['filepath']] or blas


@functools.lru_cache(maxsize=None)
def blas_threads():
    """Threads of the BLAS numpy runs, at least 1."""
    return max([info['num_threads'] for info in numpy_blas()] + [1])


def _pool():
    """This process's pool of helper threads and the number of threads with
    the calling one, ``blas_threads()``. Per process: a forked child (a data
    loader) gets its own, as the threads of its parent's pool do not exist
    there."""
    pid = os.getpid()
    if pid not in _pools:
        threads = blas_threads()
        _pools[pid] = (concurrent.futures.ThreadPoolExecutor(threads - 1)
                       if threads > 1 else None), threads
    return _pools[pid]


def _each(fn, items):
    for item in items:
        fn(item)


def run(fn, items):
    """``fn(item)`` for every item, the items split into contiguous shares,
    one per thread (the calling thread takes the first); returns when all
    are done. ``fn`` must write disjoint memory for different items."""
    items = list(items)
    pool, threads = _pool()
    if pool is None or len(items) < 2:
        _each(fn, items)
        return
    shares = min(threads, len(items))
    parts = [items[i * len(items) // shares:(i + 1) * len(items) // shares]
             for i in range(shares)]
    futures = [pool.submit(_each, fn, part) for part in parts[1:]]
    try:
        _each(fn, parts[0])
    finally:  # no helper is left writing when this returns or raises
        concurrent.futures.wait(futures)
    for future in futures:
        future.result()


def each_chunk(fn, a):
    """``fn(i, batch)`` for the i-th of the ``batch_chunks`` of ``a``, the
    chunks split over the threads (``run``)."""
    run(lambda chunk: fn(*chunk), list(enumerate(batch_chunks(a))))
