#!/usr/bin/env python
"""Score a trained TGAN with the Inception Score (paper §6.3).

    python evaluate.py --result DIR --c3d conv3d_deepnetA_ucf.npz --mean mean2.npz

Prints the Inception Score (mean ± population std over runs), optionally the
Fréchet distance to real videos, and our row in the paper's Table 4; writes
a JSON record. Without ``--result`` it scores real videos of ``--dataset``
(the paper's "UCF-101 dataset" row). With ``--classifier`` it uses the
offline synthetic-set classifier instead of C3D. See README "Evaluation".
"""
import argparse
import os

import allocator
import chainer_compat  # noqa: F401  (before chainer)
import config as config_lib
from devices import get_device
from errors import UsageError, run_command

import datasets  # noqa: E402
from evaluation import frechet, record, sampling  # noqa: E402
from evaluation.sampling import dataset_description, make  # noqa: E402
from evaluation.offline import load_classifier  # noqa: E402
from evaluation.protocols import PROTOCOLS, load_mean  # noqa: E402
from evaluation.score import classify, run_all  # noqa: E402
from evaluation.table import format_table  # noqa: E402
from models.c3d import C3D  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    src = p.add_argument_group('videos')
    src.add_argument('--result', help='a train.py result folder (or an original TGAN one)')
    src.add_argument('--iteration', type=int, help='snapshot iteration (default: the latest)')
    src.add_argument('--config', help='preset or YAML describing the network and data '
                                      '(default: RESULT/config.yaml)')
    src.add_argument('--dataset', help='real videos: scored alone without --result, the '
                                       'Fréchet reference with it (default: the run\'s)')
    src.add_argument('--subset', help='passed to the dataset as dataset_args subset '
                                      '(e.g. train for UCF-101)')
    src.add_argument('--data', help='folder of the dataset\'s files (default: data/<dataset>)')
    cls = p.add_argument_group('classifier')
    cls.add_argument('--c3d', metavar='NPZ', help='C3D weights, conv3d_deepnetA_ucf.npz')
    cls.add_argument('--mean', metavar='NPZ', help='C3D mean clip, mean2.npz')
    cls.add_argument('--c3d-dropout', action='store_true',
                     help='keep C3D\'s fc6/fc7 dropout on, as the original TGAN evaluation did')
    cls.add_argument('--classifier', metavar='NPZ',
                     help='the offline classifier (python -m evaluation.train_classifier)')
    run = p.add_argument_group('protocol')
    run.add_argument('--protocol', choices=sorted(PROTOCOLS),
                     help='tgan (default with C3D: the paper\'s), tgan2, offline (the default '
                          'with --classifier)')
    run.add_argument('--n-samples', type=int, help='videos per run (protocol\'s default)')
    run.add_argument('--runs', type=int, help='runs, seeds SEED..SEED+RUNS-1')
    run.add_argument('--batchsize', type=int)
    run.add_argument('--seed', type=int, default=0, help='first run\'s seed (default 0)')
    run.add_argument('--frechet', metavar='LAYER',
                     help='also the Fréchet distance on this classifier layer (C3D: fc6 or '
                          'fc7; offline classifier: fc4) to the real videos')
    run.add_argument('--real-samples', type=int,
                     help='real videos for the Fréchet statistics (default: the whole set)')
    run.add_argument('--stats-dir', default=os.path.join('results', 'frechet_stats'),
                     help='cache of real statistics (default results/frechet_stats)')
    p.add_argument('--gpu', type=int, default=-1, help='GPU id, -1 for CPU (default)')
    p.add_argument('--json', help='record file (default: next to the snapshot, or in results/)')
    return p.parse_args(argv)



def resolve_protocol(args):
    """The protocol, with --n-samples/--runs/--batchsize applied, checked against the classifier."""
    if args.classifier and (args.c3d or args.mean):
        raise UsageError('give either --classifier or --c3d and --mean, not both')
    if not args.classifier and not (args.c3d and args.mean):
        raise UsageError('C3D needs both --c3d conv3d_deepnetA_ucf.npz and --mean mean2.npz '
                         '(README "Evaluation"), or use --classifier for the offline classifier')
    name = args.protocol or ('offline' if args.classifier else 'tgan')
    protocol = PROTOCOLS[name]
    if protocol.uses_c3d == bool(args.classifier):
        raise UsageError('the {} protocol is for {}: use {}'.format(
            name, 'C3D' if protocol.uses_c3d else 'the offline classifier',
            '--protocol offline with --classifier' if args.classifier else
            '--protocol tgan or tgan2 with --c3d/--mean'))
    for key in ('n_samples', 'runs', 'batchsize'):
        value = getattr(args, key)
        if value is not None:
            if value < 1:
                raise UsageError('--{} must be at least 1, got {}'.format(
                    key.replace('_', '-'), value))
            protocol = protocol._replace(**{key: value})
    return protocol


def load_scorer(args, protocol, device):
    """(classifier Link, mean clip or None, {file: sha256}, classifier description)."""
    if args.classifier:
        classifier, meta = load_classifier(args.classifier)
        mean, files = None, [args.classifier]
    else:
        mean = load_mean(args.mean)
        classifier, meta = C3D(pretrained_model=args.c3d, dropout=args.c3d_dropout), None
        files = [args.c3d, args.mean]
    if args.frechet and args.frechet not in classifier.available_layers:
        raise UsageError('--frechet {}: not a layer of the classifier; choose from {}'.format(
            args.frechet, ', '.join(classifier.available_layers)))
    classifier.to_device(device)
    digests = {f: record.sha256(f) for f in files}
    for path, digest in digests.items():
        print('{}: SHA-256 {}'.format(path, digest))
    return classifier, mean, digests, meta


def real_description(args, run_config):
    """The real dataset's description and folder: --config, else the run's
    config, else (or where it names another dataset) --dataset's preset."""
    base = config_lib.load(args.config) if args.config else run_config
    if args.dataset is None and base is None:
        raise UsageError('give --result DIR (videos to score) or --dataset NAME (real videos)')
    if args.dataset is not None and (base is None or base['dataset'] != args.dataset):
        if args.dataset not in datasets.NAMES:
            raise UsageError('unknown dataset {!r}: choose one of {}'.format(
                args.dataset, ', '.join(datasets.NAMES)))
        base = config_lib.load('{}_svc'.format(args.dataset))
    description = dataset_description(base)
    if args.subset is not None:
        description['dataset_args'] = dict(description['dataset_args'], subset=args.subset)
    data = args.data or base['data'] or datasets.default_path(description['dataset'])
    return description, data


def real_name(description, subset):
    return description['dataset'] + (' ' + subset if subset else '')


def check_fits(meta, description):
    """The offline classifier must have been trained on videos of this geometry."""
    if meta is None:
        return
    trained = meta['dataset']
    for key in ('frames', 'size', 'channels'):
        if trained[key] != description[key]:
            raise UsageError('the classifier was trained on videos with {} {}, these have {}: '
                             'train one on this config (README "Evaluation")'.format(
                                 key, trained[key], description[key]))


def real_statistics(args, classifier, mean, protocol, digests, description, data, device):
    """(mu, sigma) of the real videos' features, cached by everything they depend on."""
    real = make(description, data, seed=0)
    n = args.real_samples or len(real)
    key = {'dataset': description['dataset'], 'subset': args.subset, 'data': os.path.abspath(data),
           'description': description, 'protocol': protocol.name, 'layer': args.frechet,
           'classifier': sorted(digests.values()), 'dropout': args.c3d_dropout, 'n': n}
    path = frechet.statistics_path(args.stats_dir, key)

    def compute():
        _, features = classify(sampling.from_dataset(real, n, protocol.batchsize, 0, device),
                               classifier, protocol.preprocess, mean, args.frechet)
        return frechet.gaussian(features)

    mu, sigma, cached = frechet.cached_statistics(path, key, compute)
    print('real statistics ({} videos of {}): {} {}'.format(
        n, real_name(description, args.subset), 'read from' if cached else 'saved to', path))
    return mu, sigma, path


def video_source(args, generator, protocol, device, description, data):
    """(seed -> batches of videos, table label): the generator's samples with
    --result, else real clips of the dataset (its random windows by seed)."""
    if generator is not None:
        def batches(seed):
            return sampling.generated(generator, protocol.n_samples, protocol.batchsize,
                                      seed, 'run seed {}'.format(seed))
        return batches, '{} iter {}'.format(os.path.basename(os.path.normpath(args.result)),
                                            args.iteration)

    def batches(seed):
        return sampling.from_dataset(make(description, data, seed), protocol.n_samples,
                                     protocol.batchsize, seed, device,
                                     'run seed {}'.format(seed))
    return batches, '{} (real videos)'.format(real_name(description, args.subset))


def report(args, protocol, result, label, real):
    for run in result['runs']:
        print('seed {}: IS {:.4f}{}'.format(run['seed'], run['inception_score'], (
            ', Fréchet distance {:.4f}'.format(run['frechet_distance'])
            if 'frechet_distance' in run else '')))
    score = result['inception_score']
    print('Inception Score ({} protocol, {} videos x {} runs{}): {:.2f} ± {:.2f}'.format(
        protocol.name, protocol.n_samples, protocol.runs,
        ', C3D dropout on' if args.c3d_dropout else '', score['mean'], score['std']))
    if args.frechet:
        fd = result['frechet_distance']
        print('Fréchet distance ({} features, to {}): {:.2f} ± {:.2f}'.format(
            args.frechet, real, fd['mean'], fd['std']))
    if protocol.uses_c3d:
        print(format_table(label, score['mean'], score['std']))
    else:
        print('(offline classifier: not comparable with the paper\'s C3D scores)')


def record_path(args, protocol, description):
    if args.json:
        return args.json
    if args.result:
        return os.path.join(args.result, 'evaluation_iter_{}_{}.json'.format(
            args.iteration, protocol.name))
    return os.path.join('results', 'evaluation_{}_{}_{}.json'.format(
        description['dataset'], args.subset or 'all', protocol.name))


def main(argv=None):
    args = parse_args(argv)
    allocator.keep_freed_memory()
    protocol = resolve_protocol(args)
    device = get_device(args.gpu)
    seeds = list(range(args.seed, args.seed + protocol.runs))

    generator, run_config, snapshot = None, None, None
    if args.result:
        generator, run_config, snapshot, args.iteration = sampling.load_generator(
            args.result, args.iteration, args.config)
        generator.to_device(device)
    description, data = real_description(args, run_config)
    classifier, mean, digests, meta = load_scorer(args, protocol, device)
    check_fits(meta, dataset_description(run_config) if run_config else description)
    batches, label = video_source(args, generator, protocol, device, description, data)

    real, stats_path = None, None
    if args.frechet:
        *real, stats_path = real_statistics(args, classifier, mean, protocol, digests,
                                            description, data, device)
    result = run_all(batches, classifier, protocol, mean, seeds, args.frechet, real)
    report(args, protocol, result, label, real_name(description, args.subset))

    settings = {k: v for k, v in protocol._asdict().items() if k != 'preprocess'}
    rec = dict(result, protocol=settings, samples=protocol.n_samples, seeds=seeds,
               c3d_dropout=args.c3d_dropout, snapshot=snapshot, iteration=args.iteration,
               config=args.config, weights=digests, versions=record.versions(),
               device=str(device),
               real=None if args.result else {'description': description, 'data': data},
               frechet={'layer': args.frechet, 'statistics': stats_path,
                        'description': description} if args.frechet else None)
    path = record_path(args, protocol, description)
    record.write_record(path, rec)
    print('record: {}'.format(path))
    return 0


if __name__ == '__main__':
    run_command(main)
