"""Scoring runs: videos -> protocol preprocessing -> classifier -> Inception
Score (and Fréchet distance) per run -> mean +- population std (docs/design.md §4)."""
import chainer
import numpy
from chainer import backend

from evaluation.frechet import frechet_distance, gaussian
from evaluation.inception_score import inception_score


def classify(batches, classifier, preprocess, mean, layer=None):
    """Class probabilities (N, K) and, if ``layer`` is given, that layer's
    features (N, D), both float64 on the host, of every video in ``batches``."""
    classifier.layer_names = ('prob', layer) if layer else ('prob',)
    probs, features = [], []
    for videos in batches:
        x = preprocess(videos, mean)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            out = classifier(x)
        probs.append(backend.CpuDevice().send(out[0].array).astype(numpy.float64))
        if layer:
            f = backend.CpuDevice().send(out[1].array)
            features.append(f.reshape(len(f), -1).astype(numpy.float64))
    return numpy.concatenate(probs), numpy.concatenate(features) if layer else None


def _seed_classifier_noise(seed, xp):
    """The global random streams that dropout reads (only used with the
    original's dropout quirk), seeded per run for repeatable scores."""
    numpy.random.seed(seed)
    if xp is not numpy:
        xp.random.seed(seed)


def run_all(make_batches, classifier, protocol, mean, seeds, layer=None, real=None):
    """One run per seed: ``make_batches(seed)`` yields the videos. Returns
    {'runs': [{'seed', 'inception_score'[, 'frechet_distance']}...],
    'inception_score': {'mean', 'std'}[, 'frechet_distance': {...}]}; std is
    the population std (numpy.std), as the paper reports. ``real``: (mu,
    sigma) of the real features for the Fréchet distance on ``layer``."""
    runs = []
    for seed in seeds:
        _seed_classifier_noise(seed, classifier.xp)
        probs, features = classify(make_batches(seed), classifier, protocol.preprocess, mean,
                                   layer if real is not None else None)
        run = {'seed': seed, 'inception_score': inception_score(probs)}
        if real is not None:
            run['frechet_distance'] = frechet_distance(*gaussian(features), *real)
        runs.append(run)
    result = {'runs': runs}
    for key in ('inception_score', 'frechet_distance'):
        if key in runs[0]:
            values = numpy.array([r[key] for r in runs])
            result[key] = {'mean': float(values.mean()), 'std': float(values.std())}
    return result
