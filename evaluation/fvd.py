"""FVD of any model's videos against real ones (docs/fvd.md):

    python -m evaluation.fvd --real real.npy --fake samples.npy --i3d i3d_pretrained_400.pt

``--real`` and ``--fake`` are each an ``.npy``/``.npz`` array of videos (N, T,
H, W, 3) uint8, or a prepared UCF-101 store (a folder). Arrays are used whole,
as given; from a store the protocol's number of videos is drawn. Prints the
FVD and writes a JSON record (key ``fvd``) with the protocol, the number of
videos used and the I3D file's SHA-256; fewer videos than the protocol's
2,048 get a warning (FVD grows as the sets shrink)."""
import argparse
import os
import sys

from runtime import blas_settings  # noqa: F401  (before numpy)
from runtime import chainer_compat  # noqa: F401  (before chainer)
from runtime.devices import get_device
from runtime.errors import UsageError, run_command

from evaluation import frechet, record, video_sets  # noqa: E402
from evaluation.metrics import fvd  # noqa: E402
from models.i3d import load_i3d  # noqa: E402

SUBSETS = {'train': ('train',), 'test': ('test',), 'all': ('train', 'test')}
DEFAULT_SUBSET = {'videogpt': 'train', 'stylegan-v': 'all'}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--real', required=True, metavar='PATH',
                   help='real videos: .npy/.npz (N, T, H, W, 3) uint8, or a UCF-101 store folder')
    p.add_argument('--fake', required=True, metavar='PATH', help='generated videos, the same kinds')
    p.add_argument('--i3d', required=True, metavar='FILE', help='i3d_pretrained_400.pt')
    p.add_argument('--protocol', default='videogpt',
                   help='videogpt (default: VideoGPT, TATS, DIGAN) or stylegan-v (fvd2048_16f)')
    p.add_argument('--subset', choices=sorted(SUBSETS),
                   help='subset of a UCF-101 store (default: train for videogpt, all = '
                        'train+test for stylegan-v)')
    p.add_argument('--n', type=int, help='videos drawn from a store (default: the protocol\'s '
                                         '2,048)')
    p.add_argument('--seed', type=int, default=0, help='seed of the clips drawn (default 0)')
    p.add_argument('--batchsize', type=int, help='videos per I3D pass (protocol\'s default)')
    p.add_argument('--stats-dir', default=os.path.join('results', 'frechet_stats'),
                   help='cache of real statistics (default results/frechet_stats)')
    p.add_argument('--gpu', type=int, default=-1, help='GPU id, -1 for CPU (default)')
    p.add_argument('--json', help='record file (default: results/fvd_PROTOCOL.json)')
    return p.parse_args(argv)


def open_set(path, subsets, what):
    videos = video_sets.open_videos(path, subsets, min_frames=fvd.FRAMES)
    if isinstance(videos, video_sets.ArrayVideos):
        fvd.check_videos(videos.array, '--{} {}'.format(what, path))
    if len(videos) < 2:
        raise UsageError('--{} {}: {} video(s); the Fréchet distance needs at least 2 (the '
                         'protocol uses 2,048)'.format(what, path, len(videos)))
    return videos


def fingerprint(path):
    """What the real statistics of ``path`` depend on: its SHA-256, or a store's index's."""
    if os.path.isdir(path):
        return {'store': os.path.abspath(path),
                'index': record.sha256(os.path.join(path, video_sets.ucf101.INDEX))}
    return {'file': record.sha256(path)}


def main(argv=None):
    args = parse_args(argv)
    protocol = fvd.protocol_named(args.protocol)
    for name in ('n', 'batchsize'):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError('--{} must be at least 1, got {}'.format(name, value))
    if args.batchsize:
        protocol = protocol._replace(batchsize=args.batchsize)
    subset = args.subset or DEFAULT_SUBSET[protocol.name]
    real = open_set(args.real, SUBSETS[subset], 'real')
    fake = open_set(args.fake, SUBSETS[subset], 'fake')
    device = get_device(args.gpu)

    i3d, digest = load_i3d(args.i3d, eps=protocol.bn_eps)
    i3d.to_device(device)
    print('{}: SHA-256 {}'.format(args.i3d, digest))

    def count(videos):
        return len(videos) if isinstance(videos, video_sets.ArrayVideos) else \
            min(args.n or protocol.n_samples, len(videos))

    def statistics(videos, is_real):
        batches = (device.send(b) for b in fvd.clips(videos, count(videos), protocol,
                                                      args.seed, is_real))
        return fvd.statistics(i3d, batches, protocol)

    key = {'dataset': 'videos', 'subset': subset, 'protocol': protocol.name, 'layer': fvd.LAYER,
           'classifier': [digest], 'real': fingerprint(args.real), 'n': count(real),
           'seed': args.seed}
    path = frechet.statistics_path(args.stats_dir, key)
    mu, sigma, cached = frechet.cached_statistics(
        path, key, lambda: statistics(real, True)[:2])
    print('real statistics ({} videos of {}): {} {}'.format(
        count(real), real.name, 'read from' if cached else 'saved to', path))
    fake_mu, fake_sigma, n_fake = statistics(fake, False)
    value = fvd.fvd((mu, sigma), (fake_mu, fake_sigma))

    warnings = []
    for what, n in (('real', count(real)), ('fake', n_fake)):
        if n < protocol.n_samples:
            warnings.append('{} {} videos, fewer than the {} protocol\'s {}: FVD is larger on '
                            'smaller sets; not comparable with published values'.format(
                                n, what, protocol.name, protocol.n_samples))
    for line in warnings:
        print('warning: ' + line, file=sys.stderr)
    print('FVD ({} protocol, {} real / {} generated videos): {:.2f}'.format(
        protocol.name, count(real), n_fake, value))
    rec = {'fvd': value, 'protocol': protocol.name,
           'protocol_settings': {k: v for k, v in protocol._asdict().items() if k != 'to_uint8'},
           'real': {'path': args.real, 'videos': count(real), 'subset': subset,
                    'statistics': path},
           'fake': {'path': args.fake, 'videos': n_fake},
           'i3d': {'path': args.i3d, 'sha256': digest}, 'seed': args.seed,
           'warnings': warnings, 'versions': record.versions(), 'device': str(device)}
    out = args.json or os.path.join('results', 'fvd_{}.json'.format(protocol.name))
    record.write_record(out, rec)
    print('record: {}'.format(out))
    return 0


if __name__ == '__main__':
    run_command(main)
