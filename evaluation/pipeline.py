"""The steps ``evaluate.py`` wires together (README "Evaluation"): the protocol
and classifier from the options, the videos to score (a snapshot's generator
or a dataset's real clips), the cached real statistics of the Fréchet
distance, the printed report and the record's path."""
import os

import configs
import datasets
from runtime.errors import UsageError
from evaluation import frechet, record, sampling
from evaluation.offline import load_classifier
from evaluation.protocols import PROTOCOLS, load_mean
from evaluation.sampling import dataset_description, make
from evaluation.score import classify
from evaluation.table import format_table
from models.c3d import C3D


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
    base = configs.load(args.config) if args.config else run_config
    if args.dataset is None and base is None:
        raise UsageError('give --result DIR (videos to score) or --dataset NAME (real videos)')
    if args.dataset is not None and (base is None or base['dataset'] != args.dataset):
        if args.dataset not in datasets.NAMES:
            raise UsageError('unknown dataset {!r}: choose one of {}'.format(
                args.dataset, ', '.join(datasets.NAMES)))
        base = configs.load('{}_svc'.format(args.dataset))
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
        prior = None
        if generator.n_classes:  # paper §5.2: labels drawn from the training class prior
            names, prior = datasets.load_classes(args.result)
            print('conditional generator: labels drawn from the training class prior of '
                  '{} classes'.format(len(names)))

        def batches(seed):
            return sampling.generated(generator, protocol.n_samples, protocol.batchsize,
                                      seed, 'run seed {}'.format(seed), prior)
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
