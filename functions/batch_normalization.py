"""Batch normalisation over every axis but the channel axis 1, in training mode.

The same results as ``chainer.functions.batch_normalization`` with the
default axes (the batch statistics, the running averages with the unbiased
variance), written for speed on both array modules: the statistics are sums
over the contiguous last axis of an (N, C, M) view, and the forward pass
keeps the normalised input x_hat for the backward pass instead of
recomputing it. (Chainer's own CPU/CuPy path without cuDNN reduces over the
strided axes (0, 2, 3...) several times per call.) On the CPU every pass goes
chunk by chunk of the batch over the BLAS's threads (functions/threads.py).

The backward pass is not differentiable again (no double backpropagation):
TGAN's WGAN and GAN updates never need it.
"""
import functools
import operator

from runtime import chainer_compat  # noqa: F401
from chainer import backend
from chainer import function_node
from chainer.utils import type_check

from functions import threads


def _channel_sums(a, b=None):
    """Per-channel sums of a (N, C, M) array, or of a * b."""
    sums = {}

    def chunk_sums(i, batch):
        part = a[batch] if b is None else a[batch] * b[batch]
        sums[i] = part.sum(axis=2).sum(axis=0)
    threads.each_chunk(chunk_sums, a)
    return functools.reduce(operator.add, [sums[i] for i in sorted(sums)])


class BatchNormalization(function_node.FunctionNode):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta over a batch x
    (N, C, D...); updates ``running_mean`` / ``running_var`` in place."""

    def __init__(self, eps, running_mean, running_var, decay):
        self.eps = eps
        self.running_mean, self.running_var = running_mean, running_var
        self.decay = decay

    def check_type_forward(self, in_types):
        n_in = in_types.size()
        type_check.expect(2 <= n_in, n_in <= 3)
        x_type, gamma_type = in_types[:2]
        type_check.expect(
            x_type.dtype.kind == 'f',
            x_type.ndim >= 2,
            gamma_type.dtype == x_type.dtype,
            gamma_type.shape == x_type.shape[1:2],
        )
        if type_check.eval(n_in) == 3:
            type_check.expect(in_types[2].dtype == x_type.dtype,
                              in_types[2].shape == x_type.shape[1:2])

    def forward(self, inputs):
        xp = backend.get_array_module(*inputs)
        x, gamma = inputs[:2]
        n, c = x.shape[:2]
        x3 = x.reshape(n, c, -1)
        m = n * x3.shape[2]
        mean = _channel_sums(x3) / m
        x_hat, y = xp.empty_like(x3), xp.empty_like(x3)

        def center(i, batch):
            xp.subtract(x3[batch], mean[:, None], out=x_hat[batch])
        threads.each_chunk(center, x3)
        var = _channel_sums(x_hat, x_hat) / m
        inv_std = 1 / xp.sqrt(var + self.eps)

        def normalize(i, batch):
            x_hat[batch] *= inv_std[:, None]
            xp.multiply(x_hat[batch], gamma[:, None], out=y[batch])
            if len(inputs) == 3:
                y[batch] += inputs[2][:, None]
        threads.each_chunk(normalize, x3)
        if self.running_mean is not None:
            self.running_mean *= self.decay
            self.running_mean += (1 - self.decay) * mean
            self.running_var *= self.decay
            self.running_var += (1 - self.decay) * m / max(m - 1, 1) * var
        self.x_hat, self.inv_std = x_hat, inv_std
        self.retain_inputs((1,))
        return y.reshape(x.shape),

    def backward(self, indexes, grad_outputs):
        gamma, = self.get_retained_inputs()
        grad = BatchNormalizationGrad(self.x_hat, self.inv_std, len(self.inputs) == 3)
        return grad.apply((gamma, grad_outputs[0]))


class BatchNormalizationGrad(function_node.FunctionNode):
    """(gx, ggamma[, gbeta]) of ``BatchNormalization`` from gamma and gy."""

    def __init__(self, x_hat, inv_std, with_beta):
        self.x_hat, self.inv_std, self.with_beta = x_hat, inv_std, with_beta

    def forward(self, inputs):
        xp = backend.get_array_module(*inputs)
        gamma, gy = inputs
        x_hat = self.x_hat
        gy3 = gy.reshape(x_hat.shape)
        m = x_hat.shape[0] * x_hat.shape[2]
        gbeta = _channel_sums(gy3)
        ggamma = _channel_sums(gy3, x_hat)
        # gx = gamma / std * (gy - (x_hat * ggamma + gbeta) / m)
        gx = xp.empty_like(x_hat)

        def grad_x(i, batch):
            xp.multiply(x_hat[batch], (ggamma / m)[:, None], out=gx[batch])
            gx[batch] += (gbeta / m)[:, None]
            gx[batch] -= gy3[batch]
            gx[batch] *= (-gamma * self.inv_std)[:, None]
        threads.each_chunk(grad_x, x_hat)
        outputs = (gx.reshape(gy.shape), ggamma)
        return outputs + (gbeta,) if self.with_beta else outputs

    def backward(self, indexes, grad_outputs):
        raise NotImplementedError(
            'double backpropagation through functions.batch_normalization is not '
            'supported; use chainer.functions.batch_normalization')


def batch_normalization(x, gamma, beta=None, eps=2e-5, running_mean=None,
                        running_var=None, decay=0.9):
    """Training-mode batch normalisation of x (N, C, D...) over (N, D...);
    ``beta`` None means no shift (the critic's and G0's ``use_beta=False``)."""
    inputs = (x, gamma) if beta is None else (x, gamma, beta)
    return BatchNormalization(eps, running_mean, running_var, decay).apply(inputs)[0]
