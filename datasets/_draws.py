"""Reproducible per-example randomness that works with loader processes.

A dataset with random windows, crops or flips draws them from
``Draws.rng(i)``: the k-th draw of example i gets its own generator, seeded
by (seed, i, k). The draw counts k live in shared memory, so the worker
processes that ``chainer.iterators.MultiprocessIterator`` forks (the
'fork' start method, Linux's default up to Python 3.13) all see and
advance the same table: windows differ between workers and between epochs,
and a run is a function of its seed and the order of the indices, whichever
worker loads which example. ``serialize`` puts the table in the trainer
snapshot (the updater calls the dataset's ``serialize``), so that a run with
the ``SerialIterator`` resumes exactly.

With loader processes, the table in a snapshot also counts the batches the
iterator had prefetched but not yet delivered (saving a snapshot makes the
MultiprocessIterator drop and load them again, with new windows), and a
worker may still be loading one as the snapshot is written, so a resumed
run need not draw the same windows as an uninterrupted one. A batch that
spans the end of an epoch and holds one clip twice may load both copies at
once, in two workers, with the same window. The table takes no lock: a
worker killed while holding one (the iterator terminates its pool) would
hang every later draw.
"""
import multiprocessing

import numpy


class Draws:
    """The table of draw counts of ``n`` examples, and their generators."""

    def __init__(self, n, seed):
        self.seed = seed
        self.counts = numpy.frombuffer(multiprocessing.RawArray('q', n), numpy.int64)

    def rng(self, i):
        """A generator for the next draw of example ``i``."""
        k = int(self.counts[i])
        self.counts[i] = k + 1
        return numpy.random.default_rng([self.seed, i, k])

    def serialize(self, serializer):
        self.counts[...] = serializer('draws', self.counts)
