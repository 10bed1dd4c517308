"""Chainer's convolution and batch-normalisation links running our faster
functions (functions/convolution.py, functions/batch_normalization.py).

Same parameters, names and shapes as ``chainer.links`` (so npz files load
unchanged); only the forward computation is replaced.
"""
import chainer
import chainer.links as L

from functions.batch_normalization import batch_normalization
from functions.convolution import convolution, deconvolution


class _Convolution:
    def forward(self, x):
        return convolution(x, self.W, self.b, self.stride, self.pad)


class _Deconvolution:
    def forward(self, x):
        return deconvolution(x, self.W, self.b, self.stride, self.pad)


class ConvolutionND(_Convolution, L.ConvolutionND):
    pass


class Convolution2D(_Convolution, L.Convolution2D):
    pass


class DeconvolutionND(_Deconvolution, L.DeconvolutionND):
    pass


class Deconvolution2D(_Deconvolution, L.Deconvolution2D):
    pass


class BatchNormalization(L.BatchNormalization):
    """Training mode runs ``functions.batch_normalization`` (channel axis 1,
    the default axes, with gamma); test mode, fine-tuning and other set-ups
    are Chainer's own."""

    def forward(self, x, **kwargs):
        if (not chainer.config.train or kwargs or self.axis is not None
                or self.gamma is None or self.avg_mean is None):
            return super().forward(x, **kwargs)
        running = (None, None) if chainer.config.in_recomputing else (
            self.avg_mean, self.avg_var)
        return batch_normalization(x, self.gamma, self.beta, self.eps, *running, self.decay)
