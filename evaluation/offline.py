"""The offline classifier's file: the network's weights plus a description
of what it was trained on (the synthetic set's geometry and classes), so
that ``evaluate.py`` can rebuild it and check that it fits the videos."""
import json
import os

import chainer
import numpy

from runtime.errors import UsageError
from runtime.atomic import atomic_path
from runtime.npz import NpzError, load_npz, read_arrays
from models.video_classifier import VideoClassifier

TRAIN_HELP = ('train one with `python -m evaluation.train_classifier --config CONFIG '
              '--out FILE` (README "Evaluation")')


def save_classifier(path, model, meta):
    """Weights (``save_npz`` layout) and ``meta`` (JSON) in one npz, atomically."""
    arrays = {}
    serializer = chainer.serializers.DictionarySerializer(arrays)
    serializer.save(model)
    arrays['meta'] = numpy.array(json.dumps(meta, sort_keys=True))
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as f:
            numpy.savez(f, **{k: chainer.backends.cuda.to_cpu(v) for k, v in arrays.items()})


def load_classifier(path):
    """(VideoClassifier, meta) from a file written by ``save_classifier``."""
    if not os.path.isfile(path):
        raise UsageError('classifier {} not found: {}'.format(path, TRAIN_HELP))
    try:
        meta = json.loads(str(read_arrays(path, {'meta': ((), 'U')})['meta']))
    except NpzError as e:
        raise UsageError('{}: {}'.format(e, TRAIN_HELP))
    except Exception as e:
        raise UsageError('{} is not a classifier file of this project ({}): {}'.format(
            path, type(e).__name__, TRAIN_HELP))
    model = VideoClassifier(meta['n_classes'], meta['in_channels'], meta['ch'])
    load_npz(path, model)
    return model, meta
