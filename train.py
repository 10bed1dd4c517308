#!/usr/bin/env python
"""Train TGAN (paper §4): ``python train.py --dataset synthetic --gpu -1``.

Parses arguments, resolves the config and wires dataset, models, updater and
extensions together; see README for the presets and the result folder.
Data-parallel on N processes: ``mpiexec -n N python train.py --communicator
NAME ...`` (docs/multi-gpu.md).
"""
import argparse
import os

from runtime import blas_settings  # noqa: F401  (before numpy)
from runtime import allocator, atomic, chainer_compat  # noqa: F401  (before chainer)
from runtime.devices import get_device
from runtime.errors import UsageError, run_command

import matplotlib  # noqa: E402
matplotlib.use('Agg')

import chainer  # noqa: E402
import numpy  # noqa: E402
import yaml  # noqa: E402
from chainer.training import extensions as E  # noqa: E402

import configs  # noqa: E402
import datasets  # noqa: E402
from evaluation.shape_motion import ShapeMotion  # noqa: E402
import extensions  # noqa: E402
import models  # noqa: E402
import updaters  # noqa: E402
from runtime import distributed  # noqa: E402

REPORT = ['iteration', *updaters.REPORTED, 'time_svc', 'elapsed_time']


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dataset', help='{} (default: the config\'s; with no --config, '
                                     'also picks the preset <dataset>_svc)'.format(
                                         ' | '.join(datasets.NAMES)))
    p.add_argument('--config', help='preset name in configs/ or a YAML file')
    p.add_argument('--gpu', type=int, default=-1, help='GPU id, -1 for CPU (default); with '
                                                       '--communicator, rank r of a node uses '
                                                       'GPU id + r')
    p.add_argument('--communicator', metavar='NAME',
                   help='train data-parallel on the processes of `mpiexec -n N` with this '
                        'ChainerMN communicator: {} (naive on CPUs, pure_nccl on '
                        'GPUs)'.format(' | '.join(distributed.COMMUNICATORS)))
    p.add_argument('--data', help='folder of the dataset\'s files (default: data/<dataset>)')
    p.add_argument('--out', help='result folder (default: results/<config>)')
    p.add_argument('--batchsize', type=int)
    p.add_argument('--iterations', type=int, help='stop after this many iterations')
    p.add_argument('--seed', type=int)
    p.add_argument('--conditional', action='store_true', default=None,
                   help='the conditional TGAN (paper §5.2): the dataset\'s class labels '
                        'condition the generator and the critic (ucf101, synthetic)')
    p.add_argument('--resume', metavar='PATH',
                   help='a trainer snapshot, or a result folder (its latest snapshot)')
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                   help='override any config key, e.g. --set critic.ch=32 (repeatable)')
    return p.parse_args(argv)


def resolve_config(args):
    """(config, result folder, snapshot to resume or None) from the arguments."""
    if args.dataset is not None and args.dataset not in datasets.NAMES:
        raise UsageError('unknown dataset {!r}: choose one of {}'.format(
            args.dataset, ', '.join(datasets.NAMES)))
    snapshot = None
    if args.resume:
        snapshot = args.resume
        if os.path.isdir(snapshot):
            snapshot = extensions.latest_snapshot(snapshot)
            if snapshot is None:
                raise UsageError('--resume {}: no snapshot_iter_*.npz in that folder'.format(
                    args.resume))
        elif not os.path.isfile(snapshot):
            raise UsageError('--resume {}: no such file or folder'.format(args.resume))
        extensions.check_snapshot(snapshot)
    preset = args.config
    if preset is None and snapshot is not None:
        preset = os.path.join(os.path.dirname(snapshot), 'config.yaml')
        if not os.path.isfile(preset):
            raise UsageError('--resume {}: no config.yaml of its run beside it: give the '
                             'run\'s --config'.format(args.resume))
    if preset is None:
        preset = '{}_svc'.format(args.dataset or 'synthetic')
    overrides = {key: getattr(args, key) for key in
                 ('dataset', 'data', 'batchsize', 'iterations', 'seed', 'conditional')
                 if getattr(args, key) is not None}
    for item in args.set:
        key, sep, value = item.partition('=')
        if not sep:
            raise UsageError('--set {!r}: expected KEY=VALUE'.format(item))
        overrides[key] = yaml.safe_load(value)
    config = configs.load(preset, overrides)
    if config['data'] is None:
        config['data'] = datasets.default_path(config['dataset'])
    out = args.out or (os.path.dirname(snapshot) if snapshot else os.path.join(
        'results', os.path.splitext(os.path.basename(preset))[0]))
    latest = extensions.latest_snapshot(out) if os.path.isdir(out) else None
    if latest is not None and (snapshot is None or not os.path.samefile(
            os.path.dirname(os.path.abspath(snapshot)), out)):
        raise UsageError('--out {} holds the snapshots of another run ({}): continue that run '
                         'with `python train.py --resume {}`, or give a fresh --out'.format(
                             out, os.path.basename(latest), out))
    return config, out, snapshot



def make_iterator(dataset, batchsize, seed, loader_processes):
    order = chainer.iterators.ShuffleOrderSampler(numpy.random.RandomState(seed))
    if loader_processes > 0:
        return chainer.iterators.MultiprocessIterator(
            dataset, batchsize, n_processes=loader_processes, order_sampler=order)
    return chainer.iterators.SerialIterator(dataset, batchsize, order_sampler=order)


def main(argv=None):
    args = parse_args(argv)
    allocator.keep_freed_memory()
    config, out, snapshot = resolve_config(args)
    workers = distributed.Workers(args.communicator, args.gpu)  # one process without
    if workers.writer:
        atomic.make_folder(out)  # before any work: a folder that cannot be written
    device = get_device(workers.gpu)
    batchsize = workers.batch(config['batchsize'])
    seed = workers.seed(config['seed'])  # this process's z and data order
    full = datasets.make_dataset(
        config['dataset'], config['data'], config['frames'], config['size'],
        config['channels'], seed=config['seed'], **config['dataset_args'])
    if config['conditional']:
        full = datasets.Labeled(full, config['dataset'])
    config['n_classes'] = datasets.n_classes(full, config['n_classes'])
    dataset = workers.shard(full, config['seed'])

    numpy.random.seed(config['seed'])  # weight initialisation, alike in every process
    generator, critic = updaters.multi_node_bn(workers.comm, config['multi_node_bn'],
                                               models.build_generator(config),
                                               models.build_critic(config))
    generator.to_device(device)
    critic.to_device(device)
    updater = updaters.make_updater(
        config, make_iterator(dataset, batchsize, seed, config['loader_processes']),
        generator, critic, device, seed=seed, comm=workers.comm, converter=datasets.converter)

    stop = extensions.distributed.stop_trigger(config['iterations'], workers.comm)
    trainer = chainer.training.Trainer(updater, stop, out=out)
    extensions.distributed.extend(trainer, workers.comm, stop,
                                  stop.or_every(config['snapshot_interval']))
    trainer.extend(extensions.StopOnNonFinite(stop.or_every(config['snapshot_interval'])))
    for name, decay in updaters.learning_rate_decay(config, updater).items():
        trainer.extend(decay, name=name)
    if workers.writer:
        preview = add_writers(trainer, generator, critic, config, stop)

    if snapshot is not None:
        extensions.check_processes(snapshot, workers.size)
        extensions.load_snapshot(snapshot, trainer)
    setup = workers.describe(config['batchsize'], config['multi_node_bn'])
    if workers.writer:
        if snapshot is not None:
            print('resumed from {} at iteration {}'.format(snapshot, updater.iteration))
        print('training with', setup)
        configs.save(config, os.path.join(out, 'config.yaml'), comment='run: ' + setup)
        if config['conditional']:
            datasets.save_classes(out, full)

    stop.install()
    try:
        trainer.run(show_loop_exception_msg=False)
    except atomic.OutputError as e:
        latest = extensions.latest_snapshot(out)
        raise UsageError('{}; the run stopped. {}'.format(e, (
            'Its latest complete snapshot is {}: make room (or set snapshot_keep), then '
            'continue with `python train.py --resume {}`'.format(latest, out)) if latest
            else 'It has no snapshot yet.'))
    if workers.writer:
        print('{} at iteration {}; results in {}'.format(
            'interrupted' if stop.interrupted else 'finished', updater.iteration, out))
        print_where(out, preview, updater.iteration, trainer.get_extension('LogReport').log)
    return 0


def print_where(out, preview, iteration, log):
    """Where the run's files are and how to go on; with a shape-motion check,
    also the preview of the run (``log``: the LogReport's entries) whose
    frames pass most often, and its snapshot."""
    if preview.last is not None:  # None: the run had no iteration left to train
        stem, passed, frames = preview.last
        print('  final preview: {}.gif (and .png){}'.format(stem, '' if passed is None else
              ': {:.0%} of its videos show {}; {:.0%} of its frames pass'.format(
                  passed, preview.check.describe(), frames)))
        scores = [(e['preview_frames'], e['iteration'], e['preview_motion'])
                  for e in log if 'preview_frames' in e]
        if passed is not None:
            scores.append((frames, iteration, passed))
            frames, best, passed = max(scores)  # the latest of equal ones
            snapshot = os.path.join(out, 'snapshot_iter_{}.npz'.format(best))
            print('  best preview: iteration {}: {:.0%} of its videos, {:.0%} of its frames'
                  '{}'.format(best, passed, frames, '' if best == iteration else (
                      '; its snapshot {} (score it: python -m evaluation.shape_motion '
                      '--result {} --iteration {})'.format(snapshot, out, best)
                      if os.path.isfile(snapshot) else ' (its snapshot is not kept)')))
    print('  plots: {0}/loss.png, {0}/critic.png; log: {0}/log'.format(out))
    print('  snapshot: {}'.format(extensions.latest_snapshot(out)))
    print('  continue: python train.py --resume {} --iterations {}'.format(out, 2 * iteration))
    print('  samples:  python generate.py --result {} --out samples.gif'.format(out))


def add_writers(trainer, generator, critic, config, stop):
    """The extensions that print and write files (rank 0's alone); previews
    and snapshots also save the end of the run. Returns the preview."""
    display = (config['display_interval'], 'iteration')
    check = ShapeMotion.for_config(config)  # synthetic runs of one shape
    trainer.extend(extensions.LogReport(trigger=display))
    trainer.extend(E.PrintReport(REPORT + ['preview_motion', 'preview_frames'] * (
        check is not None)),
                   trigger=display)
    trainer.extend(E.ProgressBar(training_length=stop.get_training_length(),
                                 update_interval=max(1, config['display_interval'] // 10)))
    trainer.extend(extensions.PlotReport([updaters.LOSS_GEN, updaters.LOSS_CRITIC], 'iteration',
                                         trigger=display, file_name='loss.png'))
    trainer.extend(extensions.PlotReport([updaters.CRITIC_REAL, updaters.CRITIC_FAKE],
                                         'iteration', trigger=display, file_name='critic.png'))
    preview = extensions.Preview(generator, config['preview_videos'], config['seed'], check)
    trainer.extend(preview, trigger=stop.or_every(config['preview_interval']))
    snapshots = extensions.Snapshot(dict(generator.parts(), critic=critic),
                                    config['snapshot_keep'])
    trainer.extend(snapshots, trigger=stop.or_every(config['snapshot_interval']))
    return preview


if __name__ == '__main__':
    run_command(main)
