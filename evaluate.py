#!/usr/bin/env python
"""Score a trained TGAN with the Inception Score (paper §6.3) and FVD.

    python evaluate.py --result DIR --c3d conv3d_deepnetA_ucf.npz --mean mean2.npz
    python evaluate.py --result DIR --metric is fvd --c3d ... --mean ... --i3d i3d_pretrained_400.pt

Prints each metric (mean ± population std over runs), optionally the
Fréchet distance on C3D features, and our row among the published ones
(the paper's Table 4; FVDs on UCF-101); writes one JSON record. Without
``--result`` it scores real videos of ``--dataset`` (the paper's "UCF-101
dataset" row). With ``--classifier`` the Inception Score uses the offline
synthetic-set classifier instead of C3D. See docs/evaluation.md and docs/fvd.md.
"""
import argparse
import os

from runtime import blas_settings  # noqa: F401  (before numpy)
from runtime import allocator, chainer_compat  # noqa: F401  (before chainer)
from runtime.devices import get_device
from runtime.errors import run_command

from evaluation import pipeline, record, snapshots  # noqa: E402
from evaluation.metrics import METRICS  # noqa: E402
from evaluation.sampling import dataset_description  # noqa: E402


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
                     help='C3D\'s fc6/fc7 dropout on with any protocol (the tgan protocol, '
                          'the original script as it ran, has it on anyway)')
    cls.add_argument('--classifier', metavar='NPZ',
                     help='the offline classifier (python -m evaluation.train_classifier)')
    cls.add_argument('--i3d', metavar='FILE', help='I3D weights for FVD, i3d_pretrained_400.pt')
    run = p.add_argument_group('protocol')
    run.add_argument('--metric', nargs='+', choices=sorted(METRICS), default=['is'],
                     help='is (Inception Score, the default), fvd, or both: --metric is fvd')
    run.add_argument('--protocol', action='append',
                     choices=sorted({n for m in METRICS.values() for n in m.PROTOCOLS}),
                     help='IS: tgan (default with C3D: the paper\'s script as it ran, dropout '
                          'on), tgan-nodropout, tgan2, offline (the default with --classifier); '
                          'FVD: videogpt (default), stylegan-v; once per metric')
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
    args.metric = list(dict.fromkeys(args.metric))
    allocator.keep_freed_memory()
    pipeline.protocols(args)  # bad options stop before anything is loaded
    device = get_device(args.gpu)

    generator, run_config, snapshot = None, None, None
    if args.result:
        generator, run_config, snapshot, args.iteration = snapshots.load_generator(
            args.result, args.iteration, args.config)
        generator.to_device(device)
    description, data = pipeline.real_description(args, run_config)
    metrics = pipeline.load_metrics(args, device)
    real_name = pipeline.real_name(description, args.subset)

    rec = {'snapshot': snapshot, 'iteration': args.iteration, 'config': args.config,
           'versions': record.versions(), 'device': str(device),
           'real': None if args.result else {'description': description, 'data': data}}
    for metric in metrics:
        metric.check_fits(dataset_description(run_config) if run_config else description)
        protocol = metric.protocol
        seeds = list(range(args.seed, args.seed + protocol.runs))
        batches, label = pipeline.video_source(args, generator, protocol, device, description,
                                               data)
        real, stats_path = None, None
        if metric.real_layer:
            *real, stats_path = pipeline.real_statistics(args, metric, description, data,
                                                         device)
        result = pipeline.run_all(metric, batches, seeds, real)
        pipeline.report(metric, result, label, real_name)
        settings = dict(protocol=metric.settings(), samples=protocol.n_samples, seeds=seeds,
                        weights=metric.files)
        if metric.name == 'is':  # at the top of the record, as before FVD came
            rec.update(result, **settings, c3d_dropout=metric.dropout, frechet={
                'layer': metric.real_layer, 'statistics': stats_path,
                'description': description} if metric.real_layer else None)
        else:
            rec[metric.name] = dict(result[metric.name], runs=result['runs'], **settings,
                                    statistics=stats_path, description=description)
    pipeline.write(pipeline.record_path(args, [m.protocol.name for m in metrics],
                                        description), rec)
    return 0


if __name__ == '__main__':
    run_command(main)
