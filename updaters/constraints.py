"""Lipschitz constraints on the critic, applied after its update (paper §4).

Each strategy says at which iterations it applies and what it does; the
updater times it and reports the time as ``time_<name>``.
"""
from chainer import backend

from runtime.errors import UsageError
from updaters.svc import singular_value_clipping


class SingularValueClipping:
    """Paper §4.2: every ``every`` iterations (after iterations every, 2*every,
    ...) clip the critic's singular values to <= 1 and its BN gammas."""
    name = 'svc'

    def __init__(self, every=5, include_eps=False):
        self.every, self.include_eps = every, include_eps

    def applies(self, iteration):
        return iteration % self.every == 0

    def __call__(self, critic):
        singular_value_clipping(critic, self.include_eps)


class WeightClipping:
    """WGAN's weight clipping (the paper's baseline): after every critic update
    clip every critic parameter into [-c, c]."""
    name = 'clip'

    def __init__(self, c=0.01):
        self.c = c

    def applies(self, iteration):
        return True

    def __call__(self, critic):
        for param in critic.params():
            xp = backend.get_array_module(param.array)
            xp.clip(param.array, -self.c, self.c, out=param.array)


class NoConstraint:
    """No constraint (the normal-GAN baseline)."""
    name = 'none'

    def applies(self, iteration):
        return False

    def __call__(self, critic):
        pass


def make_constraint(name, svc_every=5, clip_value=0.01, svc_include_eps=False):
    """The strategy named by a config's ``constraint`` key."""
    if name == 'svc':
        return SingularValueClipping(svc_every, svc_include_eps)
    if name == 'clip':
        return WeightClipping(clip_value)
    if name == 'none':
        return NoConstraint()
    raise UsageError("unknown constraint {!r}: choose 'svc', 'clip' or 'none'".format(name))
