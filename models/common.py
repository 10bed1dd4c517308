"""Helpers shared by the networks.

Weight initialisation choices of the paper and the original code (docs/design.md §1):

``default``: Chainer's LeCunNormal (the original's "InitDefault" classes);
``uniform``: Uniform(0.01) (the original's "InitUniform" classes);
``he``: HeNormal, as the paper's text describes for G0 and the critic.
"""
import chainer

from runtime.errors import UsageError

_CHOICES = {
    'default': lambda: None,
    'uniform': lambda: chainer.initializers.Uniform(0.01),
    'he': lambda: chainer.initializers.HeNormal(),
}


def initializer(name):
    """Return the ``initialW`` for the named scheme."""
    if name not in _CHOICES:
        raise UsageError('unknown initialisation {!r}: choose one of {}'.format(
            name, ', '.join(sorted(_CHOICES))))
    return _CHOICES[name]()


def log2_int(value, what):
    """``log2(value)`` for a power of two >= 2, else a clear error."""
    n = int(value).bit_length() - 1
    if value < 2 or 2 ** n != value:
        raise UsageError('{} must be a power of two >= 2, got {}'.format(what, value))
    return n


def one_hot(labels, n_classes, xp):
    """0-based class ids (N,) -> the conditional model's float32 labels (N, n_classes)."""
    return xp.eye(n_classes, dtype=xp.float32)[xp.asarray(labels)]


def check_condition(what, n_classes, condition):
    """One-line error unless labels are given exactly when the model
    (``what``, e.g. 'critic') is conditional (``n_classes > 0``)."""
    if (condition is None) != (n_classes == 0):
        raise UsageError('the {} is {}'.format(what, (
            'conditional: give one label per video' if n_classes else
            "unconditional: it takes no labels (the conditional model is TGAN's)")))
