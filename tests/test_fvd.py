"""FVD: the protocols' preprocessing on known inputs, the choice of clips,
the distance on a small stand-in feature network, and bad input."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy

import evaluation  # noqa: F401  (compat before chainer)
import chainer
import cv2

from runtime.errors import UsageError
from evaluation import video_sets
from evaluation.metrics import fvd
from test_train import ROOT


class StandIn(chainer.Link):
    """A small fixed network with I3D's calling convention: 8 'logits' from
    the frame means of its (N, 3, 16, 224, 224) input in [-1, 1]."""

    def __init__(self):
        super().__init__()
        self.w = numpy.random.RandomState(0).normal(size=(3 * fvd.FRAMES * 4, 8))
        self.inputs = []

    def __call__(self, x, layers):
        self.inputs.append(x)
        n, c, t, h, w = x.shape
        quarters = x.reshape(n, c, t, 2, h // 2, 2, w // 2).mean(axis=(4, 6))
        return {'logits': numpy.tanh(quarters.reshape(n, -1) @ self.w)}


def videos(n, t=16, h=64, w=64, seed=0, c=3):
    return numpy.random.RandomState(seed).randint(0, 256, (n, t, h, w, c)).astype(numpy.uint8)


def statistics(net, array, protocol, real=False):
    sets = video_sets.ArrayVideos(array, 'test')
    return fvd.statistics(net, fvd.clips(sets, len(array), protocol, 0, real), protocol)[:2]


class TestPreprocessing(unittest.TestCase):

    def test_resize_is_bilinear_with_half_pixel_centres(self):
        # OpenCV's INTER_LINEAR on float32 maps pixels as PyTorch's
        # interpolate(bilinear, align_corners=False) does (no antialiasing)
        rng = numpy.random.RandomState(1)
        for h, w, rows, cols in ((64, 64, 224, 224), (64, 85, 224, 298), (240, 320, 224, 299),
                                 (300, 500, 224, 224)):
            frame = rng.uniform(0, 1, (h, w)).astype(numpy.float32)
            expected = cv2.resize(frame, (cols, rows), interpolation=cv2.INTER_LINEAR)
            numpy.testing.assert_allclose(fvd.resize(frame, rows, cols), expected, atol=2e-6)

    def test_videogpt_shorter_side_to_224_then_centre_crop(self):
        protocol = fvd.PROTOCOLS['videogpt']
        x = videos(2, h=64, w=85)
        out = fvd.preprocess(x, protocol)
        self.assertEqual(out.shape, (2, 3, 16, 224, 224))
        self.assertEqual(out.dtype, numpy.float32)
        # 64x85 -> 224 x ceil(85 * 3.5) = 224x298, columns 37:261 kept
        frame = x[1, 5, :, :, 2].astype(numpy.float32) / 255
        full = cv2.resize(frame, (298, 224), interpolation=cv2.INTER_LINEAR)
        numpy.testing.assert_allclose(out[1, 2, 5], (full[:, 37:261] - 0.5) * 2, atol=5e-6)
        # a portrait video: the width becomes 224 and the rows are cropped
        tall = fvd.preprocess(videos(1, h=90, w=60), protocol)
        self.assertEqual(tall.shape, (1, 3, 16, 224, 224))

    def test_values_to_minus_one_one(self):
        for protocol in fvd.PROTOCOLS.values():
            for value, expected in ((0, -1.0), (255, 1.0), (51, 51 / 255 * 2 - 1)):
                x = numpy.full((1, 16, 32, 48, 3), value, numpy.uint8)
                numpy.testing.assert_allclose(fvd.preprocess(x, protocol), expected, atol=1e-6)

    def test_stylegan_v_resizes_straight_to_224_and_repeats_grey(self):
        protocol = fvd.PROTOCOLS['stylegan-v']
        grey = videos(1, h=64, w=85, c=1)
        out = fvd.preprocess(grey, protocol)
        self.assertEqual(out.shape, (1, 3, 16, 224, 224))
        frame = grey[0, 3, :, :, 0].astype(numpy.float32) / 255
        expected = cv2.resize(frame, (224, 224), interpolation=cv2.INTER_LINEAR)
        for c in range(3):
            numpy.testing.assert_allclose(out[0, c, 3], (expected - 0.5) * 2, atol=5e-6)

    def test_generator_output_to_uint8(self):
        x = numpy.array([-1.5, -1.0, -0.5, 0.0, 0.999, 1.0, 1.2], numpy.float32)
        # DIGAN: (clamp(x) + 1) / 2 * 255, truncated
        numpy.testing.assert_array_equal(fvd.videogpt_uint8(x), [0, 0, 63, 127, 254, 255, 255])
        # StyleGAN-V: clamp(x * 127.5 + 128, 0, 255), truncated
        numpy.testing.assert_array_equal(fvd.stylegan_v_uint8(x), [0, 0, 64, 128, 255, 255, 255])


class TestClips(unittest.TestCase):

    def setUp(self):
        # video i has value i in every pixel; frame j of it adds j to channel 1
        n, t = 6, 20
        self.array = numpy.zeros((n, t, 4, 4, 3), numpy.uint8)
        self.array += numpy.arange(n, dtype=numpy.uint8)[:, None, None, None, None]
        self.array[..., 1] += numpy.arange(t, dtype=numpy.uint8)[None, :, None, None]
        self.set = video_sets.ArrayVideos(self.array, 'test')

    def chosen(self, protocol, n, real, seed=0):
        batches = list(fvd.clips(self.set, n, protocol, seed, real, batchsize=4))
        return numpy.concatenate(batches)

    def test_generated_videos_are_the_first_n_and_their_first_16_frames(self):
        for protocol in fvd.PROTOCOLS.values():
            out = self.chosen(protocol, 4, real=False)
            numpy.testing.assert_array_equal(out, self.array[:4, :16])

    def test_stylegan_v_real_clips_first_videos_random_offsets(self):
        out = self.chosen(fvd.PROTOCOLS['stylegan-v'], 5, real=True)
        numpy.testing.assert_array_equal(out[:, 0, 0, 0, 0], [0, 1, 2, 3, 4])
        offsets = out[:, 0, 0, 0, 1] - out[:, 0, 0, 0, 0]
        for video, offset in zip(out, offsets):
            self.assertLessEqual(offset, 4)
            numpy.testing.assert_array_equal(video[:, 0, 0, 1] - video[0, 0, 0, 0],
                                             numpy.arange(offset, offset + 16))

    def test_videogpt_real_clips_at_random_without_replacement(self):
        out = self.chosen(fvd.PROTOCOLS['videogpt'], 6, real=True)
        self.assertEqual(sorted(out[:, 0, 0, 0, 0]), list(range(6)))
        self.assertNotEqual(list(out[:, 0, 0, 0, 0]), list(range(6)))  # seed 0 shuffles
        again = self.chosen(fvd.PROTOCOLS['videogpt'], 6, real=True)
        numpy.testing.assert_array_equal(out, again)

    def test_store_videos_whole_frames_in_sorted_order(self):
        from test_ucf101 import write_store
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        write_store(folder, [(20, 0), (10, 1), (16, 1)])  # paths ..._c00, _c01, _c02
        store = video_sets.open_videos(folder, ('train',), min_frames=16)
        self.assertEqual(len(store), 2)  # the 10-frame clip is left out
        first, second = store.video(0), store.video(1)
        self.assertEqual((first.shape, second.shape), ((20, 64, 85, 3), (16, 64, 85, 3)))
        numpy.testing.assert_array_equal(first[:, 0, 0, 2], numpy.arange(20))
        numpy.testing.assert_array_equal(first[0, 0, :, 0], numpy.arange(85))
        out = numpy.concatenate(list(fvd.clips(store, 5, fvd.PROTOCOLS['stylegan-v'], 0)))
        self.assertEqual(out.shape, (2, 16, 64, 85, 3))
        self.assertLessEqual(out[0, 0, 0, 0, 2], 4)  # a random offset within 20 frames
        with self.assertRaisesRegex(UsageError, 'no subset test'):
            video_sets.open_videos(folder, ('train', 'test'))

    def test_at_most_all_videos(self):
        self.assertEqual(len(self.chosen(fvd.PROTOCOLS['videogpt'], 100, real=True)), 6)


class TestDistance(unittest.TestCase):

    def setUp(self):
        self.net = StandIn()
        self.a, self.b = videos(6, h=16, w=16, seed=1), videos(6, h=16, w=16, seed=2) // 2

    def test_a_set_against_itself_is_zero(self):
        for protocol in fvd.PROTOCOLS.values():
            a = statistics(self.net, self.a, protocol)
            self.assertAlmostEqual(fvd.fvd(a, a), 0.0, places=8)

    def test_symmetric_and_positive(self):
        protocol = fvd.PROTOCOLS['videogpt']
        a, b = statistics(self.net, self.a, protocol), statistics(self.net, self.b, protocol)
        self.assertGreater(fvd.fvd(a, b), 0.1)
        self.assertAlmostEqual(fvd.fvd(a, b), fvd.fvd(b, a), places=8)

    def test_network_sees_its_input(self):
        protocol = fvd.PROTOCOLS['stylegan-v']._replace(batchsize=4)
        statistics(self.net, self.a, protocol)
        self.assertEqual([len(x) for x in self.net.inputs], [4, 2])
        self.assertEqual(self.net.inputs[0].shape[1:], (3, 16, 224, 224))
        self.assertLessEqual(abs(self.net.inputs[0]).max(), 1.0)


class TestBadInput(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_videos_of_the_wrong_shape_or_type(self):
        for array, words in ((numpy.zeros((2, 16, 8, 8), numpy.uint8), 'must be an array (N, T, H, W, 3)'),
                             (numpy.zeros((2, 16, 8, 8, 4), numpy.uint8), 'must be an array (N, T, H, W, 3)'),
                             (numpy.zeros((2, 16, 8, 8, 3), numpy.float32), 'must be uint8'),
                             (numpy.zeros((2, 15, 8, 8, 3), numpy.uint8), 'these have 15')):
            with self.subTest(words=words), self.assertRaisesRegex(UsageError, re.escape(words)):
                fvd.check_videos(array, 'x')

    def test_unknown_protocol(self):
        with self.assertRaisesRegex(UsageError, "unknown FVD protocol 'tats'"):
            fvd.protocol_named('tats')

    def test_files_that_are_not_video_arrays(self):
        two = os.path.join(self.dir, 'two.npz')
        numpy.savez(two, a=numpy.zeros(1), b=numpy.zeros(1))
        objects = os.path.join(self.dir, 'objects.npy')
        numpy.save(objects, numpy.array([{}, None]), allow_pickle=True)
        text = os.path.join(self.dir, 'page.npy')
        with open(text, 'w') as f:
            f.write('<html>')
        for path, words in ((two, 'holds 2 arrays'), (objects, 'not a readable .npy/.npz array'),
                            (text, 'not a readable .npy/.npz array'),
                            (os.path.join(self.dir, 'none.npy'), 'no such file'),
                            (self.dir, 'a folder without index.json')):
            with self.subTest(words=words), self.assertRaisesRegex(UsageError, words):
                video_sets.open_videos(path)


class TestCommandBadInput(unittest.TestCase):
    """python -m evaluation.fvd and evaluate.py --metric fvd refuse bad input in
    one line, before any network is loaded (no I3D file is needed here)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.good = self.save('good.npy', videos(3, h=8, w=8))

    def tearDown(self):
        shutil.rmtree(self.dir)

    def save(self, name, array):
        path = os.path.join(self.dir, name)
        numpy.save(path, array)
        return path

    def usage(self, words, *argv):
        from evaluation import fvd as command
        with self.assertRaisesRegex(UsageError, re.escape(words)):
            command.main(list(argv) + ['--i3d', os.path.join(self.dir, 'none.pt')])

    def test_arrays_that_are_not_videos(self):
        for array, words in (
                (numpy.zeros((3, 16, 8, 8), numpy.uint8), 'must be an array (N, T, H, W, 3)'),
                (numpy.zeros((3, 16, 8, 8, 3), numpy.float32), 'must be uint8'),
                (numpy.zeros((3, 8, 8, 8, 3), numpy.uint8),
                 'FVD reads 16 frames per video, these have 8'),
                (numpy.zeros((1, 16, 8, 8, 3), numpy.uint8),
                 'the Fréchet distance needs at least 2')):
            bad = self.save('bad.npy', array)
            with self.subTest(words=words):
                self.usage(words, '--real', self.good, '--fake', bad)
                self.usage(words, '--real', bad, '--fake', self.good)

    def test_files_and_options(self):
        two = os.path.join(self.dir, 'two.npz')
        numpy.savez(two, a=videos(2), b=videos(2))
        self.usage('holds 2 arrays', '--real', two, '--fake', self.good)
        self.usage('not a readable .npy/.npz array', '--real', __file__, '--fake', self.good)
        self.usage('a folder without index.json', '--real', self.dir, '--fake', self.good)
        self.usage("unknown FVD protocol 'tats'", '--real', self.good, '--fake', self.good,
                   '--protocol', 'tats')
        self.usage('--n must be at least 1', '--real', self.good, '--fake', self.good,
                   '--n', '0')

    def test_evaluate_options(self):
        import evaluate
        for argv, words in (
                (['--dataset', 'synthetic', '--metric', 'fvd'],
                 '--metric fvd needs --i3d i3d_pretrained_400.pt'),
                (['--dataset', 'synthetic', '--metric', 'fvd', '--protocol', 'tgan2'],
                 '--protocol tgan2: not a protocol of --metric fvd')):
            with self.subTest(words=words), self.assertRaisesRegex(UsageError, re.escape(words)):
                evaluate.main(argv)


class TestCommand(unittest.TestCase):
    """python -m evaluation.fvd end to end: tiny arrays, an I3D file of the
    published layout with random weights, written in torch.save's format."""

    @classmethod
    def setUpClass(cls):
        from pt_writer import write_pt
        from test_i3d import published_layout, random_state_dict
        cls.dir = tempfile.mkdtemp()
        cls.i3d = os.path.join(cls.dir, 'i3d_pretrained_400.pt')
        write_pt(cls.i3d, random_state_dict(numpy.random.default_rng(0), published_layout()),
                 prefix='i3d_pretrained_400')
        cls.real = os.path.join(cls.dir, 'real.npy')
        numpy.save(cls.real, videos(3, t=18, h=24, w=32, seed=1))
        cls.fake = os.path.join(cls.dir, 'fake.npz')
        numpy.savez(cls.fake, samples=videos(2, h=24, w=32, seed=2) // 2)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def run_command(self, *argv):
        return subprocess.run([sys.executable, '-m', 'evaluation.fvd', *argv], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)

    def test_arrays_scored_recorded_and_real_statistics_cached(self):
        record, stats = os.path.join(self.dir, 'fvd.json'), os.path.join(self.dir, 'stats')
        argv = ['--real', self.real, '--fake', self.fake, '--i3d', self.i3d, '--json', record,
                '--stats-dir', stats]
        done = self.run_command(*argv)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout, r'FVD \(videogpt protocol, 3 real / 2 generated videos\): '
                                      r'\d+\.\d\d')
        self.assertIn('saved to', done.stdout)
        self.assertIn("warning: 3 real videos, fewer than the videogpt protocol's 2048",
                      done.stderr)
        with open(record) as f:
            rec = json.load(f)
        with open(self.i3d, 'rb') as f:
            self.assertEqual(rec['i3d']['sha256'], hashlib.sha256(f.read()).hexdigest())
        self.assertEqual((rec['real']['videos'], rec['fake']['videos']), (3, 2))
        self.assertEqual(rec['protocol'], 'videogpt')
        self.assertEqual(len(rec['warnings']), 2)
        self.assertGreater(rec['fvd'], 0)
        # again: the real statistics are read back, the number repeats
        again = self.run_command(*argv)
        self.assertIn('read from', again.stdout)
        with open(record) as f:
            self.assertAlmostEqual(json.load(f)['fvd'], rec['fvd'], places=6)

    def test_evaluate_inception_score_and_fvd_in_one_run(self):
        import configs
        import evaluate
        import models
        from evaluation import train_classifier
        from test_evaluate import TINY, quietly
        from test_train import tiny_config
        folder, config = tiny_config(TINY)
        self.addCleanup(shutil.rmtree, folder)
        result = os.path.join(folder, 'run')
        os.makedirs(result)
        configs.save(configs.load(config), os.path.join(result, 'config.yaml'))
        numpy.random.seed(0)
        for name, link in models.build_generator(configs.load(config)).parts().items():
            chainer.serializers.save_npz(os.path.join(result, name + '_iter_3.npz'), link)
        classifier = os.path.join(folder, 'classifier.npz')
        quietly(train_classifier.main, ['--config', config, '--out', classifier, '--iterations',
                                        '2', '--ch', '4', '--val-clips', '8', '--batchsize', '8'])
        out = quietly(evaluate.main, [
            '--result', result, '--metric', 'is', 'fvd', '--classifier', classifier,
            '--i3d', self.i3d, '--protocol', 'stylegan-v', '--n-samples', '3', '--runs', '2',
            '--real-samples', '3', '--stats-dir', os.path.join(folder, 'stats')])
        self.assertRegex(out, r'Inception Score \(offline protocol, 3 videos x 2 runs\)')
        self.assertRegex(out, r'FVD \(stylegan-v protocol, 3 videos x 2 runs, to synthetic\): '
                              r'\d+\.\d\d ± \d+\.\d\d')
        self.assertIn('> run iter 3', out)
        self.assertIn('TGANv2 (Saito et al. 2020)', out)
        with open(os.path.join(result, 'evaluation_iter_3_offline+stylegan-v.json')) as f:
            rec = json.load(f)
        self.assertEqual(rec['protocol']['name'], 'offline')
        self.assertEqual([r['seed'] for r in rec['fvd']['runs']], [0, 1])
        self.assertEqual(rec['fvd']['protocol']['name'], 'stylegan-v')
        self.assertEqual(list(rec['fvd']['weights']), [self.i3d])
        fvds = [r['fvd'] for r in rec['fvd']['runs']]
        self.assertAlmostEqual(rec['fvd']['mean'], numpy.mean(fvds))
        self.assertTrue(all(v > 0 for v in fvds))


if __name__ == '__main__':
    unittest.main()
