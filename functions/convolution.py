"""N-dimensional convolution and deconvolution as Chainer FunctionNodes.

Same semantics as ``chainer.functions.convolution_nd`` / ``deconvolution_nd``
(no ``cover_all``, dilation or groups), built for speed without cuDNN and
written with array-module generic operations only (numpy or cupy); on a GPU
the algorithm choices favour fewer, larger kernels (``threads.batch_chunks``,
``_use_taps``).

Each input is copied once into a zero-padded "grid" (s_1..s_N, C, t_1, N,
t_2..t_N): the image split by stride phase r, ``g[r, c, t, n] =
x[n, c, s*t + r - pad]``, with the batch after the first spatial axis (so
that axis needs no spare cells). Kernel offset ``s*m + r`` is phase r shifted
by m, and over the flattened (t_1, N, t_2..) cells a shift is a constant
offset, so each kernel tap m of all phases and channels is a plain 2-D view
(S*C, cells) that BLAS reads in place. Results at the spare cells (t_i beyond
the output) are garbage and never read.

* Convolution: one GEMM of the weights of all taps (or of the taps of each
  first-dimension tap) with the grid, whose per-tap (O, cells) results are
  added, shifted, into the output; or, where a rough cost model (fitted
  with benchmarks/bench_convolution.py) says it is cheaper, one copy of the
  views into a compact column matrix in W's own (C, k...) order and one
  GEMM. The grid or column matrix is kept for the weight gradient (one GEMM
  per tap on the views, or one on the column matrix).
* Deconvolution: one GEMM of W with the input grid, then per tap one add of
  its (S*O, cells) slab, shifted, into the output grid (``ceil(k/s)^N`` adds
  over long rows instead of ``k^N`` small strided ones); or, when the output
  has many more rows than the input, the equivalent stride-1 "sub-pixel"
  convolution of the input that gives all S phases at once (each phase of
  the first dimension only over the cells it needs).

Kernels with ``k % s != 0`` are zero-padded to a multiple of ``s``.
Backward passes are built from these nodes, so they are differentiable.
On the CPU the copies and sums run over the BLAS's threads
(functions/threads.py).
"""
import itertools

from runtime import chainer_compat  # noqa: F401
import chainer
import numpy
from chainer import backend
from chainer import function_node
from chainer.utils import type_check

from functions import threads


def _as_tuple(value, ndim):
    if isinstance(value, int):
        return (value,) * ndim
    value = tuple(value)
    assert len(value) == ndim
    return value


def _interleave(a, b):
    return tuple(v for pair in zip(a, b) for v in pair)


def _prod(values):
    result = 1
    for v in values:
        result *= v
    return result


def _spatial(values, batch=slice(None)):
    """Spatial values in a grid's axis order: (v_1, batch, v_2..v_N)."""
    return tuple(values[:1]) + (batch,) + tuple(values[1:])


def _channels_first(a):
    """View (N, C, D_1, D_2...) as (C, D_1, N, D_2...)."""
    return a.transpose((1, 2, 0) + tuple(range(3, a.ndim)))


def _taps(ksize, stride):
    """Kernel taps per phase, ``ceil(k / s)``, for each dimension."""
    return tuple(-(-k // s) for k, s in zip(ksize, stride))


def _pad_kernel(W, stride):
    """Zero-pad W's kernel dimensions at the end to ``taps * stride``."""
    ksize = W.shape[2:]
    padded = tuple(m * s for m, s in zip(_taps(ksize, stride), stride))
    if padded == ksize:
        return W
    xp = backend.get_array_module(W)
    out = xp.zeros(W.shape[:2] + padded, W.dtype)
    out[(slice(None),) * 2 + tuple(slice(k) for k in ksize)] = W
    return out


def _phases(size, stride, pad, grid):
    """For each phase r: r, the slices of an image of spatial ``size`` and
    the slices of ``grid`` that hold the same elements
    (``d + pad = s*t + r``); phases without elements are skipped."""
    for r in itertools.product(*[range(s) for s in stride]):
        image, cells = [], []
        for d, s, p, a, ri in zip(size, stride, pad, grid, r):
            t0 = max(0, -((ri - p) // s))
            t1 = min(a, (d - 1 + p - ri) // s + 1)
            if t1 <= t0:
                break
            start = s * t0 + ri - p
            image.append(slice(start, start + s * (t1 - t0 - 1) + 1, s))
            cells.append(slice(t0, t1))
        else:
            yield r, tuple(image), tuple(cells)


def _to_grid(x, stride, pad, grid):
    """(N, C, D...) -> zero-filled grid (s..., C, t_1, N, t_2..t_N)."""
    xp = backend.get_array_module(x)
    n, c, size = x.shape[0], x.shape[1], x.shape[2:]
    g = xp.zeros(stride + (c,) + _spatial(grid, n), x.dtype)
    x_view = _channels_first(x)
    phases = list(_phases(size, stride, pad, grid))

    def copy(batch):
        for r, image, cells in phases:
            g[r + (slice(None),) + _spatial(cells, batch)] = (
                x_view[(slice(None),) + _spatial(image, batch)])
    threads.run(copy, threads.batch_chunks(x))
    return g


def _from_grid(g, pad, size, b=None):
    """Grid (s..., C, t_1, N, t_2..t_N) -> (N, C, *size), plus bias b."""
    xp = backend.get_array_module(g)
    ndim = len(size)
    stride, c = g.shape[:ndim], g.shape[ndim]
    cells = g.shape[ndim + 1:]
    n, grid = cells[1], cells[:1] + cells[2:]
    y = xp.empty((n, c) + size, g.dtype)
    if b is not None:
        b = b.reshape((c,) + (1,) * (ndim + 1))
    y_view = _channels_first(y)
    phases = list(_phases(size, stride, pad, grid))

    def copy(batch):
        for r, image, cells in phases:
            part = g[r + (slice(None),) + _spatial(cells, batch)]
            out = y_view[(slice(None),) + _spatial(image, batch)]
            if b is None:
                out[...] = part
            else:
                xp.add(part, b, out=out)
    threads.run(copy, threads.batch_chunks(y))
    return y


def _cell_steps(n, grid):
    """Flat cell step of each spatial dimension in a (t_1, N, t_2..) grid."""
    return (n * _prod(grid[1:]),) + tuple(
        _prod(grid[i + 1:]) for i in range(1, len(grid)))


def _tap_offsets(taps, n, grid):
    """Flat cell offset of each tap m (C order) in a (t_1, N, t_2..) grid."""
    steps = _cell_steps(n, grid)
    return [sum(m_i * step for m_i, step in zip(m, steps))
            for m in itertools.product(*[range(t) for t in taps])]


def _tap_matrices(W, stride):
    """W (O, C, k...) -> (T, O, S*C): per tap m the weights of the kernel
    offsets ``s*m + r``, columns in the grid's (r, C) row order."""
    xp = backend.get_array_module(W)
    ndim = len(stride)
    W = _pad_kernel(W, stride)
    o, c = W.shape[:2]
    taps = _taps(W.shape[2:], stride)
    W = W.reshape((o, c) + _interleave(taps, stride)).transpose(
        tuple(range(2, 2 + 2 * ndim, 2)) + (0,)
        + tuple(range(3, 3 + 2 * ndim, 2)) + (1,))
    return xp.ascontiguousarray(W).reshape(_prod(taps), o, -1)


def _from_tap_gradients(gWt, ksize, stride):
    """(T, O, S*C) per-tap weight gradients, columns in the grid's (r, C)
    order -> (O, C, *ksize). (Each output channel's gradients lie together,
    so the regrouping copy reads them from cache.)"""
    xp = backend.get_array_module(gWt)
    ndim = len(stride)
    taps = _taps(ksize, stride)
    gW = gWt.reshape(taps + (gWt.shape[1],) + stride + (-1,)).transpose(
        (ndim, 2 * ndim + 1)
        + _interleave(range(ndim), range(ndim + 1, 2 * ndim + 1)))
    gW = gW.reshape(gW.shape[:2] + tuple(m * s for m, s in zip(taps, stride)))
    return xp.ascontiguousarray(
        gW[(slice(None),) * 2 + tuple(slice(k) for k in ksize)])


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


def _im2col(g, taps, outsize):
    """Grid -> compact column matrix (C * K, N * P) with cells in the grid's
    (o_1, N, o_2..o_N) order, rows in W's (C, k...) order (kernel padded to
    ``taps * stride``)."""
    xp = backend.get_array_module(g)
    ndim = len(taps)
    stride, c, n = g.shape[:ndim], g.shape[ndim], g.shape[ndim + 2]
    steps = g.strides
    cell_steps = steps[ndim + 1:ndim + 2] + steps[ndim + 3:]
    view = xp.lib.stride_tricks.as_strided(
        g, (c,) + _interleave(taps, stride) + _spatial(outsize, n),
        steps[ndim:ndim + 1] + _interleave(cell_steps, steps[:ndim])
        + _spatial(cell_steps, steps[ndim + 2]))
    if not isinstance(g, numpy.ndarray) or view.nbytes < threads.CHUNK_BYTES:
        return xp.ascontiguousarray(view).reshape(
            c * _prod(taps) * _prod(stride), -1)
    columns = numpy.empty(view.shape, g.dtype)

    def copy(channels):
        columns[channels] = view[channels]
    threads.run(copy, [slice(i, i + 1) for i in range(c)])
    return columns.reshape(c * _prod(taps) * _prod(stride), -1)


def _subpixel_weight(W, stride):
    """Deconvolution weight (C, O, k...) -> weight (S*O, C, taps...) of the
    stride-1 convolution of the input (padded by taps - 1) whose output is
    the deconvolution's phase grid."""
    xp = backend.get_array_module(W)
    ndim = len(stride)
    W = _pad_kernel(W, stride)
    c, o = W.shape[:2]
    taps = _taps(W.shape[2:], stride)
    W = W.reshape((c, o) + _interleave(taps, stride))[
        (slice(None),) * 2 + (slice(None, None, -1), slice(None)) * ndim]
    W = W.transpose(tuple(range(3, 3 + 2 * ndim, 2)) + (1, 0)
                    + tuple(range(2, 2 + 2 * ndim, 2)))
    return xp.ascontiguousarray(W).reshape((-1, c) + taps)


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


def _layout(n, outsize, taps):
    """Grid, tap offsets and per-tap GEMM width (cells whose tap views
    stay inside the grid) of a convolution giving ``outsize``."""
    grid = tuple(o + m - 1 for o, m in zip(outsize, taps))
    offsets = _tap_offsets(taps, n, grid)
    return grid, offsets, n * _prod(grid) - offsets[-1]


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


def _group_by_first_tap(rows, c_out, taps, offsets, width):
    """Whether per-tap GEMMs (``_convolve``) should run one GEMM per tap of
    the first dimension, over fewer cells, rather than one for all taps."""
    per = len(offsets) // taps[0]
    return ((width + offsets[per - 1]) * _gemm(per * c_out, rows)
            < (width + offsets[-1]) * _gemm(len(offsets) * c_out, rows))


def _use_taps(g, c_out, outsize, width, n_taps):
    """Whether per-tap GEMMs on grid g beat a column matrix. Never on a GPU,
    where the launch overhead of a GEMM and an add per tap outweighs the
    column copy (measured on an H200 at the paper configuration: 0.107 s
    per iteration with per-tap GEMMs, 0.067 s with column matrices)."""
    if not isinstance(g, numpy.ndarray):
        return False
    ndim = len(outsize)
    rows = _prod(g.shape[:ndim + 1])
    return _per_tap_cost(rows, c_out, width, n_taps) < _column_cost(
        rows, c_out, g.shape[ndim + 2] * _prod(outsize), outsize[-1])


def _prepare(x, ksize, stride, pad, outsize, c_out):
    """What convolving x into c_out channels of ``outsize`` (and the weight
    gradient of that) reads: x's grid for per-tap GEMMs or, when cheaper,
    its compact column matrix. A pair (grid, columns), one of them None."""
    taps = _taps(ksize, stride)
    grid, _, width = _layout(x.shape[0], outsize, taps)
    g = _to_grid(x, stride, pad, grid)
    if _use_taps(g, c_out, outsize, width, _prod(taps)):
        return g, None
    return None, _im2col(g, taps, outsize)


def _convolve(prepared, W, stride, n, outsize, first=None):
    """Convolution without bias of a ``_prepare``d input of batch n: a grid
    (1..., O, cells).

    ``first``: for each of ``len(first)`` equal groups of W's output
    channels, the range (start, stop) of the first output dimension that
    is needed; from a column matrix only those are computed (the rest of
    the grid is undefined)."""
    grid_x, columns = prepared
    ndim, c_out = len(outsize), W.shape[0]
    one = (1,) * ndim
    if columns is not None:
        W = _pad_kernel(W, stride).reshape(c_out, -1)
        if first is None:
            y = W @ columns
        else:
            xp = backend.get_array_module(W)
            y = xp.empty((c_out, columns.shape[1]), W.dtype)
            group, run = c_out // len(first), columns.shape[1] // outsize[0]
            for i, (start, stop) in enumerate(first):
                rows, cells = slice(i * group, (i + 1) * group), slice(start * run, stop * run)
                _matmul_into(y[rows, cells], W[rows], columns[:, cells])
        return y.reshape(one + (c_out,) + _spatial(outsize, n))
    # One GEMM for the rows (taps * O) of all taps, or of all taps of each
    # tap m_1 of the first dimension, over the cells their shifted views
    # read; then each tap's rows are added, shifted, into the output.
    xp = backend.get_array_module(grid_x)
    taps = _taps(W.shape[2:], stride)
    grid, offsets, width = _layout(n, outsize, taps)
    g = grid_x.reshape(-1, n * _prod(grid))
    groups = taps[0] if _group_by_first_tap(g.shape[0], c_out, taps, offsets, width) else 1
    Wt = _tap_matrices(W, stride).reshape(groups, -1, g.shape[0])
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
    return y[:c_out].reshape(one + (c_out,) + _spatial(grid, n))


def _correlate(prepared, gy, ksize, stride):
    """Weight gradient (O, C, *ksize) of a convolution of a ``_prepare``d
    input giving gy (N, O, ...)."""
    grid_x, columns = prepared
    xp = backend.get_array_module(gy)
    n, c_out, outsize = gy.shape[0], gy.shape[1], gy.shape[2:]
    one, zero = (1,) * len(ksize), (0,) * len(ksize)
    taps = _taps(ksize, stride)
    if columns is not None:
        gy = _to_grid(gy, one, zero, outsize).reshape(c_out, -1)
        gW = _matmul_nt(gy, columns).reshape(
            (c_out, -1) + tuple(m * s for m, s in zip(taps, stride)))
        return xp.ascontiguousarray(
            gW[(slice(None),) * 2 + tuple(slice(k) for k in ksize)])
    grid, offsets, width = _layout(n, outsize, taps)
    g = grid_x.reshape(-1, n * _prod(grid))
    gy = _to_grid(gy, one, zero, grid).reshape(c_out, -1)
    gWt = xp.empty((len(offsets), c_out, g.shape[0]), g.dtype)
    for i, offset in enumerate(offsets):
        gWt[i] = _matmul_nt(gy[:, :width], g[:, offset:offset + width])
    return _from_tap_gradients(gWt, ksize, stride)


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


def _use_subpixel(c_in, rows, n, taps, grid, width):
    """Whether the sub-pixel convolution (into ``rows`` = S*O rows) beats
    one GEMM into the T*S*O rows of all taps plus their shifted adds."""
    sub_cost = min(
        _per_tap_cost(c_in, rows, _layout(n, grid, taps)[2], _prod(taps)),
        _column_cost(c_in, rows, n * _prod(grid), grid[-1]))
    return sub_cost < width * rows * (c_in * _gemm(rows, c_in) + 2 * _MOVE)


def _transpose_convolve(x, W, stride, pad, outsize):
    """Deconvolution without bias: a grid (s..., O, cells).

    Either one GEMM of W with the input grid, whose per-tap results are
    added, shifted, into the output grid, or (cheaper when the output has
    many more rows S*O than the input) the equivalent stride-1 convolution
    of the input with a regrouped "sub-pixel" weight."""
    xp = backend.get_array_module(x)
    n, size, ndim = x.shape[0], x.shape[2:], len(stride)
    c_in, c_out = W.shape[:2]
    rows = _prod(stride) * c_out
    taps = _taps(W.shape[2:], stride)
    # Room for the spill-over of the last input cell and for the output.
    grid = tuple(max(d + m - 1, -(-(p + o) // s))
                 for d, m, s, p, o in zip(size, taps, stride, pad, outsize))
    offsets = _tap_offsets(taps, n, grid)
    width = n * _prod(grid) - offsets[-1]
    if _use_subpixel(c_in, rows, n, taps, grid, width):
        # Each phase r_1 of the first dimension needs only the grid cells
        # that ``_from_grid`` reads: t with 0 <= s*t + r_1 - p < outsize.
        s, p, o = stride[0], pad[0], outsize[0]
        first = [(max(0, -((r - p) // s)), min(grid[0], (o - 1 + p - r) // s + 1))
                 for r in range(s)]
        W = _subpixel_weight(W, stride)
        one = (1,) * ndim
        g = _convolve(_prepare(x, W.shape[2:], one, tuple(m - 1 for m in taps), grid,
                               W.shape[0]), W, one, n, grid, first)
        return g.reshape(stride + (c_out,) + g.shape[ndim + 1:])
    xg = _to_grid(x, (1,) * ndim, (0,) * ndim, grid).reshape(c_in, -1)
    W = _pad_kernel(W, stride)
    col = W.reshape(c_in, -1).T @ xg[:, :width]
    col = col.reshape((c_out,) + _interleave(taps, stride) + (width,))
    g = xp.zeros(stride + (c_out, xg.shape[1]), x.dtype)
    g_by_channel = g.transpose((ndim,) + tuple(range(ndim)) + (ndim + 1,))
    every = (slice(None),) * ndim
    for m, offset in zip(itertools.product(*[range(t) for t in taps]),
                         offsets):
        _add(g_by_channel[..., offset:offset + width],
             col[(slice(None),) + _interleave(m, every)])
    return g.reshape(stride + (c_out,) + _spatial(grid, n))


def _conv_outsize(size, ksize, stride, pad):
    return tuple((d + 2 * p - k) // s + 1
                 for d, k, s, p in zip(size, ksize, stride, pad))


def _deconv_outsize(size, ksize, stride, pad):
    return tuple(s * (d - 1) + k - 2 * p
                 for d, k, s, p in zip(size, ksize, stride, pad))


def _check_types(in_types, ndim, w_in_axis):
    n_in = in_types.size()
    type_check.expect(2 <= n_in, n_in <= 3)
    x_type, w_type = in_types[:2]
    type_check.expect(
        x_type.dtype.kind == 'f',
        w_type.dtype == x_type.dtype,
        x_type.ndim == ndim + 2,
        w_type.ndim == ndim + 2,
        x_type.shape[1] == w_type.shape[w_in_axis],
    )
    if type_check.eval(n_in) == 3:
        b_type = in_types[2]
        type_check.expect(
            b_type.dtype == x_type.dtype,
            b_type.ndim == 1,
            b_type.shape[0] == w_type.shape[1 - w_in_axis],
        )


def _grad_bias(gy):
    return chainer.functions.sum(gy, axis=(0,) + tuple(range(2, gy.ndim)))


class Convolution(function_node.FunctionNode):
    """y = convolution of x (N, C, D...) with W (O, C, k...), plus b (O,).

    ``x_prepared``: x ``_prepare``d, if already done. The node keeps it (a
    grid about x's size, or a column matrix up to k^N / s^N times that) for
    the weight gradient."""

    def __init__(self, ndim, stride=1, pad=0, x_prepared=None):
        self.ndim = ndim
        self.stride = _as_tuple(stride, ndim)
        self.pad = _as_tuple(pad, ndim)
        self.x_prepared = x_prepared

    def check_type_forward(self, in_types):
        _check_types(in_types, self.ndim, 1)

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        x, W = inputs[:2]
        b = inputs[2] if len(inputs) == 3 else None
        outsize = _conv_outsize(x.shape[2:], W.shape[2:], self.stride,
                                self.pad)
        assert all(o > 0 for o in outsize), 'output size must be positive'
        if self.x_prepared is None:
            self.x_prepared = _prepare(x, W.shape[2:], self.stride, self.pad,
                                       outsize, W.shape[0])
        y = _convolve(self.x_prepared, W, self.stride, x.shape[0], outsize)
        return _from_grid(y, (0,) * self.ndim, outsize, b),

    def backward(self, indexes, grad_outputs):
        x, W = self.get_retained_inputs()
        gy, = grad_outputs
        ret = []
        if 0 in indexes:
            ret.append(Deconvolution(
                self.ndim, self.stride, self.pad, x.shape[2:]).apply(
                    (gy, W))[0])
        if 1 in indexes:
            ret.append(ConvolutionGradW(
                W.shape[2:], self.stride, self.pad, self.x_prepared).apply(
                    (x, gy))[0])
        if 2 in indexes:
            ret.append(_grad_bias(gy))
        return ret


class Deconvolution(function_node.FunctionNode):
    """y = transposed convolution of x (N, C, D...) with W (C, O, k...),
    plus b (O,); ``outsize`` defaults to ``s * (d - 1) + k - 2 * p``."""

    def __init__(self, ndim, stride=1, pad=0, outsize=None):
        self.ndim = ndim
        self.stride = _as_tuple(stride, ndim)
        self.pad = _as_tuple(pad, ndim)
        self.outsize = None if outsize is None else tuple(outsize)

    def check_type_forward(self, in_types):
        _check_types(in_types, self.ndim, 0)

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        x, W = inputs[:2]
        b = inputs[2] if len(inputs) == 3 else None
        outsize = self.outsize or _deconv_outsize(
            x.shape[2:], W.shape[2:], self.stride, self.pad)
        assert all(o > 0 for o in outsize), 'output size must be positive'
        g = _transpose_convolve(x, W, self.stride, self.pad, outsize)
        return _from_grid(g, self.pad, outsize, b),

    def backward(self, indexes, grad_outputs):
        x, W = self.get_retained_inputs()
        gy, = grad_outputs
        ret = []
        if 0 in indexes or 1 in indexes:
            # Both gradients convolve gy into x's channels: prepare it once.
            gy_prepared = _prepare(gy.array, W.shape[2:], self.stride,
                                   self.pad, x.shape[2:], x.shape[1])
        if 0 in indexes:
            ret.append(Convolution(
                self.ndim, self.stride, self.pad, gy_prepared).apply(
                    (gy, W))[0])
        if 1 in indexes:
            ret.append(ConvolutionGradW(
                W.shape[2:], self.stride, self.pad, gy_prepared).apply(
                    (gy, x))[0])
        if 2 in indexes:
            ret.append(_grad_bias(gy))
        return ret


class ConvolutionGradW(function_node.FunctionNode):
    """gW (O, C, k...): correlation of x (N, C, D...) with gy (N, O, P...),
    the weight gradient of a convolution (and, with x and gy swapped, of a
    deconvolution); ``x_prepared`` as for ``Convolution``."""

    def __init__(self, ksize, stride, pad, x_prepared=None):
        self.ksize = tuple(ksize)
        self.stride = _as_tuple(stride, len(self.ksize))
        self.pad = _as_tuple(pad, len(self.ksize))
        self.x_prepared = x_prepared

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        x, gy = inputs
        if self.x_prepared is None:
            self.x_prepared = _prepare(x, self.ksize, self.stride, self.pad,
                                       gy.shape[2:], gy.shape[1])
        return _correlate(self.x_prepared, gy, self.ksize, self.stride),

    def backward(self, indexes, grad_outputs):
        x, gy = self.get_retained_inputs()
        ggW, = grad_outputs
        ndim = len(self.ksize)
        ret = []
        if 0 in indexes:
            ret.append(Deconvolution(
                ndim, self.stride, self.pad, x.shape[2:]).apply(
                    (gy, ggW))[0])
        if 1 in indexes:
            ret.append(Convolution(
                ndim, self.stride, self.pad, self.x_prepared).apply(
                    (x, ggW))[0])
        return ret


def convolution(x, W, b=None, stride=1, pad=0):
    """N-d convolution (N = x.ndim - 2) like ``F.convolution_nd``:
    x (N, C, D...), W (O, C, k...), b (O,) or None -> (N, O, out...)."""
    inputs = (x, W) if b is None else (x, W, b)
    return Convolution(x.ndim - 2, stride, pad).apply(inputs)[0]


def deconvolution(x, W, b=None, stride=1, pad=0):
    """N-d transposed convolution like ``F.deconvolution_nd``: x (N, C, D...),
    W (C, O, k...), b (O,) or None -> (N, O, s*(d-1)+k-2p...)."""
    inputs = (x, W) if b is None else (x, W, b)
    return Deconvolution(x.ndim - 2, stride, pad).apply(inputs)[0]
