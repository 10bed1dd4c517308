#!/usr/bin/env python
"""Seconds to score videos with C3D under a protocol, extrapolated to 10,000.

Times the three stages of ``evaluate.py`` on the current device: sampling
from the paper's generator (UCF-101 config, 16x64x64 RGB), the protocol's
preprocessing (``tgan``: OpenCV bicubic on the host; ``tgan2``: on the
device) and C3D up to 'prob' (and fc7, as for the Fréchet distance).
Random weights stand in for a snapshot and for conv3d_deepnetA_ucf.npz:
only speed is measured.

    python benchmarks/bench_evaluate.py [--gpu 0] [--videos 48] [--protocol tgan]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime import blas_settings  # noqa: E402,F401  (before numpy)
from runtime import chainer_compat  # noqa: E402,F401
import chainer  # noqa: E402
import numpy  # noqa: E402

import configs  # noqa: E402
import models  # noqa: E402
from evaluation.metrics.inception_score import MEAN_SHAPE, PROTOCOLS  # noqa: E402
from models.c3d import C3D  # noqa: E402
from updaters.wgan import synchronize  # noqa: E402


def timed_batches(batch, videos, batchsize):
    """Call ``batch(n, record)`` once unrecorded (warm-up: allocations,
    kernels), then recorded over ``videos`` videos in batches of at most
    ``batchsize``; returns the number of videos recorded (bench_fvd.py too)."""
    batch(min(batchsize, videos), record=False)
    done = 0
    while done < videos:
        n = min(batchsize, videos - done)
        batch(n, record=True)
        done += n
    return done


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--gpu', type=int, default=-1)
    p.add_argument('--videos', type=int, default=48,
                   help='videos to time (after one warm-up batch)')
    p.add_argument('--protocol', choices=['tgan', 'tgan2'], default='tgan')
    p.add_argument('--batchsize', type=int, default=48)
    p.add_argument('--json', help='also write the numbers to this file')
    args = p.parse_args()

    device = chainer.get_device('@cupy:{}'.format(args.gpu) if args.gpu >= 0 else '@numpy')
    device.use()
    xp = device.xp
    numpy.random.seed(0)
    generator = models.build_generator(configs.load('ucf101_svc'))
    c3d = C3D(layer_names=('prob', 'fc7'))
    generator.to_device(device)
    c3d.to_device(device)
    mean = numpy.random.RandomState(0).uniform(90, 110, MEAN_SHAPE).astype(numpy.float32)
    protocol = PROTOCOLS[args.protocol]
    rng = numpy.random.RandomState(0)
    totals = {'sampling': 0.0, 'preprocessing': 0.0, 'c3d': 0.0}

    def batch(n, record):
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            stages = []
            start = time.perf_counter()
            videos = generator(generator.make_hidden(n, rng)).array
            synchronize(xp)
            stages.append(time.perf_counter())
            x = protocol.preprocess(videos, mean)
            synchronize(xp)
            stages.append(time.perf_counter())
            prob, _ = c3d(x)
            prob.array.sum().item()  # to the host, as evaluate.py does
            stages.append(time.perf_counter())
        if record:
            for key, t0, t1 in zip(totals, [start] + stages[:2], stages):
                totals[key] += t1 - t0

    done = timed_batches(batch, args.videos, args.batchsize)
    per_video = {k: v / done for k, v in totals.items()}
    total = sum(per_video.values())
    result = {'device': str(device), 'protocol': args.protocol, 'videos': done,
              'batchsize': args.batchsize, 'seconds_per_video': per_video,
              'seconds_for_10000': total * 10000}
    print('device {}, protocol {}, {} videos in batches of {}'.format(
        device, args.protocol, done, args.batchsize))
    for key, value in per_video.items():
        print('  {:<14} {:8.4f} s/video ({:5.1f}%)'.format(key, value, 100 * value / total))
    print('  total          {:8.4f} s/video -> 10,000 videos: {:.0f} s ({:.1f} min)'.format(
        total, total * 10000, total * 10000 / 60))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
