"""generate.py on tiny result folders (TGAN, conditional TGAN, the 3D baseline):
the three file formats, seeds, frame and latent interpolation, class names,
and its one-line errors."""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import av
import numpy

import evaluation  # noqa: F401  (compat before chainer)
import chainer
import cv2
import configs
import generate
import models
from runtime.errors import UsageError
from evaluation import generation
from media.video_files import frame_strips, to_uint8, video_grid, write_videos
from models.common import one_hot
from PIL import Image
from test_train import ROOT, TINY_NETWORK, one_error_line

# demo's default initialisation: an untrained G1 with the paper's Uniform(0.01)
# draws near-constant frames, in which nothing could be seen to change
TINY = 'base: demo\n' + TINY_NETWORK
T, H, W = 16, 16, 16
CLASSES = ['Square', 'Disc', 'Triangle', 'Cross']


def make_result(folder, text, classes=None):
    """A result folder as train.py leaves it: config.yaml + <part>_iter_3.npz."""
    os.makedirs(folder)
    with open(os.path.join(folder, 'tiny.yaml'), 'w') as f:
        f.write(text)
    config = configs.load(os.path.join(folder, 'tiny.yaml'))
    configs.save(config, os.path.join(folder, 'config.yaml'))
    numpy.random.seed(0)
    generator = models.build_generator(config)
    for name, link in generator.parts().items():
        chainer.serializers.save_npz(os.path.join(folder, '{}_iter_3.npz'.format(name)), link)
    if classes:
        with open(os.path.join(folder, 'classes.json'), 'w') as f:
            json.dump({'names': CLASSES, 'counts': classes}, f)
    return generator


def gif_frames(path):
    """(frames as arrays, durations in ms) of an animated GIF."""
    frames, durations = [], []
    with Image.open(path) as image:
        for i in range(image.n_frames):
            image.seek(i)
            frames.append(numpy.asarray(image.convert('L')))
            durations.append(image.info['duration'])
    return frames, durations


def mp4_frames(path):
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return numpy.array(frames)
        frames.append(frame)


class TestVideoFiles(unittest.TestCase):
    """The writers alone, on RGB and grey uint8 videos of odd sizes."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        rng = numpy.random.RandomState(0)
        self.rgb = rng.randint(0, 256, (5, 3, 7, 5, 3)).astype(numpy.uint8)  # N T H W C
        self.grey = self.rgb[..., :1].copy()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_every_format_in_rgb_and_grey(self):
        for videos in (self.rgb, self.grey):
            png = os.path.join(self.dir, 'sub', 'strips.png')   # parent folders are made
            self.assertEqual(write_videos(videos, png), (3 * 5, 5 * 7))
            with Image.open(png) as image:
                strips = numpy.asarray(image)
            self.assertTrue(numpy.array_equal(strips.reshape(frame_strips(videos).shape),
                                              frame_strips(videos)))          # lossless

            gif = os.path.join(self.dir, 'grid.gif')
            self.assertEqual(write_videos(videos, gif, fps=10), (3 * 5, 2 * 7))  # 3 x 2 grid
            frames, durations = gif_frames(gif)
            self.assertEqual(len(frames), 3)
            self.assertEqual(durations, [100] * 3)
            with Image.open(gif) as image:
                self.assertEqual(image.info['loop'], 0)                      # loops forever

            mp4 = os.path.join(self.dir, 'grid.mp4')
            self.assertEqual(write_videos(videos, mp4, fps=10), (16, 14))    # padded to even
            self.assertEqual(mp4_frames(mp4).shape, (3, 14, 16, 3))
            self.assertEqual(sorted(os.listdir(self.dir)), ['grid.gif', 'grid.mp4', 'sub'])

    def test_mp4_colours_come_back_in_opencv_order(self):
        red = numpy.zeros((1, 4, 16, 16, 3), numpy.uint8)
        red[..., 0] = 255
        mp4 = os.path.join(self.dir, 'red.mp4')
        write_videos(red, mp4)
        frames = mp4_frames(mp4).astype(float)                              # BGR
        self.assertEqual(len(frames), 4)
        self.assertGreater(frames[..., 2].mean(), 200)
        self.assertLess(frames[..., 0].mean(), 50)

    def test_grid_columns(self):
        gif = os.path.join(self.dir, 'rows.gif')
        self.assertEqual(write_videos(self.grey[:4], gif, cols=4), (4 * 5, 7))
        self.assertTrue(numpy.array_equal(gif_frames(gif)[0][0],
                                          video_grid(self.grey[:4], 4)[0, ..., 0]))

    def test_unknown_extension(self):
        with self.assertRaisesRegex(UsageError, r'\.gif.*\.mp4.*\.png'):
            write_videos(self.rgb, os.path.join(self.dir, 'clip.avi'))
        self.assertEqual(os.listdir(self.dir), [])


class GenerateTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.result = os.path.join(cls.dir, 'tgan')
        cls.generator = make_result(cls.result, TINY)
        cls.conditional_result = os.path.join(cls.dir, 'conditional')
        cls.conditional = make_result(cls.conditional_result,
                                      TINY + 'conditional: true\nn_classes: 4\n', [0, 0, 5, 0])
        cls.baseline_result = os.path.join(cls.dir, '3d')
        make_result(cls.baseline_result, TINY + 'generator: 3d\ngenerator_3d: {ch: 16}\n')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def path(self, name):
        return os.path.join(self.dir, 'out', name)

    def generate(self, *args, result=None):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(generate.main(['--result', result or self.result, *args]), 0)
        return out.getvalue()

    def videos(self, generator, z, labels=None):
        return to_uint8(generation.generate(generator, z, labels))


class TestFormats(GenerateTestCase):

    def test_gif_png_mp4(self):
        out = self.generate('--n', '5', '--fps', '10', '--out', self.path('a.gif'))
        self.assertEqual(out, 'wrote {}: 5 videos of 16 frames of 16x16 (iteration 3), 48x32 '
                              'pixels\n'.format(self.path('a.gif')))
        frames, durations = gif_frames(self.path('a.gif'))
        self.assertEqual((len(frames),) + frames[0].shape, (T, 2 * H, 3 * W))  # 3 x 2 grid
        self.assertEqual(sum(durations), T * 100)

        self.generate('--n', '5', '--out', self.path('a.png'))
        with Image.open(self.path('a.png')) as image:
            self.assertEqual((image.height, image.width), (5 * H, T * W))

        self.generate('--n', '5', '--out', self.path('a.mp4'))
        self.assertEqual(mp4_frames(self.path('a.mp4')).shape, (T, 2 * H, 3 * W, 3))
        with av.open(self.path('a.mp4')) as container:            # H.264: browsers play it
            self.assertEqual(container.streams.video[0].codec_context.name, 'h264')

        # the videos are the generator's for z0 drawn from the seed
        z = self.generator.make_hidden(5, numpy.random.RandomState(0))
        with Image.open(self.path('a.png')) as image:
            self.assertTrue(numpy.array_equal(numpy.asarray(image)[..., None],
                                              frame_strips(self.videos(self.generator, z))))

    def test_baseline(self):
        self.generate('--n', '2', '--out', self.path('3d.png'), result=self.baseline_result)
        with Image.open(self.path('3d.png')) as image:
            self.assertEqual(image.size, (T * W, 2 * H))

    def test_seeds(self):
        for ext in ('gif', 'png', 'mp4'):
            files = []
            for name, seed, batchsize in (('a', 0, 16), ('b', 0, 3), ('c', 1, 16)):
                path = self.path('{}.{}'.format(name, ext))
                self.generate('--n', '4', '--seed', str(seed), '--batchsize', str(batchsize),
                              '--out', path)
                with open(path, 'rb') as f:
                    files.append(f.read())
            self.assertEqual(files[0], files[1], ext)       # same seed, any batch size
            self.assertNotEqual(files[0], files[2], ext)

    def test_frame_interpolation(self):
        k = 3
        self.generate('--n', '2', '--frame-factor', str(k), '--fps', '10',
                      '--out', self.path('k.mp4'))
        self.assertEqual(mp4_frames(self.path('k.mp4')).shape, (k * T, H, 2 * W, 3))
        self.generate('--n', '2', '--frame-factor', str(k), '--fps', '10',
                      '--out', self.path('k.gif'))
        frames, durations = gif_frames(self.path('k.gif'))
        self.assertEqual(sum(durations), k * T * 100)
        # Pillow keeps a run of identical frames once (the last k - 1 frames
        # repeat the last one: the trajectory holds after z1^T)
        z = self.generator.make_hidden(2, numpy.random.RandomState(0))
        grid = video_grid(to_uint8(generation.generate(self.generator, z, frame_factor=k)))
        changes = [t for t in range(1, k * T) if not numpy.array_equal(grid[t], grid[t - 1])]
        self.assertEqual(len(frames), 1 + len(changes))
        self.assertGreater(len(frames), (k - 1) * T)
        self.assertTrue(numpy.array_equal(frames[0], grid[0, ..., 0]))
        # every k-th frame is the plain video's frame
        plain = generation.generate(self.generator, z)
        more = generation.generate(self.generator, z, frame_factor=k)
        numpy.testing.assert_allclose(more[:, :, ::k], plain, atol=1e-5)


class TestInterpolation(GenerateTestCase):

    def test_rows_go_from_z_a_to_z_b(self):
        n, steps = 3, 4
        z, labels = generation.draw(self.generator, n, 7, steps)
        self.assertIsNone(labels)
        rng = numpy.random.RandomState(7)
        z_a, z_b = (self.generator.make_hidden(n, rng) for _ in range(2))
        videos = generation.generate(self.generator, z).reshape((n, steps) + (1, T, H, W))
        numpy.testing.assert_allclose(videos[:, 0], generation.generate(self.generator, z_a),
                                      atol=1e-5)
        numpy.testing.assert_allclose(videos[:, -1], generation.generate(self.generator, z_b),
                                      atol=1e-5)
        numpy.testing.assert_allclose(z.reshape(n, steps, -1)[:, 1],
                                      z_a + (z_b - z_a) / 3, atol=1e-6)
        self.assertGreater(abs(videos[:, 1] - videos[:, 0]).max(), 0.01)

        self.generate('--n', str(n), '--interpolate', str(steps), '--seed', '7',
                      '--out', self.path('i.gif'))
        frames, _ = gif_frames(self.path('i.gif'))
        self.assertEqual(frames[0].shape, (n * H, steps * W))                # rows x steps
        self.assertTrue(numpy.array_equal(
            frames[0], video_grid(to_uint8(videos.reshape(n * steps, 1, T, H, W)), steps)
            [0, ..., 0]))

    def test_conditional_rows_keep_one_label(self):
        _, labels = generation.draw(self.conditional, 2, 0, 3, classes=[1, 3])
        self.assertEqual(labels.tolist(), [1, 1, 1, 3, 3, 3])


class TestClasses(GenerateTestCase):

    def strips(self, name):
        with Image.open(self.path(name)) as image:
            return numpy.asarray(image)[..., None]

    def test_class_names_select_the_label(self):
        self.generate('--n', '4', '--class', 'disc', '--class', 'CROSS',
                      '--out', self.path('c.png'), result=self.conditional_result)
        z = self.conditional.make_hidden(4, numpy.random.RandomState(0))
        labels = one_hot(numpy.array([1, 3, 1, 3]), 4, numpy)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            expected = to_uint8(self.conditional(z, labels).array)
        self.assertTrue(numpy.array_equal(self.strips('c.png'), frame_strips(expected)))

        self.generate('--n', '4', '--class', 'Square', '--out', self.path('s.png'),
                      result=self.conditional_result)
        self.assertFalse(numpy.array_equal(self.strips('s.png'), self.strips('c.png')))

    def test_labels_from_the_training_prior(self):
        # classes.json counts [0, 0, 5, 0]: every drawn label is Triangle
        self.generate('--n', '3', '--out', self.path('p.png'), result=self.conditional_result)
        self.generate('--n', '3', '--class', 'triangle', '--out', self.path('t.png'),
                      result=self.conditional_result)
        self.assertTrue(numpy.array_equal(self.strips('p.png'), self.strips('t.png')))

    def test_closest_names_among_many(self):
        names = ['Class{:03d}'.format(i) for i in range(50)] + ['Basketball']
        self.assertEqual(generation.class_ids(['basketball', 'CLASS007'], names), [50, 7])
        with self.assertRaises(UsageError) as e:
            generation.class_ids(['Basketbal'], names)
        self.assertIn('closest: Basketball', str(e.exception))
        self.assertIn('51 classes in all', str(e.exception))


class TestBadInput(GenerateTestCase):

    def assertUsageError(self, fragments, *args, result=None):
        done = subprocess.run([sys.executable, 'generate.py', '--result', result or self.result,
                               '--out', self.path('bad.gif'), *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        one_error_line(self, done, *fragments)
        self.assertFalse(os.path.exists(self.path('bad.gif')))

    def test_classes(self):
        self.assertUsageError(['--class Circle: no such class',
                               'Square, Disc, Triangle, Cross'],
                              '--class', 'Circle', result=self.conditional_result)
        self.assertUsageError(['unconditional'], '--class', 'Disc')

    def test_snapshot_that_does_not_fit(self):
        self.assertUsageError(['does not fit the network', '--config'], '--config', 'demo')
        self.assertUsageError(['no generator snapshot for iteration 5'], '--iteration', '5')

    def test_frame_factor_of_a_baseline(self):
        self.assertUsageError(['--frame-factor 2', 'Generator3D has no frame interpolation'],
                              '--frame-factor', '2', result=self.baseline_result)

    def test_out_that_cannot_be_written(self):
        blocker = self.path('a_file')
        os.makedirs(os.path.dirname(blocker), exist_ok=True)
        open(blocker, 'w').close()
        with self.assertRaisesRegex(UsageError, r'cannot write .*a_file/x.gif: .*a_file '
                                                r'is a file, not a folder \(.* free in .*a_file/'):
            self.generate('--out', os.path.join(blocker, 'x.gif'))

    def test_bad_values(self):
        for args, message in ((['--n', '0'], '--n must be at least 1'),
                              (['--frame-factor', '0'], '--frame-factor must be at least 1'),
                              (['--interpolate', '1'], '--interpolate must be at least 2'),
                              (['--fps', '0'], '--fps must be positive'),
                              (['--out', self.path('x.avi')], '.gif'),
                              (['--result', self.path('none')], 'no such folder')):
            with self.assertRaisesRegex(UsageError, message):
                self.generate(*args)


if __name__ == '__main__':
    unittest.main()
