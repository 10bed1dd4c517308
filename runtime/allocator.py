"""Keep freed memory in the process for reuse (glibc's malloc).

A TGAN training step allocates and frees numpy temporaries of hundreds of MB
(column matrices, phase grids, activations). glibc serves every block above
its mmap threshold (at most 32 MB) with fresh pages from the kernel and
returns them on free, so each iteration page-faults and zeroes gigabytes of
new memory. Served from the heap and kept after free, the same blocks are
reused. Measured at the paper configuration on the 2-core CPU machine
(benchmarks/bench_train.py): 13.4 s -> 8.6 s per iteration, peak resident
memory 3.19 -> 3.41 GB.
"""
import ctypes

M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
M_MMAP_MAX = -4


def keep_freed_memory():
    """Serve large blocks from the heap and keep freed memory (up to 2 GB
    free at the top of the heap) for later blocks. Returns False where the C
    library has no ``mallopt`` (not glibc): nothing changes there."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1))
