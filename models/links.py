"""Chainer's convolution links running our faster functions (functions/convolution.py).

Same parameters, names and shapes as ``chainer.links`` (so npz files load
unchanged); only the forward computation is replaced.
"""
import chainer.links as L

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
