"""Chainer's convolution and batch-normalisation links computing with the
model's chosen functions (functions/choice.py: ours by default, or
Chainer's own).

Same parameters, names and shapes as ``chainer.links`` (so npz files load
unchanged); only the forward computation is replaced. Each takes
``functions`` (a ``functions.choice.Functions``) besides Chainer's arguments.
"""
import chainer
import chainer.links as L

from functions import choice


class _Chosen:
    """Keeps the ``functions`` keyword for ``forward``; the rest go to Chainer's link."""

    def __init__(self, *args, functions=choice.FAST, **kwargs):
        super().__init__(*args, **kwargs)
        self.functions = functions


class _Convolution(_Chosen):
    def forward(self, x):
        return self.functions.convolution(x, self.W, self.b, self.stride, self.pad)


class _Deconvolution(_Chosen):
    def forward(self, x):
        return self.functions.deconvolution(x, self.W, self.b, self.stride, self.pad)


class ConvolutionND(_Convolution, L.ConvolutionND):
    pass


class Convolution2D(_Convolution, L.Convolution2D):
    pass


class DeconvolutionND(_Deconvolution, L.DeconvolutionND):
    pass


class Deconvolution2D(_Deconvolution, L.Deconvolution2D):
    pass


class BatchNormalization(_Chosen, L.BatchNormalization):
    """Training mode runs the chosen ``batch_normalization`` (channel axis 1,
    the default axes, with gamma); test mode, fine-tuning and other set-ups
    are Chainer's own link."""

    def forward(self, x, **kwargs):
        if (not chainer.config.train or kwargs or self.axis is not None
                or self.gamma is None or self.avg_mean is None):
            return super().forward(x, **kwargs)
        running = (None, None) if chainer.config.in_recomputing else (
            self.avg_mean, self.avg_var)
        return self.functions.batch_normalization(x, self.gamma, self.beta, self.eps, *running,
                                                  self.decay)
