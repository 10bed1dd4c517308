"""The steps ``evaluate.py`` wires together (docs/evaluation.md): the metrics
and their protocols from the options, the videos to score (a snapshot's
generator or a dataset's real clips), each metric's cached real statistics,
its runs, the printed report and the record."""
import os

import numpy

import configs
import datasets
from runtime.errors import UsageError
from evaluation import frechet, record, sampling
from evaluation.metrics import METRICS
from evaluation.sampling import dataset_description, make

NAMES = {'inception_score': 'IS', 'frechet_distance': 'Fréchet distance', 'fvd': 'FVD'}


def protocols(args):
    """{metric name: Protocol or None (its default)} for --metric, --protocol
    (a name of any asked metric's protocols; once per metric) and
    --n-samples/--runs/--batchsize (applied to every metric)."""
    chosen = {name: None for name in args.metric}
    for name in args.protocol or ():
        owners = [m for m in args.metric if name in METRICS[m].PROTOCOLS]
        if not owners:
            known = ', '.join('{} ({})'.format(' '.join(sorted(METRICS[m].PROTOCOLS)), m)
                              for m in args.metric)
            raise UsageError('--protocol {}: not a protocol of --metric {}; choose from {}'.format(
                name, ' '.join(args.metric), known))
        if chosen[owners[0]] is not None:
            raise UsageError('--protocol given twice for {}'.format(owners[0]))
        chosen[owners[0]] = METRICS[owners[0]].PROTOCOLS[name]
    for key in ('n_samples', 'runs', 'batchsize'):
        value = getattr(args, key)
        if value is not None and value < 1:
            raise UsageError('--{} must be at least 1, got {}'.format(key.replace('_', '-'),
                                                                      value))
    return chosen


def with_overrides(metric, args):
    """The metric's protocol with --n-samples/--runs/--batchsize applied."""
    changes = {k: getattr(args, k) for k in ('n_samples', 'runs', 'batchsize')
               if getattr(args, k) is not None}
    metric.protocol = metric.protocol._replace(**changes)
    return metric


def load_metrics(args, device):
    """The metrics of --metric, each with its feature extractor on ``device``."""
    chosen = protocols(args)
    metrics = [with_overrides(METRICS[name](args, chosen[name], device), args)
               for name in args.metric]
    for metric in metrics:
        for path, digest in metric.files.items():
            print('{}: SHA-256 {}'.format(path, digest))
    return metrics


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


def real_statistics(args, metric, description, data, device):
    """(mu, sigma, cache path) of the real clips' features ``metric.real_layer``,
    cached by everything they depend on. How many clips: --real-samples, else
    the metric's protocol's number for FVD, the whole set for the others."""
    real = make(description, data, seed=0)
    n = args.real_samples or (metric.protocol.n_samples if metric.name == 'fvd' else len(real))
    if n > len(real) and not args.real_samples:
        print('warning: {} has {} clips, fewer than the {} protocol\'s {}: all are used'.format(
            real_name(description, args.subset), len(real), metric.protocol.name, n))
        n = len(real)
    key = dict(metric.statistics_key(), dataset=description['dataset'], subset=args.subset,
               data=os.path.abspath(data), description=description, n=n)
    path = frechet.statistics_path(args.stats_dir, key)
    sorted_first = getattr(metric.protocol, 'real_order', None) == 'sorted'

    def compute():
        clips = sampling.from_dataset(real, n, metric.protocol.batchsize, 0, device,
                                      as_stored=True, first=sorted_first)
        return frechet.gaussian(metric.real_features(clips))

    mu, sigma, cached = frechet.cached_statistics(path, key, compute)
    print('real statistics ({} videos of {}, {}): {} {}'.format(
        n, real_name(description, args.subset), metric.real_layer,
        'read from' if cached else 'saved to', path))
    return mu, sigma, path


def video_source(args, generator, protocol, device, description, data):
    """(seed -> batches of videos, table label): the generator's samples with
    --result, else real clips of the dataset (its random windows by seed), as stored."""
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
                                     'run seed {}'.format(seed), as_stored=True)
    return batches, '{} (real videos)'.format(real_name(description, args.subset))


def run_all(metric, make_batches, seeds, real=None):
    """One run per seed: ``make_batches(seed)`` yields its videos. Returns
    {'runs': [{'seed', value...}...], value: {'mean', 'std'}...}; std is the
    population std (numpy.std), as the paper reports."""
    runs = [dict(seed=seed, **metric.run(make_batches(seed), seed, real)) for seed in seeds]
    result = {'runs': runs}
    for key in runs[0]:
        if key != 'seed':
            values = numpy.array([r[key] for r in runs])
            result[key] = {'mean': float(values.mean()), 'std': float(values.std())}
    return result


def report(metric, result, label, real):
    for run in result['runs']:
        print('seed {}: {}'.format(run['seed'], ', '.join(
            '{} {:.4f}'.format(NAMES[k], v) for k, v in run.items() if k != 'seed')))
    for line in metric.report(result, label, real):
        print(line)


def record_path(args, protocols, description):
    """--json, else beside the snapshot or in results/, named by the protocols."""
    if args.json:
        return args.json
    names = '+'.join(protocols)
    if args.result:
        return os.path.join(args.result, 'evaluation_iter_{}_{}.json'.format(
            args.iteration, names))
    return os.path.join('results', 'evaluation_{}_{}_{}.json'.format(
        description['dataset'], args.subset or 'all', names))


def write(path, rec):
    record.write_record(path, rec)
    print('record: {}'.format(path))
