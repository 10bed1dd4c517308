"""The update of a data-parallel run (docs/multi-gpu.md): every rank applies
the same update to the same weights. Gradients are averaged over the ranks
before each update; the BN layers' running statistics, which SVC reads
(paper §4.2), are averaged after it, or shared through ChainerMN's
multi-node BN. The processes themselves: ``runtime/distributed.py``."""
import warnings

from runtime import chainer_compat  # noqa: F401  (before chainer)
import chainer  # noqa: E402
import chainermn  # noqa: E402
import numpy  # noqa: E402


def multi_node_bn(comm, enabled, *links):
    """``links``, with ChainerMN's multi-node BN in place of every BN layer
    when ``enabled`` (the config's ``multi_node_bn``) in a multi-process run
    (``comm`` not None): batch statistics over the effective batch rather
    than each rank's share. Otherwise the links are returned unchanged."""
    if comm is not None and enabled:
        for link in links:
            use_multi_node_bn(link, comm)
    return links


def use_multi_node_bn(link, comm):
    """Replace every BN layer in ``link`` by a multi-node BN with the same
    parameters and statistics. (``chainermn.links.create_mnbn_model`` does
    this for copies, but gives a BN without beta a beta it cannot copy.)"""
    layers = [(parent, name) for parent in link.links() if isinstance(parent, chainer.Chain)
              for name in sorted(parent._children)
              if isinstance(parent[name], chainer.links.BatchNormalization)]
    for parent, name in layers:
        bn = parent[name]
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', '.*MultiNodeBatchNormalization is experimental')
            shared = chainermn.links.MultiNodeBatchNormalization(
                bn.avg_mean.shape, comm, decay=bn.decay, eps=bn.eps, dtype=bn.avg_mean.dtype,
                use_gamma=bn.gamma is not None, use_beta=bn.beta is not None)
        shared.copyparams(bn)
        shared.avg_mean[...], shared.avg_var[...] = bn.avg_mean, bn.avg_var
        delattr(parent, name)
        with parent.init_scope():
            setattr(parent, name, shared)
def multi_node_optimizer(optimizer, comm):
    """Wrap ``optimizer`` (already set up on its model) so that every update
    uses the gradients averaged over the ranks, and add a hook that averages
    the model's BN running statistics after every update.

    ChainerMN's wrapper spends its first ``update()`` on broadcasting rank 0's
    parameters instead of updating; here the broadcast happens now and the
    wrapper records the parameter set, so that iteration 1 updates as in a
    single-process run and a resumed run continues exactly. Parameters whose
    gradient is None (unused layers) are skipped on every rank, as Chainer
    does (``zero_fill=False``)."""
    model = optimizer.target
    comm.bcast_data(model)
    wrapped = chainermn.create_multi_node_optimizer(optimizer, comm, zero_fill=False)
    wrapped.is_changed(model)
    optimizer.add_hook(MeanBatchStatistics(comm), timing='post')
    return wrapped


class MeanBatchStatistics:
    """Optimizer hook: replace every BN layer's running mean and variance by
    their average over the ranks (one allreduce on the host, whichever device).

    Each rank's BN normalises with its own share of the batch, so its running
    statistics drift apart from the other ranks'; SVC clips the critic's BN
    gammas with the running variance (paper §4.2) and would then give each
    rank different weights. Averaged after every update (before the
    constraint), the statistics stay identical on all ranks: an exponential
    moving average of the ranks' mean batch statistics. Multi-node BN layers
    share theirs already and are not touched."""
    name = 'MeanBatchStatistics'
    timing = 'post'
    call_for_each_param = False

    def __init__(self, comm):
        self.comm = comm

    def __call__(self, optimizer):
        from mpi4py import MPI
        arrays = [array for link in optimizer.target.links()
                  if isinstance(link, chainer.links.BatchNormalization)
                  for array in (link.avg_mean, link.avg_var)]
        if not arrays:
            return
        cpu = chainer.backend.CpuDevice()
        host = numpy.concatenate([cpu.send(a).ravel() for a in arrays])
        self.comm.mpi_comm.Allreduce(MPI.IN_PLACE, host)
        host /= self.comm.size
        offset = 0
        for array in arrays:
            piece = host[offset:offset + array.size].reshape(array.shape)
            array[...] = chainer.backend.get_array_module(array).asarray(piece)
            offset += array.size


