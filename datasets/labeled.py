"""Clips with their class labels, for the conditional TGAN (paper §5.2), and
the class list a conditional run keeps beside its snapshots."""
import json
import os

import chainer
import numpy

from runtime.errors import UsageError
from runtime.atomic import atomic_path


class Labeled(chainer.dataset.DatasetMixin):
    """(clip, label) pairs of a dataset that has ``labels`` (one 0-based class
    id per clip) and ``class_names``; its per-clip random state is kept."""

    def __init__(self, dataset, name):
        if not hasattr(dataset, 'labels'):
            raise UsageError('the {} dataset has no class labels: the conditional model '
                             'trains on ucf101 or synthetic'.format(name))
        self.dataset, self.labels = dataset, dataset.labels
        self.class_names = list(dataset.class_names)

    def __len__(self):
        return len(self.dataset)

    def get_example(self, i):
        return self.dataset[i], self.labels[i]

    def class_counts(self):
        """Clips per class: the training class prior of evaluation."""
        return numpy.bincount(self.labels, minlength=len(self.class_names)).tolist()

    def serialize(self, serializer):
        if hasattr(self.dataset, 'serialize'):
            self.dataset.serialize(serializer)


CLASSES_FILE = 'classes.json'


def save_classes(folder, dataset):
    """Write the class names and training counts of a Labeled ``dataset`` to
    ``folder/classes.json`` (read by evaluate.py and generate.py)."""
    with atomic_path(os.path.join(folder, CLASSES_FILE)) as tmp:
        with open(tmp, 'w') as f:
            json.dump({'names': dataset.class_names, 'counts': dataset.class_counts()}, f)


def load_classes(folder):
    """(class names, training counts) of a conditional run's result folder."""
    path = os.path.join(folder, CLASSES_FILE)
    try:
        with open(path) as f:
            classes = json.load(f)
        names, counts = list(classes['names']), [int(c) for c in classes['counts']]
    except FileNotFoundError:
        raise UsageError('{} not found: a conditional run writes it when it starts; give '
                         'the run\'s result folder'.format(path))
    except (ValueError, KeyError, TypeError):
        raise UsageError('{} is not a class list written by train.py'.format(path))
    if len(names) != len(counts) or not names:
        raise UsageError('{} is not a class list written by train.py'.format(path))
    return names, counts


def n_classes(dataset, configured):
    """The number of classes a model for ``dataset`` conditions on (0 for an
    unlabeled one), checked against the config's ``n_classes`` when set."""
    found = len(dataset.class_names) if isinstance(dataset, Labeled) else 0
    if configured and configured != found:
        raise UsageError('the config says n_classes {} but the {} has {}: n_classes is set '
                         'from the dataset; use conditional: true (train.py --conditional) '
                         'with the dataset the run was trained on'.format(
                             configured, 'labeled dataset' if found else 'unlabeled dataset',
                             found))
    return found
