"""The shape-motion check of the CPU demo's previews (evaluation/shape_motion.py)."""
import json
import os
import shutil
import subprocess
import sys
import unittest

import numpy

import evaluation  # noqa: F401  (compat before chainer)
import configs
from datasets.synthetic import SyntheticMovingShapes, shape_mask
from evaluation.shape_motion import ShapeMotion
from media.video_files import to_uint8
from test_train import ROOT, TINY, tiny_config, train

ARGS = {'shapes': ['square'], 'n_objects': [1, 1], 'object_size': 6, 'speed': [1.0, 2.0]}


def moving(mask, corners, size=32):
    """A uint8 video (T, H, W, 1) of ``mask`` at each top-left corner."""
    video = numpy.zeros((len(corners), size, size, 1), numpy.uint8)
    for t, (y, x) in enumerate(corners):
        video[t, y:y + mask.shape[0], x:x + mask.shape[1], 0] = mask * 255
    return video


class TestShapeMotion(unittest.TestCase):

    def setUp(self):
        self.check = ShapeMotion('square', 10, (1.0, 2.0))
        self.path = [(int(1 + 0.6 * t), int(1 + 0.8 * t)) for t in range(16)]  # 1 px/frame

    def test_the_datasets_own_clips_pass(self):
        data = SyntheticMovingShapes(n_clips=64, size=32, **dict(ARGS, object_size=10))
        clips = numpy.stack([data[i] for i in range(64)])
        self.assertTrue(ShapeMotion('square', 10, (1.0, 2.0))(to_uint8(clips)).all())
        colour = SyntheticMovingShapes(n_clips=8, size=32, channels=3,
                                       **dict(ARGS, object_size=10, shapes=['disc']))
        clips = numpy.stack([colour[i] for i in range(8)])
        self.assertTrue(ShapeMotion('disc', 10, (1.0, 2.0))(to_uint8(clips)).all())

    def test_a_square_moving_at_the_speed_passes(self):
        self.assertTrue(self.check.video_ok(moving(numpy.ones((10, 10)), self.path)[..., 0]))
        self.assertTrue(self.check.video_ok(moving(numpy.ones((11, 9)), self.path)[..., 0]))

    def test_what_fails(self):
        square = numpy.ones((10, 10))
        cases = {
            'a disc': moving(shape_mask('disc', 10), self.path),
            'a square of another size': moving(numpy.ones((13, 13)), self.path),
            'a square that grows': numpy.stack([moving(numpy.ones((10 + t // 4,) * 2),
                                                       [self.path[t]])[0] for t in range(16)]),
            'a square that stands still': moving(square, [(4, 4)] * 16),
            'a square that jumps': moving(square, self.path[:8] + [(9, 9)] + self.path[9:]),
            'an empty frame': numpy.concatenate([moving(square, self.path[:15]),
                                                 numpy.zeros((1, 32, 32, 1), numpy.uint8)]),
        }
        for name, video in cases.items():
            with self.subTest(name):
                self.assertFalse(self.check.video_ok(video[..., 0]))

    def test_frames_are_judged_one_by_one(self):
        square = numpy.ones((10, 10))
        good = moving(square, self.path)
        two_bad = good.copy()
        two_bad[3] = moving(numpy.ones((14, 14)), [self.path[3]])[0]  # too large
        two_bad[7] = 0                                                 # empty
        videos, frames = self.check.measure(numpy.stack([good, two_bad]))
        self.assertEqual(videos.tolist(), [True, False])
        self.assertEqual(frames.shape, (2, 16))
        self.assertTrue(frames[0].all())
        self.assertEqual(numpy.flatnonzero(~frames[1]).tolist(), [3, 7])
        self.assertEqual(self.check(numpy.stack([good, two_bad])).tolist(), [True, False])

    def test_needs_a_synthetic_run_of_one_shape(self):
        config = configs.load('demo')
        self.assertIsNotNone(ShapeMotion.for_config(config))
        config['dataset_args'] = {'shapes': ['square', 'disc']}
        self.assertIsNone(ShapeMotion.for_config(config))
        self.assertIsNone(ShapeMotion.for_config(configs.load('ucf101_svc')))


class TestInTraining(unittest.TestCase):

    def setUp(self):
        text = TINY.replace('dataset_args: {n_clips: 8, object_size: 6}',
                            'dataset_args: ' + json.dumps(dict(ARGS, n_clips=8)))
        self.dir, self.config = tiny_config(text)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_logged_printed_and_measured_again_by_the_command(self):
        out = os.path.join(self.dir, 'run')
        result = train('--config', self.config, '--iterations', '4', '--out', out,
                       '--set', 'preview_interval=2')
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(out, 'log')) as f:
            log = json.load(f)
        self.assertEqual([e['iteration'] for e in log if 'preview_motion' in e], [2, 4])
        self.assertEqual([e['iteration'] for e in log if 'preview_frames' in e], [2, 4])
        self.assertTrue(all(0 <= e['preview_motion'] <= e['preview_frames'] <= 1
                            for e in log if 'preview_motion' in e))
        final = log[-1]
        self.assertIn('final preview: {} (and .png): {:.0%} of its videos show a 6-px square moving '
                      '1-2 px/frame; {:.0%} of its frames pass'.format(
                          os.path.join(out, 'preview', 'iter_00000004.gif'),
                          final['preview_motion'], final['preview_frames']), result.stdout)
        frames, best = max((e['preview_frames'], e['iteration']) for e in log
                           if 'preview_frames' in e)
        motion = next(e['preview_motion'] for e in log if e['iteration'] == best)
        self.assertIn('best preview: iteration {}: {:.0%} of its videos, {:.0%} of its '
                      'frames'.format(best, motion, frames), result.stdout)
        self.assertIn('continue: python train.py --resume {} --iterations 8'.format(out),
                      result.stdout)
        command = subprocess.run(
            [sys.executable, '-m', 'evaluation.shape_motion', '--result', out, '--n', '4'],
            cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(command.returncode, 0, command.stderr)
        self.assertRegex(command.stdout, r'^\d of 4 videos of iteration 4 \(\d+%\) show a 6-px '
                                         r'square moving 1-2 px/frame; \d+ of 64 frames '
                                         r'\(\d+%\) pass\n$')
        real = subprocess.run(
            [sys.executable, '-m', 'evaluation.shape_motion', '--result', out, '--real'],
            cwd=ROOT, capture_output=True, text=True)
        self.assertIn('64 of 64 training clips (100%)', real.stdout)
        self.assertIn('; 1024 of 1024 frames (100%) pass', real.stdout)


if __name__ == '__main__':
    unittest.main()
