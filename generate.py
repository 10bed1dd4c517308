#!/usr/bin/env python
"""Sample videos from a trained generator and write them as a GIF, MP4 or PNG.

    python generate.py --result results/demo --out samples.gif

Works for TGAN (also the original code's gen/vgen snapshots), its baselines
and the conditional TGAN (``--class``). ``--frame-factor K`` makes K times
more frames per video by frame interpolation (paper §5.1); ``--interpolate
STEPS`` walks linearly between two latents per row. See README "Sampling (generate.py)".
"""
import argparse

from runtime import blas_settings  # noqa: F401  (before numpy)
from runtime import chainer_compat  # noqa: F401  (before chainer)
from runtime.devices import get_device
from runtime.errors import UsageError, run_command

from evaluation import generation, snapshots  # noqa: E402
from media.video_files import file_format, to_uint8, write_videos  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--result', required=True,
                   help='a train.py result folder (or an original TGAN one)')
    p.add_argument('--iteration', type=int, help='snapshot iteration (default: the latest)')
    p.add_argument('--config', help='preset or YAML describing the network (default: '
                                     'RESULT/config.yaml)')
    p.add_argument('--n', type=int, default=36,
                   help='videos (with --interpolate: rows) (default 36)')
    p.add_argument('--seed', type=int, default=0, help='seed of z0 and labels (default 0)')
    p.add_argument('--out', default='samples.gif',
                   help='.gif (animated grid), .mp4 (grid video) or .png (one row of frames '
                        'per video) (default samples.gif)')
    p.add_argument('--fps', type=float, default=8, help='frames per second (default 8)')
    p.add_argument('--frame-factor', type=int, default=1, metavar='K',
                   help='K times as many frames by frame interpolation (TGAN only; default 1)')
    p.add_argument('--interpolate', type=int, metavar='STEPS',
                   help='--n rows of STEPS videos each, z going linearly from one random z0 '
                        'to another')
    p.add_argument('--class', dest='classes', action='append', metavar='NAME',
                   help='conditional generator: label of the videos (rows), repeat to cycle '
                        'over several (default: drawn from the training class prior)')
    p.add_argument('--batchsize', type=int, default=16, help='videos per forward pass')
    p.add_argument('--gpu', type=int, default=-1, help='GPU id, -1 for CPU (default)')
    return p.parse_args(argv)


def check(args):
    for name, value, least in (('--n', args.n, 1), ('--batchsize', args.batchsize, 1),
                               ('--frame-factor', args.frame_factor, 1),
                               ('--interpolate', args.interpolate, 2)):
        if value is not None and value < least:
            raise UsageError('{} must be at least {}, got {}'.format(name, least, value))
    if not args.fps > 0:
        raise UsageError('--fps must be positive, got {}'.format(args.fps))
    file_format(args.out)


def main(argv=None):
    args = parse_args(argv)
    check(args)
    device = get_device(args.gpu)
    generator, _, _, iteration = snapshots.load_generator(args.result, args.iteration,
                                                         args.config)
    classes, prior = generation.conditioning(generator, args.result, args.classes)
    generator.to_device(device)
    z, labels = generation.draw(generator, args.n, args.seed, args.interpolate, classes, prior)
    videos = to_uint8(generation.generate(generator, z, labels, args.frame_factor,
                                          args.batchsize))
    width, height = write_videos(videos, args.out, args.fps, args.interpolate)
    n, t, h, w, _ = videos.shape
    layout = '' if args.interpolate is None else ' ({} rows of {} interpolation steps)'.format(
        args.n, args.interpolate)
    print('wrote {}: {} videos{} of {} frames of {}x{} (iteration {}), {}x{} pixels'.format(
        args.out, n, layout, t, h, w, iteration, width, height))
    return 0


if __name__ == '__main__':
    run_command(main)
