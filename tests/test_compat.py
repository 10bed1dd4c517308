"""Each patch of chainer_compat does what it says (docs/install.md, "What was measured")."""
import os
import sys
import types
import unittest
from unittest import mock

import numpy

from runtime import chainer_compat
import chainer
import chainer.functions as F


class TestCompat(unittest.TestCase):

    def test_sctypes_restored(self):
        self.assertIn(numpy.float32, numpy.sctypes['float'])
        self.assertIn(numpy.int64, numpy.sctypes['int'])
        # chainer's as_strided reads it at import time and at run time
        x = chainer.Variable(numpy.arange(6, dtype=numpy.float32))
        y = F.as_strided(x, (2, 2), (1, 1))  # strides in elements
        y.grad = numpy.ones((2, 2), numpy.float32)
        y.backward()
        numpy.testing.assert_array_equal(x.grad, [1, 2, 1, 0, 0, 0])

    def test_float_alias_restored_for_resize_images(self):
        self.assertIs(numpy.float, float)
        x = numpy.arange(4, dtype=numpy.float32).reshape(1, 1, 2, 2)
        y = F.resize_images(x, (3, 3), mode='bilinear', align_corners=True)
        self.assertEqual(y.shape, (1, 1, 3, 3))
        self.assertAlmostEqual(float(y.array[0, 0, 1, 1]), 1.5, places=5)

    def test_environment_check_is_a_no_op(self):
        module = sys.modules['chainer._environment_check']
        self.assertIsNone(module.check())
        self.assertFalse(hasattr(module, 'pkg_resources'))

    def test_cudnn_disabled_when_cupy_has_none(self):
        fake_cupy = types.ModuleType('cupy')
        with mock.patch.dict(sys.modules, {'cupy': fake_cupy, 'cupy.cudnn': None}), \
                mock.patch.dict(os.environ, clear=False) as env:
            env.pop('CHAINER_CUDNN', None)
            chainer_compat._configure_cudnn()
            self.assertEqual(os.environ.get('CHAINER_CUDNN'), '0')

    def test_cudnn_left_alone_when_cupy_has_it(self):
        fake_cupy = types.ModuleType('cupy')
        fake_cudnn = types.ModuleType('cupy.cudnn')
        fake_cupy.cudnn = fake_cudnn
        with mock.patch.dict(sys.modules, {'cupy': fake_cupy, 'cupy.cudnn': fake_cudnn}), \
                mock.patch.dict(os.environ, clear=False) as env:
            env.pop('CHAINER_CUDNN', None)
            chainer_compat._configure_cudnn()
            self.assertNotIn('CHAINER_CUDNN', os.environ)


if __name__ == '__main__':
    unittest.main()
