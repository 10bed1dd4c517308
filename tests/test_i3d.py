"""I3D: loads the layout of i3d_pretrained_400.pt (a file of that layout with
random weights, written here in torch.save's format) key by key, computes
TensorFlow's 'SAME' padding, the Inception modules and the time-averaged
logits, and refuses wrong files and inputs with one line."""
import hashlib
import os
import shutil
import tempfile
import unittest

import numpy

import models  # noqa: F401  (compat before chainer)
import chainer
from models.i3d import EPS_TF_HUB, EPS_VIDEOGPT, I3D, load_i3d, max_pool_same, torch_keys
from runtime.errors import UsageError
from pt_writer import write_pt
from test_gpu import cupy

# The published state dict (pytorch-i3d's InceptionI3d with 400 classes): each
# unit's (input channels, output channels, kernel); the Inception modules'
# input channels and their branches' outputs (b0, b1a, b1b, b2a, b2b, b3b).
STEM = {'Conv3d_1a_7x7': (3, 64, 7), 'Conv3d_2b_1x1': (64, 64, 1),
        'Conv3d_2c_3x3': (64, 192, 3)}
INCEPTION = {'Mixed_3b': (192, (64, 96, 128, 16, 32, 32)),
             'Mixed_3c': (256, (128, 128, 192, 32, 96, 64)),
             'Mixed_4b': (480, (192, 96, 208, 16, 48, 64)),
             'Mixed_4c': (512, (160, 112, 224, 24, 64, 64)),
             'Mixed_4d': (512, (128, 128, 256, 24, 64, 64)),
             'Mixed_4e': (512, (112, 144, 288, 32, 64, 64)),
             'Mixed_4f': (528, (256, 160, 320, 32, 128, 128)),
             'Mixed_5b': (832, (256, 160, 320, 32, 128, 128)),
             'Mixed_5c': (832, (384, 192, 384, 48, 128, 128))}
BN_KEYS = ('weight', 'bias', 'running_mean', 'running_var')


def published_layout():
    """{key: shape} of i3d_pretrained_400.pt (without num_batches_tracked)."""
    units = dict(STEM)
    for name, (c_in, (c0, c1a, c1b, c2a, c2b, c3b)) in INCEPTION.items():
        units.update({name + '.b0': (c_in, c0, 1), name + '.b1a': (c_in, c1a, 1),
                      name + '.b1b': (c1a, c1b, 3), name + '.b2a': (c_in, c2a, 1),
                      name + '.b2b': (c2a, c2b, 3), name + '.b3b': (c_in, c3b, 1)})
    layout = {}
    for unit, (c_in, c_out, k) in units.items():
        layout[unit + '.conv3d.weight'] = (c_out, c_in, k, k, k)
        layout.update({unit + '.bn.' + key: (c_out,) for key in BN_KEYS})
    layout['logits.conv3d.weight'] = (400, 1024, 1, 1, 1)
    layout['logits.conv3d.bias'] = (400,)
    return layout


def random_state_dict(rng, layout):
    """Random weights of the published layout, He-scaled, with batch
    statistics such as a trained network has."""
    tensors = {}
    for key, shape in layout.items():
        if key.endswith('conv3d.weight'):
            fan_in = int(numpy.prod(shape[1:]))
            value = rng.standard_normal(shape, dtype=numpy.float32) * numpy.sqrt(2 / fan_in)
        elif key.endswith('running_var') or key.endswith('bn.weight'):
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.uniform(-0.2, 0.2, shape)
        tensors[key] = value.astype(numpy.float32)
        if key.endswith('running_var'):   # as torch.save of InceptionI3d().state_dict() has it
            tensors[key.replace('running_var', 'num_batches_tracked')] = numpy.array(
                0, numpy.int64)
    return tensors


def same_padded(x, ksize, stride, value):
    """x padded as TensorFlow's 'SAME' documents it: out = ceil(n / s), total
    padding max((out - 1) * s + k - n, 0), the smaller half before."""
    widths = [(0, 0), (0, 0)]
    for n, k, s in zip(x.shape[2:], ksize, stride):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        widths.append((total // 2, total - total // 2))
    return numpy.pad(x, widths, constant_values=value)


def windows(x, ksize, stride):
    """(N, C, out_t, out_h, out_w, kt, kh, kw) windows of a padded x."""
    view = numpy.lib.stride_tricks.sliding_window_view(x, ksize, axis=(2, 3, 4))
    return view[:, :, ::stride[0], ::stride[1], ::stride[2]]




def inference():
    return chainer.no_backprop_mode()


class TestI3D(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.path = os.path.join(cls.dir, 'i3d_pretrained_400.pt')
        cls.layout = published_layout()
        cls.tensors = random_state_dict(numpy.random.default_rng(0), cls.layout)
        write_pt(cls.path, cls.tensors, prefix='i3d_pretrained_400')
        cls.model, cls.sha256 = load_i3d(cls.path)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)
        del cls.model, cls.tensors

    def test_links_are_the_published_keys(self):
        keys = torch_keys(I3D())
        self.assertEqual(len(self.layout), 287)
        self.assertEqual(sorted(keys), sorted(self.layout))
        for key, (link, name) in keys.items():
            self.assertEqual(getattr(link, name).shape, self.layout[key], key)

    def test_every_tensor_lands_in_its_link(self):
        model = self.model
        for key, (link, name) in torch_keys(model).items():
            value = getattr(link, name)
            value = value.array if isinstance(value, chainer.Variable) else value
            numpy.testing.assert_array_equal(value, self.tensors[key], key)
        # the names, spelled out for a few
        numpy.testing.assert_array_equal(model.Mixed_5c.b3b.bn.avg_var,
                                         self.tensors['Mixed_5c.b3b.bn.running_var'])
        numpy.testing.assert_array_equal(model.Conv3d_1a_7x7.conv3d.W.array,
                                         self.tensors['Conv3d_1a_7x7.conv3d.weight'])
        numpy.testing.assert_array_equal(model.Mixed_4c.b1b.bn.gamma.array,
                                         self.tensors['Mixed_4c.b1b.bn.weight'])
        numpy.testing.assert_array_equal(model.logits.conv3d.b.array,
                                         self.tensors['logits.conv3d.bias'])
        with open(self.path, 'rb') as f:
            self.assertEqual(self.sha256, hashlib.sha256(f.read()).hexdigest())

    def test_layer_shapes(self):
        # each endpoint's (channels, T, H, W) for an 8-frame 64x64 clip
        expected = {'Conv3d_1a_7x7': (64, 4, 32, 32), 'MaxPool3d_2a_3x3': (64, 4, 16, 16),
                    'Conv3d_2b_1x1': (64, 4, 16, 16), 'Conv3d_2c_3x3': (192, 4, 16, 16),
                    'MaxPool3d_3a_3x3': (192, 4, 8, 8), 'Mixed_3b': (256, 4, 8, 8),
                    'Mixed_3c': (480, 4, 8, 8), 'MaxPool3d_4a_3x3': (480, 2, 4, 4),
                    'Mixed_4b': (512, 2, 4, 4), 'Mixed_4c': (512, 2, 4, 4),
                    'Mixed_4d': (512, 2, 4, 4), 'Mixed_4e': (528, 2, 4, 4),
                    'Mixed_4f': (832, 2, 4, 4), 'MaxPool3d_5a_2x2': (832, 1, 2, 2),
                    'Mixed_5b': (832, 1, 2, 2), 'Mixed_5c': (1024, 1, 2, 2)}
        x = numpy.random.RandomState(0).uniform(-1, 1, (2, 3, 8, 64, 64)).astype(numpy.float32)
        with inference():
            out = self.model(x, layers=list(expected))
        self.assertEqual(sorted(out), sorted(expected))
        for name, shape in expected.items():
            self.assertEqual(out[name].shape, (2,) + shape, name)
        self.assertGreater(float(out['Mixed_5c'].array.std()), 0)   # the signal goes through
        with inference():   # each clip of a batch gets its own activations, in order
            second = self.model(x[1:], layers=['Mixed_4b'])['Mixed_4b'].array
        numpy.testing.assert_array_equal(out['Mixed_4b'].array[1:], second)
        # the C3D-style call: layer_names, a tuple in that order
        model = I3D(layer_names=['Mixed_3b', 'Conv3d_1a_7x7'])
        with inference():
            mixed, conv = model(x)
        self.assertEqual((mixed.shape, conv.shape), ((2, 256, 4, 8, 8), (2, 64, 4, 32, 32)))

    def test_first_unit_is_tensorflows_same_convolution(self):
        # odd and even sizes: the padding is asymmetric (more after) where the stride is 2
        for shape in ((1, 3, 5, 9, 10), (2, 3, 4, 8, 7)):
            with self.subTest(shape=shape):
                x = numpy.random.RandomState(1).uniform(-1, 1, shape).astype(numpy.float32)
                with inference():
                    out = self.model(x, layers=['Conv3d_1a_7x7'])['Conv3d_1a_7x7'].array
                t = self.tensors
                W = t['Conv3d_1a_7x7.conv3d.weight'].astype(numpy.float64)
                h = numpy.einsum('ncxyzpqr,ocpqr->noxyz',
                                 windows(same_padded(x, (7,) * 3, (2,) * 3, 0), (7,) * 3,
                                         (2,) * 3), W)
                bn = {k: t['Conv3d_1a_7x7.bn.' + k][None, :, None, None, None]
                      for k in BN_KEYS}
                h = (h - bn['running_mean']) / numpy.sqrt(bn['running_var'] + EPS_TF_HUB)
                expected = numpy.maximum(h * bn['weight'] + bn['bias'], 0)
                self.assertEqual(out.shape, expected.shape)
                self.assertEqual(out.shape[2:], tuple(-(-n // 2) for n in shape[2:]))
                numpy.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)

    def test_max_pooling_never_picks_the_padding(self):
        # negative inputs: TensorFlow's 'SAME' max pool ignores the padded cells
        x = numpy.random.RandomState(2).uniform(-2, -1, (2, 3, 5, 8, 7)).astype(numpy.float32)
        for ksize, stride in (((1, 3, 3), (1, 2, 2)), ((3, 3, 3), (2, 2, 2)),
                              ((2, 2, 2), (2, 2, 2)), ((3, 3, 3), (1, 1, 1))):
            with self.subTest(ksize=ksize, stride=stride):
                out = max_pool_same(x, ksize, stride).array
                expected = windows(same_padded(x, ksize, stride, -numpy.inf), ksize,
                                   stride).max(axis=(5, 6, 7))
                numpy.testing.assert_array_equal(out, expected)

    def test_inception_module_concatenates_its_branches_in_order(self):
        x = numpy.random.RandomState(3).uniform(0, 1, (1, 192, 3, 5, 6)).astype(numpy.float32)
        m = self.model.Mixed_3b
        with inference():
            out = m(x).array
            branches = [m.b0(x), m.b1b(m.b1a(x)), m.b2b(m.b2a(x)),
                        m.b3b(max_pool_same(x, 3, 1))]
        numpy.testing.assert_array_equal(out, numpy.concatenate([b.array for b in branches], 1))
        self.assertEqual([b.shape[1] for b in branches], [64, 128, 32, 32])

    def test_logits_are_averaged_over_time(self):
        # Mixed_5c of a 32-frame 224x224 clip is 1024 x 4 x 7 x 7: three 2x7x7 windows
        h = numpy.random.RandomState(4).uniform(0, 1, (2, 1024, 4, 7, 7)).astype(numpy.float32)
        with inference():
            logits = self.model.logits_of(h).array
        pooled = numpy.stack([h[:, :, t:t + 2].mean(axis=(2, 3, 4)) for t in range(3)], 2)
        W = self.tensors['logits.conv3d.weight'][:, :, 0, 0, 0]
        expected = (numpy.einsum('oc,nct->not', W, pooled) +
                    self.tensors['logits.conv3d.bias'][None, :, None]).mean(axis=2)
        self.assertEqual(logits.shape, (2, 400))
        numpy.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)

    def test_smallest_clip_gives_400_logits(self):
        # the one run of the whole network: 9 frames of 193x193 end at 1 x 1
        x = numpy.random.RandomState(5).uniform(-1, 1, (1, 3, 9, 193, 193))
        with inference():
            out = self.model(x.astype(numpy.float32), layers=['Mixed_5c', 'logits'])
        self.assertEqual(out['Mixed_5c'].shape, (1, 1024, 2, 7, 7))
        self.assertEqual(out['logits'].shape, (1, 400))
        with inference():
            expected = self.model.logits_of(out['Mixed_5c']).array
        numpy.testing.assert_array_equal(out['logits'].array, expected)
        self.assertTrue(numpy.isfinite(out['logits'].array).all())
        self.assertGreater(float(out['logits'].array.std()), 0)

    def test_epsilon_of_batch_normalisation(self):
        model, _ = load_i3d(self.path, eps=EPS_VIDEOGPT)
        epsilons = {link.eps for _, link in model.namedlinks()
                    if isinstance(link, chainer.links.BatchNormalization)}
        self.assertEqual(epsilons, {EPS_VIDEOGPT})
        self.assertEqual({link.eps for _, link in self.model.namedlinks()
                          if isinstance(link, chainer.links.BatchNormalization)}, {1e-3})
        x = numpy.random.RandomState(6).uniform(-1, 1, (1, 3, 4, 16, 16)).astype(numpy.float32)
        with inference():
            a = model(x, layers=['Conv3d_2b_1x1'])['Conv3d_2b_1x1'].array
            b = self.model(x, layers=['Conv3d_2b_1x1'])['Conv3d_2b_1x1'].array
        self.assertFalse(numpy.allclose(a, b, rtol=1e-6, atol=0))

    def test_bad_clips(self):
        rng = numpy.random.RandomState(7)
        for x, words in (
                (rng.uniform(-1, 1, (3, 8, 64, 64)), 'I3D takes float32 RGB clips shaped'),
                (rng.uniform(-1, 1, (1, 1, 8, 64, 64)), 'I3D takes float32 RGB clips shaped'),
                (rng.uniform(-1, 1, (1, 3, 8, 224, 224)), 'logits need clips of at least 9 '
                                                          'frames of 193 to 224 pixels'),
                (rng.uniform(-1, 1, (1, 3, 16, 256, 256)), 'logits need clips'),
                (rng.uniform(0, 255, (1, 3, 16, 224, 224)), 'I3D takes values in [-1, 1]')):
            with self.subTest(words=words, shape=x.shape):
                with self.assertRaises(UsageError) as caught:
                    self.model(x.astype(numpy.float32), layers=['logits'])
                self.assertIn(words, str(caught.exception))
        with self.assertRaisesRegex(UsageError, 'takes float32'):
            self.model(rng.uniform(-1, 1, (1, 3, 9, 193, 193)), layers=['logits'])
        with self.assertRaisesRegex(UsageError, 'unknown I3D layer.*Logits.*choose from '
                                                'Conv3d_1a_7x7'):
            self.model(rng.uniform(-1, 1, (1, 3, 9, 193, 193)), layers=['Logits'])

    @unittest.skipIf(cupy is None, 'needs CuPy and a GPU')
    def test_gpu_gives_the_cpu_numbers(self):
        x = numpy.random.RandomState(8).uniform(-1, 1, (2, 3, 9, 193, 193))
        x = x.astype(numpy.float32)
        layers = ['MaxPool3d_2a_3x3', 'Mixed_4f', 'logits']
        model, _ = load_i3d(self.path)
        with inference():
            cpu = model(x, layers=layers)
            model.to_gpu()
            gpu = model(cupy.asarray(x), layers=layers)
        for name in layers:   # (cuDNN may convolve in TF32: about 3 digits)
            self.assertIsInstance(gpu[name].array, cupy.ndarray)
            numpy.testing.assert_allclose(cupy.asnumpy(gpu[name].array), cpu[name].array,
                                          rtol=1e-2, atol=1e-2 * float(abs(cpu[name].array).max()))


class TestI3DFileErrors(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, 'i3d_pretrained_400.pt')
        self.layout = published_layout()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def zeros(self, layout):
        return {key: numpy.zeros(shape, numpy.float32) for key, shape in layout.items()}

    def test_missing(self):
        with self.assertRaisesRegex(UsageError, r'nowhere\.pt not found: download '
                                                r'i3d_pretrained_400\.pt, the state dict'):
            load_i3d(os.path.join(self.dir, 'nowhere.pt'))

    def test_missing_and_unexpected_keys(self):
        tensors = self.zeros(self.layout)
        del tensors['Mixed_4d.b2b.bn.running_var'], tensors['logits.conv3d.bias']
        tensors['Mixed_6a.b0.conv3d.weight'] = numpy.zeros(1, numpy.float32)
        write_pt(self.path, tensors)
        with self.assertRaisesRegex(UsageError, r'is not the I3D state dict expected: missing '
                                                r'keys Mixed_4d\.b2b\.bn\.running_var, '
                                                r'logits\.conv3d\.bias; unexpected keys '
                                                r'Mixed_6a\.b0\.conv3d\.weight'):
            load_i3d(self.path)

    def test_the_600_class_file(self):
        # i3d_pretrained_600.pt (Kinetics-600) has the same keys, other shapes
        layout = dict(self.layout, **{'logits.conv3d.weight': (600, 1024, 1, 1, 1),
                                      'logits.conv3d.bias': (600,)})
        write_pt(self.path, self.zeros(layout))
        with self.assertRaisesRegex(UsageError, r'logits\.conv3d\.weight is float32 \(600, '
                                                r'1024, 1, 1, 1\) \(expected float \(400, 1024, '
                                                r'1, 1, 1\)\); logits\.conv3d\.bias is float32'):
            load_i3d(self.path)

    def test_tensor_of_integers(self):
        tensors = self.zeros(self.layout)
        tensors['Conv3d_2c_3x3.bn.running_mean'] = numpy.zeros(192, numpy.int64)
        write_pt(self.path, tensors)
        with self.assertRaisesRegex(UsageError, r'Conv3d_2c_3x3\.bn\.running_mean is int64'):
            load_i3d(self.path)

    def test_not_a_torch_file(self):
        with open(self.path, 'wb') as f:
            f.write(b'<html>Not Found</html>')
        with self.assertRaisesRegex(UsageError, 'i3d_pretrained_400.pt is not a zip archive'):
            load_i3d(self.path)


if __name__ == '__main__':
    unittest.main()
