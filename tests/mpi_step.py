"""Test helper: a few TGAN iterations on a fixed global batch, split over MPI ranks.

``python tests/mpi_step.py OUT BN`` (one process) or
``mpiexec -n N python tests/mpi_step.py OUT BN naive`` trains a tiny TGAN with SVC
for ``ITERATIONS`` iterations through the project's own parts (models,
``updaters.make_updater``, ``distributed.Workers``, ``updaters.multi_node_bn``). Every iteration uses the
same global batch of real clips and of z0 whatever the number of processes:
rank r takes rows [r*b, (r+1)*b) of it (b = batch / N), so that an N-process
run can be compared with the single-process one. ``BN`` is ``per-process`` or
``multi-node`` (the config's ``multi_node_bn``). Each rank saves its models
(parameters and BN statistics) after the last iteration, and the gradients
that updated them in the first iteration (``grad/...``, averaged over the
ranks), to ``OUT/rank<r>.npz``.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime import chainer_compat  # noqa: F401,E402
import chainer  # noqa: E402
import numpy  # noqa: E402

import configs  # noqa: E402
from runtime import distributed  # noqa: E402
import models  # noqa: E402
import updaters  # noqa: E402

ITERATIONS = 4
BATCH = 4
CONFIG = {'size': 16, 'channels': 1, 'z0_dim': 8, 'z1_dim': 8,
          'temporal_generator': {'ch': 16}, 'image_generator': {'ch': 16},
          'critic': {'ch': 4}, 'batchsize': BATCH, 'svc_every': 2,
          'optimizer': {'name': 'rmsprop', 'lr': 1e-3}}


class RowsOf:
    """A RandomState stand-in: each ``uniform`` call draws the global batch's
    rows from one seeded stream and returns this rank's share of them."""

    def __init__(self, seed, rank, size):
        self.random, self.rank, self.size = numpy.random.RandomState(seed), rank, size

    def uniform(self, low, high, shape):
        rows = self.random.uniform(low, high, (shape[0] * self.size,) + tuple(shape[1:]))
        return rows[self.rank * shape[0]:(self.rank + 1) * shape[0]]


def local_clips(clips, rank, size):
    """This rank's share of every global batch, in the order the batches come."""
    b = BATCH // size
    return [clips[k + rank * b + i] for k in range(0, len(clips), BATCH) for i in range(b)]


def main(out, bn, communicator=None):
    workers = distributed.Workers(communicator)
    config = configs.load('demo', dict(CONFIG, multi_node_bn=bn == 'multi-node'))
    frames, size = config['frames'], config['size']
    clips = numpy.random.RandomState(1).uniform(
        -1, 1, (2 * BATCH, 1, frames, size, size)).astype(numpy.float32)
    iterator = chainer.iterators.SerialIterator(
        local_clips(clips, workers.rank, workers.size), workers.batch(BATCH), shuffle=False)
    numpy.random.seed(0)
    generator, critic = updaters.multi_node_bn(workers.comm, config['multi_node_bn'],
                                               models.build_generator(config),
                                               models.build_critic(config))
    updater = updaters.make_updater(config, iterator, generator, critic, '@numpy',
                                    comm=workers.comm)
    updater.rng = RowsOf(0, workers.rank, workers.size)
    state = {}
    for iteration in range(ITERATIONS):
        updater.update()
        if iteration == 0:
            for name, link in (('gen', generator), ('critic', critic)):
                state.update({'grad/{}{}'.format(name, path): param.grad.copy()
                              for path, param in link.namedparams() if param.grad is not None})
    chainer.serializers.DictionarySerializer(state, 'gen/').save(generator)
    chainer.serializers.DictionarySerializer(state, 'critic/').save(critic)
    numpy.savez(os.path.join(out, 'rank{}.npz'.format(workers.rank)), **state)


if __name__ == '__main__':
    main(*sys.argv[1:])
