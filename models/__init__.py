"""TGAN networks (paper Table 1). Import order matters: the compatibility
module must run before the first ``import chainer``."""
from runtime import chainer_compat  # noqa: F401

from functions import choice  # noqa: E402
from runtime.errors import UsageError  # noqa: E402
from models.critic import Critic  # noqa: E402,F401
from models.generator_3d import Generator3D  # noqa: E402,F401
from models.image_generator import ImageGenerator  # noqa: E402,F401
from models.temporal_generator import TemporalGenerator  # noqa: E402,F401
from models.video_gan_generator import VideoGANGenerator  # noqa: E402,F401
from models.video_generator import VideoGenerator  # noqa: E402,F401


GENERATORS = ('tgan', '3d', 'video_gan')


def build_generator(config):
    """The video generator described by a resolved config: TGAN's (G0 + G1),
    or a baseline of Table 4 (``generator: 3d | video_gan``), computing with the
    config's ``functions`` (functions/choice.py)."""
    kind = config['generator']
    if kind not in GENERATORS:
        raise UsageError('unknown generator {!r}: choose one of {}'.format(
            kind, ', '.join(GENERATORS)))
    if kind != 'tgan' and config['n_classes']:
        raise UsageError('the conditional model is TGAN\'s: set generator: tgan or '
                         'conditional: false')
    functions = choice.select(config['functions'])
    geometry = config['channels'], config['frames'], config['size']
    if kind == '3d':
        return Generator3D(config['z0_dim'], *geometry, functions=functions,
                           **config['generator_3d'])
    if kind == 'video_gan':
        return VideoGANGenerator(config['z0_dim'], *geometry, functions=functions,
                                 **config['video_gan'])
    return VideoGenerator.from_config(
        config['z0_dim'], config['z1_dim'], config['frames'], config['size'],
        config['channels'], config['temporal_generator'], config['image_generator'],
        n_classes=config['n_classes'], functions=functions)


def build_critic(config):
    """The critic described by a resolved config, computing with its ``functions``."""
    return Critic(config['channels'], config['frames'], config['size'],
                  n_classes=config['n_classes'], functions=choice.select(config['functions']),
                  **config['critic'])
