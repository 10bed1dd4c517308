"""functions.convolution against Chainer's own convolutions."""
import itertools
import unittest
from unittest import mock

import numpy

from runtime import chainer_compat  # noqa: F401
import chainer
import chainer.functions as F
from chainer import gradient_check

from functions import plan, threads
from functions.convolution import convolution, deconvolution

# (kernel, stride, pad); (3, 2, 1) and (2, 3, 0) pad the kernel to a
# multiple of the stride.
GEOMETRIES = [(4, 2, 1), (3, 1, 1), (1, 1, 0), (4, 1, 0), (3, 2, 1),
              (2, 3, 0)]
SIZES = {1: (7,), 2: (6, 9), 3: (5, 7, 6)}

# Each internal algorithm, forced on: (per-tap GEMMs, sub-pixel deconv).
PATHS = [(True, True), (False, False)]


def _forced(use_taps, use_subpixel):
    return [mock.patch.object(plan, 'use_taps',
                              lambda *args: use_taps),
            mock.patch.object(plan, 'use_subpixel',
                              lambda *args: use_subpixel)]


class _Paths(unittest.TestCase):

    def for_each_path(self, check):
        """Runs ``check`` with the automatic algorithm choice, with each
        algorithm forced, and with every example its own chunk of the
        layout copies (split over the threads)."""
        check()
        for path in PATHS + ['chunk per example']:
            if path == 'chunk per example':
                patches = [mock.patch.object(threads, 'CHUNK_BYTES', 1)]
            else:
                patches = _forced(*path)
            with self.subTest(path=path):
                for p in patches:
                    p.start()
                try:
                    check()
                finally:
                    for p in patches:
                        p.stop()


def _data(rng, ndim, k, c_in=3, c_out=4, n=2, dtype=numpy.float32,
          transpose=False):
    x = rng.standard_normal((n, c_in) + SIZES[ndim]).astype(dtype)
    w_shape = (c_in, c_out) if transpose else (c_out, c_in)
    W = rng.standard_normal(w_shape + (k,) * ndim).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    return x, W, b


class TestForward(_Paths):

    def _check_matches(self, ours, reference, transpose, seed):
        rng = numpy.random.default_rng(seed)

        def check():
            for ndim, (k, s, p) in itertools.product(SIZES, GEOMETRIES):
                x, W, b = _data(rng, ndim, k, transpose=transpose)
                for bias in (None, b):
                    with self.subTest(ndim=ndim, k=k, s=s, p=p,
                                      bias=bias is not None):
                        y = ours(x, W, bias, s, p).array
                        ref = reference(x, W, bias, s, p).array
                        self.assertEqual(y.shape, ref.shape)
                        self.assertEqual(y.dtype, numpy.float32)
                        numpy.testing.assert_allclose(y, ref, rtol=1e-4,
                                                      atol=1e-4)
        self.for_each_path(check)

    def test_convolution_matches_chainer(self):
        self._check_matches(convolution, F.convolution_nd, False, 0)

    def test_deconvolution_matches_chainer(self):
        self._check_matches(deconvolution, F.deconvolution_nd, True, 1)

    def test_2d_matches_convolution_2d(self):
        rng = numpy.random.default_rng(2)
        for k, s, p in GEOMETRIES:
            x, W, b = _data(rng, 2, k)
            numpy.testing.assert_allclose(
                convolution(x, W, b, s, p).array,
                F.convolution_2d(x, W, b, s, p).array, rtol=1e-4, atol=1e-4)
            x, W, b = _data(rng, 2, k, transpose=True)
            numpy.testing.assert_allclose(
                deconvolution(x, W, b, s, p).array,
                F.deconvolution_2d(x, W, b, s, p).array, rtol=1e-4,
                atol=1e-4)

    def test_tuple_stride_and_pad(self):
        rng = numpy.random.default_rng(3)
        x, W, b = _data(rng, 3, 4)
        numpy.testing.assert_allclose(
            convolution(x, W, b, (2, 1, 3), (1, 0, 2)).array,
            F.convolution_nd(x, W, b, (2, 1, 3), (1, 0, 2)).array,
            rtol=1e-4, atol=1e-4)
        x, W, b = _data(rng, 2, 4, transpose=True)
        numpy.testing.assert_allclose(
            deconvolution(x, W, b, (2, 1), (1, 0)).array,
            F.deconvolution_nd(x, W, b, (2, 1), (1, 0)).array,
            rtol=1e-4, atol=1e-4)

    def test_tgan_layer_shapes(self):
        rng = numpy.random.default_rng(4)
        x = rng.standard_normal((2, 8, 4, 8, 8), dtype=numpy.float32)
        W = rng.standard_normal((16, 8, 4, 4, 4), dtype=numpy.float32)
        numpy.testing.assert_allclose(
            convolution(x, W, None, 2, 1).array,
            F.convolution_nd(x, W, None, 2, 1).array, rtol=1e-4, atol=1e-4)
        x = rng.standard_normal((6, 16, 4, 4), dtype=numpy.float32)
        W = rng.standard_normal((16, 8, 4, 4), dtype=numpy.float32)
        numpy.testing.assert_allclose(
            deconvolution(x, W, None, 2, 1).array,
            F.deconvolution_2d(x, W, None, 2, 1).array, rtol=1e-4,
            atol=1e-4)


class TestBackward(_Paths):
    # Small float64 inputs; (3, 2, 1) on odd sizes needs the deconvolution
    # with an explicit output size in the convolution's backward.
    CASES = [(1, 4, 2, 1), (1, 3, 2, 1), (2, 4, 2, 1), (2, 3, 1, 1),
             (2, 3, 2, 1), (3, 4, 2, 1), (3, 3, 1, 1)]

    def _check(self, fn, transpose, double=False):
        rng = numpy.random.default_rng(5)

        def check():
            for ndim, k, s, p in self.CASES:
                with self.subTest(ndim=ndim, k=k, s=s, p=p):
                    x, W, b = _data(rng, ndim, k, c_in=2, c_out=3,
                                    dtype=numpy.float64, transpose=transpose)
                    y = fn(x, W, b, s, p)
                    gy = rng.standard_normal(y.shape)
                    f = lambda x, W, b: fn(x, W, b, s, p)  # noqa: E731
                    if double:
                        ggs = [rng.standard_normal(a.shape)
                               for a in (x, W, b)]
                        gradient_check.check_double_backward(
                            f, (x, W, b), gy, ggs, dtype=numpy.float64,
                            atol=1e-5, rtol=1e-4)
                    else:
                        gradient_check.check_backward(
                            f, (x, W, b), gy, dtype=numpy.float64,
                            atol=1e-5, rtol=1e-4)
        self.for_each_path(check)

    def test_convolution(self):
        self._check(convolution, transpose=False)

    def test_deconvolution(self):
        self._check(deconvolution, transpose=True)

    def test_convolution_double_backward(self):
        self._check(convolution, transpose=False, double=True)

    def test_deconvolution_double_backward(self):
        self._check(deconvolution, transpose=True, double=True)


class TestGradientsMatchChainer(_Paths):

    def _compare(self, ours, theirs, transpose):
        rng = numpy.random.default_rng(6)

        def check():
            for ndim, (k, s, p) in itertools.product(SIZES, GEOMETRIES):
                with self.subTest(ndim=ndim, k=k, s=s, p=p):
                    arrays = _data(rng, ndim, k, transpose=transpose)
                    grads = []
                    for fn in (ours, theirs):
                        vs = [chainer.Variable(a.copy()) for a in arrays]
                        y = fn(*vs, s, p)
                        y.grad = numpy.random.default_rng(7).standard_normal(
                            y.shape).astype(numpy.float32)
                        y.backward()
                        grads.append([v.grad for v in vs])
                    for g, ref in zip(*grads):
                        self.assertEqual(g.dtype, numpy.float32)
                        numpy.testing.assert_allclose(g, ref, rtol=1e-4,
                                                      atol=1e-3)
        self.for_each_path(check)

    def test_convolution(self):
        self._compare(convolution, F.convolution_nd, transpose=False)

    def test_deconvolution(self):
        self._compare(deconvolution, F.deconvolution_nd, transpose=True)


if __name__ == '__main__':
    unittest.main()
