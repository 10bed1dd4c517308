#!/usr/bin/env python
"""The main job on a GPU, checked in one run (docs/speed.md, "Checking a GPU").

    bash benchmarks/gpu_check.sh [--cpu]    # installs what the machine lacks, then runs:
    python benchmarks/gpu_check.py [--cpu] [--out DIR] [--reference-python PYTHON]

Four steps, each under its own time limit, so that one stuck command cannot
eat the run (on a GPU the limits add up to under 7 minutes). Every check
prints PASS, FAIL or SKIP with its numbers; one summary table ends the run and
is also written to DIR/gpu_check.md (DIR: --out, else $OUT when set, else
results/gpu_check), beside gpu_check.log, the output of every command run.

1. tests: ``tests/test_gpu.py`` and the quick modules of the suite;
2. the main job: a UCF-101 store prepared by ``datasets.prepare_ucf101`` from
   generated .avi files in the official layout, ``train.py --dataset ucf101
   --gpu 0`` to a snapshot, ``--resume`` to a later iteration,
   ``evaluate.py`` with a C3D file of random weights in the published layout
   and ``generate.py`` (GIF and H.264 MP4), every output read back and checked;
3. one training step (updates of both networks, then SVC) from the same
   weights and batch on the CPU and on the GPU: every array after it agrees
   to the tolerance of ``tests/test_gpu.py``;
4. speed: the UCF-101 loading rate with all cores, ``bench_paired.py``
   against the PyTorch reference at the paper configuration in FP32 and
   TF32, the SVC share and peak GPU memory (step 3's memory pool).

``--cpu`` runs the same steps on the CPU at tiny sizes, leaving out the GPU
tests, TF32 and GPU memory; step 3 then compares the step with our functions
and with Chainer's own (``functions: fast | chainer``, functions/choice.py),
to the same tolerance. The speed comparison is SKIP where the reference
Python (``.venv-torch/bin/python`` where it exists, else this one) cannot
import torch. Exit status 1 when a check failed.

The other subcommands are the helpers the steps run in their own processes.
They import Chainer; the orchestrating process does not, so that it reports
even on a machine where Chainer does not import.
"""
import argparse
import glob
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from runtime import blas_settings  # noqa: E402,F401  (before numpy)
import numpy  # noqa: E402
from runtime.npz import read_arrays  # noqa: E402

# the suite's modules that take seconds: kernels, SVC, the updater, models, data, generate.py
QUICK_TESTS = ['test_compat', 'test_fast_convolution', 'test_batch_normalization',
               'test_leaky_relu', 'test_svc', 'test_updater', 'test_models', 'test_ucf101',
               'test_generate']
# the paper's network at 16x16 with tiny widths (as in tests/test_train.py), batch 4
TINY = {'size': 16, 'z0_dim': 8, 'z1_dim': 8, 'temporal_generator.ch': 16,
        'image_generator.ch': 16, 'critic.ch': 4, 'batchsize': 4, 'svc_every': 2,
        'preview_videos': 4}
MODES = {
    # seconds per step 1-4: on an H100 or H200 the whole run must fit in 7 minutes
    'gpu': {'gpu': 0, 'budgets': (100, 140, 45, 110), 'network': {},
            'clips': 33, 'frames': 24, 'iterations': (200, 300), 'snapshot': 100,
            'display': 50, 'samples': 96, 'videos': 16, 'loading_batches': 20,
            'paired': ['--rounds', '2', '--warmup', '2', '--iters', '5']},
    # the CPU steps take ~2 minutes on 2 cores: the limits leave room for a loaded machine
    'cpu': {'gpu': -1, 'budgets': (180, 300, 90, 180), 'network': TINY,
            'clips': 5, 'frames': 20, 'iterations': (4, 6), 'snapshot': 2,
            'display': 2, 'samples': 2, 'videos': 4, 'loading_batches': 5,
            'paired': ['--batch', '2', '--rounds', '1', '--warmup', '0', '--iters', '1']},
}
# tests/test_gpu.py's tolerance for training on two devices: each array's difference
# at most this fraction of the step's change of it (+ 1e-6); losses to 1e-3
STEP_TOLERANCE, LOSS_TOLERANCE = 0.1, 1e-3


class Failed(Exception):
    """A check failed; the message says why."""


class Skipped(Exception):
    """A check did not run; the message says why."""


class Report:
    """The rows of the run: printed as they come, one table at the end."""

    def __init__(self, log):
        self.rows, self.log, self.start = [], log, time.monotonic()

    def add(self, step, check, status, numbers, seconds):
        numbers = ' '.join(numbers.split()).replace('|', '/')
        self.rows.append((step, check, status, numbers, seconds))
        print('{} {} {}: {} ({:.1f} s)'.format(status, step, check, numbers, seconds),
              flush=True)

    def failed(self):
        return any(row[2] == 'FAIL' for row in self.rows)

    def table(self, title):
        counts = {s: sum(row[2] == s for row in self.rows) for s in ('PASS', 'FAIL', 'SKIP')}
        return '\n'.join(
            [title, '', '| step | check | result | numbers | seconds |', '|---|---|---|---|---|']
            + ['| {} | {} | {} | {} | {:.1f} |'.format(*row) for row in self.rows]
            + ['', '{PASS} passed, {FAIL} failed, {SKIP} skipped'.format(**counts)
               + ' in {:.0f} s'.format(time.monotonic() - self.start), ''])


class Step:
    """One step's checks under one time limit. A check that fails or is
    skipped makes the checks that need its result SKIP."""

    def __init__(self, report, number, seconds):
        self.report, self.number = report, number
        self.deadline = time.monotonic() + seconds
        self.results = {}

    def check(self, name, fn, needs=()):
        """Run ``fn()`` -> (numbers, result) as the check ``name``; returns the result."""
        start = time.monotonic()
        try:
            missing = [n for n in needs if self.results.get(n) is None]
            if missing:
                raise Skipped('needs {}'.format(', '.join(missing)))
            numbers, self.results[name] = fn()
            status = 'PASS'
        except Skipped as e:
            status, numbers = 'SKIP', str(e)
        except Failed as e:
            status, numbers = 'FAIL', str(e)
        except Exception as e:  # a broken output (a key missing...): the row says what
            status, numbers = 'FAIL', '{}: {}'.format(type(e).__name__, e)
        self.report.add(self.number, name, status, numbers, time.monotonic() - start)
        return self.results.get(name)

    def run(self, command, env=None):
        """Run ``command`` in the repository root within the step's time left:
        (stdout, stderr), or Failed with the last line of its errors."""
        left = self.deadline - time.monotonic()
        if left < 1:
            raise Failed("the step's time limit was spent before {}".format(
                command_name(command)))
        start = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, **(env or {})),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=left)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # and its children: loaders, tests
            stdout, stderr = process.communicate()
            timed_out = True
        self.report.log.write('$ {}\n(exit {}, {:.1f} s)\n{}\n{}\n'.format(
            ' '.join(command), process.returncode, time.monotonic() - start,
            stdout[-20000:], stderr[-20000:]))
        self.report.log.flush()
        if timed_out:
            raise Failed("timed out: {} ran past the step's limit ({:.0f} s)".format(
                command_name(command), left))
        if process.returncode:
            why = [line for line in stderr.splitlines() if line.strip()] or ['no output']
            # unittest's "FAIL: test_x (module.Class.test_x)" lines: which tests
            failed = [line.split()[1] for line in stderr.splitlines()
                      if line.startswith(('FAIL: ', 'ERROR: ')) and len(line.split()) > 1]
            raise Failed('{} exited with {}: {}{}'.format(
                command_name(command), process.returncode, why[-1][-300:],
                ' ({})'.format(', '.join(failed[:5])[:300]) if failed else ''))
        return stdout, stderr


def command_name(command):
    """What a row calls a command: its script, module or helper."""
    program, args = os.path.basename(command[0]), command[1:]
    if not args:
        return program
    if args[0] in ('-m', '-c'):
        return ' '.join([program] + args[:2 if args[0] == '-m' else 1])
    if args[0] == __file__:
        return 'gpu_check.py ' + args[1]
    return os.path.basename(args[0])


# ---------------------------------------------------------------- step 1

def step_tests(step, python, gpu):
    """The GPU tests (all of them must run) and the quick modules of the suite."""
    def unittest(modules, none_skipped):
        _, stderr = step.run([python, '-m', 'unittest'] + modules, {
            'PYTHONPATH': os.pathsep.join(filter(None, [os.path.join(ROOT, 'tests'),
                                                        os.environ.get('PYTHONPATH')]))})
        ran = int(re.search(r'^Ran (\d+) test', stderr, re.M).group(1))
        skipped = re.search(r'skipped=(\d+)', stderr)
        skipped = int(skipped.group(1)) if skipped else 0
        if none_skipped and skipped:
            raise Failed('{} of {} tests skipped: CuPy or the GPU is not usable'.format(
                skipped, ran))
        return '{} tests passed, {} skipped'.format(ran - skipped, skipped), ran

    if gpu:
        step.check('tests/test_gpu.py', lambda: unittest(['test_gpu'], True))
    step.check('quick tests ({} modules)'.format(len(QUICK_TESTS)),
               lambda: unittest(QUICK_TESTS, False))


# ---------------------------------------------------------------- step 2

def step_main_job(step, python, mode, work):
    """Prepare, train, resume, evaluate, generate; returns the store and the
    clips per second that training took from it (each None if not known)."""
    device = ['--gpu', str(mode['gpu'])]
    store, run = os.path.join(work, 'ucf101_64'), os.path.join(work, 'run')
    first, last = mode['iterations']
    overrides = dict(mode['network'], display_interval=mode['display'],
                     snapshot_interval=mode['snapshot'], preview_interval=mode['snapshot'])
    sets = [a for k, v in overrides.items() for a in ('--set', '{}={}'.format(k, v))]

    def prepare():
        step.run([python, __file__, 'videos', work, '--clips', str(mode['clips']),
                  '--frames', str(mode['frames'])])
        start = time.monotonic()
        step.run([python, '-m', 'datasets.prepare_ucf101',
                  '--videos', os.path.join(work, 'UCF-101'),
                  '--splits', os.path.join(work, 'ucfTrainTestlist'),
                  '--out', store, '--workers', str(os.cpu_count())])
        seconds = time.monotonic() - start
        with open(os.path.join(store, 'index.json')) as f:
            index = json.load(f)
        train, test = (index['subsets'][s] for s in ('train', 'test'))
        found = (len(train['clips']), train['frames'], len(test['clips']), test['frames'])
        expected = (mode['clips'] - 1, (mode['clips'] - 1) * mode['frames'], 1, mode['frames'])
        if found != expected or index['skipped']:
            raise Failed('the store holds (train clips, frames, test clips, frames) {}, '
                         'expected {}; skipped: {}'.format(found, expected, index['skipped']))
        return ('{} train clips of {} frames, {}x{}, decoded and stored in {:.1f} s by {} '
                'workers'.format(found[0], mode['frames'], index['rows'], index['cols'],
                                 seconds, os.cpu_count()), store)

    def train():
        stdout, _ = step.run([python, 'train.py', '--dataset', 'ucf101', '--data', store,
                              '--iterations', str(first), '--out', run] + device + sets)
        expect_in(stdout, 'finished at iteration {}'.format(first))
        log = read_log(run, first, mode['display'])
        if not any('time_svc' in entry for entry in log):
            raise Failed('{}: no SVC step logged'.format(os.path.join(run, 'log')))
        snapshots = list(range(mode['snapshot'], first + 1, mode['snapshot']))
        for i in snapshots:
            expect_file(os.path.join(run, 'snapshot_iter_{}.npz'.format(i)))
        config = read_config(run)
        stem = os.path.join(run, 'preview', 'iter_{:08d}'.format(first))
        expect_strips(stem + '.png', config['preview_videos'], config['frames'])
        expect_gif(stem + '.gif', config['frames'], None)
        return ('{} iterations, {:.3f} s/iteration, loss_dis {:.3g}, snapshots at {}, '
                'previews of {} videos x {} frames'.format(
                    first, seconds_per_iteration(log), log[-1]['loss_dis'], snapshots,
                    config['preview_videos'], config['frames']),
                config['batchsize'] / seconds_per_iteration(log))

    def resume():
        before = model_arrays(run, first)
        stdout, _ = step.run([python, 'train.py', '--resume', run, '--iterations', str(last)]
                             + device)
        expect_in(stdout, 'resumed from {} at iteration {}'.format(
            os.path.join(run, 'snapshot_iter_{}.npz'.format(first)), first))
        expect_in(stdout, 'finished at iteration {}'.format(last))
        log = read_log(run, last, mode['display'])
        after = model_arrays(run, last)
        weights = [k for k in before if k.endswith('/W')]
        unchanged = [k for k in weights if numpy.array_equal(before[k], after[k])]
        broken = [k for k, a in after.items() if not numpy.isfinite(a).all()]
        if unchanged or broken or not weights:
            raise Failed('from iteration {} to {}: unchanged weights {}, not finite {}'.format(
                first, last, unchanged, broken))
        return ('continued at iteration {} to {}, {:.3f} s/iteration, all {} weight arrays '
                'changed'.format(first, last, seconds_per_iteration(log), len(weights)), True)

    def evaluate():
        c3d, mean = (os.path.join(work, name) for name in ('conv3d_deepnetA_ucf.npz',
                                                           'mean2.npz'))
        step.run([python, __file__, 'c3d', c3d, mean])
        record = os.path.join(work, 'evaluation.json')
        stdout, _ = step.run([python, 'evaluate.py', '--result', run, '--c3d', c3d,
                              '--mean', mean, '--n-samples', str(mode['samples']),
                              '--runs', '1', '--json', record] + device)
        expect_in(stdout, 'Inception Score')
        with open(record) as f:
            rec = json.load(f)
        score = rec['inception_score']['mean']
        if not (math.isfinite(score) and 1 - 1e-4 <= score <= 101):
            raise Failed('{}: Inception Score {} is not within [1, 101]'.format(record, score))
        expect_value('iteration in ' + record, rec['iteration'], last)
        expect_value('a CuPy device in ' + record, 'cupy' in rec['device'], mode['gpu'] >= 0)
        return 'IS {:.6f} of {} videos on {}, JSON record written'.format(
            score, mode['samples'], rec['device']), True

    def generate():
        written = []
        for ext, expect in (('.gif', expect_gif), ('.mp4', expect_mp4)):
            out = os.path.join(work, 'samples' + ext)
            stdout, _ = step.run([python, 'generate.py', '--result', run, '--n',
                                  str(mode['videos']), '--out', out] + device)
            m = re.search(r'wrote .*: (\d+) videos of (\d+) frames of \d+x\d+ \(iteration '
                          r'(\d+)\), (\d+)x(\d+) pixels', stdout)
            if m is None:
                raise Failed('generate.py printed no "wrote" line: {}'.format(stdout[-200:]))
            n, frames, iteration, width, height = map(int, m.groups())
            expect_value('videos', n, mode['videos'])
            expect_value('iteration', iteration, last)
            expect(out, frames, (width, height))
            written.append(ext[1:].upper())
        return '{} videos of {} frames in a {}x{} {}'.format(
            n, frames, width, height, ' and '.join(written)), True

    step.check('prepare_ucf101', prepare)
    step.check('train.py', train, needs=['prepare_ucf101'])
    step.check('train.py --resume', resume, needs=['train.py'])
    step.check('evaluate.py, random C3D', evaluate, needs=['train.py --resume'])
    step.check('generate.py', generate, needs=['train.py --resume'])
    return step.results.get('prepare_ucf101'), step.results.get('train.py')


def expect_in(text, fragment):
    if fragment not in text:
        raise Failed('expected "{}" in the output, which ends: {}'.format(
            fragment, text.strip()[-200:]))


def expect_value(what, found, expected):
    if found != expected:
        raise Failed('{}: found {}, expected {}'.format(what, found, expected))


def expect_file(path):
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise Failed('{} was not written'.format(path))


def expect_gif(path, frames, size=None):
    """``path`` is a GIF (of ``size`` pixels) with at most ``frames`` frames:
    the writer merges a frame that repeats the one before."""
    from PIL import Image
    expect_file(path)
    with Image.open(path) as gif:
        if gif.format != 'GIF' or size not in (None, gif.size) or \
                not 1 <= gif.n_frames <= frames:
            raise Failed('{}: a {} of {} pixels and {} frames, expected a GIF of {} pixels '
                         'and up to {} frames'.format(path, gif.format, gif.size, gif.n_frames,
                                                      size, frames))


def expect_mp4(path, frames, size):
    """``path`` is an H.264 MP4 of ``frames`` frames of ``size`` pixels, decoded back."""
    import av
    expect_file(path)
    with av.open(path) as container:
        stream = container.streams.video[0]
        found = (stream.codec_context.name, sum(1 for _ in container.decode(stream)),
                 (stream.codec_context.width, stream.codec_context.height))
    if found != ('h264', frames, size):
        raise Failed('{}: (codec, frames decoded, size) {}, expected {}'.format(
            path, found, ('h264', frames, size)))


def expect_strips(path, videos, frames):
    """``path`` is a PNG of ``videos`` rows of ``frames`` square frames; returns its size."""
    from PIL import Image
    expect_file(path)
    with Image.open(path) as png:
        width, height = png.size
    side = height // videos
    if png.format != 'PNG' or (width, height) != (frames * side, videos * side):
        raise Failed('{}: {}x{} pixels, not {} rows of {} square frames'.format(
            path, width, height, videos, frames))
    return width, height


def read_config(run):
    import yaml
    with open(os.path.join(run, 'config.yaml')) as f:
        return yaml.safe_load(f)


def read_log(run, last, interval):
    """The run's log: an entry every ``interval`` iterations up to ``last``,
    with finite losses."""
    with open(os.path.join(run, 'log')) as f:
        log = json.load(f)
    expect_value(os.path.join(run, 'log') + ' iterations', [e['iteration'] for e in log],
                 list(range(interval, last + 1, interval)))
    if not all(math.isfinite(e[k]) for e in log for k in ('loss_gen', 'loss_dis')):
        raise Failed('{}: a loss is not finite'.format(os.path.join(run, 'log')))
    return log


def seconds_per_iteration(log):
    """Between the last two log entries (a resumed run's elapsed time goes on)."""
    if len(log) < 2:
        return log[-1]['elapsed_time'] / log[-1]['iteration']
    a, b = log[-2], log[-1]
    return (b['elapsed_time'] - a['elapsed_time']) / (b['iteration'] - a['iteration'])


def model_arrays(run, iteration):
    """The arrays of the networks' files ``<network>_iter_<iteration>.npz``."""
    arrays, suffix = {}, '_iter_{}.npz'.format(iteration)
    for path in glob.glob(os.path.join(glob.escape(run), '*' + suffix)):
        network = os.path.basename(path)[:-len(suffix)]
        if network != 'snapshot':
            arrays.update((network + '/' + k, v) for k, v in read_arrays(path).items())
    if not arrays:
        raise Failed('no model files *_iter_{}.npz in {}'.format(iteration, run))
    return arrays


# ---------------------------------------------------------------- step 3

def step_one_step(step, python, mode, store, work):
    """One training step on two sides from the same weights and batch;
    returns the GPU side's memory pool in bytes (None on the CPU)."""
    if mode['gpu'] >= 0:  # (label, device, config overrides)
        sides = [('CPU', '@numpy', {}), ('GPU', '@cupy:{}'.format(mode['gpu']), {})]
    else:
        sides = [("Chainer's functions", '@numpy', {'functions': 'chainer'}),
                 ('ours', '@numpy', {'functions': 'fast'})]

    def compare():
        if store is None:
            raise Skipped("needs step 2's UCF-101 store")
        results = []
        for label, device, overrides in sides:
            path = os.path.join(work, 'step_{}.npz'.format(len(results)))
            step.run([python, __file__, 'one-step', '--device', device, '--data', store,
                      '--config', json.dumps(dict(mode['network'], **overrides)),
                      '--out', path])
            results.append(read_arrays(path))
        worst, name = compare_steps(*results)
        return ('{} arrays agree after the step; the closest to its limit ({} x change + '
                '1e-6), {}, at {:.1%} of it; loss_dis {:.6g} and {:.6g}'.format(
                    sum(k.startswith('initial/') for k in results[0]), STEP_TOLERANCE, name,
                    worst, results[0]['loss_dis'], results[1]['loss_dis'])), results[1]['memory']

    memory = step.check('one step, {} against {}'.format(sides[1][0], sides[0][0]), compare)
    return int(memory) if memory else None


def compare_steps(a, b):
    """(fraction, array): the array whose difference after one step on two
    sides, which started from the same arrays, uses most of its tolerance,
    and how much; Failed beyond it."""
    worst = (0.0, None)
    for key in (k for k in a if k.startswith('initial/')):
        name = key[len('initial/'):]
        if not numpy.array_equal(a[key], b[key]):
            raise Failed('{}: the two sides did not start from the same weights'.format(name))
        change = numpy.linalg.norm(a['after/' + name] - a[key])
        error = numpy.linalg.norm(b['after/' + name] - a['after/' + name])
        if not error <= STEP_TOLERANCE * change + 1e-6:
            raise Failed('{}: the sides differ by {:.3g} after a change of {:.3g}'.format(
                name, error, change))
        fraction = error / (STEP_TOLERANCE * change + 1e-6)
        if fraction >= worst[0]:
            worst = (fraction, name)
    for loss in ('loss_gen', 'loss_dis'):
        if abs(a[loss] - b[loss]) > LOSS_TOLERANCE * max(1, abs(a[loss])):
            raise Failed('{}: {} and {}'.format(loss, a[loss], b[loss]))
    return worst


# ---------------------------------------------------------------- step 4

def step_speed(step, python, reference_python, mode, store, consumed, memory):
    """UCF-101 loading rate, the paired benchmark, SVC share, GPU memory."""
    gpu = mode['gpu'] >= 0

    def paired():
        probe = 'import torch; assert {} or torch.cuda.is_available()'.format(not gpu)
        if subprocess.run([reference_python, '-c', probe], capture_output=True).returncode:
            raise Skipped('{} cannot import torch{}, which the PyTorch reference '
                          'needs'.format(os.path.relpath(reference_python, ROOT)
                                         if reference_python.startswith(ROOT + os.sep)
                                         else reference_python, ' with CUDA' if gpu else ''))
        stdout, _ = step.run([python, os.path.join(HERE, 'bench_paired.py'),
                              '--reference-python', reference_python,
                              '--gpu', str(mode['gpu'])] + mode['paired'])
        times = {m.group(1): tuple(map(float, m.group(2, 3, 4))) for m in re.finditer(
            r'(FP32|TF32): ours ([\d.]+)\s+reference ([\d.]+)\s+ratio ([\d.]+)', stdout)}
        svc = re.search(r'SVC step: ours ([\d.]+)\s+reference ([\d.]+)', stdout)
        if 'FP32' not in times or (gpu and 'TF32' not in times) or svc is None:
            raise Failed('bench_paired.py printed no summary: {}'.format(stdout[-300:]))
        return ('; '.join('{}: ours {:.4f} s/iteration, reference {:.4f}, ratio {:.2f}'.format(
            m, *times[m]) for m in sorted(times)), (times, tuple(map(float, svc.groups()))))

    def svc_share():
        times, (ours, reference) = step.results['paired benchmark']
        share = ours / 5 / times['FP32'][0]  # SVC every 5 iterations (paper §4)
        return ('SVC step: ours {:.4f} s ({:.1%} of an FP32 iteration at every 5), '
                'reference {:.4f} s'.format(ours, share, reference)), share

    def gpu_memory():
        if memory is None:
            raise Skipped("needs step 3's GPU step")
        return ('{:.2f} GiB in the memory pool after one step at the paper configuration '
                '(step 3)'.format(memory / 2 ** 30), memory)

    def loading():
        if store is None:
            raise Skipped("needs step 2's UCF-101 store")
        stdout, _ = step.run([python, __file__, 'loading', '--data', store, '--processes',
                              str(os.cpu_count()), '--batches', str(mode['loading_batches'])])
        rates = json.loads(stdout.splitlines()[-1])
        text = '{:.0f} clips/s with {} loader processes, {:.0f} with none'.format(
            rates['parallel'], os.cpu_count(), rates['serial'])
        if consumed:
            text += "; step 2's train.py took {:.0f} clips/s".format(consumed)
        return text, rates

    step.check('UCF-101 loading', loading)
    step.check('paired benchmark', paired)
    step.check('SVC share', svc_share, needs=['paired benchmark'])
    if gpu:
        step.check('peak GPU memory', gpu_memory)


# ---------------------------------------------------------------- the run

def check(args):
    mode = MODES['cpu' if args.cpu else 'gpu']
    torch_venv = os.path.join(ROOT, '.venv-torch', 'bin', 'python')  # docs/speed.md
    python, reference = sys.executable, args.reference_python or (
        torch_venv if os.path.exists(torch_venv) else sys.executable)
    out = args.out or os.environ.get('OUT') or os.path.join(ROOT, 'results', 'gpu_check')
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix='gpu_check_')
    log_path = os.path.join(out, 'gpu_check.log')
    machine = None
    with open(log_path, 'w') as log:
        report = Report(log)
        try:
            budgets = iter(mode['budgets'])
            step = Step(report, 1, next(budgets))
            machine = step.check('machine', lambda: describe_machine(step, python, args.cpu))
            if machine is None:
                step.report.add(1, 'the other checks', 'SKIP', 'need the machine check', 0)
            else:
                step_tests(step, python, not args.cpu)
                store, consumed = step_main_job(Step(report, 2, next(budgets)), python, mode,
                                                work)
                memory = step_one_step(Step(report, 3, next(budgets)), python, mode, store,
                                       work)
                step_speed(Step(report, 4, next(budgets)), python, reference, mode, store,
                           consumed, memory)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        table = report.table('gpu_check{} on {}'.format(
            ' --cpu' if args.cpu else '', '{gpu}, {cores} cores'.format(**machine) if machine
            else 'an unknown machine'))
    print('\n' + table, end='')
    with open(os.path.join(out, 'gpu_check.md'), 'w') as f:
        f.write(table)
    print('table: {}; output of every command: {}'.format(
        os.path.join(out, 'gpu_check.md'), log_path))
    return 1 if report.failed() else 0


def describe_machine(step, python, cpu):
    stdout, _ = step.run([python, __file__, 'describe'])
    info = json.loads(stdout)
    if not cpu and not info['gpu']:
        raise Failed('no usable GPU: CuPy {}'.format(info['cupy']))
    return ', '.join('{} {}'.format(k, v) for k, v in info.items() if v), dict(
        info, gpu=info['gpu'] or 'no GPU')


# ---------------------------------------------------------------- helpers (own processes)

def project():
    """Chainer's compatibility settings, before a helper imports Chainer."""
    from runtime import chainer_compat  # noqa: F401


def describe(args):
    """Versions, cores and GPU, as one JSON line."""
    info = {'python': platform.python_version(), 'cores': os.cpu_count()}
    project()
    for name in ('numpy', 'chainer', 'cupy', 'torch', 'cv2', 'av'):
        try:
            info[name] = __import__(name).__version__
        except Exception as e:  # missing or broken: said in the row
            info[name] = 'not importable ({})'.format(type(e).__name__)
    info['gpu'] = None
    if 'not importable' not in info['cupy']:
        try:
            import cupy
            props = cupy.cuda.runtime.getDeviceProperties(0)
            info['gpu'] = props['name'].decode()
            info['gpu memory'] = '{:.0f} GiB'.format(props['totalGlobalMem'] / 2 ** 30)
            info['cuda'] = cupy.cuda.runtime.runtimeGetVersion()
        except Exception as e:  # no driver or no device
            info['cupy'] += ', no GPU ({}: {})'.format(type(e).__name__, str(e)[:100])
    print(json.dumps(info))


def videos(args):
    """Synthetic .avi files in UCF-101's official layout (benchmarks/bench_loading.py)."""
    project()
    import bench_loading
    bench_loading.make_ucf101(args.root, args.clips, args.frames)


def c3d(args):
    """A C3D file of random weights in the published layout and a flat mean clip."""
    project()
    from evaluation.metrics.inception_score import MEAN_SHAPE
    from models.c3d import C3D
    numpy.random.seed(0)
    model = C3D()
    for name, p in model.namedparams():  # He's scale: the signal survives to fc8,
        if name.endswith('/W'):         # whose small weights give soft probabilities
            p.array *= 0.01 if name == '/fc8/W' else numpy.sqrt(2)
    numpy.savez(args.c3d, **{name.lstrip('/'): p.array for name, p in model.namedparams()})
    numpy.savez(args.mean, mean=numpy.full(MEAN_SHAPE, 100, numpy.float32))


def one_step(args):
    """One update of both networks and SVC with the ``--config`` overrides
    of ucf101_svc (the paper's configuration where empty) on ``--device``;
    saves the arrays before and after, the losses and the GPU memory pool's
    size."""
    project()
    import chainer
    import configs
    import datasets
    import models
    import updaters
    config = configs.load('ucf101_svc', dict(json.loads(args.config), svc_every=1))
    dataset = datasets.make_dataset('ucf101', args.data, config['frames'], config['size'],
                                    config['channels'])
    batch = [dataset[i % len(dataset)] for i in range(config['batchsize'])]
    numpy.random.seed(0)
    generator, critic = models.build_generator(config), models.build_critic(config)
    device = chainer.get_device(args.device)
    generator.to_device(device)
    critic.to_device(device)
    updater = updaters.make_updater(
        config, chainer.iterators.SerialIterator(batch, len(batch), shuffle=False), generator,
        critic, device, seed=0, converter=datasets.converter)
    # as tests/test_gpu.py: RMSprop's first step is lr * g / |g|, which float32 rounding
    # of a near-zero gradient flips; with eps 1 a step is ~ lr * g
    for optimizer in updater.get_all_optimizers().values():
        optimizer.hyperparam.eps, optimizer.hyperparam.lr = 1.0, 0.1
    links = {'generator': generator, 'critic': critic}

    def arrays(prefix):  # copies: the update changes the arrays in place
        return {'{}/{}{}'.format(prefix, net, name):
                numpy.array(chainer.backend.CpuDevice().send(p.array))
                for net, link in links.items() for name, p in link.namedparams()}

    saved = arrays('initial')
    observation = {}
    with chainer.reporter.Reporter().scope(observation):
        updater.update()
    if 'time_svc' not in observation:
        sys.exit('error: the step ran no SVC')
    saved.update(arrays('after'))
    xp = device.xp
    memory = xp.get_default_memory_pool().total_bytes() if xp is not numpy else 0
    numpy.savez(args.out, memory=memory, **saved, **{
        k: float(observation[k].array if hasattr(observation[k], 'array') else observation[k])
        for k in ('loss_gen', 'loss_dis')})


def loading(args):
    """Clips per second of the UCF-101 store through train.py's iterator, by
    the main process and by ``--processes`` loaders, as one JSON line."""
    project()
    import bench_loading
    import datasets
    dataset = datasets.make_dataset('ucf101', args.data, 16, 64, 3)
    print(json.dumps({name: bench_loading.clips_per_second(dataset, processes, args.batch,
                                                           args.batches)
                      for name, processes in (('serial', 0), ('parallel', args.processes))}))


def missing_wheels(args):
    """The wheels of ``folder`` whose distribution this Python lacks (for
    setuptools: lacks pkg_resources, which setuptools >= 81 dropped)."""
    from importlib import metadata, util
    for path in sorted(glob.glob(os.path.join(glob.escape(args.folder), '*.whl'))):
        name = os.path.basename(path).split('-')[0]
        if name.lower() == 'setuptools':
            present = util.find_spec('pkg_resources') is not None
        else:
            try:
                metadata.distribution(name)
                present = True
            except metadata.PackageNotFoundError:
                present = False
        if not present:
            print(path)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--cpu', action='store_true', help='the steps on the CPU at tiny sizes')
    p.add_argument('--out', help='folder for gpu_check.md and gpu_check.log (default: $OUT, '
                                    'else results/gpu_check)')
    p.add_argument('--reference-python', help='a Python with PyTorch for the reference '
                                              '(default: .venv-torch/bin/python where it '
                                              'exists, else this one)')
    p.set_defaults(run=check)
    helpers = p.add_subparsers(title='helpers the steps run')
    h = helpers.add_parser('describe')
    h.set_defaults(run=describe)
    h = helpers.add_parser('videos')
    h.add_argument('root')
    h.add_argument('--clips', type=int, required=True)
    h.add_argument('--frames', type=int, required=True)
    h.set_defaults(run=videos)
    h = helpers.add_parser('c3d')
    h.add_argument('c3d')
    h.add_argument('mean')
    h.set_defaults(run=c3d)
    h = helpers.add_parser('one-step')
    h.add_argument('--device', required=True)
    h.add_argument('--data', required=True)
    h.add_argument('--config', default='{}', help='config overrides as JSON')
    h.add_argument('--out', required=True)
    h.set_defaults(run=one_step)
    h = helpers.add_parser('loading')
    h.add_argument('--data', required=True)
    h.add_argument('--processes', type=int, required=True)
    h.add_argument('--batch', type=int, default=32)
    h.add_argument('--batches', type=int, required=True)
    h.set_defaults(run=loading)
    h = helpers.add_parser('missing-wheels')
    h.add_argument('folder')
    h.set_defaults(run=missing_wheels)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return args.run(args)


if __name__ == '__main__':
    sys.exit(main())
