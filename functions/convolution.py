"""N-dimensional convolution and deconvolution as Chainer FunctionNodes.

Same semantics as ``chainer.functions.convolution_nd`` / ``deconvolution_nd``
without ``cover_all``, dilation or groups (these functions take no such
arguments; ``functions: chainer`` runs Chainer's own, docs/speed.md), built for
speed without cuDNN from array-module generic operations (numpy or cupy):
the inputs are laid out in grids (functions/grids.py) that a few GEMMs read
in place (functions/algorithms.py), the algorithm chosen by a cost model
(functions/plan.py). Backward passes are built from these nodes, so they
are differentiable.
"""
from runtime import chainer_compat  # noqa: F401
import chainer
from chainer import function_node
from chainer.utils import type_check

from functions import algorithms, grids


def _as_tuple(value, ndim):
    if isinstance(value, int):
        return (value,) * ndim
    value = tuple(value)
    assert len(value) == ndim
    return value


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

    ``x_prepared``: x ``algorithms.prepare``d, if already done. The node keeps it (a
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
            self.x_prepared = algorithms.prepare(x, W.shape[2:], self.stride, self.pad,
                                                 outsize, W.shape[0])
        y = algorithms.convolve(self.x_prepared, W, self.stride, x.shape[0], outsize)
        return grids.from_grid(y, (0,) * self.ndim, outsize, b),

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
    plus b (O,); ``outsize`` defaults to ``s * (d - 1) + k - 2 * p``.

    A given ``outsize`` must be one whose convolution gives x's size, as
    Chainer checks (``InvalidType`` otherwise); of the sizes Chainer also
    accepts, those that need ``cover_all`` in the backward pass are refused."""

    def __init__(self, ndim, stride=1, pad=0, outsize=None):
        self.ndim = ndim
        self.stride = _as_tuple(stride, ndim)
        self.pad = _as_tuple(pad, ndim)
        self.outsize = None if outsize is None else _as_tuple(outsize, ndim)

    def check_type_forward(self, in_types):
        _check_types(in_types, self.ndim, 0)
        if self.outsize is not None:
            x_type, w_type = in_types[:2]
            for i, (o, s, p) in enumerate(zip(self.outsize, self.stride, self.pad)):
                type_check.expect(x_type.shape[i + 2] == (o + 2 * p - w_type.shape[i + 2]) // s + 1)

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        x, W = inputs[:2]
        b = inputs[2] if len(inputs) == 3 else None
        outsize = self.outsize or _deconv_outsize(
            x.shape[2:], W.shape[2:], self.stride, self.pad)
        assert all(o > 0 for o in outsize), 'output size must be positive'
        g = algorithms.transpose_convolve(x, W, self.stride, self.pad, outsize)
        return grids.from_grid(g, self.pad, outsize, b),

    def backward(self, indexes, grad_outputs):
        x, W = self.get_retained_inputs()
        gy, = grad_outputs
        ret = []
        if 0 in indexes or 1 in indexes:
            # Both gradients convolve gy into x's channels: prepare it once.
            gy_prepared = algorithms.prepare(gy.array, W.shape[2:], self.stride,
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
            self.x_prepared = algorithms.prepare(x, self.ksize, self.stride, self.pad,
                                                 gy.shape[2:], gy.shape[1])
        return algorithms.correlate(self.x_prepared, gy, self.ksize, self.stride),

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


def deconvolution(x, W, b=None, stride=1, pad=0, outsize=None):
    """N-d transposed convolution like ``F.deconvolution_nd``: x (N, C, D...),
    W (C, O, k...), b (O,) or None -> (N, O, outsize...), by default
    ``outsize`` = s*(d-1)+k-2p."""
    inputs = (x, W) if b is None else (x, W, b)
    return Deconvolution(x.ndim - 2, stride, pad, outsize).apply(inputs)[0]
