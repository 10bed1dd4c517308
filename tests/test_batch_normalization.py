"""functions.batch_normalization against Chainer's own batch normalisation."""
import itertools
import unittest
from unittest import mock

import numpy

from runtime import chainer_compat  # noqa: F401
import chainer
import chainer.functions as F
from chainer import gradient_check

from functions import threads
from functions.batch_normalization import batch_normalization
from models import links

SHAPES = [(5, 3), (4, 3, 7), (2, 4, 5, 6), (2, 3, 4, 5, 3)]
# 1: every example its own chunk, the chunks split over the threads
CHUNK_BYTES = [threads.CHUNK_BYTES, 1]


def _data(shape, dtype=numpy.float32, seed=0):
    rng = numpy.random.RandomState(seed)
    x = (rng.randn(*shape) * 2 + 0.5).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, shape[1]).astype(dtype)
    beta = rng.randn(shape[1]).astype(dtype)
    return x, gamma, beta


class TestBatchNormalization(unittest.TestCase):

    def test_forward_backward_and_running_stats_match_chainer(self):
        for shape, with_beta, chunk_bytes in itertools.product(
                SHAPES, (True, False), CHUNK_BYTES):
            with mock.patch.object(threads, 'CHUNK_BYTES', chunk_bytes):
                x, gamma, beta = _data(shape)
                gy = numpy.random.RandomState(1).randn(*shape).astype(numpy.float32)
                results = []
                for fn in (batch_normalization, F.batch_normalization):
                    inputs = [chainer.Variable(a.copy()) for a in (x, gamma, beta)]
                    mean, var = numpy.ones(shape[1], numpy.float32), numpy.ones(
                        shape[1], numpy.float32)
                    b = inputs[2] if with_beta else chainer.Variable(
                        numpy.zeros(shape[1], numpy.float32))
                    y = fn(inputs[0], inputs[1], b, eps=2e-5, running_mean=mean,
                           running_var=var, decay=0.7)
                    y.grad = gy
                    y.backward()
                    results.append([y.array, inputs[0].grad, inputs[1].grad,
                                    b.grad, mean, var])
                with self.subTest(shape=shape, with_beta=with_beta,
                                  chunk_bytes=chunk_bytes):
                    for ours, theirs in zip(*results):
                        numpy.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)

    def test_gradient_check(self):
        for shape, chunk_bytes in itertools.product(SHAPES, CHUNK_BYTES):
            x, gamma, beta = _data(shape, numpy.float64, seed=2)
            gy = numpy.random.RandomState(3).randn(*shape)
            with self.subTest(shape=shape, chunk_bytes=chunk_bytes), \
                    mock.patch.object(threads, 'CHUNK_BYTES', chunk_bytes):
                gradient_check.check_backward(
                    lambda *a: batch_normalization(*a), (x, gamma, beta), gy,
                    dtype=numpy.float64, atol=1e-5, rtol=1e-4)
                gradient_check.check_backward(
                    lambda *a: batch_normalization(*a), (x, gamma), gy,
                    dtype=numpy.float64, atol=1e-5, rtol=1e-4)

    def test_double_backward_is_refused(self):
        x = chainer.Variable(_data((4, 3, 5))[0])
        y = batch_normalization(x, chainer.Variable(numpy.ones(3, numpy.float32)))
        gx, = chainer.grad([F.sum(y * y)], [x], enable_double_backprop=True)
        with self.assertRaisesRegex(NotImplementedError, 'double backpropagation'):
            chainer.grad([F.sum(gx)], [x])


class TestLink(unittest.TestCase):

    def test_link_matches_chainer_link_in_train_and_test_mode(self):
        x = _data((4, 3, 5, 6))[0]
        ours, theirs = links.BatchNormalization(3), chainer.links.BatchNormalization(3)
        for _ in range(2):  # running averages over two batches
            numpy.testing.assert_allclose(ours(x).array, theirs(x).array, rtol=1e-4, atol=1e-5)
            x = x * 0.5 + 1
        numpy.testing.assert_allclose(ours.avg_mean, theirs.avg_mean, rtol=1e-5)
        numpy.testing.assert_allclose(ours.avg_var, theirs.avg_var, rtol=1e-5)
        with chainer.using_config('train', False):
            numpy.testing.assert_allclose(ours(x).array, theirs(x).array, rtol=1e-5)

    def test_link_without_beta(self):
        x = _data((4, 3, 5))[0]
        ours = links.BatchNormalization(3, use_beta=False)
        theirs = chainer.links.BatchNormalization(3, use_beta=False)
        numpy.testing.assert_allclose(ours(x).array, theirs(x).array, rtol=1e-4, atol=1e-5)
        self.assertEqual([name for name, _ in ours.namedparams()], ['/gamma'])


if __name__ == '__main__':
    unittest.main()
