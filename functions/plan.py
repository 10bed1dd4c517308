"""Which convolution algorithm (functions/algorithms.py) runs on which
shapes: a rough cost model of the GEMMs and copies of each, on the CPU.

The costs are in multiply-adds of a large GEMM; the constants were fitted
with benchmarks/bench_convolution.py. On a GPU the choices favour fewer,
larger kernels (``use_taps``).
"""
import numpy

from functions import grids



# Rough costs in multiply-adds: copying or summing one element costs about
# _MOVE multiply-adds of a large GEMM, and GEMMs with a small dimension are
# slower (fitted on the shapes of benchmarks/bench_convolution.py with
# numpy's 2-thread OpenBLAS; its choices were checked at the paper
# configuration against each algorithm forced, with OpenBLAS's AVX-512 and
# its Zen kernels: within 1% of the best).
_MOVE = 37


def _gemm(m, k):
    """Relative cost of one multiply-add in an (m, k) @ (k, many) GEMM."""
    return 1 + 16 / m + 16 / k


def _per_tap_cost(rows, c_out, width, n_taps):
    """One GEMM of the c_out rows of each of n_taps taps with a grid of
    ``rows`` rows, whose per-tap results are summed, shifted; the cost of
    one tap."""
    return width * (c_out * (rows * _gemm(n_taps * c_out, rows) + 2 * _MOVE)
                    + rows * _MOVE / (4 * n_taps))


def _column_cost(rows, c_out, cells, inner):
    """One GEMM on a compact column matrix copied from the grid in runs of
    ``inner`` elements; the cost of one tap."""
    return cells * rows * (
        c_out * _gemm(c_out, rows) + _MOVE + 8 * _MOVE / inner)


def group_by_first_tap(rows, c_out, taps, offsets, width):
    """Whether per-tap GEMMs (``algorithms.convolve``) should run one GEMM per tap of
    the first dimension, over fewer cells, rather than one for all taps."""
    per = len(offsets) // taps[0]
    return ((width + offsets[per - 1]) * _gemm(per * c_out, rows)
            < (width + offsets[-1]) * _gemm(len(offsets) * c_out, rows))


def use_taps(g, c_out, outsize, width, n_taps):
    """Whether per-tap GEMMs on grid g beat a column matrix. Never on a GPU,
    where the launch overhead of a GEMM and an add per tap outweighs the
    column copy (measured on an H200 at the paper configuration: 0.107 s
    per iteration with per-tap GEMMs, 0.067 s with column matrices)."""
    if not isinstance(g, numpy.ndarray):
        return False
    ndim = len(outsize)
    rows = grids.prod(g.shape[:ndim + 1])
    return _per_tap_cost(rows, c_out, width, n_taps) < _column_cost(
        rows, c_out, g.shape[ndim + 2] * grids.prod(outsize), outsize[-1])


def use_subpixel(c_in, rows, n, taps, grid, width):
    """Whether the sub-pixel convolution (into ``rows`` = S*O rows) beats
    one GEMM into the T*S*O rows of all taps plus their shifted adds."""
    sub_cost = min(
        _per_tap_cost(c_in, rows, grids.layout(n, grid, taps)[2], grids.prod(taps)),
        _column_cost(c_in, rows, n * grids.prod(grid), grid[-1]))
    return sub_cost < width * rows * (c_in * _gemm(rows, c_in) + 2 * _MOVE)
