"""Golf (Vondrick et al.): clips as vertical JPEG strips of 128 x 128 frames (docs/design.md §3)."""
import os
import shutil
import tempfile
import unittest

import cv2
import numpy

import datasets  # noqa: F401  (compat before chainer)
from datasets import make_dataset
from runtime.errors import UsageError

STRIPS = {'frames-stable/a/0001.jpg': 20, 'frames-stable/b/0002.jpg': 32}


def red(t):
    """Red level of frame t of a strip (green 60, blue 180)."""
    return 20 + 6 * t


def write_strip(path, frames, side=128):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    strip = numpy.empty((frames * side, side, 3), numpy.uint8)
    for t in range(frames):
        strip[t * side:(t + 1) * side] = (180, 60, red(t))  # BGR
    assert cv2.imwrite(path, strip, [cv2.IMWRITE_JPEG_QUALITY, 95])


class TestGolf(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        for name, frames in STRIPS.items():
            write_strip(os.path.join(self.dir, name), frames)
        self.write_list(['{} 1'.format(name) for name in STRIPS])

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write_list(self, lines):
        with open(os.path.join(self.dir, 'golf.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def test_random_windows_of_the_strips(self):
        d = make_dataset('golf', self.dir, 16, 64, 3, seed=2)
        again = make_dataset('golf', self.dir, 16, 64, 3, seed=2)
        self.assertEqual(len(d), 2)
        self.assertEqual(d.read(1).shape, (32 * 64, 64, 3))  # decoded at half scale
        for i, length in enumerate(STRIPS.values()):
            starts = set()
            for _ in range(25):
                clip = d[i]
                numpy.testing.assert_array_equal(clip, again[i])
                self.assertEqual((clip.shape, clip.dtype), ((3, 16, 64, 64), numpy.uint8))
                levels = clip.mean(axis=(2, 3))  # (channel, frame), RGB
                start = int(round((levels[0, 0] - red(0)) / 6))
                expected = [[red(start + t) for t in range(16)], [60] * 16, [180] * 16]
                numpy.testing.assert_allclose(levels, expected, atol=3)
                self.assertLessEqual(start + 16, length)
                starts.add(start)
            self.assertGreater(len(starts), 3)

    def test_missing_files(self):
        os.remove(os.path.join(self.dir, 'golf.txt'))
        with self.assertRaisesRegex(UsageError, 'golf data not found: golf.txt missing'):
            make_dataset('golf', self.dir, 16, 64, 3)
        self.write_list(['frames-stable/a/0001.jpg', 'frames-stable/c/0003.jpg'])
        with self.assertRaisesRegex(UsageError, r'golf.txt: 1 listed clips are missing, e.g. '
                                                r'.*c/0003.jpg: the paths must be relative'):
            make_dataset('golf', self.dir, 16, 64, 3)
        self.write_list([''])
        with self.assertRaisesRegex(UsageError, 'golf.txt: lists no clips'):
            make_dataset('golf', self.dir, 16, 64, 3)

    def test_bad_strips(self):
        self.write_list(['frames-stable/a/0001.jpg'])
        with self.assertRaisesRegex(UsageError, r'0001.jpg is a strip of 20 frames, fewer '
                                                r'than frames=32: remove it from the list'):
            make_dataset('golf', self.dir, 32, 64, 3)
        with self.assertRaisesRegex(UsageError, r'clips are \(3, 16, 64, 64\)'):
            make_dataset('golf', self.dir, 16, 64, 1)
        with open(os.path.join(self.dir, 'frames-stable/a/0001.jpg'), 'wb') as f:
            f.write(b'\xff\xd8 truncated')
        with self.assertRaisesRegex(UsageError, r'0001.jpg: cannot decode this JPEG'):
            make_dataset('golf', self.dir, 16, 64, 3)


if __name__ == '__main__':
    unittest.main()
