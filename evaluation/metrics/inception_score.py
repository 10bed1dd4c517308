"""The Inception Score (Salimans et al. 2016) as TGAN computes it (paper
§6.3, docs/design.md §4): C3D's (or the offline classifier's) class
probabilities of generated videos, exp(mean_x KL(p(y|x) || p(y))), mean +-
population std over runs of fresh samples. Its protocols (docs/evaluation.md
"Protocols"):

``tgan`` (the default with C3D): the paper's, the original
``calc_inception.py`` as it ran: 9,984 samples in batches of 48, x*128+128
(no clipping), every frame resized 64->128x128 with OpenCV's bicubic filter,
RGB->BGR, minus the C3D mean (``mean2.npz``, columns 21:149), centre crop
112x112, C3D with its fc6/fc7 dropout ON (the script's ``using_config('train',
False) and no_backprop_mode()`` entered only the second context), eps 1e-7;
4 runs, seeds 0-3. ``tgan-nodropout``: the same with C3D as meant (dropout off).
``tgan2``: TGANv2's ``compute_inception_score.py``: clip to [-1, 1], bilinear
resize straight to 112x112, RGB->BGR, minus the mean's rows and columns
8:120, dropout off, eps 1e-20; 2,048 samples x 10 runs. ``offline``: the
project's synthetic-set classifier: clip to [-1, 1], nothing else, eps 1e-7.
"""
import collections
import os

import chainer
import chainer.functions as F
import cv2
import numpy
from chainer import backend

import datasets
from runtime.errors import UsageError
from runtime.npz import NpzError, read_arrays
from evaluation.frechet import frechet_distance, gaussian
from evaluation.offline import load_classifier
from evaluation.record import sha256
from evaluation.table import format_table
from models.c3d import C3D

MEAN_SHAPE = (3, 16, 128, 171)
MEAN_HELP = ('download mean2.npz from the release assets of pfnet-research/tgan2 '
             '(README "Evaluation")')
CROP = 112


def load_mean(path):
    """C3D's BGR mean clip (3, 16, 128, 171), float32, from ``mean2.npz``."""
    if not os.path.isfile(path):
        raise UsageError('{} not found: {}'.format(path, MEAN_HELP))
    try:
        mean = read_arrays(path, {'mean': (MEAN_SHAPE, numpy.float32)})['mean']
    except NpzError as e:
        raise UsageError('{} (C3D\'s BGR mean clip): {}'.format(e, MEAN_HELP))
    return mean.astype(numpy.float32)


def _check_c3d_input(videos):
    _, c, t, _, _ = videos.shape
    if (c, t) != MEAN_SHAPE[:2]:
        raise UsageError('C3D scores RGB videos of {} frames, these are {} channel(s) x {} '
                         'frames: use --classifier for other videos'.format(MEAN_SHAPE[1], c, t))


def tgan_preprocess(videos, mean):
    """(N, 3, 16, H, W) RGB in [-1, 1] -> (N, 3, 16, 112, 112) BGR, mean subtracted.

    OpenCV runs on the host; the result goes back to the videos' device.
    """
    _check_c3d_input(videos)
    device = backend.get_device_from_array(videos)
    x = chainer.backends.cuda.to_cpu(videos) * 128 + 128
    n, c, t, h, w = x.shape
    frames = x.transpose(0, 2, 3, 4, 1).reshape(n * t, h, w, c)
    size = MEAN_SHAPE[2]
    resized = numpy.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_CUBIC)
                           for f in frames])
    x = resized.reshape(n, t, size, size, c).transpose(0, 4, 1, 2, 3)[:, ::-1]
    left = (MEAN_SHAPE[3] - size) // 2                          # columns 21:149
    x = x - mean[:, :, :, left:left + size]
    top = (size - CROP) // 2                                    # 8:120
    x = x[:, :, :, top:top + CROP, top:top + CROP]
    return device.send(numpy.ascontiguousarray(x, numpy.float32))


def tgan2_preprocess(videos, mean):
    """TGANv2's: clip, bilinear (Chainer's resize_images) to 112x112 on the
    videos' device, x*128+128, RGB->BGR, minus the mean's rows and columns 8:120."""
    _check_c3d_input(videos)
    xp = backend.get_array_module(videos)
    x = xp.clip(videos, -1, 1) * 128 + 128
    n, c, t, h, w = x.shape
    frames = x.transpose(0, 2, 1, 3, 4).reshape(n * t, c, h, w)
    frames = F.resize_images(frames, (CROP, CROP)).array
    x = frames.reshape(n, t, c, CROP, CROP).transpose(0, 2, 1, 3, 4)[:, ::-1]
    x = x - xp.asarray(mean[:, :, 8:8 + CROP, 8:8 + CROP])      # as TGANv2 (not centred)
    return xp.ascontiguousarray(x, dtype=xp.float32)


def offline_preprocess(videos, mean=None):
    """The synthetic-set classifier reads the videos as generated, clipped."""
    xp = backend.get_array_module(videos)
    return xp.clip(videos, -1, 1).astype(xp.float32)


Protocol = collections.namedtuple(
    'Protocol', 'name n_samples runs batchsize preprocess uses_c3d dropout eps')

PROTOCOLS = {
    'tgan': Protocol('tgan', 9984, 4, 48, tgan_preprocess, True, True, 1e-7),
    'tgan-nodropout': Protocol('tgan-nodropout', 9984, 4, 48, tgan_preprocess, True, False, 1e-7),
    'tgan2': Protocol('tgan2', 2048, 10, 48, tgan2_preprocess, True, False, 1e-20),
    'offline': Protocol('offline', 2048, 4, 64, offline_preprocess, False, False, 1e-7),
}


def inception_score(probs, eps=1e-7):
    """exp(mean_x KL(p(y|x) || p(y))) of class probabilities ``probs`` (N, K).

    p(y) is the mean of the rows. As in the original TGAN evaluation, both
    logarithms take ``p + eps`` (so zero probabilities are harmless; TGANv2
    also weights by p + eps, a difference below float64's resolution at its
    1e-20); computed in float64 on the array module of ``probs``. Returns a float.
    """
    xp = backend.get_array_module(probs)
    p = xp.asarray(probs, dtype=xp.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError('probabilities must be a non-empty (N, classes) array, got shape {}'
                         .format(p.shape))
    marginal = p.mean(axis=0, keepdims=True)
    kl = (p * (xp.log(p + eps) - xp.log(marginal + eps))).sum(axis=1)
    return float(xp.exp(kl.mean()))


def classify(batches, classifier, preprocess, mean, layer=None):
    """Class probabilities (N, K) and, if ``layer`` is given, that layer's
    features (N, D), both float64 on the host, of every video in ``batches``
    (float in [-1, 1] or the datasets' uint8, (B, C, T, H, W))."""
    classifier.layer_names = ('prob', layer) if layer else ('prob',)
    probs, features = [], []
    for videos in batches:
        x = preprocess(datasets.to_float(videos), mean)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            out = classifier(x)
        probs.append(backend.CpuDevice().send(out[0].array).astype(numpy.float64))
        if layer:
            f = backend.CpuDevice().send(out[1].array)
            features.append(f.reshape(len(f), -1).astype(numpy.float64))
    return numpy.concatenate(probs), numpy.concatenate(features) if layer else None


class InceptionScore:
    """The metric ``is`` of evaluate.py (the contract: evaluation/metrics/__init__.py):
    C3D from --c3d/--mean, or the offline classifier from --classifier; with
    --frechet LAYER also the Fréchet distance on that layer's features."""

    name = 'is'
    PROTOCOLS = PROTOCOLS

    def __init__(self, args, protocol, device):
        if args.classifier and (args.c3d or args.mean):
            raise UsageError('give either --classifier or --c3d and --mean, not both')
        if not args.classifier and not (args.c3d and args.mean):
            raise UsageError('C3D needs both --c3d conv3d_deepnetA_ucf.npz and --mean '
                             'mean2.npz (README "Evaluation"), or use --classifier for the '
                             'offline classifier')
        protocol = protocol or PROTOCOLS['offline' if args.classifier else 'tgan']
        if protocol.uses_c3d == bool(args.classifier):
            raise UsageError('the {} protocol is for {}: use {}'.format(
                protocol.name, 'C3D' if protocol.uses_c3d else 'the offline classifier',
                '--protocol offline with --classifier' if args.classifier else
                '--protocol tgan, tgan-nodropout or tgan2 with --c3d/--mean'))
        self.protocol = protocol
        self.dropout = protocol.uses_c3d and (protocol.dropout or args.c3d_dropout)
        if args.classifier:
            self.classifier, self.meta = load_classifier(args.classifier)
            self.mean, files = None, [args.classifier]
        else:
            self.mean = load_mean(args.mean)
            self.classifier = C3D(pretrained_model=args.c3d, dropout=self.dropout)
            self.meta, files = None, [args.c3d, args.mean]
        layer = getattr(args, 'frechet', None)
        if layer and layer not in self.classifier.available_layers:
            raise UsageError('--frechet {}: not a layer of the classifier; choose from {}'.format(
                layer, ', '.join(self.classifier.available_layers)))
        self.real_layer = layer
        self.classifier.to_device(device)
        self.files = {f: sha256(f) for f in files}

    def check_fits(self, description):
        """The offline classifier must have been trained on videos of this geometry."""
        if self.meta is None:
            return
        trained = self.meta['dataset']
        for key in ('frames', 'size', 'channels'):
            if trained[key] != description[key]:
                raise UsageError('the classifier was trained on videos with {} {}, these have '
                                 '{}: train one on this config (README "Evaluation")'.format(
                                     key, trained[key], description[key]))

    def statistics_key(self):
        return {'protocol': self.protocol.name, 'layer': self.real_layer,
                'classifier': sorted(self.files.values()), 'dropout': self.dropout}

    def real_features(self, batches):
        return self.classify(batches, self.real_layer)[1]

    def classify(self, batches, layer=None):
        return classify(batches, self.classifier, self.protocol.preprocess, self.mean, layer)

    def run(self, batches, seed, real=None):
        """{'inception_score'[, 'frechet_distance']} of one run's videos."""
        if self.dropout:  # the global streams dropout reads, seeded per run: runs repeat
            numpy.random.seed(seed)
            if self.classifier.xp is not numpy:
                self.classifier.xp.random.seed(seed)
        probs, features = self.classify(batches, self.real_layer if real else None)
        values = {'inception_score': inception_score(probs, self.protocol.eps)}
        if real:
            values['frechet_distance'] = frechet_distance(*gaussian(features), *real)
        return values

    def describe(self):
        """How the numbers were made, for the printed lines."""
        return '{} protocol, {} videos x {} runs{}'.format(
            self.protocol.name, self.protocol.n_samples, self.protocol.runs,
            (', C3D dropout on' if self.dropout else ', C3D dropout off')
            if self.protocol.uses_c3d else '')

    def report(self, result, label, real_name):
        """The printed lines of a result (``evaluation.runs.run_all``)."""
        score = result['inception_score']
        lines = ['Inception Score ({}): {:.2f} ± {:.2f}'.format(
            self.describe(), score['mean'], score['std'])]
        if 'frechet_distance' in result:
            fd = result['frechet_distance']
            lines.append('Fréchet distance ({} features, to {}): {:.2f} ± {:.2f}'.format(
                self.real_layer, real_name, fd['mean'], fd['std']))
        if self.protocol.uses_c3d:
            lines.append(format_table(label, score['mean'], score['std'], self.protocol.name,
                                      self.dropout))
        else:
            lines.append('(offline classifier: not comparable with the paper\'s C3D scores)')
        return lines

    def settings(self):
        return dict({k: v for k, v in self.protocol._asdict().items() if k != 'preprocess'},
                    c3d_dropout=self.dropout)
