"""TGAN networks (paper Table 1). Import order matters: the compatibility
module must run before the first ``import chainer``."""
import chainer_compat  # noqa: F401

from models.critic import Critic  # noqa: E402,F401
from models.image_generator import ImageGenerator  # noqa: E402,F401
from models.temporal_generator import TemporalGenerator  # noqa: E402,F401
from models.video_generator import VideoGenerator  # noqa: E402,F401


def build_generator(config):
    """The video generator (G0 + G1) described by a resolved config."""
    return VideoGenerator.from_config(
        config['z0_dim'], config['z1_dim'], config['frames'], config['size'],
        config['channels'], config['temporal_generator'], config['image_generator'])


def build_critic(config):
    """The critic described by a resolved config."""
    return Critic(config['channels'], config['frames'], config['size'], **config['critic'])
