"""C3D (Tran et al. 2015), the video classifier of the paper's Inception Score (§6.3, docs/design.md §4).

The Sports-1M C3D fine-tuned on UCF-101, as converted for Chainer by the
TGAN authors (``conv3d_deepnetA_ucf.npz``, published with TGANv2). Input:
(N, 3, 16, 112, 112) BGR clips with the mean already subtracted
(``evaluation.protocols`` does that); output: the activations named in
``layer_names``, shaped like ChainerCV's feature extractors.
"""
import chainer
import chainer.functions as F
import chainer.links as L

from functions.leaky_relu import relu
from models import links
from models.feature_extractor import FeatureExtractor, load_checked

# (name, output channels) of the eight 3x3x3 convolutions, in order.
CONVOLUTIONS = (('conv1a', 64), ('conv2a', 128), ('conv3a', 256), ('conv3b', 256),
                ('conv4a', 512), ('conv4b', 512), ('conv5a', 512), ('conv5b', 512))
POOLS = {'conv1a': ('pool1', (1, 2, 2)), 'conv2a': ('pool2', 2), 'conv3b': ('pool3', 2),
         'conv4b': ('pool4', 2), 'conv5b': ('pool5', 2)}
WEIGHTS_HELP = ('download conv3d_deepnetA_ucf.npz from the release assets of '
                'pfnet-research/tgan2 (README "Evaluation")')


class C3D(FeatureExtractor):
    """C3D v1: eight 3-D convolutions (3x3x3, pad 1, ReLU) with max pooling
    (pool1 1x2x2, the others 2x2x2, ``cover_all`` so that pool5 of a
    16x112x112 clip is 512x1x4x4 = 8192), then fc6, fc7 (ReLU, dropout 0.5)
    and fc8 (101 classes); 'prob' is the softmax of fc8.

    Args:
        layer_names: a name or a list of names among ``available_layers``;
            ``forward`` returns that activation (one name) or a tuple of them.
        n_classes, in_channels: fc8's outputs and conv1a's inputs.
        pretrained_model: a ``conv3d_deepnetA_ucf.npz`` path, checked key by
            key and shape by shape before loading; None keeps random weights.
        dropout: keep fc6/fc7's dropout on whatever ``chainer.config.train``
            says. The original TGAN evaluation ran with dropout on (its
            ``using_config('train', False) and no_backprop_mode()`` entered
            only the second context); True reproduces that.
    """

    available_layers = tuple(n for name, _ in CONVOLUTIONS
                             for n in (name, POOLS.get(name, (None,))[0]) if n) + \
        ('fc6', 'fc7', 'fc8', 'prob')

    def __init__(self, layer_names='prob', n_classes=101, in_channels=3,
                 pretrained_model=None, dropout=False):
        super().__init__()
        self.dropout = dropout
        zero = chainer.initializers.Zero() if pretrained_model else None
        with self.init_scope():
            c_in = in_channels
            for name, c_out in CONVOLUTIONS:
                setattr(self, name, links.ConvolutionND(3, c_in, c_out, 3, 1, 1,
                                                        initialW=zero, initial_bias=zero))
                c_in = c_out
            self.fc6 = L.Linear(512 * 4 * 4, 4096, initialW=zero, initial_bias=zero)
            self.fc7 = L.Linear(4096, 4096, initialW=zero, initial_bias=zero)
            self.fc8 = L.Linear(4096, n_classes, initialW=zero, initial_bias=zero)
        self.layer_names = layer_names
        if pretrained_model:
            load_checked(pretrained_model, self, WEIGHTS_HELP)

    def _fc(self, link):
        def step(h):
            h = relu(link(h))
            if self.dropout:  # the original evaluation's quirk (see the class doc)
                with chainer.using_config('train', True):
                    return F.dropout(h, 0.5)
            return F.dropout(h, 0.5)
        return step

    def forward(self, x):
        steps = []
        for name, _ in CONVOLUTIONS:
            steps.append((name, lambda h, link=self[name]: relu(link(h))))
            if name in POOLS:
                pool, ksize = POOLS[name]
                steps.append((pool, lambda h, k=ksize: F.max_pooling_nd(h, k, cover_all=True)))
        steps += [('fc6', self._fc(self.fc6)), ('fc7', self._fc(self.fc7)),
                  ('fc8', self.fc8), ('prob', F.softmax)]
        return self.run(x, steps)
