#!/usr/bin/env python
"""Our training step against the PyTorch reference, paired in one run.

Alternates ``benchmarks/bench_train.py`` and the reference implementation of
the same network and update (``../shared/bench/torch_tgan.py``, run with a
Python that has PyTorch; PyTorch is not a dependency of this project), round
after round, so that both see the same machine load, and prints the median
seconds per iteration of each and their ratio. On a GPU each round also
runs both with TF32 matrix products (``CUPY_TF32=1`` / ``--tf32``).

    python benchmarks/bench_paired.py --reference-python /path/to/torch/python \\
        [--reference ../shared/bench/torch_tgan.py] [--gpu 0] [--rounds 2] [--iters 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True,
                            env=dict(os.environ, **(env or {})))
    if result.returncode:
        sys.exit('{} failed:\n{}'.format(' '.join(command), result.stderr[-2000:]))
    return result.stdout


def ours(args, tf32, json_path):
    command = [sys.executable, os.path.join(HERE, 'bench_train.py'), '--gpu', str(args.gpu),
               '--batch', str(args.batch), '--warmup', str(args.warmup),
               '--iters', str(args.iters), '--svc-reps', '3', '--json', json_path]
    run(command, {'CUPY_TF32': '1' if tf32 else '0'})
    with open(json_path) as f:
        result = json.load(f)
    return result['seconds_per_iteration'], result['seconds_per_svc']


def reference(args, tf32, json_path):
    device = 'cuda' if args.gpu >= 0 else 'cpu'
    command = [args.reference_python, args.reference, '--device', device, '--batch',
               str(args.batch), '--warmup', str(args.warmup), '--iters', str(args.iters),
               '--svc', 'gram', '--svc-reps', '3', '--json', json_path]
    run(command + (['--tf32'] if tf32 else []))
    with open(json_path) as f:
        result = json.loads(f.read().splitlines()[-1])
    return result['median'], result['svc_median']


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--reference-python', required=True, help='a Python with PyTorch')
    p.add_argument('--reference', default=os.path.join(
        HERE, '..', '..', 'shared', 'bench', 'torch_tgan.py'))
    p.add_argument('--gpu', type=int, default=-1)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--iters', type=int, default=2)
    args = p.parse_args()
    if not os.path.isfile(args.reference):
        sys.exit('error: reference {} not found: pass --reference PATH'.format(args.reference))

    modes = [False, True] if args.gpu >= 0 else [False]
    times = {(impl, tf32): [] for impl in ('ours', 'reference') for tf32 in modes}
    svc = {impl: [] for impl in ('ours', 'reference')}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for tf32 in modes:
                for impl, fn in (('ours', ours), ('reference', reference)):
                    t, s = fn(args, tf32, os.path.join(tmp, '{}{}{}.json'.format(impl, tf32, r)))
                    times[impl, tf32].append(t)
                    svc[impl].append(s)
                    print('round {} {:<9} {}: {:.4f} s/iteration, SVC {:.4f} s'.format(
                        r + 1, impl, 'TF32' if tf32 else 'FP32', t, s), flush=True)
    print('\n{} batch {}: median seconds per iteration'.format(
        'GPU {}'.format(args.gpu) if args.gpu >= 0 else 'CPU', args.batch))
    for tf32 in modes:
        a, b = (statistics.median(times[impl, tf32]) for impl in ('ours', 'reference'))
        print('  {}: ours {:.4f}  reference {:.4f}  ratio {:.2f}'.format(
            'TF32' if tf32 else 'FP32', a, b, a / b))
    print('  SVC step: ours {:.4f}  reference {:.4f}'.format(
        statistics.median(svc['ours']), statistics.median(svc['reference'])))


if __name__ == '__main__':
    main()
