#!/usr/bin/env python
"""How much FVD moves when only one detail of the protocol changes
(docs/fvd.md "Where the protocols differ"), on an I3D with RANDOM weights:
the relative changes say how sensitive the number is to each detail, not
what they are with the published weights.

Two sets of synthetic videos (moving shapes, 64x85 frames so that the crop
matters; the second set moves faster), FVD between them under ``videogpt``,
then with one detail switched: the resize (straight to 224x224, as
StyleGAN-V and TATS, instead of shorter side + centre crop), I3D's batch
normalisation epsilon (1e-3 instead of 1e-5), both (= ``stylegan-v``'s
preprocessing), and the conversion of [-1, 1] output to uint8
(StyleGAN-V's x * 127.5 + 128 instead of DIGAN's (x + 1) / 2 * 255).

    python benchmarks/fvd_protocol_gap.py [--videos 24] [--gpu 0]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime import blas_settings  # noqa: E402,F401  (before numpy)
from runtime import chainer_compat  # noqa: E402,F401
import chainer  # noqa: E402
import numpy  # noqa: E402

from datasets.synthetic import SyntheticMovingShapes  # noqa: E402
from evaluation.frechet import gaussian  # noqa: E402
from evaluation.metrics import fvd  # noqa: E402
from models.i3d import I3D  # noqa: E402


def shapes(n, speed, seed):
    """(n, 3, 16, 64, 85) float32 in [-1, 1]: rows 10:74 of 85x85 synthetic clips."""
    data = SyntheticMovingShapes(frames=16, size=85, channels=3, seed=seed, speed=speed)
    return numpy.stack([data[i] for i in range(n)])[:, :, :, 10:74]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--videos', type=int, default=24, help='videos per set (default 24)')
    p.add_argument('--gpu', type=int, default=-1)
    args = p.parse_args()
    device = chainer.get_device('@cupy:{}'.format(args.gpu) if args.gpu >= 0 else '@numpy')
    device.use()
    numpy.random.seed(0)
    i3d = I3D()
    i3d.to_device(device)
    base = fvd.PROTOCOLS['videogpt']
    sets = {'real': shapes(args.videos, (1.0, 1.0), 1), 'fake': shapes(args.videos, (3.0, 3.0), 2)}

    done = {}

    def statistics(name, crop, eps, to_uint8):
        if (name, crop, eps, to_uint8) not in done:
            for link in i3d.links():
                if isinstance(link, chainer.links.BatchNormalization):
                    link.eps = eps
            uint8 = to_uint8(device.send(sets[name])).transpose(0, 2, 3, 4, 1)
            protocol = base._replace(crop=crop, batchsize=4)
            done[name, crop, eps, to_uint8] = gaussian(fvd.features(i3d, [uint8], protocol))
        return done[name, crop, eps, to_uint8]

    def distance(crop, eps, fake_uint8=fvd.videogpt_uint8):
        return fvd.fvd(statistics('real', crop, eps, fvd.videogpt_uint8),
                       statistics('fake', crop, eps, fake_uint8))

    reference = distance(True, 1e-5)
    print('random-weight I3D, {} + {} synthetic videos of 16x64x85'.format(
        args.videos, args.videos))
    print('  videogpt (crop, eps 1e-5, DIGAN uint8): FVD {:.4g}'.format(reference))
    for name, value in (('straight resize to 224x224', distance(False, 1e-5)),
                        ('batch norm eps 1e-3', distance(True, 1e-3)),
                        ('both (stylegan-v preprocessing)', distance(False, 1e-3)),
                        ('StyleGAN-V uint8 of the fake set', distance(True, 1e-5,
                                                                      fvd.stylegan_v_uint8))):
        print('  {:<34} FVD {:.4g} ({:+.2%})'.format(name, value, value / reference - 1))


if __name__ == '__main__':
    main()
