"""Which functions a model runs: this package's (``fast``) or Chainer's own
(``chainer``), the config key ``functions`` (docs/speed.md).

A model gets one ``Functions`` at construction (``models.build_generator`` /
``build_critic`` pass ``select(config['functions'])`` down to every network
and link) and computes its convolutions, deconvolutions, training-mode batch
normalisation and (leaky) ReLU with it. Both choices compute the same
functions with the same arguments; ``chainer`` is the way back to Chainer's
tested code (and to cuDNN on a GPU) when ours are suspected. Test-mode batch
normalisation is Chainer's ``fixed_batch_normalization`` under both.
"""
import collections

from runtime import chainer_compat  # noqa: F401
import chainer.functions as F
from chainer import backend

from functions.batch_normalization import batch_normalization
from functions.convolution import convolution, deconvolution
from functions.leaky_relu import leaky_relu, relu
from runtime.errors import UsageError


class Functions(collections.namedtuple('Functions', (
        'name', 'convolution', 'deconvolution', 'batch_normalization', 'leaky_relu', 'relu'))):
    """The functions of one choice, each called as its ``fast`` version is:
    ``convolution(x, W, b, stride, pad)``, ``deconvolution(x, W, b, stride,
    pad, outsize=None)``, ``batch_normalization(x, gamma, beta, eps,
    running_mean, running_var, decay)`` (beta None: no shift),
    ``leaky_relu(x, slope)``, ``relu(x)``."""


def _chainer_batch_normalization(x, gamma, beta=None, eps=2e-5, running_mean=None,
                                 running_var=None, decay=0.9):
    """``F.batch_normalization``; beta None is a zero shift, as in Chainer's
    link with ``use_beta=False``."""
    if beta is None:
        beta = backend.get_array_module(gamma).zeros(gamma.shape, gamma.dtype)
    return F.batch_normalization(x, gamma, beta, eps=eps, running_mean=running_mean,
                                 running_var=running_var, decay=decay)


FAST = Functions('fast', convolution, deconvolution, batch_normalization, leaky_relu, relu)
CHAINER = Functions('chainer', F.convolution_nd, F.deconvolution_nd,
                    _chainer_batch_normalization, F.leaky_relu, F.relu)
CHOICES = {choice.name: choice for choice in (FAST, CHAINER)}


def select(name):
    """The ``Functions`` named by the config value ``functions``."""
    if name not in CHOICES:
        raise UsageError('functions {!r}: choose fast (this project\'s kernels, the default) or '
                         'chainer (Chainer\'s own functions)'.format(name))
    return CHOICES[name]
