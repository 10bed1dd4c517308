"""Does a generated video show the synthetic set's object, keeping its shape
and moving at the set's speed? A number for what the CPU demo's previews show.

Per frame, the largest bright connected component (pixels above mid-grey,
8-connected) must be the configured shape at the configured size: a bounding
box within ``tolerance`` pixels of ``object_size`` on both sides, filled like
the shape's mask (at least ``fill`` of the mask's own fill). Between frames its
centre must move like an object of the set: the median step within the speed
range (widened by half a pixel: the set rounds positions to pixels) and no step
longer than the fastest speed plus ``tolerance`` (no jumps). A video passes
when every frame and every step does.

``python -m evaluation.shape_motion --result DIR`` measures a run's preview
or generated videos: the share of videos that pass, and the share of frames
whose shape passes (a finer measure: a video needs all of its frames and
steps to pass). train.py reports both for every preview of a synthetic run of
one shape (``preview_motion`` and ``preview_frames`` in the log).
"""
import argparse
import inspect

from runtime import blas_settings  # noqa: F401  (before numpy)
import numpy  # noqa: E402

import datasets  # noqa: E402
from datasets.synthetic import SyntheticMovingShapes, shape_mask  # noqa: E402
from evaluation import generation, snapshots  # noqa: E402
from media.video_files import to_uint8  # noqa: E402
from runtime.errors import UsageError, run_command  # noqa: E402


class ShapeMotion:
    """The check for videos of one ``shape`` of side ``object_size`` moving at
    ``speed`` = (min, max) pixels per frame."""

    def __init__(self, shape, object_size, speed, tolerance=2, fill=0.85):
        self.mask = shape_mask(shape, object_size)
        self.shape, self.object_size = shape, object_size
        self.speed = (float(speed[0]), float(speed[1]))
        self.tolerance, self.fill = tolerance, fill

    @classmethod
    def for_config(cls, config):
        """The check for a run's resolved config, or None unless it trains on
        the synthetic set with one shape."""
        if config['dataset'] != 'synthetic':
            return None
        defaults = {k: p.default for k, p in
                    inspect.signature(SyntheticMovingShapes).parameters.items()}
        args = dict(defaults, **config['dataset_args'])
        if len(args['shapes']) != 1:
            return None
        return cls(args['shapes'][0], args['object_size'], args['speed'])

    def describe(self):
        return 'a {}-px {} moving {:g}-{:g} px/frame'.format(
            self.object_size, self.shape, *self.speed)

    def largest_component(self, frame):
        """(bounding box height, width, filled fraction of it, centre y, x) of
        the largest bright component of a uint8 (H, W) frame, or None."""
        import cv2  # here: training with another dataset need not load OpenCV
        # on one thread: a labelling on OpenCV's thread pool would start the
        # pool in this process, and a data loader forked from it later hangs
        # in its first OpenCV call (the pool's locks do not survive a fork)
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            count, labels, stats, centroids = cv2.connectedComponentsWithStats(
                (frame > 127).astype(numpy.uint8), connectivity=8)
        finally:
            cv2.setNumThreads(threads)
        if count < 2:
            return None
        i = 1 + int(numpy.argmax(stats[1:, cv2.CC_STAT_AREA]))
        w, h, area = (stats[i, k] for k in (cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT,
                                             cv2.CC_STAT_AREA))
        return h, w, area / (h * w), centroids[i][1], centroids[i][0]

    def frame_ok(self, component):
        if component is None:
            return False
        h, w, filled = component[:3]
        size_ok = all(abs(d - self.object_size) <= self.tolerance for d in (h, w))
        return size_ok and filled >= self.fill * self.mask.mean()

    def judge(self, video):
        """(whether a uint8 (T, H, W) video passes, whether each of its frames
        does) (see the module docstring)."""
        components = [self.largest_component(frame) for frame in video]
        frames = numpy.array([self.frame_ok(c) for c in components])
        if not frames.all():
            return False, frames
        centres = numpy.array([c[3:] for c in components])
        steps = numpy.linalg.norm(numpy.diff(centres, axis=0), axis=1)
        low, high = self.speed
        return bool(low - 0.5 <= numpy.median(steps) <= high + 0.5 and
                    steps.max() <= high + self.tolerance), frames

    def video_ok(self, video):
        """Whether a uint8 (T, H, W) video passes."""
        return self.judge(video)[0]

    def measure(self, videos):
        """(per video whether it passes (N,), per frame whether its shape
        passes (N, T)) for uint8 videos (N, T, H, W, C) (grey, or the
        brightest channel of colour videos)."""
        results = [self.judge(v.max(axis=-1)) for v in videos]
        return (numpy.array([r[0] for r in results], bool),
                numpy.array([r[1] for r in results], bool).reshape(videos.shape[:2]))

    def __call__(self, videos):
        """Per video, whether it passes, for uint8 videos (N, T, H, W, C)."""
        return self.measure(videos)[0]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--result', required=True, help='a train.py result folder of a synthetic run')
    p.add_argument('--iteration', type=int, help='snapshot iteration (default: the latest)')
    p.add_argument('--n', type=int, default=64, help='videos (default 64)')
    p.add_argument('--seed', type=int, default=0, help='seed of z0 (default 0)')
    p.add_argument('--real', action='store_true',
                   help="measure the run's training clips instead (the check's ceiling)")
    args = p.parse_args(argv)
    config = snapshots.run_config(args.result)
    check = ShapeMotion.for_config(config)
    if check is None:
        raise UsageError('{}: the shape-motion check needs a synthetic run of one shape '
                         '(dataset_args.shapes)'.format(args.result))
    if args.real:
        data = datasets.make_dataset('synthetic', None, config['frames'], config['size'],
                                     config['channels'], seed=config['seed'],
                                     **config['dataset_args'])
        videos, what = numpy.stack([data[i] for i in range(args.n)]), 'training clips'
    else:
        generator, config, _, iteration = snapshots.load_generator(args.result, args.iteration)
        z, labels = generation.draw(generator, args.n, args.seed,
                                    prior=numpy.ones(generator.n_classes or 1))
        videos = generation.generate(generator, z, labels)
        what = 'videos of iteration {}'.format(iteration)
    passed, frames = check.measure(to_uint8(videos))
    print('{} of {} {} ({:.0%}) show {}; {} of {} frames ({:.0%}) pass'.format(
        passed.sum(), len(passed), what, passed.mean(), check.describe(),
        frames.sum(), frames.size, frames.mean()))
    return 0


if __name__ == '__main__':
    run_command(main)
