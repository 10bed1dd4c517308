"""The Inception Score (docs/design.md §4): exp(mean KL(p(y|x) || p(y))), eps per protocol."""
import math
import unittest

import numpy

import evaluation  # noqa: F401  (compat before chainer)
from evaluation.metrics.inception_score import inception_score


def reference(probs, eps=1e-7):
    """The original's formula, element by element in Python floats."""
    n, k = len(probs), len(probs[0])
    marginal = [sum(float(p[j]) for p in probs) / n for j in range(k)]
    kl = sum(float(p[j]) * (math.log(float(p[j]) + eps) - math.log(marginal[j] + eps))
             for p in probs for j in range(k)) / n
    return math.exp(kl)


class TestInceptionScore(unittest.TestCase):

    def test_uniform_predictions_score_one(self):
        self.assertAlmostEqual(inception_score(numpy.full((50, 101), 1 / 101)), 1.0, places=12)

    def test_one_hot_spread_evenly_scores_the_number_of_classes(self):
        for k in (2, 10, 101):
            probs = numpy.eye(k)[numpy.arange(5 * k) % k]
            self.assertAlmostEqual(inception_score(probs) / k, 1.0, delta=1e-4)

    def test_one_class_only_scores_one(self):
        self.assertAlmostEqual(inception_score(numpy.eye(7)[[3] * 20]), 1.0, places=9)

    def test_matches_float64_reference_on_random_softmax(self):
        rng = numpy.random.RandomState(0)
        logits = rng.normal(0, 3, (40, 13))
        probs = numpy.exp(logits) / numpy.exp(logits).sum(axis=1, keepdims=True)
        expected = reference(probs)
        self.assertAlmostEqual(inception_score(probs), expected, places=10)
        # float32 input (the classifier's output) is promoted, not summed in float32
        self.assertAlmostEqual(inception_score(probs.astype(numpy.float32)), expected, places=5)
        self.assertGreater(expected, 1.0)

    def test_zero_probabilities_are_finite(self):
        probs = numpy.zeros((4, 5))
        probs[:, 0] = 1
        probs[1] = [0, 0.5, 0.5, 0, 0]
        score = inception_score(probs)
        self.assertTrue(math.isfinite(score))
        self.assertAlmostEqual(score, reference(probs), places=10)

    def test_eps_is_the_protocols(self):
        # probabilities near eps: 1e-7 (the original) and 1e-20 (TGANv2) differ
        probs = numpy.full((6, 4), 1e-8)
        probs[numpy.arange(6), numpy.arange(6) % 4] = 1 - 3e-8
        for eps in (1e-7, 1e-20):
            self.assertAlmostEqual(inception_score(probs, eps), reference(probs, eps), places=10)
        self.assertGreater(abs(inception_score(probs, 1e-7) - inception_score(probs, 1e-20)), 1e-7)

    def test_rejects_non_matrix(self):
        with self.assertRaises(ValueError):
            inception_score(numpy.ones(5))
        with self.assertRaises(ValueError):
            inception_score(numpy.ones((0, 5)))


if __name__ == '__main__':
    unittest.main()
