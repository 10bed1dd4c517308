"""Fréchet distance between Gaussians and the cache of real statistics."""
import contextlib
import io
import os
import shutil
import tempfile
import unittest
import zipfile

import numpy

import evaluation  # noqa: F401  (compat before chainer)
from runtime.errors import UsageError
from evaluation.frechet import cached_statistics, frechet_distance, gaussian, statistics_path


def random_covariance(rng, d):
    a = rng.normal(size=(d, d + 3))
    return a @ a.T / d


def reference_distance(mu1, s1, mu2, s2):
    """Tr (S1 S2)^(1/2) from the eigenvalues of the (non-symmetric) product S1 S2,
    which are real and non-negative: an independent route to the same value."""
    eig = numpy.linalg.eigvals(s1 @ s2)
    return ((mu1 - mu2) ** 2).sum() + numpy.trace(s1 + s2) - 2 * numpy.sqrt(eig.real.clip(0)).sum()


class TestFrechetDistance(unittest.TestCase):

    def test_a_set_with_itself_is_zero(self):
        features = numpy.random.RandomState(0).normal(size=(200, 16))
        mu, sigma = gaussian(features)
        self.assertAlmostEqual(frechet_distance(mu, sigma, mu, sigma), 0.0, delta=1e-8)

    def test_one_dimension(self):
        # (m1 - m2)^2 + (s1 - s2)^2 for N(m1, s1^2), N(m2, s2^2)
        d = frechet_distance([1.0], [[4.0]], [3.0], [[9.0]])
        self.assertAlmostEqual(d, 2.0 ** 2 + (2.0 - 3.0) ** 2, places=10)

    def test_diagonal_covariances(self):
        rng = numpy.random.RandomState(1)
        mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
        v1, v2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
        expected = ((mu1 - mu2) ** 2).sum() + ((numpy.sqrt(v1) - numpy.sqrt(v2)) ** 2).sum()
        self.assertAlmostEqual(frechet_distance(mu1, numpy.diag(v1), mu2, numpy.diag(v2)),
                               expected, places=10)

    def test_covariances_with_common_eigenvectors(self):
        # S1 = Q diag(a) Q^T, S2 = Q diag(b) Q^T (Q a random rotation): the distance
        # is ||mu1 - mu2||^2 + sum (sqrt(a) - sqrt(b))^2 in closed form
        rng = numpy.random.RandomState(6)
        q, _ = numpy.linalg.qr(rng.normal(size=(12, 12)))
        a, b = rng.uniform(0.01, 5, 12), rng.uniform(0.01, 5, 12)
        mu1, mu2 = rng.normal(size=12), rng.normal(size=12)
        expected = ((mu1 - mu2) ** 2).sum() + ((numpy.sqrt(a) - numpy.sqrt(b)) ** 2).sum()
        d = frechet_distance(mu1, q @ numpy.diag(a) @ q.T, mu2, q @ numpy.diag(b) @ q.T)
        self.assertAlmostEqual(d, expected, places=9)
        self.assertAlmostEqual(frechet_distance(mu2, q @ numpy.diag(b) @ q.T,
                                                mu1, q @ numpy.diag(a) @ q.T), d, places=9)

    def test_matches_reference_on_general_gaussians(self):
        rng = numpy.random.RandomState(2)
        for d in (3, 20, 64):
            mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
            s1, s2 = random_covariance(rng, d), random_covariance(rng, d)
            self.assertAlmostEqual(frechet_distance(mu1, s1, mu2, s2),
                                   reference_distance(mu1, s1, mu2, s2), places=6)

    def test_rank_deficient_covariance(self):
        # fewer samples than features (as with fc7's 4096 on small sets): stays finite, >= 0
        rng = numpy.random.RandomState(3)
        a, b = gaussian(rng.normal(size=(10, 30))), gaussian(rng.normal(1, 1, size=(10, 30)))
        d = frechet_distance(*a, *b)
        self.assertTrue(numpy.isfinite(d))
        self.assertGreater(d, 0)

    def test_samples_of_one_distribution_are_closer_than_of_two(self):
        rng = numpy.random.RandomState(4)
        a = gaussian(rng.normal(size=(2000, 8)))
        b = gaussian(rng.normal(size=(2000, 8)))
        c = gaussian(rng.normal(0.5, 1.0, size=(2000, 8)))
        self.assertLess(frechet_distance(*a, *b), 0.1)
        self.assertAlmostEqual(frechet_distance(*a, *c), 8 * 0.25, delta=0.3)

    def test_gaussian_is_numpys_mean_and_unbiased_covariance(self):
        f = numpy.random.RandomState(5).normal(size=(50, 4)).astype(numpy.float32)
        mu, sigma = gaussian(f)
        numpy.testing.assert_allclose(mu, f.astype(numpy.float64).mean(axis=0))
        numpy.testing.assert_allclose(sigma, numpy.cov(f.astype(numpy.float64).T))
        with self.assertRaisesRegex(UsageError, 'at least 2'):
            gaussian(f[:1])


class TestStatisticsCache(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.key = {'dataset': 'synthetic', 'subset': None, 'protocol': 'offline',
                    'layer': 'fc4', 'classifier': ['abc']}
        self.calls = 0

    def tearDown(self):
        shutil.rmtree(self.dir)

    def compute(self):
        self.calls += 1
        return numpy.arange(3.0), numpy.eye(3) * self.calls

    def test_computed_once_then_read(self):
        path = statistics_path(self.dir, self.key)
        self.assertTrue(os.path.basename(path).startswith('synthetic_all_offline_fc4_'))
        mu, sigma, cached = cached_statistics(path, self.key, self.compute)
        self.assertFalse(cached)
        mu2, sigma2, cached2 = cached_statistics(path, self.key, self.compute)
        self.assertTrue(cached2)
        self.assertEqual(self.calls, 1)
        numpy.testing.assert_array_equal(sigma2, numpy.eye(3))
        self.assertEqual(os.listdir(self.dir), [os.path.basename(path)])  # no temporary left

    def test_key_decides(self):
        other = dict(self.key, layer='conv3')
        self.assertNotEqual(statistics_path(self.dir, self.key), statistics_path(self.dir, other))
        self.assertNotEqual(statistics_path(self.dir, self.key),
                            statistics_path(self.dir, dict(self.key, classifier=['def'])))
        # a file at the path with another key's statistics is recomputed, not trusted
        path = statistics_path(self.dir, self.key)
        cached_statistics(path, other, self.compute)
        _, sigma, cached = cached_statistics(path, self.key, self.compute)
        self.assertFalse(cached)
        self.assertEqual(self.calls, 2)
        numpy.testing.assert_array_equal(sigma, numpy.eye(3) * 2)

    def cached(self, path):
        """cached_statistics with its stderr: (mu, sigma, cached, note)."""
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            mu, sigma, cached = cached_statistics(path, self.key, self.compute)
        return mu, sigma, cached, err.getvalue()

    def test_edited_statistics_are_recomputed_with_a_note(self):
        path = statistics_path(self.dir, self.key)
        self.cached(path)
        with numpy.load(path) as f:
            arrays = {k: f[k] for k in f.files}
        self.assertEqual(len(str(arrays['checksum'])), 64)
        arrays['mu'] = arrays['mu'] + 100  # someone edits mu (the key still matches)
        with open(path, 'wb') as f:
            numpy.savez(f, **arrays)
        mu, sigma, cached, note = self.cached(path)
        self.assertFalse(cached)
        self.assertEqual(self.calls, 2)
        numpy.testing.assert_array_equal(mu, numpy.arange(3.0))
        self.assertEqual(note.count('\n'), 1)
        self.assertIn('does not match its checksum; computing the statistics again', note)
        _, _, cached, note = self.cached(path)  # the rewritten file is trusted again
        self.assertTrue(cached)
        self.assertEqual(note, '')

    def test_unreadable_cache_is_recomputed_with_a_note(self):
        path = statistics_path(self.dir, self.key)
        self.cached(path)
        with open(path, 'rb') as f:
            data = f.read()
        for broken in (data[:len(data) // 2], b'', b'<html>not found</html>'):
            with open(path, 'wb') as f:
                f.write(broken)
            calls = self.calls
            mu, sigma, cached, note = self.cached(path)
            self.assertFalse(cached)
            self.assertEqual(self.calls, calls + 1)
            self.assertEqual(note.count("\n"), 1)
            self.assertIn('cannot be read', note)
            self.assertTrue(zipfile.is_zipfile(path))

    def test_cache_without_checksum_is_recomputed(self):
        # a file of the former layout (key, mu, sigma and no checksum)
        path = statistics_path(self.dir, self.key)
        import json
        with open(path, 'wb') as f:
            numpy.savez(f, mu=numpy.zeros(3), sigma=numpy.eye(3),
                        key=numpy.array(json.dumps(self.key, sort_keys=True)))
        _, _, cached, note = self.cached(path)
        self.assertFalse(cached)
        self.assertIn('cannot be read', note)


if __name__ == '__main__':
    unittest.main()
