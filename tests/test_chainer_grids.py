"""Our functions against Chainer's on the parameter grids of Chainer's own
tests of them (Chainer 7: ``test_convolution_nd``, ``test_deconvolution_nd``,
``test_batch_normalization``, ``test_leaky_relu``; the values only).

Where ours claim support (no dilation, groups or ``cover_all``, which they
take no arguments for; one dtype for all inputs; batch normalisation over
every axis but axis 1) the outputs, the gradients and the running
statistics are Chainer's; the other cases are refused: a TypeError for an
argument ours do not take, Chainer's ``InvalidType`` for inputs they do not
fit. Each case runs on small arrays, forward and backward once.
"""
import itertools
import random
import unittest

import numpy

from runtime import chainer_compat  # noqa: F401
import chainer
import chainer.functions as F
from chainer.utils import type_check

from functions.batch_normalization import batch_normalization
from functions.convolution import convolution, deconvolution
from functions.leaky_relu import leaky_relu, relu

f16, f32, f64 = numpy.float16, numpy.float32, numpy.float64
DTYPES = (f16, f32, f64)
# (forward, backward) tolerance (atol = rtol) of our results against Chainer's
TOLERANCE = {f16: (5e-3, 2 ** -4), f32: (1e-4, 1e-4), f64: (1e-10, 1e-10)}


def grid(**axes):
    """The product of named value lists, as dicts (Chainer's ``testing.product``)."""
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*axes.values())]


# test_convolution_nd: N=2, 4 -> 2 channels, kernel 2, stride 1, pad 1
CONVOLUTION = grid(dims=[(5,), (4, 3), (3, 4, 3)], dilate=[1, 2], groups=[1, 2],
                   cover_all=[True, False], nobias=[True, False],
                   x_dtype=[f32], W_dtype=[f32], b_dtype=[f32], contiguous=[True]) + \
    grid(dims=[(4,)], dilate=[1], groups=[1], cover_all=[False], nobias=[True, False],
         x_dtype=DTYPES, W_dtype=DTYPES, b_dtype=DTYPES, contiguous=[True])
# test_deconvolution_nd: N=2, 4 -> 2 channels, kernel 3, stride 2, pad 1
DECONVOLUTION = grid(dims=[(4, 3, 2), (2,)], dilate=[1, 2], groups=[1, 2], nobias=[False],
                     test_outsize=[False], contiguous=[True],
                     x_dtype=[f32], W_dtype=[f32], b_dtype=[f32]) + \
    grid(dims=[(3, 2)], dilate=[1, 2], groups=[1], nobias=[False], test_outsize=[False],
         contiguous=[True], x_dtype=DTYPES, W_dtype=DTYPES, b_dtype=DTYPES) + \
    grid(dims=[(3, 2)], dilate=[1, 2], groups=[1], nobias=[True, False],
         test_outsize=[True, False], contiguous=[True, False],
         x_dtype=[f32], W_dtype=[f32], b_dtype=[f32])
# test_batch_normalization: x (5, *param_shape, 2, ...) or the shapes with axes
BN_SHAPES = [{'shape': (5,) + param_shape + (2,) * ndim, 'axis': None}
             for param_shape, ndim in itertools.product([(3,), (3, 4), (3, 2, 3)], [0, 1, 2])] + [
    {'shape': (5, 4, 3, 2), 'axis': (0, 2, 3)}, {'shape': (5, 4), 'axis': (0,)},
    {'shape': (5, 4, 3), 'axis': (0, 1)}]
BATCH_NORMALIZATION = [dict(shape, **options) for shape, options in itertools.product(
    BN_SHAPES, grid(xdtype=[f32, f64], dtype=[f32, f64], eps=[2e-5, 5e-1],
                    c_contiguous=[True, False], running_statistics=[True, False]))] + \
    grid(shape=[(5, 3, 2)], axis=[None], eps=[2e-5, 5e-1], xdtype=DTYPES, dtype=DTYPES,
         c_contiguous=[True, False], running_statistics=[True, False])
# test_leaky_relu
LEAKY_RELU = grid(shape=[(3, 2), ()], dtype=DTYPES, slope=['random', 0.0])


def noncontiguous(a):
    """The same values in a Fortran-ordered array (Chainer's tests do that)."""
    return numpy.asfortranarray(a) if a.ndim > 1 else a[::-1].copy()[::-1]


def run(fn, inputs, gy_seed):
    """Output and input gradients of ``fn`` on copies of ``inputs``."""
    variables = [chainer.Variable(a.copy(order='K')) for a in inputs]
    y = fn(*variables)
    y.grad = numpy.random.RandomState(gy_seed).uniform(-1, 1, y.shape).astype(y.dtype)
    y.backward()
    return [y.array] + [v.grad for v in variables]


class _Grid(unittest.TestCase):

    def assert_like_chainer(self, ours, theirs, inputs, dtype):
        forward, backward = TOLERANCE[dtype]
        mine, reference = run(ours, inputs, 1), run(theirs, inputs, 1)
        self.assertEqual(mine[0].dtype, reference[0].dtype)
        numpy.testing.assert_allclose(mine[0], reference[0], atol=forward, rtol=forward)
        for a, b in zip(mine[1:], reference[1:]):
            self.assertEqual(a.dtype, b.dtype)
            numpy.testing.assert_allclose(a, b, atol=backward, rtol=backward)


def _connection_inputs(case, rng, w_shape, contiguous=True):
    x = rng.uniform(-1, 1, (2, 4) + case['dims']).astype(case['x_dtype'])
    W = rng.normal(0, 0.3, w_shape).astype(case['W_dtype'])
    inputs = [x, W] + ([] if case['nobias'] else
                       [rng.uniform(-1, 1, 2).astype(case['b_dtype'])])
    return inputs if contiguous else [noncontiguous(a) for a in inputs]


def _one_dtype(case):
    dtypes = {case['x_dtype'], case['W_dtype']} | (set() if case['nobias'] else
                                                   {case['b_dtype']})
    return dtypes.pop() if len(dtypes) == 1 else None


class TestConvolutionND(_Grid):

    def test_grid(self):
        rng = numpy.random.RandomState(0)
        for case in CONVOLUTION:
            ndim = len(case['dims'])
            inputs = _connection_inputs(case, rng, (2, 4 // case['groups']) + (2,) * ndim)
            options = {key: case[key] for key in ('dilate', 'groups', 'cover_all')
                       if case[key] not in (1, False)}
            dtype = _one_dtype(case)
            with self.subTest(**case):
                if options:  # arguments ours do not take
                    with self.assertRaises(TypeError):
                        convolution(*inputs, stride=1, pad=1, **options)
                elif dtype is None:
                    with self.assertRaises(type_check.InvalidType):
                        convolution(*inputs, stride=1, pad=1)
                else:
                    self.assert_like_chainer(
                        lambda *a: convolution(*a, stride=1, pad=1),
                        lambda *a: F.convolution_nd(*a, stride=1, pad=1), inputs, dtype)


class TestDeconvolutionND(_Grid):

    def test_grid(self):
        rng = numpy.random.RandomState(1)
        for case in DECONVOLUTION:
            ndim = len(case['dims'])
            inputs = _connection_inputs(case, rng, (4, 2 // case['groups']) + (3,) * ndim,
                                        case['contiguous'])
            outsize = tuple(2 * (d - 1) + 3 - 2 for d in case['dims']) \
                if case['test_outsize'] else None
            options = {key: case[key] for key in ('dilate', 'groups') if case[key] != 1}
            dtype = _one_dtype(case)
            with self.subTest(**case):
                if options:
                    with self.assertRaises(TypeError):
                        deconvolution(*inputs, stride=2, pad=1, **options)
                elif dtype is None:
                    with self.assertRaises(type_check.InvalidType):
                        deconvolution(*inputs, stride=2, pad=1)
                else:
                    self.assert_like_chainer(
                        lambda *a: deconvolution(*a, stride=2, pad=1, outsize=outsize),
                        lambda *a: F.deconvolution_nd(*a, stride=2, pad=1, outsize=outsize),
                        inputs, dtype)

    def test_outsize_that_does_not_fit_the_input(self):
        """Chainer's type check: x (2, 3, 4), W (3, 2, 2) cannot give 10."""
        x = numpy.random.uniform(-1, 1, (2, 3, 4)).astype(f32)
        W = numpy.random.uniform(-1, 1, (3, 2, 2)).astype(f32)
        for outsize in [(10,), (3,), (4,), (6,)]:  # ours and Chainer's: only 5 fits
            for fn in (deconvolution, F.deconvolution_nd):
                with self.subTest(outsize=outsize, fn=fn.__name__), \
                        self.assertRaises(type_check.InvalidType):
                    fn(x, W, outsize=outsize)
        self.assertEqual(deconvolution(x, W, outsize=(5,)).shape, (2, 2, 5))

    def test_outsizes_around_the_default(self):
        """x of 4 with kernel 3, stride 2: a convolution of 9 or 10 gives 4, so
        both fit (10 has a last row that only the bias reaches), as in Chainer;
        8 fits Chainer only with ``cover_all`` in the backward pass, which ours
        refuse."""
        rng = numpy.random.RandomState(4)
        x = rng.uniform(-1, 1, (2, 3, 4)).astype(f32)
        W = rng.uniform(-1, 1, (3, 2, 3)).astype(f32)
        b = rng.uniform(-1, 1, 2).astype(f32)
        for outsize in [(9,), (10,)]:
            with self.subTest(outsize=outsize):
                self.assert_like_chainer(
                    lambda *a: deconvolution(*a, stride=2, outsize=outsize),
                    lambda *a: F.deconvolution_nd(*a, stride=2, outsize=outsize), [x, W, b], f32)
        self.assertEqual(F.deconvolution_nd(x, W, b, stride=2, outsize=(8,)).shape, (2, 2, 8))
        with self.assertRaises(type_check.InvalidType):
            deconvolution(x, W, b, stride=2, outsize=(8,))

    def test_estimated_outsize_below_one(self):
        x = numpy.random.uniform(-1, 1, (2, 3, 4)).astype(f32)
        W = numpy.random.uniform(-1, 1, (3, 2, 2)).astype(f32)
        for fn in (deconvolution, F.deconvolution_nd):
            with self.assertRaises(AssertionError):
                fn(x, W, stride=1, pad=10)


class TestBatchNormalization(_Grid):

    def test_grid(self):
        rng = numpy.random.RandomState(2)
        for case in BATCH_NORMALIZATION:
            shape, axis = case['shape'], case['axis']
            reduced = tuple(i for i in range(len(shape)) if i != 1) if axis is None else axis
            param_shape = tuple(d for i, d in enumerate(shape) if i not in reduced)
            x = rng.uniform(-1, 1, shape).astype(case['xdtype'])
            gamma = rng.uniform(0.5, 1, param_shape).astype(case['dtype'])
            beta = rng.uniform(-1, 1, param_shape).astype(case['dtype'])
            inputs = [x, gamma, beta]
            if not case['c_contiguous']:
                inputs = [noncontiguous(a) for a in inputs]
            stats = [rng.uniform(-1, 1, param_shape).astype(case['dtype']) for _ in range(2)] \
                if case['running_statistics'] else [None, None]
            ours_supported = (reduced == (0,) + tuple(range(2, len(shape)))
                              and case['xdtype'] == case['dtype'])
            with self.subTest(**case):
                if not ours_supported:  # another axis, a parameter of other shape or dtype
                    with self.assertRaises(type_check.InvalidType):
                        batch_normalization(*inputs, eps=case['eps'])
                    continue
                ours, theirs = ([None if s is None else s.copy() for s in stats]
                                for _ in range(2))

                def bn(fn, running):
                    return lambda *a: fn(*a, eps=case['eps'], running_mean=running[0],
                                         running_var=running[1], decay=0.9)
                self.assert_like_chainer(bn(batch_normalization, ours),
                                         bn(F.batch_normalization, theirs), inputs, case['xdtype'])
                forward = TOLERANCE[case['dtype']][0]
                for a, b in zip(ours, theirs):
                    if a is not None:
                        numpy.testing.assert_allclose(a, b, atol=forward, rtol=forward)


class TestLeakyReLU(_Grid):

    def test_grid(self):
        rng, slopes = numpy.random.RandomState(3), random.Random(3)
        for case in LEAKY_RELU:
            slope = slopes.random() if case['slope'] == 'random' else case['slope']
            x = numpy.asarray(rng.uniform(-1, 1, case['shape'])).astype(case['dtype'])
            with self.subTest(**case):
                self.assert_like_chainer(lambda v: leaky_relu(v, slope),
                                         lambda v: F.leaky_relu(v, slope), [x], case['dtype'])
                if slope == 0:
                    self.assert_like_chainer(relu, F.relu, [x], case['dtype'])


if __name__ == '__main__':
    unittest.main()
