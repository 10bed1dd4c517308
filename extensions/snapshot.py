"""Trainer snapshots (for --resume) and per-model npz files, written atomically."""
import glob
import os
import re
import zipfile

import chainer
import numpy
from chainer import training

from runtime.errors import UsageError
from runtime.atomic import atomic_path

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


def check_snapshot(path):
    """A one-line error unless ``path`` is a trainer snapshot (an npz with
    the updater's iteration)."""
    try:
        with numpy.load(path) as f:
            ok = 'updater/iteration' in f.files
    except (OSError, ValueError, zipfile.BadZipFile):  # not an npz file
        ok = False
    if not ok:
        raise UsageError('--resume {}: not a trainer snapshot: give a snapshot_iter_N.npz '
                         'written by train.py, or its result folder'.format(path))


def load_snapshot(path, trainer):
    """Restore ``trainer`` from the snapshot ``path``; a one-line error where
    it was written for another configuration."""
    try:
        chainer.serializers.load_npz(path, trainer)
    except (KeyError, ValueError) as e:
        raise UsageError('--resume {}: it does not fit this configuration ({}: {}): resume '
                         'with the config of the run that wrote it'.format(
                             path, type(e).__name__, str(e).splitlines()[0][:200]))
