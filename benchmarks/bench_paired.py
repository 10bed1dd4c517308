#!/usr/bin/env python
"""Our training step against the PyTorch reference, paired in one run.

Alternates ``benchmarks/torch_reference.py``, the same networks and update
in PyTorch (run with ``--reference-python``, a Python that has PyTorch;
PyTorch is not a dependency of this project), and
``benchmarks/bench_train.py`` (run with this Python), round after round, so
that both see the same machine load, and prints the median seconds per
iteration of each and their ratio. On a GPU each round also runs both with
TF32 matrix products (``CUPY_TF32=1`` / ``--tf32``). Both time SVC with the
Gram-matrix method in float64.
How to set up the two Pythons: docs/speed.md.

    python benchmarks/bench_paired.py [--reference-python .venv-torch/bin/python] \\
        [--gpu 0] [--batch 32] [--rounds 2] [--warmup 1] [--iters 2]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
INSTALL = ('python3 -m venv .venv-torch && .venv-torch/bin/pip install torch==2.13.0, '
           'then pass --reference-python .venv-torch/bin/python')


def fail(message):
    sys.stderr.write('error: {}\n'.format(message))
    sys.exit(2)


def check_reference_python(python):
    """One ``error:`` line unless ``python`` runs and imports torch."""
    if shutil.which(python) is None:
        fail('--reference-python {}: no such Python; give a Python that has PyTorch ({})'.format(
            python, INSTALL))
    found = subprocess.run([python, '-c', 'import torch'], capture_output=True)
    if found.returncode:
        fail('the PyTorch reference needs PyTorch, which {} cannot import: install it in a '
             'separate virtual environment ({})'.format(python, INSTALL))


def run(command, json_path, env=None):
    """Run a benchmark; its numbers from the JSON file it writes."""
    result = subprocess.run(command, capture_output=True, text=True,
                            env=dict(os.environ, **(env or {})))
    if result.returncode:
        last = (result.stderr.strip().splitlines() or [''])[-1]
        if last.startswith('error: '):  # a refusal of the benchmark: its one line
            fail(last[len('error: '):])
        fail('{} failed:\n{}'.format(' '.join(command), result.stderr[-2000:]))
    with open(json_path) as f:
        return json.load(f)


def ours(args, tf32, json_path):
    return run([sys.executable, os.path.join(HERE, 'bench_train.py'), '--gpu', str(args.gpu),
                '--batch', str(args.batch), '--warmup', str(args.warmup),
                '--iters', str(args.iters), '--svc-reps', '3', '--json', json_path],
               json_path, {'CUPY_TF32': '1' if tf32 else '0'})


def reference(args, tf32, json_path):
    device = 'cuda:{}'.format(args.gpu) if args.gpu >= 0 else 'cpu'
    return run([args.reference_python, args.reference, '--device', device,
                '--batch', str(args.batch), '--warmup', str(args.warmup),
                '--iters', str(args.iters), '--svc', 'gram', '--svc-reps', '3',
                '--json', json_path] + (['--tf32'] if tf32 else []), json_path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--reference-python', default=sys.executable,
                   help='a Python with PyTorch (default: this one)')
    p.add_argument('--reference', default=os.path.join(HERE, 'torch_reference.py'),
                   help='the reference script (default: benchmarks/torch_reference.py)')
    p.add_argument('--gpu', type=int, default=-1)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--iters', type=int, default=2)
    args = p.parse_args()
    if not os.path.isfile(args.reference):
        fail('reference {} not found: pass --reference PATH'.format(args.reference))
    check_reference_python(args.reference_python)

    modes = [False, True] if args.gpu >= 0 else [False]
    times = {(impl, tf32): [] for impl in ('ours', 'reference') for tf32 in modes}
    svc = {impl: [] for impl in ('ours', 'reference')}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for tf32 in modes:
                for impl, fn in (('reference', reference), ('ours', ours)):
                    result = fn(args, tf32, os.path.join(tmp, '{}{}{}.json'.format(impl, tf32, r)))
                    t, s = result['seconds_per_iteration'], result['seconds_per_svc']
                    if impl == 'reference' and r == 0 and not tf32:
                        print('reference: torch {} on {}'.format(result['torch'], result['device']))
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
