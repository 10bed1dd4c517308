"""The Chainer device of a ``--gpu`` option."""
from runtime import chainer_compat  # noqa: F401
import chainer

from runtime.errors import UsageError


def get_device(gpu):
    """NumPy for ``gpu`` < 0, else CuPy on GPU ``gpu``; a one-line error
    where CuPy or a CUDA GPU is missing."""
    if gpu < 0:
        return chainer.get_device('@numpy')
    if not chainer.backends.cuda.available:
        raise UsageError('--gpu {} needs CuPy and a CUDA GPU, which were not found: '
                         'install CuPy (README "GPU") or use --gpu -1'.format(gpu))
    return chainer.get_device('@cupy:{}'.format(gpu))
