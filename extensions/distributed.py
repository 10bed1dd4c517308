"""The trainer of a data-parallel run (docs/multi-gpu.md): every rank stops
at the same iteration, rank 0's snapshots hold every rank's own state, and
the reported losses are averaged over the ranks before rank 0 logs them.
The processes themselves: ``runtime/distributed.py``; the update:
``updaters/distributed.py``."""
from runtime import chainer_compat  # noqa: F401  (before chainer)
import chainer  # noqa: E402
import numpy  # noqa: E402
from chainer import serializer as serializer_module  # noqa: E402
from chainer import training  # noqa: E402

from extensions import snapshot  # noqa: E402
from extensions.stop import StopTrigger  # noqa: E402
from updaters.wgan import REPORTED  # noqa: E402


def stop_trigger(iterations, comm):
    """The run's stop trigger: the same stop on every rank of a multi-process
    run (``comm`` not None)."""
    return StopTrigger(iterations) if comm is None else AgreedStopTrigger(iterations, comm)


def extend(trainer, comm, stop, snapshot_trigger):
    """Add the extensions every rank runs (none in a single process, ``comm``
    None): the agreement on stopping, the per-rank state for snapshots and
    the averaging of the reported losses over the ranks."""
    if comm is not None:
        trainer.extend(AgreeOnStop(stop))
        trainer.extend(WorkerStreams(comm, trainer.updater), trigger=snapshot_trigger)
        trainer.extend(MeanReports(comm))


class MeanReports(training.Extension):
    """Replace the losses and critic scores reported in this iteration by
    their average over the ranks (one allreduce), before rank 0 logs them:
    the log then shows the values of the effective batch."""
    priority = training.PRIORITY_EDITOR  # before LogReport (a reader)

    def __init__(self, comm):
        self.comm = comm

    def __call__(self, trainer):
        from mpi4py import MPI
        keys = [key for key in REPORTED if key in trainer.observation]
        values = numpy.array([float(chainer.backend.CpuDevice().send(
            chainer.as_array(trainer.observation[key]))) for key in keys])
        self.comm.mpi_comm.Allreduce(MPI.IN_PLACE, values)
        for key, value in zip(keys, values / self.comm.size):
            trainer.observation[key] = float(value)


class AgreeOnStop(training.Extension):
    """Take the iteration's stop decision (a collective call) before any other
    extension, on every rank: rank 0's writers ask for it in their triggers,
    the other ranks' first caller comes later, after other collective calls,
    and the ranks would wait on each other."""
    priority = training.PRIORITY_WRITER + 1

    def __init__(self, stop):
        self.stop = stop

    def __call__(self, trainer):
        self.stop(trainer)


class AgreedStopTrigger(StopTrigger):
    """Stop all ranks at the same iteration: after the iteration in which any
    rank was interrupted (a signal reaches one rank, or the ranks at different
    times). The decision is the agreed one, never the local flag, which the
    signal handler may set while the ranks are agreeing."""

    def __init__(self, iterations, comm):
        super().__init__(iterations)
        self.comm = comm

    def stops_after(self, trainer):
        # one collective call per iteration on every rank: StopTrigger caches it
        from mpi4py import MPI
        agreed = self.comm.mpi_comm.allreduce(self.interrupted, op=MPI.LOR)
        if agreed:
            self.interrupted = True  # for the last message of rank 0
        return agreed or trainer.updater.iteration >= self.iterations


class WorkerStreams(training.Extension):
    """Every rank's own training state in rank 0's snapshots.

    Weights and optimizer states are identical on all ranks, but each rank's
    iterator (its position in its shard and the shuffled order), its z stream
    and its shard's random draws are its own. At each snapshot this extension
    gathers them (the updater's state without models and optimizers) to rank
    0, which saves them under ``rank<r>/``; on resume, every rank loads the
    same snapshot and then restores its own state from there, so that an
    N-process run resumes exactly.
    """
    name = snapshot.STREAMS
    priority = -50  # after the reporting extensions, before Snapshot (-100)

    def __init__(self, comm, updater):
        self.comm, self.updater = comm, updater
        self.gathered = None

    def __call__(self, trainer):
        state = {}
        self.updater.serialize(snapshot.UpdaterStreams(
            chainer.serializers.DictionarySerializer(state)))
        self.gathered = self.comm.gather_obj(state)

    def serialize(self, serializer):
        if isinstance(serializer, serializer_module.Deserializer):
            self.updater.serialize(snapshot.UpdaterStreams(
                serializer[snapshot.rank_key(self.comm.rank)]))
        elif self.gathered is not None:
            for rank, state in enumerate(self.gathered):
                for key, value in state.items():
                    serializer[snapshot.rank_key(rank)](key, value)
