"""Test helper: run train.py in one MPI process, then save what that process holds.

``mpiexec -n 2 python tests/mpi_train.py DUMP_DIR <train.py arguments>`` runs
``train.main`` and, after the run, each rank r writes into DUMP_DIR
``rank<r>.npz`` (its generator and critic: parameters and BN statistics) and
``rank<r>.json`` (the names of its trainer extensions), so that a test can
compare the processes with each other and with rank 0's files. At the start
each rank writes its process id to ``rank<r>.pid``, for tests that signal it.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime import chainer_compat  # noqa: F401,E402
import chainer  # noqa: E402
import numpy  # noqa: E402
from mpi4py import MPI  # noqa: E402

import train  # noqa: E402


def stem(directory):
    return os.path.join(directory, 'rank{}'.format(MPI.COMM_WORLD.rank))


def dump(trainer, directory):
    state = {}
    for name in ('gen', 'critic'):
        chainer.serializers.DictionarySerializer(state, name + '/').save(
            trainer.updater.get_optimizer(name).target)
    numpy.savez(stem(directory) + '.npz', **state)
    with open(stem(directory) + '.json', 'w') as f:
        json.dump(sorted(trainer._extensions), f)


def main():
    directory, argv = sys.argv[1], sys.argv[2:]
    with open(stem(directory) + '.pid', 'w') as f:
        f.write(str(os.getpid()))
    run = chainer.training.Trainer.run

    def run_and_dump(trainer, *args, **kwargs):
        run(trainer, *args, **kwargs)
        dump(trainer, directory)

    chainer.training.Trainer.run = run_and_dump
    return train.main(argv)


if __name__ == '__main__':
    sys.exit(main())
