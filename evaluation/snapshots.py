"""A trained run's networks, loaded from its result folder: the generator
(train.py's per-model files or the original TGAN's ``gen``/``vgen`` files)
and the critic, rebuilt from the run's config."""
import os

import configs
import models
from extensions.snapshot import MODEL_FILE
from runtime.errors import UsageError
from runtime.npz import NpzMismatch, load_npz

# the original pfnet-research/tgan's per-model files of G0 and G1
ORIGINAL_NAMES = ('gen_iter_{}.npz', 'vgen_iter_{}.npz')


def run_config(result, config=None):
    """The resolved config of the run in ``result``: ``config`` (a preset name or
    YAML file) if given, else ``result/config.yaml``."""
    if not os.path.isdir(result):
        raise UsageError('--result {}: no such folder'.format(result))
    if config is None:
        config = os.path.join(result, 'config.yaml')
        if not os.path.isfile(config):
            raise UsageError('{} not found: give the network\'s preset with --config (e.g. '
                             '--config ucf101_svc for an original TGAN result)'.format(config))
    return configs.load(config)


def load_generator(result, iteration, config=None):
    """The video generator of ``result`` at ``iteration`` (train=False use).

    The network is described by ``config`` (see ``run_config``); its weights
    come from the per-model files train.py writes (``<part>_iter_N.npz`` for
    each of ``generator.parts()``: TGAN's ``temporal_generator`` +
    ``image_generator``, a baseline's ``generator``), or for TGAN the original
    code's ``gen_iter_N.npz`` + ``vgen_iter_N.npz``. ``iteration`` None: the
    latest. Returns (generator, config, [weight files], iteration).
    """
    config = run_config(result, config)
    generator = models.build_generator(config)
    parts = generator.parts()
    choices = [[MODEL_FILE.format(name, '{}') for name in parts]]
    if config['generator'] == 'tgan':
        choices.append(list(ORIGINAL_NAMES))
    if iteration is None:
        iteration = latest_iteration(result, choices)
        if iteration is None:
            raise UsageError('no generator snapshots ({}) in {}'.format(
                ' or '.join(names[-1].format('N') for names in choices), result))
    for names in choices:
        files = [os.path.join(result, n.format(iteration)) for n in names]
        if all(os.path.isfile(f) for f in files):
            break
    else:
        raise UsageError('no generator snapshot for iteration {} in {}: expected {} (latest '
                         'iteration there: {})'.format(iteration, result, ' + '.join(
                             n.format(iteration) for n in choices[0]),
                             latest_iteration(result, choices)))
    for link, path in zip(parts.values(), files):
        load_weights(path, link)
    return generator, config, files, iteration


def critic_file(result, iteration):
    """The critic's file of ``result`` at ``iteration`` (``critic_iter_N.npz``)."""
    return os.path.join(result, MODEL_FILE.format('critic', iteration))


def load_critic(result, iteration, config):
    """The critic of ``result`` at ``iteration`` (``critic_iter_N.npz``)."""
    path = critic_file(result, iteration)
    if not os.path.isfile(path):
        raise UsageError('{} not found: the run keeps a critic snapshot beside each '
                         'generator snapshot'.format(path))
    critic = models.build_critic(config)
    load_weights(path, critic)
    return critic


def load_weights(path, link):
    """Load a per-model npz into ``link`` (runtime/npz.py) with a one-line
    error if it does not fit."""
    try:
        load_npz(path, link)
    except NpzMismatch as e:
        raise UsageError('{} does not fit the network of the config ({}): '
                         'pass the preset it was trained with via --config'.format(
                             path, e.detail))


def latest_iteration(result, choices):
    """The highest N for which all files of one of ``choices`` (lists of
    ``'<part>_iter_{}.npz'`` patterns) are in ``result``, or None."""
    files, found = set(os.listdir(result)), []
    for names in choices:
        prefix = names[0].split('{}')[0]
        for f in files:
            n = f[len(prefix):-len('.npz')]
            if (f.startswith(prefix) and f.endswith('.npz') and n.isdigit()
                    and all(name.format(n) in files for name in names)):
                found.append(int(n))
    return max(found) if found else None
