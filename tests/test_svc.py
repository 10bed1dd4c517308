"""Singular value clipping, the BN-gamma bound and weight clipping (paper §4.2)."""
import unittest

import numpy

import updaters  # noqa: F401  (compat before chainer)
import chainer.links as L
from models import Critic
from updaters import NoConstraint, SingularValueClipping, WeightClipping
from updaters.svc import clip_bn_gamma, clip_singular_values, singular_value_clipping


def svd_reference(w):
    """The original's method, in float64: U min(S, 1) V^T."""
    u, s, vt = numpy.linalg.svd(w.astype(numpy.float64), full_matrices=False)
    return (u * numpy.minimum(s, 1)) @ vt


def spectral_norm(w):
    return numpy.linalg.norm(w.reshape(w.shape[0], -1).astype(numpy.float64), 2)


class TestClipSingularValues(unittest.TestCase):

    def test_matches_svd_reference(self):
        rng = numpy.random.RandomState(0)
        for shape in [(64, 192), (128, 1024), (1, 512), (300, 20), (40, 40)]:
            w = (rng.randn(*shape) * 0.3).astype(numpy.float32)
            clipped = clip_singular_values(w)
            self.assertEqual(clipped.dtype, numpy.float32)
            self.assertEqual(clipped.shape, shape)
            numpy.testing.assert_allclose(clipped, svd_reference(w), rtol=0, atol=2e-6,
                                          err_msg=str(shape))
            self.assertLessEqual(spectral_norm(clipped), 1 + 1e-5)

    def test_keeps_singular_values_below_one(self):
        rng = numpy.random.RandomState(1)
        u, _ = numpy.linalg.qr(rng.randn(32, 32))
        v, _ = numpy.linalg.qr(rng.randn(64, 32))
        s = numpy.linspace(0.2, 3.0, 32)
        w = ((u * s) @ v.T).astype(numpy.float32)
        s_after = numpy.linalg.svd(clip_singular_values(w).astype(numpy.float64),
                                   compute_uv=False)
        numpy.testing.assert_allclose(numpy.sort(s_after), numpy.minimum(s, 1), atol=1e-5)

    def test_untouched_when_already_contractive(self):
        w = (numpy.random.RandomState(2).randn(16, 48) * 0.01).astype(numpy.float32)
        self.assertLess(spectral_norm(w), 1)
        self.assertIs(clip_singular_values(w), w)

    def test_non_finite_weight_left_for_the_divergence_check(self):
        """numpy's eigh raises on NaN: a diverged weight comes back as it is."""
        for bad in (numpy.nan, numpy.inf):
            w = (numpy.random.RandomState(3).randn(16, 48) * 3).astype(numpy.float32)
            w[2, 5] = bad
            self.assertIs(clip_singular_values(w), w)


class TestBatchNormBound(unittest.TestCase):

    def test_gamma_clipped_into_bounds(self):
        bn = L.BatchNormalization(4)
        bn.avg_var[...] = [4.0, 4.0, 4.0, 0.01]
        bn.gamma.array[...] = [5.0, 1.0, 0.001, 0.5]
        clip_bn_gamma(bn)
        numpy.testing.assert_allclose(bn.gamma.array, [2.0, 1.0, 0.02, 0.1], rtol=1e-6)

    def test_paper_bound_includes_eps(self):
        bn = L.BatchNormalization(1, eps=0.5)
        bn.avg_var[...] = 0.5
        bn.gamma.array[...] = 10.0
        clip_bn_gamma(bn, include_eps=True)
        self.assertAlmostEqual(float(bn.gamma.array[0]), 1.0, places=6)


class TestOnCritic(unittest.TestCase):

    def setUp(self):
        numpy.random.seed(0)
        self.critic = Critic(1, 16, 16, ch=8)
        for param in self.critic.params():  # make every weight expansive
            param.array[...] *= 50
        for bn in (self.critic.bn1, self.critic.bn2):
            bn.avg_var[...] = 0.25

    def test_svc_on_every_weight_and_bn(self):
        biases = {name: p.array.copy() for name, p in self.critic.namedparams()
                  if name.endswith('/b')}
        singular_value_clipping(self.critic)
        for name, param in self.critic.namedparams():
            if param.ndim >= 2:
                self.assertLessEqual(spectral_norm(param.array), 1 + 1e-5, name)
        for name, bias in biases.items():
            numpy.testing.assert_array_equal(self.critic[name.split('/')[1]].b.array, bias)
        for bn in (self.critic.bn1, self.critic.bn2):
            self.assertLessEqual(float(bn.gamma.array.max()), 0.5 + 1e-6)

    def test_svc_schedule(self):
        svc = SingularValueClipping(every=5)
        self.assertEqual([i for i in range(1, 16) if svc.applies(i)], [5, 10, 15])

    def test_weight_clipping(self):
        clip = WeightClipping(0.01)
        self.assertTrue(all(clip.applies(i) for i in range(1, 4)))
        clip(self.critic)
        for name, param in self.critic.namedparams():
            self.assertLessEqual(float(abs(param.array).max()), 0.01, name)
        self.assertAlmostEqual(float(abs(self.critic.c1.W.array).max()), 0.01, places=7)

    def test_no_constraint(self):
        before = self.critic.c1.W.array.copy()
        none = NoConstraint()
        self.assertFalse(any(none.applies(i) for i in range(1, 10)))
        none(self.critic)
        numpy.testing.assert_array_equal(self.critic.c1.W.array, before)


if __name__ == '__main__':
    unittest.main()
