"""Frame interpolation (paper §5.1): more frames from the same trained G1 by
upsampling the temporal generator's latent trajectory linearly in time."""
import chainer
import chainer.functions as F

from runtime.errors import UsageError


def interpolate_in_time(z1, factor):
    """(N, D, T) latents -> (N, D, factor*T): frame ``factor*t`` is z1^t itself
    and the ``factor - 1`` frames after it move linearly towards z1^(t+1); after
    the last frame the trajectory holds (a bilinear upsampling filter with the
    edge replicated, added after G0's last layer)."""
    if not isinstance(factor, int) or factor < 1:
        raise UsageError('the frame interpolation factor must be a whole number >= 1, '
                         'got {!r}'.format(factor))
    if factor == 1:
        return z1
    xp = chainer.backend.get_array_module(z1)
    n, d, t = z1.shape
    following = F.concat([z1[:, :, 1:], z1[:, :, -1:]], axis=2)
    weight = xp.arange(factor, dtype=z1.dtype) / factor
    h = (F.broadcast_to(F.expand_dims(z1, 3), (n, d, t, factor)) * (1 - weight) +
         F.broadcast_to(F.expand_dims(following, 3), (n, d, t, factor)) * weight)
    return F.reshape(h, (n, d, t * factor))
