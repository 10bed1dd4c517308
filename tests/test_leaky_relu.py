"""functions.leaky_relu against Chainer's own leaky ReLU."""
import unittest
from unittest import mock

import numpy

from runtime import chainer_compat  # noqa: F401
import chainer
import chainer.functions as F
from chainer import gradient_check

from functions import threads
from functions.leaky_relu import leaky_relu, relu


class TestLeakyReLU(unittest.TestCase):

    def test_matches_chainer(self):
        rng = numpy.random.RandomState(0)
        x = rng.randn(3, 4, 5, 6).astype(numpy.float32)
        gy = rng.randn(*x.shape).astype(numpy.float32)
        cases = [((leaky_relu, slope), (F.leaky_relu, slope)) for slope in (0.0, 0.2, 1.0)]
        cases.append(((relu,), (F.relu,)))
        # 1: every example its own chunk, the chunks split over the threads
        for chunk_bytes in (threads.CHUNK_BYTES, 1):
            for ours_and_theirs in cases:
                results = []
                for fn, *slope in ours_and_theirs:
                    v = chainer.Variable(x.copy())
                    with mock.patch.object(threads, 'CHUNK_BYTES', chunk_bytes):
                        y = fn(v, *slope)
                        y.grad = gy
                        y.backward()
                    results.append((y.array, v.grad))
                with self.subTest(fn=ours_and_theirs[0], chunk_bytes=chunk_bytes):
                    for ours, theirs in zip(*results):
                        numpy.testing.assert_array_equal(ours, theirs)

    def test_gradient_checks(self):
        rng = numpy.random.RandomState(1)
        # away from the kink at 0, where the derivative is undefined
        x = rng.uniform(0.1, 1, (4, 6)) * rng.choice([-1, 1], (4, 6))
        gy, ggx = rng.randn(4, 6), rng.randn(4, 6)
        gradient_check.check_backward(lambda v: leaky_relu(v, 0.2), x, gy, dtype=numpy.float64)
        gradient_check.check_double_backward(lambda v: leaky_relu(v, 0.2), x, gy, ggx,
                                             dtype=numpy.float64)

    def test_slope_outside_unit_interval_is_refused(self):
        with self.assertRaisesRegex(ValueError, 'slope'):
            leaky_relu(numpy.ones(3, numpy.float32), 1.5)


if __name__ == '__main__':
    unittest.main()
