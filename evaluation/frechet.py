"""The Fréchet distance between Gaussians fitted to classifier features
(Heusel et al. 2017, as TGANv2 applies it to C3D's fc7), and the cached
statistics of real videos it compares against."""
import hashlib
import json
import os

import numpy

from runtime.errors import UsageError
from runtime.atomic import atomic_path


def gaussian(features):
    """Mean and covariance (unbiased, as numpy.cov) of (N, D) features, float64."""
    f = numpy.asarray(features, numpy.float64).reshape(len(features), -1)
    if len(f) < 2:
        raise UsageError('the Fréchet distance needs at least 2 videos, got {}'.format(len(f)))
    return f.mean(axis=0), numpy.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def _sqrt_psd(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    values, vectors = numpy.linalg.eigh(matrix)
    return (vectors * numpy.sqrt(numpy.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) in float64.

    Tr((S1 S2)^(1/2)) = Tr((sqrt(S1) S2 sqrt(S1))^(1/2)): the matrix under the
    root is symmetric PSD, so its root's trace is the sum of the square roots
    of its eigenvalues (eigh; tiny negative round-off clipped to 0).
    """
    mu1, mu2 = numpy.asarray(mu1, numpy.float64), numpy.asarray(mu2, numpy.float64)
    s1, s2 = numpy.asarray(sigma1, numpy.float64), numpy.asarray(sigma2, numpy.float64)
    root1 = _sqrt_psd(s1)
    middle = root1 @ s2 @ root1
    eigenvalues = numpy.linalg.eigvalsh((middle + middle.T) / 2)
    trace_root = numpy.sqrt(numpy.clip(eigenvalues, 0, None)).sum()
    distance = ((mu1 - mu2) ** 2).sum() + numpy.trace(s1) + numpy.trace(s2) - 2 * trace_root
    return max(float(distance), 0.0)  # a set against itself: round-off may dip below 0


def statistics_path(directory, key):
    """The cache file of the real statistics described by ``key`` (a dict:
    dataset, subset, layer, protocol, classifier, ...): readable prefix +
    a hash of the whole description."""
    text = json.dumps(key, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    name = '{}_{}_{}_{}_{}.npz'.format(key['dataset'], key['subset'] or 'all',
                                        key['protocol'], key['layer'], digest)
    return os.path.join(directory, name)


def cached_statistics(path, key, compute):
    """(mu, sigma) from ``path`` if it holds the statistics of ``key``, else
    ``compute()`` saved there atomically first. Returns (mu, sigma, cached)."""
    text = json.dumps(key, sort_keys=True)
    if os.path.isfile(path):
        with numpy.load(path) as f:
            if str(f['key']) == text:
                return f['mu'], f['sigma'], True
    mu, sigma = compute()
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as f:
            numpy.savez(f, mu=mu, sigma=sigma, key=numpy.array(text))
    return mu, sigma, False
