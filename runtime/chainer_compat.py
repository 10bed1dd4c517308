"""Make Chainer 7.8.1 run on numpy 2.x, Python 3.12/3.13 and CuPy 14.

Import this module before the first ``import chainer`` (every package of this
project does so in its ``__init__``). Each patch is a no-op where it is not
needed; ``tests/test_compat.py`` checks each one. What was measured:
``docs/install.md``.
"""
import os
import sys
import types
import warnings

import numpy


def _restore_sctypes():
    """numpy 2 removed ``numpy.sctypes``; chainer reads it at import time."""
    if 'sctypes' in numpy.__dict__:
        return
    numpy.sctypes = {
        'int': [numpy.int8, numpy.int16, numpy.int32, numpy.int64],
        'uint': [numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64],
        'float': [numpy.float16, numpy.float32, numpy.float64],
        'complex': [numpy.complex64, numpy.complex128],
        'others': [bool, object, bytes, str, numpy.void],
    }


def _restore_float_alias():
    """numpy 1.24 removed ``numpy.float``; ``F.resize_images`` still uses it."""
    if 'float' not in numpy.__dict__:
        numpy.float = float


def _skip_environment_check():
    """``chainer._environment_check`` imports ``numpy.distutils`` (gone on
    Python >= 3.12) and ``pkg_resources`` only to print version warnings."""
    if 'chainer._environment_check' in sys.modules:
        return
    module = types.ModuleType('chainer._environment_check')
    module.check = lambda: None
    sys.modules['chainer._environment_check'] = module


def _configure_cudnn():
    """CuPy 14 has no cuDNN: tell chainer so it does not warn at import.
    CuPy 13 warns when ``cupy.cudnn`` is first imported; import it quietly."""
    try:
        import cupy
    except Exception:  # no CuPy, or no CUDA driver: CPU only
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            import cupy.cudnn  # noqa: F401
    except Exception:
        os.environ.setdefault('CHAINER_CUDNN', '0')
    del cupy


def apply():
    _restore_sctypes()
    _restore_float_alias()
    _skip_environment_check()
    _configure_cudnn()


apply()
