"""Trainer snapshots (for --resume) and per-model npz files, written atomically.

The one place that knows the snapshot's layout: the file names, the key of
the updater's iteration, and where a multi-process run keeps each rank's own
state (written by ``extensions/distributed.py``)."""
import os
import re

import chainer
import numpy
from chainer import training

from runtime.errors import UsageError
from runtime.atomic import atomic_path, ensure_free
from runtime.npz import NpzError, NpzFile, NpzMismatch, load_npz

TRAINER_FILE = 'snapshot_iter_{}.npz'
MODEL_FILE = '{}_iter_{}.npz'
ITERATION_KEY = 'updater/iteration'
# The extension that saves each rank's own state, as extensions/<STREAMS>/rank<r>/...
STREAMS = 'worker_streams'
# The updater's entries for the weights, which are the same on every rank
# (Chainer's StandardUpdater: model:<name>, optimizer:<name>).
WEIGHTS = ('model:', 'optimizer:')


class Snapshot(training.Extension):
    """Save the whole trainer (models, optimizers, iterators, random streams,
    logs) to ``snapshot_iter_N.npz`` and each model in ``models`` (name ->
    Link) to ``<name>_iter_N.npz``, loadable with ``runtime.npz.load_npz``.

    Runs after every other extension (lowest priority) so that their state
    at iteration N is in the snapshot. Before writing, the folder must have
    room for all of the files (their uncompressed size), so that a full disk
    stops the run with the previous snapshot as the latest; the trainer file
    is written last, so that its presence means the iteration is complete.
    ``keep`` > 0 then removes all but the newest ``keep`` trainer snapshots
    and their per-model files.
    """
    priority = -100

    def __init__(self, models, keep=0):
        if keep < 0:
            raise UsageError('snapshot_keep {}: give how many snapshots to keep (0 keeps '
                             'all)'.format(keep))
        self.models, self.keep = models, keep

    def __call__(self, trainer):
        iteration = trainer.updater.iteration
        files = [(os.path.join(trainer.out, MODEL_FILE.format(name, iteration)), model)
                 for name, model in self.models.items()]
        files.append((os.path.join(trainer.out, TRAINER_FILE.format(iteration)), trainer))
        arrays = [_serialized(target) for _, target in files]
        ensure_free(files[-1][0], sum(_npz_bound(a) for a in arrays))
        for (path, _), target in zip(files, arrays):
            with atomic_path(path) as tmp, open(tmp, 'wb') as f:
                numpy.savez_compressed(f, **target)
        if self.keep:
            self.remove_old(trainer.out)

    def remove_old(self, directory):
        """Remove the trainer snapshots older than the newest ``keep`` ones
        and the per-model files of every iteration before the oldest kept."""
        found = snapshots(directory)
        oldest_kept = sorted(found)[-self.keep:][0]
        old = [path for iteration, path in found.items() if iteration < oldest_kept]
        for name in self.models:
            for iteration, path in _numbered(directory, MODEL_FILE.format(name, '{}')).items():
                if iteration < oldest_kept:
                    old.append(path)
        for path in old:  # the trainer files first: they mark an iteration complete
            os.remove(path)


def _serialized(target):
    """``target``'s arrays as ``chainer.serializers.save_npz`` writes them."""
    serializer = chainer.serializers.DictionarySerializer()
    serializer.save(target)
    return serializer.target


def _npz_bound(arrays):
    """An upper bound of the npz file's size: the uncompressed arrays plus
    the zip's headers."""
    return sum(numpy.asarray(a).nbytes + 512 + 2 * len(k) for k, a in arrays.items()) + 2 ** 16


def snapshots(directory):
    """{iteration: path} of the trainer snapshots in ``directory``."""
    return _numbered(directory, TRAINER_FILE)


def _numbered(directory, pattern):
    """{N: path} of the files in ``directory`` named ``pattern`` with N for
    {}: the folder's name is used as it is, never as a glob pattern."""
    name = re.compile(re.escape(pattern).replace(re.escape('{}'), r'(\d+)') + '$')
    found = {}
    for entry in os.listdir(directory):
        match = name.match(entry)
        if match:
            found[int(match.group(1))] = os.path.join(directory, entry)
    return found


def latest_snapshot(directory):
    """The trainer snapshot with the highest iteration in ``directory``, or None."""
    found = snapshots(directory)
    return found[max(found)] if found else None


def check_snapshot(path):
    """A one-line error unless ``path`` is a trainer snapshot (an npz with
    the updater's iteration)."""
    try:
        with NpzFile(path) as npz:
            ok = ITERATION_KEY in npz
    except NpzError:  # not an npz file
        ok = False
    if not ok:
        raise UsageError('--resume {}: not a trainer snapshot: give a snapshot_iter_N.npz '
                         'written by train.py, or its result folder'.format(path))


def load_snapshot(path, trainer):
    """Restore ``trainer`` from the snapshot ``path``; a one-line error where
    it was written for another configuration."""
    try:
        load_npz(path, trainer)
    except NpzMismatch as e:
        raise UsageError('--resume {}: it does not fit this configuration ({}): resume '
                         'with the config of the run that wrote it'.format(path, e.detail))
    except (KeyError, ValueError) as e:
        raise UsageError('--resume {}: it does not fit this configuration ({}: {}): resume '
                         'with the config of the run that wrote it'.format(
                             path, type(e).__name__, str(e).splitlines()[0][:200]))


def rank_key(rank):
    """The key under which rank ``rank``'s own state is saved."""
    return 'rank{}'.format(rank)


def check_processes(path, processes):
    """A one-line error unless the snapshot ``path`` was written by a run of
    ``processes`` processes: each rank restores its own shard position and
    random streams, so a snapshot resumes only with the number that wrote it."""
    prefix = 'extensions/{}/{}'.format(STREAMS, rank_key(''))
    with NpzFile(path) as npz:
        ranks = {key[len(prefix):].split('/')[0] for key in npz.files if key.startswith(prefix)}
    written = max(1, len(ranks))
    if written != processes:
        raise UsageError('{} was written by a run with {} process{}: resume it with {}'.format(
            path, written, 'es' if written > 1 else '',
            'mpiexec -n {} ... --communicator NAME'.format(written) if written > 1
            else 'a single process (no mpiexec, no --communicator)'))


class UpdaterStreams:
    """A serializer proxy that passes an updater's own state (iterators,
    iteration, random streams) and skips its models and optimizers."""

    def __init__(self, serializer):
        self.serializer = serializer

    def __getitem__(self, key):
        if key.startswith(WEIGHTS):
            return _Skip()
        return self.serializer[key]

    def __call__(self, key, value):
        return self.serializer(key, value)


class _Skip:
    """A serializer that neither saves nor loads anything."""

    def __getitem__(self, key):
        return self

    def __call__(self, key, value):
        return value
