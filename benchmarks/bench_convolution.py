"""Forward + backward time of ``functions.convolution`` vs Chainer's own
convolutions on the TGAN layer shapes (float32, CPU).

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_convolution.py``
Prints per shape the median time of ours and Chainer's and the speed-up,
and per group the speed-up of the summed times.
"""
import time

from runtime import blas_settings  # noqa: F401  (before numpy)
import numpy

from runtime import chainer_compat  # noqa: F401
import chainer
import chainer.functions as F

from functions.convolution import convolution, deconvolution

CONV3D = [((16, 1, 16, 32, 32), 32), ((16, 32, 8, 16, 16), 64),
          ((16, 64, 4, 8, 8), 128), ((16, 128, 2, 4, 4), 256)]
PAPER = [((32, 3, 16, 64, 64), 64), ((32, 64, 8, 32, 32), 128),
         ((32, 128, 4, 16, 16), 256), ((32, 256, 2, 8, 8), 512)]
DECONV2D = [((256, 128, 4, 4), 64, 4, 2, 1), ((256, 64, 8, 8), 32, 4, 2, 1),
            ((256, 32, 16, 16), 16, 4, 2, 1), ((256, 16, 32, 32), 1, 3, 1, 1)]
DECONV1D = [((16, 512, 1), 256, 4, 2, 1), ((16, 256, 2), 128, 4, 2, 1)]


def _median_ms(steps, budget_s=2.0, reps=5, min_reps=2):
    """Median times (ms) of the ``steps``, run alternately (so that load from
    other processes hits all alike) after one warm-up run each; at most
    ``reps`` rounds, fewer once ``budget_s`` is spent."""
    for step in steps:
        step()
    times = [[] for _ in steps]
    start = time.perf_counter()
    while len(times[0]) < reps and (len(times[0]) < min_reps or
                                    time.perf_counter() - start < budget_s):
        for step, ts in zip(steps, times):
            t0 = time.perf_counter()
            step()
            ts.append(time.perf_counter() - t0)
    return [1e3 * float(numpy.median(ts)) for ts in times]


def _forward_backward(fn, arrays):
    variables = [chainer.Variable(a) for a in arrays]

    def step():
        for v in variables:
            v.cleargrad()
        y = fn(*variables)
        y.grad = numpy.ones_like(y.array)
        y.backward()
    return step


def _row(label, ours, theirs, arrays):
    t_ours, t_theirs = _median_ms([_forward_backward(ours, arrays),
                                   _forward_backward(theirs, arrays)])
    print('{:44s} {:9.1f} {:9.1f} {:7.2f}x'.format(
        label, t_ours, t_theirs, t_theirs / t_ours), flush=True)
    return t_ours, t_theirs


def _group(title, rows):
    print('--', title)
    total_ours = total_theirs = 0.0
    for row in rows:
        t_ours, t_theirs = _row(*row)
        total_ours += t_ours
        total_theirs += t_theirs
    print('{:44s} {:9.1f} {:9.1f} {:7.2f}x'.format(
        '   total', total_ours, total_theirs, total_theirs / total_ours))


def _conv_rows(specs, rng):
    for shape, out in specs:
        x = rng.standard_normal(shape, dtype=numpy.float32)
        W = 0.05 * rng.standard_normal((out, shape[1], 4, 4, 4),
                                       dtype=numpy.float32)
        b = numpy.zeros(out, numpy.float32)
        yield ('conv3d k4s2p1 {} -> {}'.format(shape, out),
               lambda x, W, b: convolution(x, W, b, 2, 1),
               lambda x, W, b: F.convolution_nd(x, W, b, 2, 1), (x, W, b))


def _deconv_rows(specs, rng, reference):
    for shape, out, k, s, p in specs:
        x = rng.standard_normal(shape, dtype=numpy.float32)
        W = 0.05 * rng.standard_normal(
            (shape[1], out) + (k,) * (len(shape) - 2), dtype=numpy.float32)
        yield ('deconv{}d k{}s{}p{} {} -> {}'.format(
                   len(shape) - 2, k, s, p, shape, out),
               lambda x, W, s=s, p=p: deconvolution(x, W, None, s, p),
               lambda x, W, s=s, p=p: reference(x, W, None, s, p), (x, W))


def main():
    rng = numpy.random.default_rng(0)
    print('{:44s} {:>9s} {:>9s} {:>8s}'.format(
        'shape (forward + backward)', 'ours ms', 'chainer', 'speed-up'))
    _group('critic (batch 16)', _conv_rows(CONV3D, rng))
    _group('critic, paper size (batch 32)', _conv_rows(PAPER, rng))
    _group('image generator (N*T = 256 frames)',
           _deconv_rows(DECONV2D, rng, F.deconvolution_2d))
    _group('temporal generator',
           _deconv_rows(DECONV1D, rng, F.deconvolution_nd))


if __name__ == '__main__':
    main()
