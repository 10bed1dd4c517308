"""The PyTorch reference of the speed comparison (benchmarks/torch_reference.py,
docs/speed.md): it needs nothing of the project, says in one line when PyTorch
is missing, and, where PyTorch is installed, trains exactly as ours does.

PyTorch is not a dependency: the tests that need it are skipped without it
(run them with a Python that has both, docs/speed.md), and those of the
missing-PyTorch messages are skipped with it."""
import ast
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

import numpy

import updaters  # noqa: F401  (compat before chainer)
import chainer
from chainer.serializers import DictionarySerializer
from datasets import converter
from models import Critic, VideoGenerator
from updaters import SingularValueClipping, WGANUpdater

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, 'benchmarks', 'torch_reference.py')
PAIRED = os.path.join(ROOT, 'benchmarks', 'bench_paired.py')
HAVE_TORCH = importlib.util.find_spec('torch') is not None


def run(*command):
    return subprocess.run([sys.executable] + list(command), capture_output=True, text=True,
                          cwd=ROOT)


class TestWithoutTorch(unittest.TestCase):

    def test_reference_imports_only_the_standard_library_and_torch(self):
        """It runs with a Python that has PyTorch and nothing of ours."""
        with open(REFERENCE) as f:
            tree = ast.parse(f.read(), REFERENCE)
        imported = {alias.name.split('.')[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split('.')[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom)}
        self.assertIn('torch', imported)
        self.assertEqual(imported - {'torch'} - sys.stdlib_module_names, set())

    def assert_install_line(self, result):
        self.assertEqual(result.returncode, 2, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith('error: '), lines[0])
        self.assertIn('pip install torch==2.13.0', lines[0])

    @unittest.skipIf(HAVE_TORCH, 'PyTorch is installed here')
    def test_reference_without_torch_says_how_to_install_it(self):
        result = run(REFERENCE, '--batch', '1')
        self.assert_install_line(result)
        self.assertIn('cannot import', result.stderr)

    @unittest.skipIf(HAVE_TORCH, 'PyTorch is installed here')
    def test_paired_without_torch_says_how_to_install_it(self):
        result = run(PAIRED, '--reference-python', sys.executable)
        self.assert_install_line(result)
        self.assertIn('cannot import', result.stderr)
        self.assertIn('--reference-python', result.stderr)

    def test_paired_refuses_a_reference_python_that_does_not_exist(self):
        missing = os.path.join(tempfile.gettempdir(), 'no-such-dir', 'python')
        result = run(PAIRED, '--reference-python', missing)
        self.assert_install_line(result)
        self.assertIn('no such Python', result.stderr)


@unittest.skipUnless(HAVE_TORCH, 'PyTorch is not installed (it is optional: docs/speed.md)')
class TestReferenceRefusals(unittest.TestCase):

    def test_batch_of_one(self):
        result = run(REFERENCE, '--batch', '1')
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr.splitlines(), [
            "error: --batch 1: give at least 2 (with one video, G0's first batch normalisation "
            "sees one value per channel, which PyTorch refuses)"])

    def test_gpu_that_this_torch_does_not_see(self):
        import torch
        if torch.cuda.is_available():
            self.skipTest('this PyTorch sees a GPU')
        result = run(REFERENCE, '--device', 'cuda')
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn('sees no GPU', result.stderr)


def load_reference():
    spec = importlib.util.spec_from_file_location('torch_reference', REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chainer_arrays(link):
    """A link's parameters and persistent values as numpy arrays, by our
    npz names ('dc0/W', 'bn0/avg_var'; without BN's update counter N)."""
    serializer = DictionarySerializer()
    serializer.save(link)
    return {k: numpy.array(v) for k, v in serializer.target.items() if not k.endswith('/N')}


def torch_name(name):
    """Our npz name -> the reference's state_dict name ('dc0/W' -> 'dc0.weight')."""
    *path, leaf = name.split('/')
    return '.'.join(path + [{'W': 'weight', 'b': 'bias'}.get(leaf, leaf)])


@unittest.skipUnless(HAVE_TORCH, 'PyTorch is not installed (it is optional: docs/speed.md)')
class TestSameTrainingAsOurs(unittest.TestCase):

    def test_two_iterations_with_svc_give_our_weights(self):
        """From our weights, two iterations (the second followed by SVC) of
        both on the same latents and clips give the same weights, BN
        statistics and clipped singular values to float32 tolerance.
        RMSprop's eps is 1 here, not 1e-8: with 1e-8 a first step moves
        every weight by lr * sign(gradient), so the biases in front of a BN,
        whose gradient is 0 up to round-off, would move by +-10 lr in
        directions that round-off picks differently in each framework."""
        import torch
        reference = load_reference()
        numpy.random.seed(0)
        generator = VideoGenerator.from_config(8, 8, 16, 16, 1, {'ch': 16}, {'ch': 16})
        critic = Critic(1, 16, 16, ch=4)
        clips = [numpy.random.uniform(-1, 1, (1, 16, 16, 16)).astype(numpy.float32)
                 for _ in range(4)]
        their_generator = reference.VideoGenerator(8, 8, 16, 16, 1, temporal_ch=16, image_ch=16)
        their_critic = reference.Critic(1, 16, 16, ch=4)
        pairs = ((generator, their_generator), (critic, their_critic))
        before = [chainer_arrays(ours) for ours, _ in pairs]
        for (ours, theirs), arrays in zip(pairs, before):
            theirs.load_state_dict({torch_name(k): torch.from_numpy(v.copy())
                                    for k, v in arrays.items()}, strict=True)

        def rmsprop(link):
            optimizer = chainer.optimizers.RMSprop(lr=1e-2, eps=1.0)
            optimizer.setup(link)
            return optimizer
        updater = WGANUpdater(chainer.iterators.SerialIterator(clips, 4, shuffle=False),
                              rmsprop(generator), rmsprop(critic), SingularValueClipping(2),
                              seed=0, converter=converter)
        training = reference.WGANTraining(their_generator, their_critic, lr=1e-2, eps=1.0,
                                          svc_every=2)
        z_stream = numpy.random.RandomState(0)  # the updater's z0 stream (seed 0)
        x_real = torch.from_numpy(numpy.stack(clips))
        for _ in range(2):
            updater.update()
            z0 = z_stream.uniform(-1, 1, (4, 8)).astype(numpy.float32)
            training.update(torch.from_numpy(z0), x_real)

        tolerance = 1e-5
        for (ours, theirs), start in zip(pairs, before):
            theirs = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
            for name, array in chainer_arrays(ours).items():
                numpy.testing.assert_allclose(theirs[torch_name(name)], array, rtol=0,
                                              atol=tolerance, err_msg=name)
                if name.endswith('/W'):  # the comparison is not vacuous: every weight moved
                    self.assertGreater(abs(array - start[name]).max(), 100 * tolerance, name)
        for name, w in critic.namedparams():
            if w.ndim >= 2:
                self.assertLessEqual(numpy.linalg.norm(w.array.reshape(len(w.array), -1), 2),
                                     1 + 1e-5, name)
        # SVC had work to do: the initial weights had singular values well above 1
        initial = [numpy.linalg.norm(before[1][name.lstrip('/')].reshape(len(w.array), -1), 2)
                   for name, w in critic.namedparams() if w.ndim >= 2]
        self.assertGreater(max(initial), 1.1)

    def test_paired_run_prints_both_and_their_ratio(self):
        result = run(PAIRED, '--batch', '2', '--rounds', '1', '--warmup', '0', '--iters', '1')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('reference: torch ', result.stdout)
        self.assertRegex(result.stdout, r'FP32: ours \d+\.\d+  reference \d+\.\d+  ratio \d')


if __name__ == '__main__':
    unittest.main()
