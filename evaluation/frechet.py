"""The Fréchet distance between Gaussians fitted to classifier features
(Heusel et al. 2017, as TGANv2 applies it to C3D's fc7), and the cached
statistics of real videos it compares against."""
import hashlib
import json
import os
import sys

import numpy

from runtime.errors import UsageError
from runtime.atomic import atomic_path
from runtime.npz import read_arrays


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


def checksum(mu, sigma, text):
    """SHA-256 of the statistics and their key: what the cache file proves itself with."""
    digest = hashlib.sha256(text.encode())
    for array in (mu, sigma):
        a = numpy.ascontiguousarray(array, numpy.float64)
        digest.update(repr(a.shape).encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _read_cache(path, text):
    """(mu, sigma) from a cache file holding the statistics of ``text``, else
    None with the reason when the file is there but cannot be trusted."""
    try:
        f = read_arrays(path, {'key': ((), 'U'), 'mu': ((None,), 'f'),
                               'sigma': ((None, None), 'f'), 'checksum': ((), 'U')})
        if str(f['key']) != text:
            return None, None  # another description's statistics: recomputed silently
        mu, sigma, recorded = f['mu'], f['sigma'], str(f['checksum'])
    except Exception as e:  # truncated, not an npz, a member missing
        first = (str(e).splitlines() or [''])[0][:80]
        return None, 'cannot be read ({}: {})'.format(type(e).__name__, first)
    if (mu.ndim != 1 or sigma.shape != (len(mu), len(mu))
            or checksum(mu, sigma, text) != recorded):
        return None, 'does not match its checksum'
    return (mu, sigma), None


def cached_statistics(path, key, compute):
    """(mu, sigma) from ``path`` if it holds the statistics of ``key`` and
    they match the checksum stored beside them, else ``compute()`` saved
    there atomically first (a file that cannot be read or does not match
    gets a one-line note on stderr). Returns (mu, sigma, cached)."""
    text = json.dumps(key, sort_keys=True)
    if os.path.isfile(path):
        found, reason = _read_cache(path, text)
        if found is not None:
            return found[0], found[1], True
        if reason:
            print('note: the statistics cache {} {}; computing the statistics again'.format(
                path, reason), file=sys.stderr)
    mu, sigma = compute()
    mu, sigma = numpy.asarray(mu, numpy.float64), numpy.asarray(sigma, numpy.float64)
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as f:
            numpy.savez(f, mu=mu, sigma=sigma, key=numpy.array(text),
                        checksum=numpy.array(checksum(mu, sigma, text)))
    return mu, sigma, False
