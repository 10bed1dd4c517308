"""MP4 files play in web browsers: H.264 (High profile), yuv420p, even sizes,
the index (moov atom) before the frames; decoded back with PyAV, an
independent reader of what media/video_files.py wrote."""
import fractions
import os
import shutil
import struct
import tempfile
import unittest

import av
import numpy

from media.video_files import video_grid, write_videos

# Profiles that browsers decode (lossless H.264, "High 4:4:4 Predictive", is not one).
BROWSER_PROFILES = ('Constrained Baseline', 'Baseline', 'Main', 'High')


def top_level_boxes(path):
    """The types of an MP4 file's top-level boxes (atoms), in file order."""
    types = []
    with open(path, 'rb') as f:
        size = os.fstat(f.fileno()).st_size
        offset = 0
        while offset < size:
            f.seek(offset)
            length, kind = struct.unpack('>I4s', f.read(8))
            if length == 1:  # a 64-bit size follows the type
                length = struct.unpack('>Q', f.read(8))[0]
            elif length == 0:  # the box runs to the end of the file
                length = size - offset
            types.append(kind.decode('ascii'))
            offset += length
    return types


def decode(path):
    """(frames as uint8 RGB (T, H, W, 3), the video stream's facts)."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        facts = {'codec': stream.codec_context.name, 'profile': stream.profile,
                 'pix_fmt': stream.codec_context.pix_fmt, 'frames': stream.frames,
                 'rate': stream.average_rate,
                 'size': (stream.codec_context.width, stream.codec_context.height)}
        frames = numpy.stack([frame.to_ndarray(format='rgb24')
                              for frame in container.decode(stream)])
    return frames, facts


class TestMP4(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, 'videos.mp4')
        # 4 RGB videos of 9 frames of 20 x 18: a dark background and a bright
        # 6 x 6 square of the video's own colour moving 2 px per frame (even
        # positions, so that each 2 x 2 block of 4:2:0 chroma holds one colour)
        self.rgb = numpy.full((4, 9, 20, 18, 3), 16, numpy.uint8)
        colours = [(230, 40, 40), (40, 230, 40), (40, 40, 230), (230, 230, 230)]
        for n, colour in enumerate(colours):
            for t in range(9):
                self.rgb[n, t, 2:8, 2 * (t % 6):2 * (t % 6) + 6] = colour

    def tearDown(self):
        shutil.rmtree(self.dir)

    def assert_browser_mp4(self, frames, facts, width, height, count):
        self.assertEqual(facts['codec'], 'h264')
        self.assertIn(facts['profile'], BROWSER_PROFILES)
        self.assertEqual(facts['pix_fmt'], 'yuv420p')
        self.assertEqual(facts['size'], (width, height))
        self.assertEqual(facts['frames'], count)
        self.assertEqual(frames.shape, (count, height, width, 3))
        boxes = top_level_boxes(self.path)
        self.assertLess(boxes.index('moov'), boxes.index('mdat'), boxes)  # faststart

    def test_rgb_grid(self):
        size = write_videos(self.rgb, self.path, fps=8)
        grid = video_grid(self.rgb)                       # (9, 40, 36, 3): a 2 x 2 grid
        self.assertEqual(size, (36, 40))
        frames, facts = decode(self.path)
        self.assert_browser_mp4(frames, facts, 36, 40, 9)
        self.assertEqual(facts['rate'], 8)
        error = numpy.abs(frames.astype(int) - grid)
        self.assertLess(error.mean(), 3)
        self.assertLess(numpy.percentile(error, 99), 30)
        # every square keeps its colour: red, green, blue, white
        centres = frames[0, [5, 5, 25, 25], [3, 21, 3, 21]].astype(int)
        numpy.testing.assert_allclose(centres, [[230, 40, 40], [40, 230, 40],
                                                [40, 40, 230], [230, 230, 230]], atol=12)

    def test_grey_odd_size_is_padded_black(self):
        grey = self.rgb[:1, :, :19, :17, :1].copy()       # one video, 19 x 17, grey
        self.assertEqual(write_videos(grey, self.path, fps=7.5), (18, 20))
        frames, facts = decode(self.path)
        self.assert_browser_mp4(frames, facts, 18, 20, 9)
        self.assertEqual(facts['rate'], fractions.Fraction(15, 2))
        picture = frames[:, :19, :17].astype(int)
        error = numpy.abs(picture - grey.astype(int)[0])
        self.assertLess(error.mean(), 3)
        self.assertLess(numpy.abs(picture[..., 0] - picture[..., 2]).max(), 4)  # grey stays grey
        self.assertLess(frames[:, 19:].max(), 24)          # the padding row is black
        self.assertLess(frames[:, :, 17:].max(), 24)       # and the padding column

    def test_same_videos_same_bytes(self):
        write_videos(self.rgb, self.path)
        other = os.path.join(self.dir, 'again.mp4')
        write_videos(self.rgb, other)
        with open(self.path, 'rb') as a, open(other, 'rb') as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(sorted(os.listdir(self.dir)), ['again.mp4', 'videos.mp4'])  # no leftovers


if __name__ == '__main__':
    unittest.main()
