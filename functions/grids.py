"""The grid layout of the convolutions (functions/convolution.py): where each
element of an input goes, and the weights regrouped to match.

Each input is copied once into a zero-padded "grid" (s_1..s_N, C, t_1, N,
t_2..t_N): the image split by stride phase r, ``g[r, c, t, n] =
x[n, c, s*t + r - pad]``, with the batch after the first spatial axis (so
that axis needs no spare cells). Kernel offset ``s*m + r`` is phase r shifted
by m, and over the flattened (t_1, N, t_2..) cells a shift is a constant
offset, so each kernel tap m of all phases and channels is a plain 2-D view
(S*C, cells) that BLAS reads in place. Results at the spare cells (t_i beyond
the output) are garbage and never read. Kernels with ``k % s != 0`` are
zero-padded to a multiple of ``s``.

Pure geometry and copies, no matrix products; on the CPU the copies run
chunk by chunk of the batch over the BLAS's threads (functions/threads.py).
"""
import itertools

from runtime import chainer_compat  # noqa: F401
import numpy
from chainer import backend

from functions import threads


def interleave(a, b):
    return tuple(v for pair in zip(a, b) for v in pair)


def prod(values):
    result = 1
    for v in values:
        result *= v
    return result


def spatial(values, batch=slice(None)):
    """Spatial values in a grid's axis order: (v_1, batch, v_2..v_N)."""
    return tuple(values[:1]) + (batch,) + tuple(values[1:])


def _channels_first(a):
    """View (N, C, D_1, D_2...) as (C, D_1, N, D_2...)."""
    return a.transpose((1, 2, 0) + tuple(range(3, a.ndim)))


def taps_per_phase(ksize, stride):
    """Kernel taps per phase, ``ceil(k / s)``, for each dimension."""
    return tuple(-(-k // s) for k, s in zip(ksize, stride))


def pad_kernel(W, stride):
    """Zero-pad W's kernel dimensions at the end to ``taps * stride``."""
    ksize = W.shape[2:]
    padded = tuple(m * s for m, s in zip(taps_per_phase(ksize, stride), stride))
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


def to_grid(x, stride, pad, grid):
    """(N, C, D...) -> zero-filled grid (s..., C, t_1, N, t_2..t_N)."""
    xp = backend.get_array_module(x)
    n, c, size = x.shape[0], x.shape[1], x.shape[2:]
    g = xp.zeros(stride + (c,) + spatial(grid, n), x.dtype)
    x_view = _channels_first(x)
    phases = list(_phases(size, stride, pad, grid))

    def copy(batch):
        for r, image, cells in phases:
            g[r + (slice(None),) + spatial(cells, batch)] = (
                x_view[(slice(None),) + spatial(image, batch)])
    threads.run(copy, threads.batch_chunks(x))
    return g


def from_grid(g, pad, size, b=None):
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
            part = g[r + (slice(None),) + spatial(cells, batch)]
            out = y_view[(slice(None),) + spatial(image, batch)]
            if b is None:
                out[...] = part
            else:
                xp.add(part, b, out=out)
    threads.run(copy, threads.batch_chunks(y))
    return y


def _cell_steps(n, grid):
    """Flat cell step of each spatial dimension in a (t_1, N, t_2..) grid."""
    return (n * prod(grid[1:]),) + tuple(
        prod(grid[i + 1:]) for i in range(1, len(grid)))


def tap_offsets(taps, n, grid):
    """Flat cell offset of each tap m (C order) in a (t_1, N, t_2..) grid."""
    steps = _cell_steps(n, grid)
    return [sum(m_i * step for m_i, step in zip(m, steps))
            for m in itertools.product(*[range(t) for t in taps])]


def tap_matrices(W, stride):
    """W (O, C, k...) -> (T, O, S*C): per tap m the weights of the kernel
    offsets ``s*m + r``, columns in the grid's (r, C) row order."""
    xp = backend.get_array_module(W)
    ndim = len(stride)
    W = pad_kernel(W, stride)
    o, c = W.shape[:2]
    taps = taps_per_phase(W.shape[2:], stride)
    W = W.reshape((o, c) + interleave(taps, stride)).transpose(
        tuple(range(2, 2 + 2 * ndim, 2)) + (0,)
        + tuple(range(3, 3 + 2 * ndim, 2)) + (1,))
    return xp.ascontiguousarray(W).reshape(prod(taps), o, -1)


def from_tap_gradients(gWt, ksize, stride):
    """(T, O, S*C) per-tap weight gradients, columns in the grid's (r, C)
    order -> (O, C, *ksize). (Each output channel's gradients lie together,
    so the regrouping copy reads them from cache.)"""
    xp = backend.get_array_module(gWt)
    ndim = len(stride)
    taps = taps_per_phase(ksize, stride)
    gW = gWt.reshape(taps + (gWt.shape[1],) + stride + (-1,)).transpose(
        (ndim, 2 * ndim + 1)
        + interleave(range(ndim), range(ndim + 1, 2 * ndim + 1)))
    gW = gW.reshape(gW.shape[:2] + tuple(m * s for m, s in zip(taps, stride)))
    return xp.ascontiguousarray(
        gW[(slice(None),) * 2 + tuple(slice(k) for k in ksize)])


def im2col(g, taps, outsize):
    """Grid -> compact column matrix (C * K, N * P) with cells in the grid's
    (o_1, N, o_2..o_N) order, rows in W's (C, k...) order (kernel padded to
    ``taps * stride``)."""
    xp = backend.get_array_module(g)
    ndim = len(taps)
    stride, c, n = g.shape[:ndim], g.shape[ndim], g.shape[ndim + 2]
    steps = g.strides
    cell_steps = steps[ndim + 1:ndim + 2] + steps[ndim + 3:]
    view = xp.lib.stride_tricks.as_strided(
        g, (c,) + interleave(taps, stride) + spatial(outsize, n),
        steps[ndim:ndim + 1] + interleave(cell_steps, steps[:ndim])
        + spatial(cell_steps, steps[ndim + 2]))
    if not isinstance(g, numpy.ndarray) or view.nbytes < threads.CHUNK_BYTES:
        return xp.ascontiguousarray(view).reshape(
            c * prod(taps) * prod(stride), -1)
    columns = numpy.empty(view.shape, g.dtype)

    def copy(channels):
        columns[channels] = view[channels]
    threads.run(copy, [slice(i, i + 1) for i in range(c)])
    return columns.reshape(c * prod(taps) * prod(stride), -1)


def subpixel_weight(W, stride):
    """Deconvolution weight (C, O, k...) -> weight (S*O, C, taps...) of the
    stride-1 convolution of the input (padded by taps - 1) whose output is
    the deconvolution's phase grid."""
    xp = backend.get_array_module(W)
    ndim = len(stride)
    W = pad_kernel(W, stride)
    c, o = W.shape[:2]
    taps = taps_per_phase(W.shape[2:], stride)
    W = W.reshape((c, o) + interleave(taps, stride))[
        (slice(None),) * 2 + (slice(None, None, -1), slice(None)) * ndim]
    W = W.transpose(tuple(range(3, 3 + 2 * ndim, 2)) + (1, 0)
                    + tuple(range(2, 2 + 2 * ndim, 2)))
    return xp.ascontiguousarray(W).reshape((-1, c) + taps)


def layout(n, outsize, taps):
    """Grid, tap offsets and per-tap GEMM width (cells whose tap views
    stay inside the grid) of a convolution giving ``outsize``."""
    grid = tuple(o + m - 1 for o, m in zip(outsize, taps))
    offsets = tap_offsets(taps, n, grid)
    return grid, offsets, n * prod(grid) - offsets[-1]
