"""Generate Moving MNIST (Srivastava et al. 2015) from MNIST digit files (docs/design.md §3).

    python -m datasets.make_moving_mnist --mnist DIR --out data/moving_mnist/mnist_test_seq.npy \\
        [--seed 0] [--sequences 10000] [--frames 20] [--digits train|test]

DIR holds ``mnist.npz`` or the IDX files (``train-images-idx3-ubyte[.gz]``,
``t10k-images-idx3-ubyte[.gz]``). Writes uint8 (frames, sequences, 64, 64),
time first like the canonical file, atomically.
"""
import argparse
import os

import numpy

from datasets.moving_mnist import generate, read_digits
from runtime.errors import run_command
from runtime.atomic import atomic_path, ensure_free


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--mnist', required=True, help='folder (or file) of the MNIST digits')
    p.add_argument('--out', required=True, help='the .npy file to write')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--sequences', type=int, default=10000)
    p.add_argument('--frames', type=int, default=20)
    p.add_argument('--digits', choices=('train', 'test'), default='train',
                   help='which MNIST images to draw from (default: train)')
    args = p.parse_args(argv)
    digits = read_digits(args.mnist, args.digits)
    # a memory-mapped file that meets a full disk fails with SIGBUS, not an error
    ensure_free(args.out, args.frames * args.sequences * 64 * 64 + 4096)
    with atomic_path(args.out) as tmp:
        out = numpy.lib.format.open_memmap(
            tmp, 'w+', numpy.uint8, (args.frames, args.sequences, 64, 64))
        generate(digits, out, args.sequences, args.frames, seed=args.seed)
        out.flush()
        del out
    print('wrote {} sequences of {} frames from {} digits to {}'.format(
        args.sequences, args.frames, len(digits), os.path.abspath(args.out)))
    return 0


if __name__ == '__main__':
    run_command(main)
