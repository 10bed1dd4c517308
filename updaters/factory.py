"""Build optimizers and the updater from a resolved config."""
import chainer

from runtime.errors import UsageError
from updaters.constraints import make_constraint
from updaters.distributed import multi_node_optimizer
from updaters.gan import GANUpdater
from updaters.wgan import WGANUpdater

OBJECTIVES = {'wgan': WGANUpdater, 'gan': GANUpdater}


def make_optimizer(spec, model, comm=None):
    """RMSprop (the paper's, Chainer's alpha 0.99 / eps 1e-8) or Adam; with a
    ChainerMN ``comm``, updating with the gradients averaged over the ranks."""
    name = spec['name']
    if name == 'rmsprop':
        optimizer = chainer.optimizers.RMSprop(lr=spec['lr'])
    elif name == 'adam':
        optimizer = chainer.optimizers.Adam(alpha=spec['lr'], beta1=spec['beta1'],
                                            beta2=spec['beta2'])
    else:
        raise UsageError("unknown optimizer {!r}: choose 'rmsprop' or 'adam'".format(name))
    optimizer.setup(model)
    return optimizer if comm is None else multi_node_optimizer(optimizer, comm)


def critic_rate(spec):
    """The critic's learning rate: ``optimizer.critic_lr`` where it is set
    (> 0; two time-scale training, TTUR), else ``optimizer.lr`` as the paper."""
    if spec['critic_lr'] < 0:
        raise UsageError('optimizer.critic_lr {}: give the critic its own learning rate, '
                         'or 0 for the rate of optimizer.lr'.format(spec['critic_lr']))
    return spec['critic_lr'] or spec['lr']


def learning_rate_decay(config, updater):
    """Chainer ``LinearShift`` extensions (name -> extension) that take every
    optimizer's learning rate linearly from its starting rate (``optimizer.lr``,
    the critic's ``critic_rate``) at iteration ``optimizer.decay_from`` to 0 at
    ``iterations``; none when ``decay_from`` is 0 (the paper keeps the rate
    constant). A run resumed with more ``iterations`` stretches the decay to
    its new end."""
    spec = config['optimizer']
    if spec['decay_from'] < 0:
        raise UsageError('optimizer.decay_from {}: give the iteration the decay starts at, '
                         'or 0 for a constant learning rate'.format(spec['decay_from']))
    if not spec['decay_from']:
        return {}
    attr = 'alpha' if spec['name'] == 'adam' else 'lr'
    start = {'critic': critic_rate(spec)}
    return {'lr_decay_' + name: chainer.training.extensions.LinearShift(
        attr, (start.get(name, spec['lr']), 0.0), (spec['decay_from'], config['iterations']),
        optimizer)
        for name, optimizer in updater.get_all_optimizers().items()}


def make_updater(config, iterator, generator, critic, device, seed=None, comm=None,
                 converter=chainer.dataset.concat_examples):
    """The updater of ``config['objective']`` with its constraint; ``seed``
    (default ``config['seed']``) seeds its z stream; ``comm``: see
    ``make_optimizer``; ``converter``: the batch conversion (train.py's is
    ``datasets.converter``)."""
    if config['objective'] not in OBJECTIVES:
        raise UsageError("unknown objective {!r}: choose 'wgan' or 'gan'".format(
            config['objective']))
    constraint = make_constraint(config['constraint'], config['svc_every'],
                                 config['clip_value'], config['svc_include_eps'])
    return OBJECTIVES[config['objective']](
        iterator, make_optimizer(config['optimizer'], generator, comm),
        make_optimizer(dict(config['optimizer'], lr=critic_rate(config['optimizer'])), critic,
                       comm), constraint,
        seed=config['seed'] if seed is None else seed, device=device, converter=converter)
