#!/usr/bin/env python
"""Seconds per clip of I3D's logits (16x224x224, FVD's input), and the
process's peak memory, on the current device.

Random weights stand in for i3d_pretrained_400.pt: only speed is measured.
On the CPU the network runs one clip at a time whatever the batch
(``models.i3d.CPU_CLIPS_PER_PASS``); ``--per-pass`` overrides that to
compare.

    python benchmarks/bench_i3d.py [--gpu 0] [--clips 4] [--batchsize 16] [--per-pass 2]
"""
import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime import blas_settings  # noqa: E402,F401  (before numpy)
from runtime import chainer_compat  # noqa: E402,F401
import chainer  # noqa: E402
import numpy  # noqa: E402

import models  # noqa: E402,F401
from models import i3d  # noqa: E402
from updaters.wgan import synchronize  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--gpu', type=int, default=-1)
    p.add_argument('--clips', type=int, default=4, help='clips to time (after one warm-up)')
    p.add_argument('--batchsize', type=int, default=16)
    p.add_argument('--per-pass', type=int, help='clips per pass on the CPU')
    args = p.parse_args()
    if args.per_pass:
        i3d.CPU_CLIPS_PER_PASS = args.per_pass
    device = chainer.get_device('@cupy:{}'.format(args.gpu) if args.gpu >= 0 else '@numpy')
    device.use()
    xp = device.xp
    model = i3d.I3D()
    model.to_device(device)
    x = xp.asarray(numpy.random.RandomState(0).uniform(
        -1, 1, (args.batchsize, 3, 16, 224, 224)).astype(numpy.float32))
    with chainer.no_backprop_mode():
        model(x[:1], layers=['logits'])
        synchronize(xp)
        start, done = time.perf_counter(), 0
        while done < args.clips:
            batch = x[:min(args.batchsize, args.clips - done)]
            model(batch, layers=['logits'])
            done += len(batch)
        synchronize(xp)
    seconds = (time.perf_counter() - start) / done
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6   # kB -> GB (Linux)
    print('device {}, {} clips in batches of {} ({} per pass on the CPU): {:.2f} s per clip, '
          '{:.1f} min for 2,048 + 2,048; peak memory of the process {:.2f} GB'.format(
              device, done, args.batchsize, i3d.CPU_CLIPS_PER_PASS, seconds,
              seconds * 4096 / 60, peak))


if __name__ == '__main__':
    main()
