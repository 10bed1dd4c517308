"""The paper's training step: WGAN objective with a Lipschitz constraint (paper §4)."""
import time

import chainer
import chainer.functions as F
import numpy
from chainer.iterators import ShuffleOrderSampler

from models.common import one_hot

# What the updaters report every iteration (``chainer.report``): the two losses
# and the mean critic scores. train.py logs and plots them, the divergence check
# (extensions/divergence.py) watches them and a multi-process run averages them
# over the ranks (extensions/distributed.py).
LOSS_GEN, LOSS_CRITIC = 'loss_gen', 'loss_dis'
CRITIC_REAL, CRITIC_FAKE = 'critic_real', 'critic_fake'
REPORTED = (LOSS_GEN, LOSS_CRITIC, CRITIC_REAL, CRITIC_FAKE)


class WGANUpdater(chainer.training.updaters.StandardUpdater):
    """One generator update and one critic update per iteration, from one
    forward pass (n_critic = 1, as in the original code), then the critic's
    Lipschitz ``constraint`` (SVC, weight clipping or none).

    Optimizers: ``gen`` (the video generator: TGAN's G0 and G1, or a
    baseline's) and ``critic``. ``converter`` (Chainer's) turns a batch into
    float32 clips in [-1, 1] on the device (train.py hands in
    ``datasets.converter``, which scales the real datasets' uint8 clips). A conditional generator (``n_classes > 0``)
    reads (clip, label) batches; its fakes take the labels of the real batch,
    so they follow the training class prior, and the critic sees the labels.
    Reports ``REPORTED``: ``loss_gen``, ``loss_dis``, the mean critic scores
    ``critic_real`` and ``critic_fake`` (collapse shows as both going to 0);
    and ``time_<constraint>`` in seconds per application.

    All randomness of a step comes from host RandomStates that are saved in
    the trainer snapshot: ``self.rng`` (z0 and the critic noise seeds), the
    iterator's shuffle order and a dataset's own state if it has a
    ``serialize`` method (the draws of random windows), so that a resumed run
    continues exactly.
    """

    def __init__(self, iterator, gen_optimizer, critic_optimizer, constraint,
                 seed=0, device=None, converter=chainer.dataset.concat_examples):
        super().__init__(iterator, {'gen': gen_optimizer, 'critic': critic_optimizer},
                         converter=converter, device=device)
        self.constraint = constraint
        self.rng = numpy.random.RandomState(seed)

    def loss_gen(self, y_fake):
        """WGAN generator loss: -E[D(G(z))]."""
        loss = -F.sum(y_fake) / len(y_fake)
        chainer.report({LOSS_GEN: loss})
        return loss

    def loss_critic(self, y_fake, y_real):
        """WGAN critic loss: E[D(G(z))] - E[D(x)]."""
        loss = (F.sum(y_fake) - F.sum(y_real)) / len(y_fake)
        chainer.report({LOSS_CRITIC: loss})
        return loss

    def _critic_noise(self, critic):
        """A device RandomState for the critic's activation noise, seeded
        from ``self.rng``; None when the critic adds no noise."""
        if not critic.noise_sigma:
            return None
        return critic.xp.random.RandomState(int(self.rng.randint(2 ** 31)))

    def update_core(self):
        gen_optimizer = self.get_optimizer('gen')
        critic_optimizer = self.get_optimizer('critic')
        gen, critic = gen_optimizer.target, critic_optimizer.target

        batch = self.get_iterator('main').next()
        if gen.n_classes:  # conditional (paper §5.2): fakes get the real batch's labels
            x_real, labels = self.converter(batch, self.input_device)
            condition = one_hot(labels, gen.n_classes, gen.xp)
        else:
            x_real, condition = self.converter(batch, self.input_device), None
        x_fake = gen(gen.make_hidden(len(batch), self.rng), condition)
        noise = self._critic_noise(critic)
        y_fake = critic(x_fake, noise, condition)
        y_real = critic(x_real, noise, condition)
        chainer.report({CRITIC_REAL: F.mean(y_real), CRITIC_FAKE: F.mean(y_fake)})

        _step(gen_optimizer, self.loss_gen(y_fake))
        x_fake.unchain_backward()
        _step(critic_optimizer, self.loss_critic(y_fake, y_real))

        if self.constraint.applies(self.iteration + 1):
            start = time.perf_counter()
            self.constraint(critic)
            synchronize(critic.xp)
            chainer.report({'time_' + self.constraint.name: time.perf_counter() - start})

    def serialize(self, serializer):
        super().serialize(serializer)
        _serialize_random_state(serializer['rng'], self.rng)
        for name, iterator in self._iterators.items():
            sampler = getattr(iterator, 'order_sampler', None)
            if isinstance(sampler, ShuffleOrderSampler):
                _serialize_random_state(serializer['order_rng_' + name], sampler._random)
            if hasattr(iterator.dataset, 'serialize'):
                iterator.dataset.serialize(serializer['dataset_' + name])


def _step(optimizer, loss):
    """Update ``optimizer.target`` from ``loss``, computing the gradients of
    its own parameters only: ``chainer.grad`` prunes the rest of the graph
    (the critic's weight gradients in the generator step, the gradient
    w.r.t. the fake video in the critic step)."""
    params = list(optimizer.target.params())
    for param, grad in zip(params, chainer.grad([loss], params)):
        param.grad = None if grad is None else grad.array
    optimizer.update()


def synchronize(xp):
    """Wait for queued GPU work, so that a timing is the real one."""
    if xp is not numpy:
        xp.cuda.get_current_stream().synchronize()


def _serialize_random_state(serializer, random_state):
    """Save or restore a numpy RandomState through a Chainer serializer."""
    kind, keys, pos, has_gauss, cached = random_state.get_state()
    keys = serializer('keys', keys)
    pos = serializer('pos', pos)
    has_gauss = serializer('has_gauss', has_gauss)
    cached = serializer('cached_gaussian', cached)
    random_state.set_state((kind, keys, int(pos), int(has_gauss), float(cached)))
