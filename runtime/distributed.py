"""Data-parallel training over MPI processes with ChainerMN (README "Many GPUs").

Every process (rank) holds the whole model and trains on its own shard of the
dataset with its own z stream; before every update the gradients are averaged
over the ranks, so that all ranks apply the same update to the same weights and
stay bit-identical (the first weights are broadcast from rank 0). SVC and
weight clipping are deterministic functions of those weights and of the
critic's BN running variance, which the ranks therefore average after every
update (or share through multi-node BN). Rank 0 alone writes files and prints.

``batchsize`` in a config is the effective batch of one iteration (the paper's
32), split evenly over the ranks, so a preset means the same experiment on any
number of processes. ``mpiexec -n N python train.py --communicator NAME``.
"""
import os
import warnings

from runtime import chainer_compat  # noqa: F401  (before chainer)
import chainer  # noqa: E402
import chainermn  # noqa: E402
import numpy  # noqa: E402
from chainer import serializer as serializer_module  # noqa: E402
from chainer import training  # noqa: E402

import extensions  # noqa: E402
from runtime.errors import UsageError  # noqa: E402

# ChainerMN's communicators: 'naive' runs on CPUs (and on GPUs with a CUDA-aware
# MPI); the others need GPUs, 'pure_nccl' (NCCL) being the usual choice there.
COMMUNICATORS = ('naive', 'flat', 'non_cuda_aware', 'pure_nccl')
INSTALL = 'install an MPI and mpi4py with `pip install -r requirements-mpi.txt`'
STREAMS = 'worker_streams'  # the name of the extension that saves per-rank state
# Reported values averaged over the ranks before rank 0 logs them; the time of
# a constraint step stays rank 0's.
AVERAGED = ('loss_gen', 'loss_dis', 'critic_real', 'critic_fake')


class Workers:
    """The processes of a run and what each one does. With ``communicator``
    None the run is one process (``comm`` None) and the methods change nothing.

    Args:
        communicator: a ChainerMN communicator name (see ``COMMUNICATORS``)
            or None for a single-process run.
        gpu: ``--gpu``; with N processes on a node, rank r of the node uses
            GPU ``gpu + r`` (``--gpu 0``: GPUs 0..N-1); -1 runs all on CPUs.
    """

    def __init__(self, communicator=None, gpu=-1):
        launched = int(os.environ.get('OMPI_COMM_WORLD_SIZE', os.environ.get('PMI_SIZE', 1)))
        if communicator is None and launched > 1:
            raise UsageError('started as one of {} MPI processes without --communicator: add '
                             '--communicator naive (CPUs) or pure_nccl (GPUs), or run without '
                             'mpiexec'.format(launched))
        self.comm = None if communicator is None else make_communicator(communicator, gpu)
        self.communicator = communicator
        self.rank = 0 if self.comm is None else self.comm.rank
        self.size = 1 if self.comm is None else self.comm.size
        self.writer = self.rank == 0  # rank 0 alone writes files and prints
        self.gpu = gpu if gpu < 0 or self.comm is None else gpu + self.comm.intra_rank

    def batch(self, batchsize):
        """The local batch: the effective ``batchsize`` divided over the ranks."""
        if batchsize % self.size:
            raise UsageError('batchsize {} (the effective batch) does not split evenly over {} '
                             'processes: choose a multiple of {}'.format(
                                 batchsize, self.size, self.size))
        return batchsize // self.size

    def describe(self, batchsize, multi_node_bn):
        """One line on the parallel set-up, printed and saved in config.yaml."""
        if self.comm is None:
            return 'one process, batch {}'.format(batchsize)
        return ('{} process{} (communicator {}), batch {} per process, effective batch {}, '
                '{} BN'.format(self.size, 'es' if self.size > 1 else '', self.communicator,
                               self.batch(batchsize), batchsize,
                               'multi-node' if multi_node_bn else 'per-process'))

    def seed(self, seed):
        """The seed of this rank's own random streams (z and data order):
        ``seed`` alone, or ``[seed, rank]`` so that the ranks draw differently."""
        return seed if self.comm is None else [seed, self.rank]

    def shard(self, dataset, seed):
        """This rank's part of ``dataset``, split after a permutation drawn from
        ``seed`` on every rank alike (as ``chainermn.scatter_dataset`` does, but
        without pickling rank 0's dataset to the others: a memmapped UCF-101
        would travel whole). Shards have equal length (the last may repeat a
        few examples of the first)."""
        if self.comm is None:
            return dataset
        order = numpy.random.RandomState(seed).permutation(len(dataset))
        begin, end = chainermn.scatter_index(len(dataset), self.comm)
        return Shard(dataset, begin, end, order)

    def models(self, multi_node_bn, *links):
        """``links``, with ChainerMN's multi-node BN in place of every BN layer
        when ``multi_node_bn`` (batch statistics over the effective batch
        rather than each rank's share; with one process that is plain BN)."""
        if self.comm is not None and multi_node_bn:
            for link in links:
                use_multi_node_bn(link, self.comm)
        return links

    def stop_trigger(self, iterations):
        return extensions.StopTrigger(iterations) if self.comm is None \
            else AgreedStopTrigger(iterations, self.comm)

    def extend(self, trainer, stop, snapshot_trigger):
        """Add the extensions every rank runs (none in a single process): the
        agreement on stopping, the per-rank state for snapshots and the
        averaging of the reported losses over the ranks."""
        if self.comm is not None:
            trainer.extend(AgreeOnStop(stop))
            trainer.extend(WorkerStreams(self.comm, trainer.updater), trigger=snapshot_trigger)
            trainer.extend(MeanReports(self.comm))

    def check_snapshot(self, path):
        """A snapshot resumes only with the number of processes that wrote it
        (each rank restores its own shard position and random streams)."""
        prefix = 'extensions/{}/rank'.format(STREAMS)
        with numpy.load(path) as f:
            ranks = {key[len(prefix):].split('/')[0] for key in f.files if key.startswith(prefix)}
        written = max(1, len(ranks))
        if written != self.size:
            raise UsageError('{} was written by a run with {} process{}: resume it with {}'.format(
                path, written, 'es' if written > 1 else '',
                'mpiexec -n {} ... --communicator NAME'.format(written) if written > 1
                else 'a single process (no mpiexec, no --communicator)'))


def make_communicator(name, gpu):
    """The ChainerMN communicator ``name`` over all MPI processes, or a UsageError."""
    if name not in COMMUNICATORS:
        raise UsageError('unknown communicator {!r}: choose one of {} (naive on CPUs, '
                         'pure_nccl on GPUs)'.format(name, ', '.join(COMMUNICATORS)))
    if gpu < 0 and name != 'naive':
        raise UsageError('--communicator {} needs GPUs (--gpu 0); on CPUs use '
                         '--communicator naive'.format(name))
    try:
        from mpi4py import MPI  # noqa: F401
    except (ImportError, RuntimeError, OSError) as e:
        raise UsageError('--communicator needs mpi4py and an MPI library ({}): {}'.format(
            str(e).splitlines()[0] if str(e) else type(e).__name__, INSTALL))
    chainermn.global_except_hook.add_hook()  # one crashing rank aborts the job, no hang
    return chainermn.create_communicator(name)


def use_multi_node_bn(link, comm):
    """Replace every BN layer in ``link`` by a multi-node BN with the same
    parameters and statistics. (``chainermn.links.create_mnbn_model`` does
    this for copies, but gives a BN without beta a beta it cannot copy.)"""
    layers = [(parent, name) for parent in link.links() if isinstance(parent, chainer.Chain)
              for name in sorted(parent._children)
              if isinstance(parent[name], chainer.links.BatchNormalization)]
    for parent, name in layers:
        bn = parent[name]
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', '.*MultiNodeBatchNormalization is experimental')
            shared = chainermn.links.MultiNodeBatchNormalization(
                bn.avg_mean.shape, comm, decay=bn.decay, eps=bn.eps, dtype=bn.avg_mean.dtype,
                use_gamma=bn.gamma is not None, use_beta=bn.beta is not None)
        shared.copyparams(bn)
        shared.avg_mean[...], shared.avg_var[...] = bn.avg_mean, bn.avg_var
        delattr(parent, name)
        with parent.init_scope():
            setattr(parent, name, shared)


class Shard(chainer.datasets.SubDataset):
    """This rank's part of a dataset that still passes the snapshot state of
    the dataset (its per-example random draws) to ``serialize``."""

    def serialize(self, serializer):
        if hasattr(self._dataset, 'serialize'):
            self._dataset.serialize(serializer)


def multi_node_optimizer(optimizer, comm):
    """Wrap ``optimizer`` (already set up on its model) so that every update
    uses the gradients averaged over the ranks, and add a hook that averages
    the model's BN running statistics after every update.

    ChainerMN's wrapper spends its first ``update()`` on broadcasting rank 0's
    parameters instead of updating; here the broadcast happens now and the
    wrapper records the parameter set, so that iteration 1 updates as in a
    single-process run and a resumed run continues exactly. Parameters whose
    gradient is None (unused layers) are skipped on every rank, as Chainer
    does (``zero_fill=False``)."""
    model = optimizer.target
    comm.bcast_data(model)
    wrapped = chainermn.create_multi_node_optimizer(optimizer, comm, zero_fill=False)
    wrapped.is_changed(model)
    optimizer.add_hook(MeanBatchStatistics(comm), timing='post')
    return wrapped


class MeanBatchStatistics:
    """Optimizer hook: replace every BN layer's running mean and variance by
    their average over the ranks (one allreduce on the host, whichever device).

    Each rank's BN normalises with its own share of the batch, so its running
    statistics drift apart from the other ranks'; SVC clips the critic's BN
    gammas with the running variance (paper §4.2) and would then give each
    rank different weights. Averaged after every update (before the
    constraint), the statistics stay identical on all ranks: an exponential
    moving average of the ranks' mean batch statistics. Multi-node BN layers
    share theirs already and are not touched."""
    name = 'MeanBatchStatistics'
    timing = 'post'
    call_for_each_param = False

    def __init__(self, comm):
        self.comm = comm

    def __call__(self, optimizer):
        from mpi4py import MPI
        arrays = [array for link in optimizer.target.links()
                  if isinstance(link, chainer.links.BatchNormalization)
                  for array in (link.avg_mean, link.avg_var)]
        if not arrays:
            return
        cpu = chainer.backend.CpuDevice()
        host = numpy.concatenate([cpu.send(a).ravel() for a in arrays])
        self.comm.mpi_comm.Allreduce(MPI.IN_PLACE, host)
        host /= self.comm.size
        offset = 0
        for array in arrays:
            piece = host[offset:offset + array.size].reshape(array.shape)
            array[...] = chainer.backend.get_array_module(array).asarray(piece)
            offset += array.size


class MeanReports(training.Extension):
    """Replace the losses and critic scores reported in this iteration by
    their average over the ranks (one allreduce), before rank 0 logs them:
    the log then shows the values of the effective batch."""
    priority = training.PRIORITY_EDITOR  # before LogReport (a reader)

    def __init__(self, comm):
        self.comm = comm

    def __call__(self, trainer):
        from mpi4py import MPI
        keys = [key for key in AVERAGED if key in trainer.observation]
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


class AgreedStopTrigger(extensions.StopTrigger):
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
    name = STREAMS
    priority = -50  # after the reporting extensions, before Snapshot (-100)

    def __init__(self, comm, updater):
        self.comm, self.updater = comm, updater
        self.gathered = None

    def __call__(self, trainer):
        state = {}
        self.updater.serialize(_UpdaterStreams(
            chainer.serializers.DictionarySerializer(state)))
        self.gathered = self.comm.gather_obj(state)

    def serialize(self, serializer):
        if isinstance(serializer, serializer_module.Deserializer):
            self.updater.serialize(_UpdaterStreams(serializer['rank{}'.format(self.comm.rank)]))
        elif self.gathered is not None:
            for rank, state in enumerate(self.gathered):
                for key, value in state.items():
                    serializer['rank{}'.format(rank)](key, value)


class _UpdaterStreams:
    """A serializer proxy that passes an updater's own state (iterators,
    iteration, random streams) and skips its models and optimizers."""

    def __init__(self, serializer):
        self.serializer = serializer

    def __getitem__(self, key):
        if key.startswith(('model:', 'optimizer:')):
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
