"""Training updates (paper §4): objectives as StandardUpdater subclasses,
Lipschitz constraints as strategies they apply after the critic update."""
from runtime import chainer_compat  # noqa: F401

from updaters.constraints import (  # noqa: E402,F401
    NoConstraint, SingularValueClipping, WeightClipping, make_constraint)
from updaters.gan import GANUpdater  # noqa: E402,F401
from updaters.wgan import (  # noqa: E402,F401
    CRITIC_FAKE, CRITIC_REAL, LOSS_CRITIC, LOSS_GEN, REPORTED, WGANUpdater)
from updaters.factory import (  # noqa: E402,F401
    critic_rate, learning_rate_decay, make_optimizer, make_updater)
from updaters.distributed import multi_node_bn  # noqa: E402,F401
