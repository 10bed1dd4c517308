"""The convolution algorithms on grids (functions/grids.py), each a few
GEMMs; functions/plan.py chooses between them.

* Convolution: one GEMM of the weights of all taps (or of the taps of each
  first-dimension tap) with the grid, whose per-tap (O, cells) results are
  added, shifted, into the output; or, where the cost model says it is
  cheaper, one copy of the views into a compact column matrix in W's own
  (C, k...) order and one GEMM. The grid or column matrix is kept for the
  weight gradient (one GEMM per tap on the views, or one on the column
  matrix).
* Deconvolution: one GEMM of W with the input grid, then per tap one add of
  its (S*O, cells) slab, shifted, into the output grid (``ceil(k/s)^N`` adds
  over long rows instead of ``k^N`` small strided ones); or, when the output
  has many more rows than the input, the equivalent stride-1 "sub-pixel"
  convolution of the input that gives all S phases at once (each phase of
  the first dimension only over the cells it needs).

Array-module generic (numpy or cupy); on the CPU the sums run over the
BLAS's threads (functions/threads.py).
"""
import itertools

from runtime import chainer_compat  # noqa: F401
import numpy
from chainer import backend

from functions import grids, plan, threads


def _matmul_into(out, a, b):
    """out[...] = a @ b, for an ``out`` strided by rows. numpy's matmul
    writes into it directly; CuPy's takes no such ``out`` (older versions no
    ``out`` at all), so there the product is copied in."""
    if isinstance(out, numpy.ndarray):
        numpy.matmul(a, b, out=out)
    else:
        out[...] = a @ b


def _add(out, a):
    """out += a; on the CPU, if large, split by rows (axis 0) over the
    BLAS's threads."""
    if not isinstance(out, numpy.ndarray) or out.nbytes < threads.CHUNK_BYTES:
        out += a
        return

    def add(rows):
        out[rows] += a[rows]
    step = -(-out.shape[0] // threads.blas_threads())
    threads.run(add, [slice(i, i + step) for i in range(0, out.shape[0], step)])


def prepare(x, ksize, stride, pad, outsize, c_out):
    """What convolving x into c_out channels of ``outsize`` (and the weight
    gradient of that) reads: x's grid for per-tap GEMMs or, when cheaper,
    its compact column matrix. A pair (grid, columns), one of them None."""
    taps = grids.taps_per_phase(ksize, stride)
    grid, _, width = grids.layout(x.shape[0], outsize, taps)
    g = grids.to_grid(x, stride, pad, grid)
    if plan.use_taps(g, c_out, outsize, width, grids.prod(taps)):
        return g, None
    return None, grids.im2col(g, taps, outsize)


def convolve(prepared, W, stride, n, outsize, first=None):
    """Convolution without bias of a ``prepare``d input of batch n: a grid
    (1..., O, cells).

    ``first``: for each of ``len(first)`` equal groups of W's output
    channels, the range (start, stop) of the first output dimension that
    is needed; from a column matrix only those are computed (the rest of
    the grid is undefined)."""
    grid_x, columns = prepared
    ndim, c_out = len(outsize), W.shape[0]
    one = (1,) * ndim
    if columns is not None:
        W = grids.pad_kernel(W, stride).reshape(c_out, -1)
        if first is None:
            y = W @ columns
        else:
            xp = backend.get_array_module(W)
            y = xp.empty((c_out, columns.shape[1]), W.dtype)
            group, run = c_out // len(first), columns.shape[1] // outsize[0]
            for i, (start, stop) in enumerate(first):
                rows, cells = slice(i * group, (i + 1) * group), slice(start * run, stop * run)
                _matmul_into(y[rows, cells], W[rows], columns[:, cells])
        return y.reshape(one + (c_out,) + grids.spatial(outsize, n))
    # One GEMM for the rows (taps * O) of all taps, or of all taps of each
    # tap m_1 of the first dimension, over the cells their shifted views
    # read; then each tap's rows are added, shifted, into the output.
    xp = backend.get_array_module(grid_x)
    taps = grids.taps_per_phase(W.shape[2:], stride)
    grid, offsets, width = grids.layout(n, outsize, taps)
    g = grid_x.reshape(-1, n * grids.prod(grid))
    groups = taps[0] if plan.group_by_first_tap(g.shape[0], c_out, taps, offsets, width) else 1
    Wt = grids.tap_matrices(W, stride).reshape(groups, -1, g.shape[0])
    per = len(offsets) // groups  # taps per GEMM; offsets[:per]: their shifts
    span = width + offsets[per - 1]
    y = xp.empty((per * c_out, g.shape[1]), g.dtype)
    _matmul_into(y[:, :span], Wt[0], g[:, :span])
    for m in range(groups):
        start = offsets[m * per]  # where the views of group m begin
        part = y if m == 0 else Wt[m] @ g[:, start:start + span]
        part = part.reshape(per, c_out, -1)
        for j in range(1 if m == 0 else 0, per):
            _add(y[:c_out, :width], part[j, :, offsets[j]:offsets[j] + width])
    return y[:c_out].reshape(one + (c_out,) + grids.spatial(grid, n))


def correlate(prepared, gy, ksize, stride):
    """Weight gradient (O, C, *ksize) of a convolution of a ``prepare``d
    input giving gy (N, O, ...)."""
    grid_x, columns = prepared
    xp = backend.get_array_module(gy)
    n, c_out, outsize = gy.shape[0], gy.shape[1], gy.shape[2:]
    one, zero = (1,) * len(ksize), (0,) * len(ksize)
    taps = grids.taps_per_phase(ksize, stride)
    if columns is not None:
        gy = grids.to_grid(gy, one, zero, outsize).reshape(c_out, -1)
        gW = _matmul_nt(gy, columns).reshape(
            (c_out, -1) + tuple(m * s for m, s in zip(taps, stride)))
        return xp.ascontiguousarray(
            gW[(slice(None),) * 2 + tuple(slice(k) for k in ksize)])
    grid, offsets, width = grids.layout(n, outsize, taps)
    g = grid_x.reshape(-1, n * grids.prod(grid))
    gy = grids.to_grid(gy, one, zero, grid).reshape(c_out, -1)
    gWt = xp.empty((len(offsets), c_out, g.shape[0]), g.dtype)
    for i, offset in enumerate(offsets):
        gWt[i] = _matmul_nt(gy[:, :width], g[:, offset:offset + width])
    return grids.from_tap_gradients(gWt, ksize, stride)


def _matmul_nt(a, b):
    """a @ b.T (m, n) over the weight gradients' inner dimension K = N *
    cells. Where K > n > m it is computed as (b @ a.T).T, the operand of
    more rows first: OpenBLAS runs such shapes faster that way (measured
    on this project's shapes, m, n, K = 64, 192, 262144: 0.049 s against
    0.063 s). Otherwise directly: the transposed result costs a copy later
    (512, 16384, 512: 0.051 s directly, 0.094 s transposed and copied)."""
    if a.shape[0] >= b.shape[0] or a.shape[1] <= b.shape[0]:
        return a @ b.T
    return (b @ a.T).T


def transpose_convolve(x, W, stride, pad, outsize):
    """Deconvolution without bias: a grid (s..., O, cells).

    Either one GEMM of W with the input grid, whose per-tap results are
    added, shifted, into the output grid, or (cheaper when the output has
    many more rows S*O than the input) the equivalent stride-1 convolution
    of the input with a regrouped "sub-pixel" weight."""
    xp = backend.get_array_module(x)
    n, size, ndim = x.shape[0], x.shape[2:], len(stride)
    c_in, c_out = W.shape[:2]
    rows = grids.prod(stride) * c_out
    taps = grids.taps_per_phase(W.shape[2:], stride)
    # Room for the spill-over of the last input cell and for the output.
    grid = tuple(max(d + m - 1, -(-(p + o) // s))
                 for d, m, s, p, o in zip(size, taps, stride, pad, outsize))
    offsets = grids.tap_offsets(taps, n, grid)
    width = n * grids.prod(grid) - offsets[-1]
    if plan.use_subpixel(c_in, rows, n, taps, grid, width):
        # Each phase r_1 of the first dimension needs only the grid cells
        # that ``grids.from_grid`` reads: t with 0 <= s*t + r_1 - p < outsize.
        s, p, o = stride[0], pad[0], outsize[0]
        first = [(max(0, -((r - p) // s)), min(grid[0], (o - 1 + p - r) // s + 1))
                 for r in range(s)]
        W = grids.subpixel_weight(W, stride)
        one = (1,) * ndim
        g = convolve(prepare(x, W.shape[2:], one, tuple(m - 1 for m in taps), grid,
                             W.shape[0]), W, one, n, grid, first)
        return g.reshape(stride + (c_out,) + g.shape[ndim + 1:])
    xg = grids.to_grid(x, (1,) * ndim, (0,) * ndim, grid).reshape(c_in, -1)
    W = grids.pad_kernel(W, stride)
    col = W.reshape(c_in, -1).T @ xg[:, :width]
    col = col.reshape((c_out,) + grids.interleave(taps, stride) + (width,))
    g = xp.zeros(stride + (c_out, xg.shape[1]), x.dtype)
    g_by_channel = g.transpose((ndim,) + tuple(range(ndim)) + (ndim + 1,))
    every = (slice(None),) * ndim
    for m, offset in zip(itertools.product(*[range(t) for t in taps]),
                         offsets):
        _add(g_by_channel[..., offset:offset + width],
             col[(slice(None),) + grids.interleave(m, every)])
    return g.reshape(stride + (c_out,) + grids.spatial(grid, n))
