"""The GPU path (CuPy) gives the CPU path's numbers: our convolutions, SVC,
one training step, and train.py end to end. Skipped where CuPy or a GPU is
missing (CI); run on a GPU machine with
``python -m unittest discover -s tests -p test_gpu.py``."""
import itertools
import os
import shutil
import subprocess
import sys
import unittest

import numpy

from runtime import chainer_compat  # noqa: F401
import chainer

import configs
import models
from datasets import to_float

from functions import choice
from functions.batch_normalization import batch_normalization
from functions.convolution import convolution, deconvolution
from updaters import SingularValueClipping, WGANUpdater
from updaters.svc import clip_singular_values, singular_value_clipping

from test_functions_choice import assert_same_step, training_step
from test_train import ROOT, model_arrays, tiny_config
from test_updater import params, run, tiny_setup


def _gpu():
    try:
        import cupy
        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # no CuPy, no driver or no device: all mean "no GPU here"
        return None


cupy = _gpu()


@unittest.skipIf(cupy is None, 'needs CuPy and a GPU')
class TestGPU(unittest.TestCase):

    def test_convolutions_match_cpu(self):
        rng = numpy.random.default_rng(0)
        # the TGAN layers' geometries (kernel, stride, pad) in 1, 2 and 3 dimensions
        for ndim, (k, s, p), transpose in itertools.product(
                (1, 2, 3), [(4, 2, 1), (4, 1, 0), (3, 1, 1)], (False, True)):
            x = rng.standard_normal((3, 5) + (6,) * ndim, dtype=numpy.float32)
            W = rng.standard_normal(((5, 4) if transpose else (4, 5)) + (k,) * ndim,
                                    dtype=numpy.float32)
            b = rng.standard_normal(4, dtype=numpy.float32)
            gy_seed = int(rng.integers(2 ** 31))
            fn = deconvolution if transpose else convolution
            results = []
            for xp in (numpy, cupy):
                inputs = [chainer.Variable(xp.asarray(a)) for a in (x, W, b)]
                y = fn(*inputs, stride=s, pad=p)
                gy = numpy.random.RandomState(gy_seed).standard_normal(y.shape)
                y.grad = xp.asarray(gy.astype(numpy.float32))
                y.backward()
                results.append([chainer.backend.CpuDevice().send(a) for a in
                                [y.array] + [v.grad for v in inputs]])
            with self.subTest(ndim=ndim, k=k, s=s, p=p, transpose=transpose):
                for cpu, gpu in zip(*results):
                    numpy.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-4)

    def test_batch_normalization_matches_cpu(self):
        rng = numpy.random.RandomState(0)
        x, gy = (rng.randn(6, 4, 3, 5, 7).astype(numpy.float32) for _ in range(2))
        gamma, beta = (rng.randn(4).astype(numpy.float32) for _ in range(2))
        results = []
        for xp in (numpy, cupy):
            inputs = [chainer.Variable(xp.asarray(a)) for a in (x, gamma, beta)]
            running = [xp.zeros(4, numpy.float32), xp.ones(4, numpy.float32)]
            y = batch_normalization(*inputs, 2e-5, *running)
            y.grad = xp.asarray(gy)
            y.backward()
            results.append([chainer.backend.CpuDevice().send(a) for a in
                            [y.array] + [v.grad for v in inputs] + running])
        for cpu, gpu in zip(*results):
            numpy.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-5)

    def test_svc_matches_cpu(self):
        rng = numpy.random.RandomState(0)
        for shape in [(64, 192), (128, 4096), (1, 512), (300, 20)]:
            w = (rng.randn(*shape) * 0.3).astype(numpy.float32)
            gpu = clip_singular_values(cupy.asarray(w))
            self.assertIsInstance(gpu, cupy.ndarray)
            numpy.testing.assert_allclose(cupy.asnumpy(gpu), clip_singular_values(w),
                                          rtol=0, atol=2e-6, err_msg=str(shape))

    def test_training_steps_match_cpu(self):
        """Three updates with SVC after the second, from the same initial
        weights and data: the GPU run changes every weight array as the CPU
        run does, to float32 noise."""
        results = []
        for device in ('@numpy', '@cupy:0'):
            updater, gen, critic = tiny_setup(WGANUpdater, SingularValueClipping(2),
                                              device=device)
            initial = {'gen': params(gen), 'critic': params(critic)}
            # RMSprop's first steps are lr * g / |g|: a near-zero gradient's
            # float32 rounding would flip them. With eps 1 a step is ~ lr * g.
            for optimizer in updater.get_all_optimizers().values():
                optimizer.hyperparam.eps, optimizer.hyperparam.lr = 1.0, 0.1
            observations = run(updater, 3)
            results.append((observations, initial, {'gen': params(gen),
                                                     'critic': params(critic)}))
        (obs_cpu, initial, cpu), (obs_gpu, _, gpu) = results
        self.assertIsInstance(gpu['critic']['/c0/W'], cupy.ndarray)
        for a, b in zip(obs_cpu, obs_gpu):
            for key in ('loss_gen', 'loss_dis'):
                self.assertAlmostEqual(a[key], b[key], delta=1e-3 * max(1, abs(a[key])))
        for net in cpu:
            for name, w_cpu in cpu[net].items():
                # measured against the training's change of the array: some
                # gradients (a BN beta's, summed with cancellations) carry a
                # few percent of float32 rounding after three steps, while a
                # wrong GPU computation differs by the whole change
                change = numpy.linalg.norm(w_cpu - initial[net][name])
                error = numpy.linalg.norm(cupy.asnumpy(gpu[net][name]) - w_cpu)
                self.assertLessEqual(error, 0.1 * change + 1e-6, (net, name, error, change))

    def test_functions_choice_gives_the_same_step(self):
        """On the GPU too, one training step with Chainer's functions (cuDNN
        where CuPy has it) gives the weights of one with ours. Some cuDNN
        algorithms round to TF32 on recent GPUs: the difference may be up
        to 5% of each weight's change, where a wrong computation differs by
        the whole change."""
        fast, theirs = (training_step(functions, '@cupy:0')
                        for functions in (choice.FAST, choice.CHAINER))
        self.assertIsInstance(fast[1]['critic']['/c0/W'], cupy.ndarray)
        assert_same_step(self, fast, theirs, share=0.05, loss_delta=1e-3, to_numpy=cupy.asnumpy)

    def test_uint8_clips_scale_on_the_gpu_as_on_the_cpu(self):
        clips = numpy.random.RandomState(0).randint(0, 256, (4, 3, 16, 8, 8)).astype(numpy.uint8)
        on_gpu = to_float(cupy.asarray(clips[:, :, ::2]))
        self.assertIsInstance(on_gpu, cupy.ndarray)
        self.assertEqual(on_gpu.dtype, numpy.float32)
        numpy.testing.assert_array_equal(cupy.asnumpy(on_gpu), to_float(clips[:, :, ::2]))

    def test_svc_of_a_gpu_critic(self):
        updater, gen, critic = tiny_setup(WGANUpdater, SingularValueClipping(1),
                                          device='@cupy:0')
        for link in critic.links():
            if hasattr(link, 'W'):
                link.W.array *= 10
        singular_value_clipping(critic)
        for name, param in critic.namedparams():
            if name.endswith('/W') and param.ndim > 1:
                w = cupy.asnumpy(param.array).reshape(param.shape[0], -1)
                self.assertLessEqual(numpy.linalg.norm(w.astype(numpy.float64), 2), 1 + 1e-4)

    def test_new_generators_and_conditional_critic_match_cpu(self):
        """The conditional TGAN (its critic's label shortcut included), frame
        interpolation and the two baselines give the CPU's videos and scores."""
        config = configs.load('synthetic_svc', {
            'size': 16, 'frames': 8, 'temporal_generator.ch': 16, 'image_generator.ch': 16,
            'generator_3d.ch': 16, 'video_gan.ch': 16, 'critic.ch': 8})
        for kind, n_classes, factor in [('tgan', 3, 2), ('3d', 0, 1), ('video_gan', 0, 1)]:
            c = dict(config, generator=kind, n_classes=n_classes)
            numpy.random.seed(0)
            gen, critic = models.build_generator(c), models.build_critic(c)
            z = gen.make_hidden(4, numpy.random.RandomState(1))
            labels = numpy.eye(n_classes, dtype=numpy.float32)[[0, 2, 1, 2]] if n_classes \
                else None
            results = []
            for xp, device in ((numpy, '@numpy'), (cupy, '@cupy:0')):
                gen.to_device(device)
                critic.to_device(device)
                cond = None if labels is None else xp.asarray(labels)
                with chainer.using_config('train', False), chainer.no_backprop_mode():
                    video = gen(xp.asarray(z), cond, **({'frame_factor': factor}
                                                        if factor > 1 else {}))
                    score = critic(video[:, :, :8], condition=cond)
                results.append([chainer.backend.CpuDevice().send(a.array)
                                for a in (video, score)])
            for cpu, gpu in zip(*results):
                numpy.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-5, err_msg=kind)

    def test_train_script_on_gpu_resumes_exactly(self):
        directory, config = tiny_config()
        self.addCleanup(shutil.rmtree, directory)

        def train(*args):
            result = subprocess.run([sys.executable, 'train.py', '--gpu', '0', *args],
                                    cwd=ROOT, capture_output=True, text=True, timeout=600)
            self.assertEqual(result.returncode, 0, result.stderr)

        straight, resumed = (os.path.join(directory, name) for name in ('straight', 'resumed'))
        train('--config', config, '--iterations', '6', '--out', straight)
        train('--config', config, '--iterations', '3', '--out', resumed)
        train('--resume', resumed, '--iterations', '6')
        self.assertTrue(os.path.isfile(os.path.join(straight, 'preview/iter_00000006.gif')))
        a, b = model_arrays(straight, 6), model_arrays(resumed, 6)
        for key in a:
            # cuBLAS may pick different kernels across processes: not bitwise
            numpy.testing.assert_allclose(a[key], b[key], rtol=1e-4, atol=1e-5, err_msg=key)


if __name__ == '__main__':
    unittest.main()
