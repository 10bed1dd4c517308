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

from runtime import blas_settings  # noqa: F401  (before numpy)
from runtime import allocator, chainer_compat  # noqa: F401  (before chainer)
from runtime.devices import get_device
from runtime.errors import run_command

from evaluation import pipeline, record, sampling  # noqa: E402
from evaluation.protocols import PROTOCOLS  # noqa: E402
from evaluation.sampling import dataset_description  # noqa: E402
from evaluation.score import run_all  # noqa: E402


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


def main(argv=None):
    args = parse_args(argv)
    allocator.keep_freed_memory()
    protocol = pipeline.resolve_protocol(args)
    device = get_device(args.gpu)
    seeds = list(range(args.seed, args.seed + protocol.runs))

    generator, run_config, snapshot = None, None, None
    if args.result:
        generator, run_config, snapshot, args.iteration = sampling.load_generator(
            args.result, args.iteration, args.config)
        generator.to_device(device)
    description, data = pipeline.real_description(args, run_config)
    classifier, mean, digests, meta = pipeline.load_scorer(args, protocol, device)
    pipeline.check_fits(meta, dataset_description(run_config) if run_config else description)
    batches, label = pipeline.video_source(args, generator, protocol, device, description, data)

    real, stats_path = None, None
    if args.frechet:
        *real, stats_path = pipeline.real_statistics(args, classifier, mean, protocol,
                                                     digests, description, data, device)
    result = run_all(batches, classifier, protocol, mean, seeds, args.frechet, real)
    pipeline.report(args, protocol, result, label, pipeline.real_name(description, args.subset))

    settings = {k: v for k, v in protocol._asdict().items() if k != 'preprocess'}
    rec = dict(result, protocol=settings, samples=protocol.n_samples, seeds=seeds,
               c3d_dropout=args.c3d_dropout, snapshot=snapshot, iteration=args.iteration,
               config=args.config, weights=digests, versions=record.versions(),
               device=str(device),
               real=None if args.result else {'description': description, 'data': data},
               frechet={'layer': args.frechet, 'statistics': stats_path,
                        'description': description} if args.frechet else None)
    path = pipeline.record_path(args, protocol, description)
    record.write_record(path, rec)
    print('record: {}'.format(path))
    return 0


if __name__ == '__main__':
    run_command(main)
