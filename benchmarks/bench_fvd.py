#!/usr/bin/env python
"""Seconds for FVD of 2,048 + 2,048 videos on the current device, measured on
fewer and extrapolated (docs/fvd.md "How long it takes").

Times the stages of ``python -m evaluation.fvd`` per video: the protocol's
preprocessing (uint8 (16, H, W, 3) -> (3, 16, 224, 224) in [-1, 1]) and
I3D up to its logits; and, measured in full, the Gaussians of 2,048 x 400
features and their Fréchet distance. Random weights stand in for
i3d_pretrained_400.pt: only speed is measured.

    python benchmarks/bench_fvd.py [--gpu 0] [--videos 8] [--size 64] [--protocol videogpt]
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

from evaluation.frechet import frechet_distance, gaussian  # noqa: E402
from evaluation.metrics import fvd  # noqa: E402
from models.i3d import I3D  # noqa: E402
from updaters.wgan import synchronize  # noqa: E402

from bench_evaluate import timed_batches  # noqa: E402  (this folder, as a script's)

VIDEOS = 2 * 2048


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--gpu', type=int, default=-1)
    p.add_argument('--videos', type=int, default=8, help='videos to time (after a warm-up)')
    p.add_argument('--batchsize', type=int, default=4)
    p.add_argument('--size', type=int, default=64, help='frame size of the videos (default 64)')
    p.add_argument('--protocol', choices=sorted(fvd.PROTOCOLS), default='videogpt')
    p.add_argument('--json', help='also write the numbers to this file')
    args = p.parse_args()

    device = chainer.get_device('@cupy:{}'.format(args.gpu) if args.gpu >= 0 else '@numpy')
    device.use()
    xp = device.xp
    protocol = fvd.PROTOCOLS[args.protocol]
    i3d = I3D(eps=protocol.bn_eps)
    i3d.to_device(device)
    rng = numpy.random.RandomState(0)
    totals = {'preprocessing': 0.0, 'i3d': 0.0}

    def batch(n, record):
        videos = device.send(rng.randint(0, 256, (n, fvd.FRAMES, args.size, args.size, 3))
                             .astype(numpy.uint8))
        synchronize(xp)
        start = time.perf_counter()
        x = fvd.preprocess(videos, protocol)
        synchronize(xp)
        middle = time.perf_counter()
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            logits = i3d(x, layers=[fvd.LAYER])[fvd.LAYER]
        chainer.backend.CpuDevice().send(logits.array)  # to the host, as the command does
        end = time.perf_counter()
        if record:
            totals['preprocessing'] += middle - start
            totals['i3d'] += end - middle

    done = timed_batches(batch, args.videos, args.batchsize)
    features = rng.normal(size=(2048, 400))
    start = time.perf_counter()
    frechet_distance(*gaussian(features), *gaussian(features[::-1] + 0.1))
    distance = time.perf_counter() - start

    per_video = {k: v / done for k, v in totals.items()}
    total = sum(per_video.values()) * VIDEOS + distance
    result = {'device': str(device), 'protocol': args.protocol, 'videos': done,
              'size': args.size, 'batchsize': args.batchsize,
              'seconds_per_video': per_video, 'seconds_distance': distance,
              'seconds_for_2048_plus_2048': total}
    print('device {}, protocol {}, {} videos of {}x{} in batches of {}'.format(
        device, args.protocol, done, args.size, args.size, args.batchsize))
    for key, value in per_video.items():
        print('  {:<14} {:8.4f} s/video'.format(key, value))
    print('  Gaussians and Fréchet distance of 2 x 2048 x 400 features: {:.2f} s'.format(distance))
    print('  FVD of 2,048 + 2,048 videos: {:.0f} s ({:.1f} min), extrapolated from {} videos'
          .format(total, total / 60, done))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
