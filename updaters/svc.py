"""Singular value clipping (paper §4.2), exact and on the device of the weights."""
import chainer.links as L
import chainermn.links
from chainer import backend

# Chainer's BN and ChainerMN's multi-node BN (not a subclass of it).
BATCH_NORMALIZATIONS = (L.BatchNormalization, chainermn.links.MultiNodeBatchNormalization)


def clip_singular_values(w):
    """Project a matrix onto {spectral norm <= 1}: singular values > 1 become 1.

    Exact, through the eigen-decomposition of the smaller Gram matrix in
    float64 (docs/design.md §2): with W W^T = U diag(s^2) U^T,
    W' = W - U_k diag(1 - 1/s_k) U_k^T W over the directions with s_k > 1,
    which equals U min(S, 1) V^T of the SVD. Returns ``w`` itself (untouched)
    when no singular value exceeds 1, and when ``w`` holds NaN or infinite
    values (a diverged run, which train.py's divergence check then stops).
    Works on numpy and cupy arrays alike.
    """
    xp = backend.get_array_module(w)
    tall = w.shape[0] > w.shape[1]
    a = (w.T if tall else w).astype(xp.float64)
    gram = a @ a.T
    if not bool(xp.isfinite(gram).all()):
        return w
    eigenvalues, u = xp.linalg.eigh(gram)
    large = eigenvalues > 1
    if not bool(large.any()):
        return w
    u = u[:, large]
    shrink = 1 - 1 / xp.sqrt(eigenvalues[large])
    a = a - (u * shrink) @ (u.T @ a)
    return (a.T if tall else a).astype(w.dtype)


def clip_bn_gamma(bn, include_eps=False):
    """Clip a BN layer's gamma into [0.01 sigma, sigma], sigma = sqrt(running var)
    (the original code); ``include_eps`` uses sqrt(var + eps) as the paper writes."""
    xp = backend.get_array_module(bn.gamma.array)
    var = bn.avg_var + bn.eps if include_eps else bn.avg_var
    std = xp.sqrt(var).astype(bn.gamma.dtype)
    bn.gamma.array[...] = xp.minimum(xp.maximum(bn.gamma.array, 0.01 * std), std)


def singular_value_clipping(critic, include_eps=False):
    """Apply SVC to every critic weight with ndim >= 2 (reshaped to (out, -1))
    and the BN-gamma constraint to every BN layer of the critic."""
    for param in critic.params():
        if param.array is not None and param.ndim >= 2:
            w = param.array
            param.array[...] = clip_singular_values(w.reshape(w.shape[0], -1)).reshape(w.shape)
    for link in critic.links():
        if isinstance(link, BATCH_NORMALIZATIONS):
            clip_bn_gamma(link, include_eps)
