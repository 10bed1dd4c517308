"""Trainer snapshots (for --resume) and per-model npz files, written atomically."""
import glob
import os
import re

import chainer
from chainer import training

from extensions.atomic import atomic_path

TRAINER_FILE = 'snapshot_iter_{}.npz'
MODEL_FILE = '{}_iter_{}.npz'


class Snapshot(training.Extension):
    """Save the whole trainer (models, optimizers, iterators, random streams,
    logs) to ``snapshot_iter_N.npz`` and each model in ``models`` (name ->
    Link) to ``<name>_iter_N.npz``, loadable with ``chainer.serializers.load_npz``.

    Runs after every other extension (lowest priority) so that their state
    at iteration N is in the snapshot.
    """
    priority = -100

    def __init__(self, models):
        self.models = models

    def __call__(self, trainer):
        iteration = trainer.updater.iteration
        for name, model in self.models.items():
            _save(os.path.join(trainer.out, MODEL_FILE.format(name, iteration)), model)
        _save(os.path.join(trainer.out, TRAINER_FILE.format(iteration)), trainer)


def _save(path, target):
    with atomic_path(path) as tmp:
        chainer.serializers.save_npz(tmp, target)


def latest_snapshot(directory):
    """The trainer snapshot with the highest iteration in ``directory``, or None."""
    found = {}
    for path in glob.glob(os.path.join(directory, TRAINER_FILE.format('*'))):
        match = re.search(r'snapshot_iter_(\d+)\.npz$', path)
        if match:
            found[int(match.group(1))] = path
    return found[max(found)] if found else None
