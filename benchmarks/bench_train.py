#!/usr/bin/env python
"""Seconds per training iteration and per SVC step at the paper configuration
(or at another preset's, e.g. ``--config demo``).

Paper configuration (docs/design.md §1-2): batch 32, 16x64x64 RGB, z0/z1 100, G1
conv_ch 512, critic mid_ch 64, RMSprop 5e-5; one iteration = one generator
and one critic update; SVC every 5 iterations, timed on its own here.
Random clips stand in for data, so only the network and update are timed.

    python benchmarks/bench_train.py [--gpu 0] [--batch 32] [--iters 2] [--profile] [--timer]
    python benchmarks/bench_train.py --config demo --iters 50   # the CPU demo's size
    python benchmarks/bench_train.py --config demo --set image_generator.ch=128  # its former G1

On a GPU, ``CUPY_TF32=1`` in the environment lets cuBLAS use TF32 for the
float32 matrix products (the PyTorch reference's ``--tf32``).
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime import blas_settings  # noqa: E402,F401  (before numpy)
from runtime import allocator  # noqa: E402
from runtime import chainer_compat  # noqa: E402,F401
import chainer  # noqa: E402
import numpy  # noqa: E402
import yaml  # noqa: E402

import configs  # noqa: E402
from functions import threads  # noqa: E402
import models  # noqa: E402
import updaters  # noqa: E402
from updaters.svc import singular_value_clipping  # noqa: E402
from updaters.wgan import synchronize  # noqa: E402


def build(args):
    overrides = {key: yaml.safe_load(value) for key, _, value in
                 (item.partition('=') for item in args.set)}
    config = configs.load(args.config, dict(overrides, constraint='none'))
    args.batch = args.batch or config['batchsize']
    config['batchsize'] = args.batch
    device = chainer.get_device('@cupy:{}'.format(args.gpu) if args.gpu >= 0 else '@numpy')
    numpy.random.seed(0)
    generator, critic = models.build_generator(config), models.build_critic(config)
    generator.to_device(device)
    critic.to_device(device)
    shape = (config['channels'], config['frames'], config['size'], config['size'])
    clips = [numpy.random.uniform(-1, 1, shape).astype(numpy.float32)
             for _ in range(args.batch)]
    iterator = chainer.iterators.SerialIterator(clips, args.batch)
    # the constraint is off above: SVC is timed on its own below
    updater = updaters.make_updater(config, iterator, generator, critic, device)
    return updater, critic


def timed(fn, xp, reps, cpu=None):
    """Wall seconds of each of ``reps`` calls; with a list ``cpu``, also
    this process's CPU seconds over all of them appended to it (a measure
    that other work on a shared machine disturbs less)."""
    times, start_cpu = [], time.process_time()
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        synchronize(xp)
        times.append(time.perf_counter() - start)
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return times


def blas():
    return ', '.join('{internal_api} {version} {architecture} x{num_threads}'.format(**i)
                     for i in threads.numpy_blas()) + (
        ' OPENBLAS_THREAD_TIMEOUT={} OPENBLAS_CORETYPE={}'.format(
            os.environ.get('OPENBLAS_THREAD_TIMEOUT'), os.environ.get('OPENBLAS_CORETYPE')))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--gpu', type=int, default=-1)
    p.add_argument('--config', default='ucf101_svc',
                   help='the preset whose networks and batch are timed (default: the paper\'s)')
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                   help="override a key of the preset, as train.py's --set")
    p.add_argument('--batch', type=int, help="default: the preset's (32 for the paper's)")
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--iters', type=int, default=2)
    p.add_argument('--svc-reps', type=int, default=5)
    p.add_argument('--profile', action='store_true', help='cProfile one more iteration')
    p.add_argument('--timer', action='store_true',
                   help='time each Chainer function of one more iteration (TimerHook)')
    p.add_argument('--json', help='also write the numbers to this file')
    p.add_argument('--system-malloc', action='store_true',
                   help="glibc's default allocation, not train.py's allocator setting")
    args = p.parse_args()
    kept = not args.system_malloc and allocator.keep_freed_memory()

    updater, critic = build(args)
    xp = critic.xp
    print('device: {}  blas: {}  batch: {}  freed memory kept: {}{}'.format(
        'GPU {}'.format(args.gpu) if args.gpu >= 0 else 'CPU', blas(), args.batch, kept,
        '  CUPY_TF32={}'.format(os.environ.get('CUPY_TF32', '0')) if args.gpu >= 0 else ''))
    timed(updater.update, xp, args.warmup)
    cpu = []
    iteration = timed(updater.update, xp, args.iters, cpu)
    svc = timed(lambda: singular_value_clipping(critic), xp, args.svc_reps)
    result = {'batch': args.batch, 'seconds_per_iteration': statistics.median(iteration),
              'iterations': iteration, 'cpu_seconds_per_iteration': cpu[0] / args.iters,
              'seconds_per_svc': statistics.median(svc), 'svc': svc}
    print('seconds per iteration: {:.3f} (median of {})'.format(
        result['seconds_per_iteration'], ', '.join('{:.3f}'.format(t) for t in iteration)))
    print('CPU seconds per iteration (all threads): {:.3f}'.format(
        result['cpu_seconds_per_iteration']))
    print('seconds per SVC step:  {:.3f} (median of {}); per iteration at every 5: {:.3f}'.format(
        result['seconds_per_svc'], len(svc), result['seconds_per_svc'] / 5))
    if xp is not numpy:
        # the memory pool keeps every block it allocated: its size is the peak
        result['gpu_memory_pool_bytes'] = xp.get_default_memory_pool().total_bytes()
        print('GPU memory pool: {:.2f} GiB'.format(result['gpu_memory_pool_bytes'] / 2 ** 30))

    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        updater.update()
        synchronize(xp)
        profile.disable()
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats('tottime').print_stats(15)
        print(text.getvalue())
    if args.timer:
        hook = chainer.function_hooks.TimerHook()
        with hook:
            updater.update()
            synchronize(xp)
        hook.print_report()
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
