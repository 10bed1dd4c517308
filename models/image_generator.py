"""Image generator G1 (paper §3.1, Table 1; original ``VideoGenerator``)."""
import chainer
import chainer.functions as F
import chainer.links as L

from functions import choice
from models import links
from models.common import initializer, log2_int

BOTTOM = 4  # spatial size of the first feature map


class ImageGenerator(chainer.Chain):
    """Maps (z0, z1^t) to one frame; runs on all N*T frames as one batch.

    z0 and z1^t each go through their own linear layer (no bias) + BN + ReLU
    to a (ch/2, 4, 4) map; the two maps are concatenated to (ch, 4, 4), then
    2-D deconvolutions (kernel 4, stride 2, pad 1, no bias) + BN + ReLU halve
    the channels and double the size up to ``size``; a last deconvolution
    (kernel 3, stride 1, pad 1, with bias) + tanh gives ``out_channels``.
    Paper: ch=512, 4 -> 8 -> 16 -> 32 -> 64.

    ``use_z0=False`` is the ablation of paper Table 3: z0 is ignored and the
    frame depends on z1^t only (the ``l0s`` branch is then absent).
    ``n_classes > 0`` is the conditional TGAN (paper §5.2): the one-hot label
    goes through a third linear layer ``l0c`` (+ ``bn0c`` + ReLU) to another
    (ch/2, 4, 4) map, concatenated to the others, so ``dc1`` reads 3ch/2
    channels (the paper gives no widths for this branch).
    ``functions``: the deconvolution, BN and ReLU to compute with (functions/choice.py).
    Link names are the original's (``l0s, l0f, dc1.., bn0s, bn0f, bn1..``).
    """

    def __init__(self, z0_dim=100, z1_dim=100, out_channels=3, size=64,
                 ch=512, init='uniform', use_z0=True, n_classes=0,
                 functions=choice.FAST):
        super().__init__()
        self.use_z0, self.n_classes = use_z0, n_classes
        self.functions = functions
        self.n_up = log2_int(size // BOTTOM, 'size / {}'.format(BOTTOM))
        half = BOTTOM * BOTTOM * ch // 2
        self.bottom_ch = ch + (ch // 2 if n_classes else 0)
        w = initializer(init)
        with self.init_scope():
            if use_z0:
                self.l0s = L.Linear(z0_dim, half, initialW=w, nobias=True)
                self.bn0s = links.BatchNormalization(half, functions=functions)
            self.l0f = L.Linear(z1_dim, half if use_z0 else 2 * half,
                                initialW=w, nobias=True)
            self.bn0f = links.BatchNormalization(half if use_z0 else 2 * half,
                                                 functions=functions)
            if n_classes:
                self.l0c = L.Linear(n_classes, half, initialW=w, nobias=True)
                self.bn0c = links.BatchNormalization(half, functions=functions)
            for i in range(1, self.n_up + 1):
                setattr(self, 'dc{}'.format(i), links.Deconvolution2D(
                    self.bottom_ch if i == 1 else ch >> (i - 1), ch >> i, 4, 2, 1,
                    initialW=w, nobias=True, functions=functions))
                setattr(self, 'bn{}'.format(i),
                        links.BatchNormalization(ch >> i, functions=functions))
            setattr(self, 'dc{}'.format(self.n_up + 1), links.Deconvolution2D(
                ch >> self.n_up, out_channels, 3, 1, 1, initialW=w, functions=functions))

    def forward(self, z0, z1, condition=None):
        """(M, z0_dim), (M, z1_dim) [, one-hot (M, n_classes)] -> (M, out_channels, size, size)."""
        relu = self.functions.relu
        h = relu(self.bn0f(self.l0f(z1)))
        if self.use_z0:
            h = F.concat([relu(self.bn0s(self.l0s(z0))), h], axis=1)
        if condition is not None:
            h = F.concat([h, relu(self.bn0c(self.l0c(condition)))], axis=1)
        h = F.reshape(h, (h.shape[0], self.bottom_ch, BOTTOM, BOTTOM))
        for i in range(1, self.n_up + 1):
            h = relu(self['bn{}'.format(i)](self['dc{}'.format(i)](h)))
        return F.tanh(self['dc{}'.format(self.n_up + 1)](h))
