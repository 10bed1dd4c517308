"""Experiment configuration: defaults, YAML presets in ``configs/``, overrides.

A preset is a YAML file whose keys override ``DEFAULTS``; ``base: NAME``
starts from another preset. Unknown keys are errors, never ignored. The
resolved configuration is saved as ``config.yaml`` in the result folder.
"""
import copy
import os
import reprlib

import yaml

from runtime.atomic import atomic_path
from runtime.errors import UsageError

CONFIG_DIR = os.path.dirname(os.path.abspath(__file__))

DEFAULTS = {
    'dataset': 'synthetic',       # synthetic | moving_mnist | ucf101 | golf
    'data': None,                 # folder of the dataset's files (None: data/<dataset>)
    'dataset_args': {},           # further arguments of the dataset class
    'frames': 16,
    'size': 64,
    'channels': 3,
    'z0_dim': 100,                # z0 of TGAN; z of the baselines
    'z1_dim': 100,
    'generator': 'tgan',          # tgan | 3d | video_gan (the baselines of Table 4)
    'conditional': False,         # the conditional TGAN (paper §5.2): labels from the dataset
    'n_classes': 0,               # set by train.py from the dataset when conditional
    'temporal_generator': {'ch': 512, 'use_beta': False, 'init': 'default'},
    'image_generator': {'ch': 512, 'init': 'uniform', 'use_z0': True},
    'generator_3d': {'ch': 512, 'init': 'default'},
    'video_gan': {'ch': 512, 'init': 'default'},
    'critic': {'ch': 64, 'depth': None, 'use_beta': False, 'init': 'default', 'noise_sigma': 0.0},
    'objective': 'wgan',          # wgan | gan (the normal-GAN baseline)
    'constraint': 'svc',          # svc | clip | none
    'svc_every': 5,
    'svc_include_eps': False,     # BN bound sqrt(var + eps) (paper) vs sqrt(var) (code)
    'clip_value': 0.01,
    'optimizer': {'name': 'rmsprop', 'lr': 5.0e-5, 'beta1': 0.5, 'beta2': 0.999,
                  'decay_from': 0,   # > 0: lr linearly to 0 from this iteration on
                  'critic_lr': 0.0},  # > 0: the critic's own rate (TTUR); 0: lr, as the paper
    'batchsize': 32,              # the effective batch (split over MPI processes: runtime/distributed.py)
    'functions': 'fast',          # fast (functions/: ours) | chainer (Chainer's own): docs/speed.md
    'multi_node_bn': False,       # with MPI processes: BN statistics over the effective batch
    'iterations': 100000,
    'seed': 0,
    'loader_processes': 0,        # 0: load in the main process
    'display_interval': 100,
    'snapshot_interval': 5000,
    'snapshot_keep': 0,           # keep the newest K trainer snapshots (0: all)
    'preview_interval': 5000,
    'preview_videos': 16,
}
FREE_FORM = {'dataset_args'}      # dictionaries whose keys the consumer checks
# sizes checked before anything is allocated: far above the paper's (docs/design.md), far
# below what would exhaust a machine (z0_dim 10^8 asks for hundreds of GiB of weights)
BOUNDS = {'frames': (1, 1024), 'size': (1, 4096), 'channels': (1, 16), 'z0_dim': (1, 8192),
          'z1_dim': (1, 8192), 'temporal_generator.ch': (1, 8192),
          'image_generator.ch': (1, 8192), 'generator_3d.ch': (1, 8192),
          'video_gan.ch': (1, 8192), 'critic.ch': (1, 8192), 'batchsize': (1, 65536),
          'preview_videos': (1, 1024), 'n_classes': (0, 100000)}
MAX_FILE = 2 ** 20  # bytes of a config file (the presets have under 2 kB)
SHORT = reprlib.Repr()
SHORT.maxstring, SHORT.maxother = 60, 60


class _NoAliases(yaml.SafeLoader):
    """YAML without aliases (``*name``): a config needs none, and nested aliases
    expand exponentially (a few hundred bytes can ask for gigabytes)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, 'aliases (*{}) are not allowed in a config'.format(
                    self.peek_event().anchor), self.peek_event().start_mark)
        return super().compose_node(parent, index)


def preset_path(name):
    """A preset's file: a path, or a name in ``configs/`` (with or without .yaml)."""
    if os.path.isfile(name):
        return name
    path = os.path.join(CONFIG_DIR, name if name.endswith('.yaml') else name + '.yaml')
    if not os.path.isfile(path):
        presets = sorted(f[:-5] for f in os.listdir(CONFIG_DIR) if f.endswith('.yaml'))
        raise UsageError('config {!r} not found: give a YAML file or one of {}'.format(
            name, ', '.join(presets)))
    return path


def _read(path):
    try:
        with open(path, 'rb') as f:
            text = f.read(MAX_FILE + 1)
    except OSError as e:
        raise UsageError('{}: {}'.format(path, e.strerror))
    if len(text) > MAX_FILE:
        raise UsageError('{} is larger than {} bytes: not a config'.format(path, MAX_FILE))
    try:
        data = yaml.load(text, _NoAliases) or {}
    except yaml.YAMLError as e:
        raise UsageError('{} is not valid YAML: {}'.format(
            path, str(e).replace('\n', ' ')[:300]))
    if not isinstance(data, dict):
        raise UsageError('{} must hold a mapping of config keys'.format(path))
    return data


def _typed(value, default, where, name):
    """``value`` checked against the type of its default (an int is a valid
    float; '5e-5', which YAML 1.1 reads as a string, is too)."""
    if default is None or isinstance(default, dict):
        return copy.deepcopy(value)
    kind = type(default)
    if kind is float and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not kind:
        raise UsageError('{}: {!r} must be {} {}, got {}'.format(
            where, name, 'an' if kind is int else 'a', kind.__name__, SHORT.repr(value)))
    return value


def _check_bounds(config):
    """Every size of ``BOUNDS`` within its range, before any array is made."""
    for key, (low, high) in BOUNDS.items():
        value = config
        for part in key.split('.'):
            value = value[part]
        if not low <= value <= high:
            raise UsageError('{} {} is out of range: it must be between {} and {}'.format(
                key, SHORT.repr(value), low, high))


def _merge(base, update, where, prefix=''):
    for key, value in update.items():
        name = prefix + key
        if key not in base:
            raise UsageError('{}: unknown config key {}; valid keys{}: {}'.format(
                where, SHORT.repr(name), ' under ' + prefix[:-1] if prefix else '', ', '.join(sorted(base))))
        if isinstance(base[key], dict) and key not in FREE_FORM:
            if not isinstance(value, dict):
                raise UsageError('{}: {!r} must be a mapping'.format(where, name))
            _merge(base[key], value, where, name + '.')
        else:
            base[key] = _typed(value, base[key], where, name)


def load(name, overrides=None):
    """Defaults <- preset (and its ``base`` chain) <- ``overrides`` (dotted keys)."""
    config = copy.deepcopy(DEFAULTS)
    chain, path = [], preset_path(name)
    while True:
        data = _read(path)
        chain.append((path, data))
        if 'base' not in data:
            break
        path = preset_path(data.pop('base'))
        if len(chain) > 10:
            raise UsageError('{}: the chain of "base" presets is too long'.format(name))
    for path, data in reversed(chain):
        _merge(config, data, path)
    for key, value in (overrides or {}).items():
        *parents, leaf = key.split('.')
        if parents and parents[0] in FREE_FORM:
            # one entry of a free-form mapping (--set dataset_args.speed=...):
            # the preset's other entries stay
            mapping = entry = copy.deepcopy(config[parents[0]])
            for depth, part in enumerate(parents):
                if depth:
                    entry = entry.setdefault(part, {})
                if not isinstance(entry, dict):
                    raise UsageError('override {}: {} is not a mapping'.format(key, part))
            entry[leaf] = value
            parents, leaf, value = [], parents[0], mapping
        update = {leaf: value}
        for parent in reversed(parents):
            update = {parent: update}
        _merge(config, update, 'override ' + key)
    _check_bounds(config)
    return config


def save(config, path, comment=None):
    """Write ``config`` as YAML, after a ``# comment`` line if given (atomically)."""
    with atomic_path(path) as tmp, open(tmp, 'w') as f:
        if comment:
            f.write('# {}\n'.format(comment))
        yaml.safe_dump(config, f, default_flow_style=False, sort_keys=False)
