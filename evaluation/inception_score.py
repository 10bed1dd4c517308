"""The Inception Score (Salimans et al. 2016), as TGAN computes it (paper §6.3, docs/design.md §4)."""
from chainer import backend


def inception_score(probs, eps=1e-7):
    """exp(mean_x KL(p(y|x) || p(y))) of class probabilities ``probs`` (N, K).

    p(y) is the mean of the rows. As in the original TGAN evaluation, both
    logarithms take ``p + eps`` (so zero probabilities are harmless);
    computed in float64 on the array module of ``probs``. Returns a float.
    """
    xp = backend.get_array_module(probs)
    p = xp.asarray(probs, dtype=xp.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError('probabilities must be a non-empty (N, classes) array, got shape {}'
                         .format(p.shape))
    marginal = p.mean(axis=0, keepdims=True)
    kl = (p * (xp.log(p + eps) - xp.log(marginal + eps))).sum(axis=1)
    return float(xp.exp(kl.mean()))
