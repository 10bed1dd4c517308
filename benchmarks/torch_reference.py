#!/usr/bin/env python
"""TGAN's networks and training step in PyTorch: the reference ours is timed against.

The same networks, initialisation and update as this project's Chainer code
at the paper configuration (docs/design.md §1 and §2), written for this
project so that ``benchmarks/bench_paired.py`` can compare the two from a
clone: G0 (1-D deconvolutions), G1 (2-D deconvolutions, all N*T frames as
one batch), the 3-D convolutional critic, Chainer's batch normalisation (eps
2e-5, running averages with decay 0.9 and the unbiased variance), ReLU and
LeakyReLU(0.2), WGAN losses, RMSprop (lr 5e-5, alpha 0.99, eps 1e-8) and
singular value clipping with the BN-gamma constraint. The parameters carry
our Chainer names (``dc0.weight`` is our ``dc0/W``, ``bn0.gamma`` our
``bn0/gamma``), so our weights load into it (tests/test_torch_reference.py
checks that one step from the same weights gives the same weights as ours).

PyTorch is not a dependency of the project: run this file with a Python
that has it (docs/speed.md), e.g. a separate virtual environment.

    python benchmarks/torch_reference.py [--device cpu|cuda[:N]] [--batch 32] [--warmup 1]
        [--iters 2] [--svc gram|svd|none] [--svc-reps 3] [--tf32] [--cudnn-benchmark]
        [--json FILE]

Prints seconds per iteration (one generator and one critic update; median
of ``--iters`` after ``--warmup``), the parts of one more iteration, and
seconds per SVC step, timed on its own as ``bench_train.py`` does.
"""
import argparse
import json
import statistics
import sys
import time

try:
    import torch
except ImportError:
    sys.stderr.write('error: the PyTorch reference needs PyTorch, which {} cannot import: '
                     'install it in a separate virtual environment (python3 -m venv .venv-torch '
                     '&& .venv-torch/bin/pip install torch==2.13.0) and run this file with '
                     'its Python\n'.format(sys.executable))
    sys.exit(2)
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 2e-5      # Chainer's BatchNormalization defaults
BN_DECAY = 0.9
SLOPE = 0.2        # the critic's LeakyReLU (docs/design.md §1)
BOTTOM = 4         # G1's first feature map is BOTTOM x BOTTOM


class BatchNormalization(nn.Module):
    """Chainer's batch normalisation: ``gamma`` (and ``beta`` unless
    ``use_beta=False``, as in G0 and the critic), running averages
    ``avg_mean`` / ``avg_var`` with decay 0.9 and the unbiased variance."""

    def __init__(self, size, use_beta=True):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(size))
        self.beta = nn.Parameter(torch.zeros(size)) if use_beta else None
        self.register_buffer('avg_mean', torch.zeros(size))
        self.register_buffer('avg_var', torch.ones(size))

    def forward(self, x):
        return F.batch_norm(x, self.avg_mean, self.avg_var, self.gamma, self.beta,
                            self.training, 1 - BN_DECAY, BN_EPS)


def initialize(module, scheme):
    """Initialise every weight of ``module``'s layers as our ``models/common.py``
    does (docs/design.md §1): 'default' is Chainer's LeCunNormal (std
    sqrt(1 / fan_in), fan_in = W.shape[1] times the kernel size, also for
    deconvolutions), 'uniform' is Uniform(0.01); biases start at 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.Conv3d,
                              nn.ConvTranspose1d, nn.ConvTranspose2d)):
            w = layer.weight
            with torch.no_grad():
                if scheme == 'uniform':
                    w.uniform_(-0.01, 0.01)
                else:
                    w.normal_(0, (w.shape[1] * w[0, 0].numel()) ** -0.5)
                if layer.bias is not None:
                    layer.bias.zero_()


class TemporalGenerator(nn.Module):
    """G0 (paper §3.1, docs/design.md §1): z0 (N, z0_dim) -> z1 (N, z1_dim, T).

    A kernel-1 deconvolution, then log2(T) deconvolutions (kernel 4, stride 2,
    pad 1) doubling the length, BN (no beta) and ReLU between, tanh at the end;
    widths max(ch >> i, ch // 4): 512, 256, 128, 128 in the paper."""

    def __init__(self, z0_dim=100, z1_dim=100, frames=16, ch=512, init='default'):
        super().__init__()
        self.n_layers = frames.bit_length() - 1
        widths = [max(ch >> i, ch // 4) for i in range(self.n_layers)]
        self.dc0 = nn.ConvTranspose1d(z0_dim, widths[0], 1, 1, 0)
        for i in range(1, self.n_layers + 1):
            out = widths[i] if i < self.n_layers else z1_dim
            setattr(self, 'dc{}'.format(i), nn.ConvTranspose1d(widths[i - 1], out, 4, 2, 1))
        for i, width in enumerate(widths):
            setattr(self, 'bn{}'.format(i), BatchNormalization(width, use_beta=False))
        initialize(self, init)

    def forward(self, z0):
        h = z0[:, :, None]
        for i in range(self.n_layers):
            h = F.relu(getattr(self, 'bn{}'.format(i))(getattr(self, 'dc{}'.format(i))(h)))
        return torch.tanh(getattr(self, 'dc{}'.format(self.n_layers))(h))


class ImageGenerator(nn.Module):
    """G1 (paper §3.1, docs/design.md §1): (z0, z1^t) (M, z_dim) each -> frames (M, C, size, size).

    z0 and z1^t each through a Linear (no bias) + BN + ReLU to (ch/2, 4, 4),
    concatenated to (ch, 4, 4); 2-D deconvolutions (kernel 4, stride 2, pad 1,
    no bias) + BN + ReLU halve the channels and double the size; a last
    deconvolution (kernel 3, stride 1, pad 1, with bias) + tanh."""

    def __init__(self, z0_dim=100, z1_dim=100, channels=3, size=64, ch=512, init='uniform'):
        super().__init__()
        self.ch = ch
        self.n_up = (size // BOTTOM).bit_length() - 1
        half = BOTTOM * BOTTOM * ch // 2
        self.l0s = nn.Linear(z0_dim, half, bias=False)
        self.l0f = nn.Linear(z1_dim, half, bias=False)
        self.bn0s, self.bn0f = BatchNormalization(half), BatchNormalization(half)
        for i in range(1, self.n_up + 1):
            setattr(self, 'dc{}'.format(i),
                    nn.ConvTranspose2d(ch >> (i - 1), ch >> i, 4, 2, 1, bias=False))
            setattr(self, 'bn{}'.format(i), BatchNormalization(ch >> i))
        setattr(self, 'dc{}'.format(self.n_up + 1),
                nn.ConvTranspose2d(ch >> self.n_up, channels, 3, 1, 1))
        initialize(self, init)

    def forward(self, z0, z1):
        h = torch.cat([F.relu(self.bn0s(self.l0s(z0))), F.relu(self.bn0f(self.l0f(z1)))], 1)
        h = h.reshape(len(h), self.ch, BOTTOM, BOTTOM)
        for i in range(1, self.n_up + 1):
            h = F.relu(getattr(self, 'bn{}'.format(i))(getattr(self, 'dc{}'.format(i))(h)))
        return torch.tanh(getattr(self, 'dc{}'.format(self.n_up + 1))(h))


class VideoGenerator(nn.Module):
    """G0 then G1 on all N*T frames as one batch (paper §3.1, Fig. 1):
    z0 (N, z0_dim) -> video (N, C, T, H, W)."""

    def __init__(self, z0_dim=100, z1_dim=100, frames=16, size=64, channels=3,
                 temporal_ch=512, image_ch=512, temporal_init='default', image_init='uniform'):
        super().__init__()
        self.temporal_generator = TemporalGenerator(z0_dim, z1_dim, frames, temporal_ch,
                                                    temporal_init)
        self.image_generator = ImageGenerator(z0_dim, z1_dim, channels, size, image_ch,
                                              image_init)

    def forward(self, z0):
        z1 = self.temporal_generator(z0)                      # (N, z1_dim, T)
        n, z1_dim, frames = z1.shape
        z1 = z1.transpose(1, 2).reshape(n * frames, z1_dim)
        x = self.image_generator(z0.repeat_interleave(frames, 0), z1)  # (N*T, C, H, W)
        return x.reshape(n, frames, *x.shape[1:]).transpose(1, 2)


class Critic(nn.Module):
    """The critic D (paper §3.1, docs/design.md §1): video (N, C, T, H, W) -> (N,) scores.

    log2(T) 3-D convolutions (kernel 4, stride 2, pad 1) doubling the channels
    from ``ch``, LeakyReLU(0.2) after each, BN (no beta) after all but the
    first (``bn0`` exists unused, as in ours); each remaining time step's
    (c, h, w) map is scored by a 2-D convolution with an h x w kernel and the
    scores are averaged over time."""

    def __init__(self, channels=3, frames=16, size=64, ch=64, init='default'):
        super().__init__()
        self.n_conv = frames.bit_length() - 1
        for i in range(self.n_conv):
            c_in = channels if i == 0 else ch << (i - 1)
            setattr(self, 'c{}'.format(i), nn.Conv3d(c_in, ch << i, 4, 2, 1))
            setattr(self, 'bn{}'.format(i), BatchNormalization(ch << i, use_beta=False))
        top = size >> self.n_conv
        setattr(self, 'c{}'.format(self.n_conv), nn.Conv2d(ch << (self.n_conv - 1), 1, top))
        initialize(self, init)

    def forward(self, x):
        h = x
        for i in range(self.n_conv):
            h = getattr(self, 'c{}'.format(i))(h)
            if i > 0:
                h = getattr(self, 'bn{}'.format(i))(h)
            h = F.leaky_relu(h, SLOPE)
        n, c, t, height, width = h.shape
        h = h.transpose(1, 2).reshape(n * t, c, height, width)
        return getattr(self, 'c{}'.format(self.n_conv))(h).reshape(n, t).mean(1)


@torch.no_grad()
def clip_singular_values(w, method='gram'):
    """Project a matrix onto {spectral norm <= 1} (paper §4.2, docs/design.md §2).

    'gram' is ours (updaters/svc.py): with W W^T = U diag(s^2) U^T of the
    smaller Gram matrix in float64, W' = W - U_k diag(1 - 1/s_k) U_k^T W over
    the s_k > 1. 'svd' clips the singular values of a float32 SVD, as the
    original code did with scipy."""
    if method == 'svd':
        u, s, vh = torch.linalg.svd(w, full_matrices=False)
        return (u * s.clamp(max=1)) @ vh
    tall = w.shape[0] > w.shape[1]
    a = (w.T if tall else w).double()
    eigenvalues, u = torch.linalg.eigh(a @ a.T)
    large = eigenvalues > 1
    if not bool(large.any()):
        return w
    u = u[:, large]
    a = a - (u * (1 - eigenvalues[large].rsqrt())) @ (u.T @ a)
    return (a.T if tall else a).to(w.dtype)


@torch.no_grad()
def singular_value_clipping(critic, method='gram'):
    """SVC of every critic weight with ndim >= 2 (reshaped to (out, -1)) and
    every critic BN's gamma clipped into [0.01 sigma, sigma], sigma =
    sqrt(running variance) (docs/design.md §2)."""
    for w in critic.parameters():
        if w.ndim >= 2:
            w.copy_(clip_singular_values(w.reshape(len(w), -1), method).reshape(w.shape))
    for bn in critic.modules():
        if isinstance(bn, BatchNormalization):
            sigma = bn.avg_var.sqrt()
            bn.gamma.copy_(torch.minimum(torch.maximum(bn.gamma, 0.01 * sigma), sigma))


def synchronize(device):
    """Wait for queued GPU work, so that a timing is the real one."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class Laps:
    """Seconds between the named points of one iteration, with the device
    synchronised at each point."""

    def __init__(self, device):
        self.device, self.seconds = device, {}
        synchronize(device)
        self.last = time.perf_counter()

    def __call__(self, name):
        synchronize(self.device)
        now = time.perf_counter()
        self.seconds[name] = now - self.last
        self.last = now


class WGANTraining:
    """Our training step (paper §4, docs/design.md §2; ``updaters/wgan.py``):
    from one forward pass, one generator update on -mean D(G(z)) and one
    critic update on mean D(G(z)) - mean D(x), each computing the gradients of
    its own network only, with RMSprop; then, after every ``svc_every``-th
    iteration (0: never), singular value clipping by ``svc`` ('gram' or 'svd')."""

    def __init__(self, generator, critic, lr=5e-5, alpha=0.99, eps=1e-8, svc_every=5,
                 svc='gram'):
        self.generator, self.critic = generator, critic
        self.gen_optimizer = torch.optim.RMSprop(generator.parameters(), lr, alpha, eps)
        self.critic_optimizer = torch.optim.RMSprop(critic.parameters(), lr, alpha, eps)
        self.svc_every, self.svc, self.iteration = svc_every, svc, 0

    def update(self, z0, x_real, lap=lambda name: None):
        """One iteration on latents z0 (N, z0_dim) and real clips (N, C, T, H, W);
        ``lap(name)`` is called after each part (Laps times them)."""
        x_fake = self.generator(z0)
        y_fake, y_real = self.critic(x_fake), self.critic(x_real)
        lap('forward')
        _step(self.gen_optimizer, -y_fake.sum() / len(y_fake), retain_graph=True)
        lap('generator step')
        _step(self.critic_optimizer, (y_fake.sum() - y_real.sum()) / len(y_fake))
        lap('critic step')
        self.iteration += 1
        if self.svc_every and self.iteration % self.svc_every == 0:
            singular_value_clipping(self.critic, self.svc)
            lap('svc')


def _step(optimizer, loss, retain_graph=False):
    """Update the optimizer's parameters from ``loss`` with the gradients of
    those parameters only (the other network's are never computed; an unused
    parameter, like the critic's ``bn0``, keeps no gradient and no update)."""
    params = optimizer.param_groups[0]['params']
    grads = torch.autograd.grad(loss, params, retain_graph=retain_graph, allow_unused=True)
    for param, grad in zip(params, grads):
        param.grad = grad
    optimizer.step()


def paper_configuration(batch, device, seed=0):
    """(training, clips, make_z0) at the paper's sizes: 16x64x64 RGB, z 100,
    G0/G1 width 512, critic width 64; random clips stand in for data, and
    SVC is left to be timed on its own (as in bench_train.py)."""
    torch.manual_seed(seed)
    generator, critic = VideoGenerator().to(device), Critic().to(device)
    host = torch.Generator().manual_seed(seed)
    clips = (torch.rand(batch, 3, 16, 64, 64, generator=host) * 2 - 1).to(device)

    def make_z0():
        return (torch.rand(batch, 100, generator=host) * 2 - 1).to(device)
    return WGANTraining(generator, critic, svc_every=0), clips, make_z0


def set_tf32(enabled):
    """TF32 for float32 matrix products and cuDNN convolutions on or off
    (PyTorch's default leaves cuDNN's on: FP32 here turns it off)."""
    precision = 'tf32' if enabled else 'ieee'
    torch.backends.cuda.matmul.fp32_precision = precision
    torch.backends.cudnn.conv.fp32_precision = precision


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--iters', type=int, default=2)
    p.add_argument('--svc', choices=('gram', 'svd', 'none'), default='gram',
                   help='the SVC method timed on its own (none: skip)')
    p.add_argument('--svc-reps', type=int, default=3)
    p.add_argument('--tf32', action='store_true', help='TF32 matrix products and convolutions')
    p.add_argument('--cudnn-benchmark', action='store_true')
    p.add_argument('--json', help='also write the numbers to this file')
    args = p.parse_args()
    if args.batch < 2:
        sys.stderr.write('error: --batch {}: give at least 2 (with one video, G0\'s first batch '
                         'normalisation sees one value per channel, which PyTorch refuses)\n'
                         .format(args.batch))
        sys.exit(2)
    device = torch.device(args.device)
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            sys.stderr.write('error: --device {}: this PyTorch ({}) sees no GPU; install a CUDA '
                             'build or use --device cpu\n'.format(args.device, torch.__version__))
            sys.exit(2)
        set_tf32(args.tf32)
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else \
        'CPU, {} threads'.format(torch.get_num_threads())
    print('torch {} on {}  batch: {}{}'.format(torch.__version__, name, args.batch, (
        '  TF32: {}  cuDNN benchmark: {}'.format(args.tf32, args.cudnn_benchmark)
        if device.type == 'cuda' else '')), flush=True)

    training, clips, make_z0 = paper_configuration(args.batch, device)
    iterations = []
    for i in range(args.warmup + args.iters):
        synchronize(device)
        start = time.perf_counter()
        training.update(make_z0(), clips)  # drawing z0 is part of ours' iteration too
        synchronize(device)
        if i >= args.warmup:
            iterations.append(time.perf_counter() - start)
    z0 = make_z0()
    laps = Laps(device)
    training.update(z0, clips, laps)
    svc = []
    for _ in range(args.svc_reps if args.svc != 'none' else 0):
        synchronize(device)
        start = time.perf_counter()
        singular_value_clipping(training.critic, args.svc)
        synchronize(device)
        svc.append(time.perf_counter() - start)

    result = {'implementation': 'pytorch', 'torch': torch.__version__, 'device': name,
              'batch': args.batch, 'tf32': args.tf32, 'cudnn_benchmark': args.cudnn_benchmark,
              'seconds_per_iteration': statistics.median(iterations), 'iterations': iterations,
              'parts': laps.seconds, 'svc_method': args.svc,
              'seconds_per_svc': statistics.median(svc) if svc else None, 'svc': svc}
    print('seconds per iteration: {:.3f} (median of {})'.format(
        result['seconds_per_iteration'], ', '.join('{:.3f}'.format(t) for t in iterations)))
    print('parts of one more iteration (synchronised at each): {}'.format(', '.join(
        '{} {:.3f}'.format(k, v) for k, v in laps.seconds.items())))
    if svc:
        print('seconds per SVC step ({}): {:.3f} (median of {}); per iteration at every 5: '
              '{:.3f}'.format(args.svc, result['seconds_per_svc'], len(svc),
                              result['seconds_per_svc'] / 5))
    if device.type == 'cuda':
        result['gpu_memory_peak_bytes'] = torch.cuda.max_memory_allocated(device)
        print('GPU memory peak: {:.2f} GiB'.format(result['gpu_memory_peak_bytes'] / 2 ** 30))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
