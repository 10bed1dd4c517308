"""The processes of a data-parallel run over MPI with ChainerMN
(docs/multi-gpu.md): the communicator, each process's rank, GPU, batch share,
random streams and shard of the dataset.

Every process (rank) holds the whole model and trains on its own shard of the
dataset with its own z stream; the ranks apply the same update to the same
weights and stay bit-identical (``updaters/distributed.py``), stop together
and save every rank's own state in rank 0's snapshots
(``extensions/distributed.py``). Rank 0 alone writes files and prints.

``batchsize`` in a config is the effective batch of one iteration (the paper's
32), split evenly over the ranks, so a preset means the same experiment on any
number of processes. ``mpiexec -n N python train.py --communicator NAME``.
"""
import os

from runtime import chainer_compat  # noqa: F401  (before chainer)
import chainer  # noqa: E402
import chainermn  # noqa: E402
import numpy  # noqa: E402

from runtime.errors import UsageError  # noqa: E402

# ChainerMN's communicators: 'naive' runs on CPUs (and on GPUs with a CUDA-aware
# MPI); the others need GPUs, 'pure_nccl' (NCCL) being the usual choice there.
COMMUNICATORS = ('naive', 'flat', 'non_cuda_aware', 'pure_nccl')
INSTALL = 'install an MPI and mpi4py with `pip install -r requirements-mpi.txt`'


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


class Shard(chainer.datasets.SubDataset):
    """This rank's part of a dataset that still passes the snapshot state of
    the dataset (its per-example random draws) to ``serialize``."""

    def serialize(self, serializer):
        if hasattr(self._dataset, 'serialize'):
            self._dataset.serialize(serializer)
