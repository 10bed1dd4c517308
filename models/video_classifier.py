"""A small 3-D convolutional video classifier for the offline synthetic set.

It stands in for C3D where C3D's weights cannot be had (README "Evaluation"):
trained by ``python -m evaluation.train_classifier`` on the synthetic
dataset's labels (the kind of shape in a clip), it gives the same Inception
Score and Fréchet distance code something to score. Same interface as
``models.c3d.C3D``: ``layer_names`` selects the returned activations.
"""
import chainer.functions as F
import chainer.links as L

from runtime.errors import UsageError
from functions.leaky_relu import relu
from models import links
from models.feature_extractor import FeatureExtractor


class VideoClassifier(FeatureExtractor):
    """(N, C, T, S, S) clips in [-1, 1] -> class probabilities.

    Three 3-D convolutions (kernel 4, stride 2, pad 1, ReLU) doubling the
    channels from ``ch`` (T and S must be at least 8), a global average over
    (T, H, W), a ReLU hidden layer 'fc4' of ``ch * 8`` features (the Fréchet
    features) and 'fc5' logits; 'prob' is their softmax.
    """
    available_layers = ('conv1', 'conv2', 'conv3', 'fc4', 'fc5', 'prob')

    def __init__(self, n_classes, in_channels=1, ch=16, layer_names='prob'):
        super().__init__()
        with self.init_scope():
            self.conv1 = links.ConvolutionND(3, in_channels, ch, 4, 2, 1)
            self.conv2 = links.ConvolutionND(3, ch, ch * 2, 4, 2, 1)
            self.conv3 = links.ConvolutionND(3, ch * 2, ch * 4, 4, 2, 1)
            self.fc4 = L.Linear(ch * 4, ch * 8)
            self.fc5 = L.Linear(ch * 8, n_classes)
        self.layer_names = layer_names

    @staticmethod
    def check_input(frames, size):
        """Three stride-2 convolutions need at least 8 frames of 8x8."""
        if min(frames, size) < 8:
            raise UsageError('the video classifier needs frames and size >= 8, got {} and {}'
                             .format(frames, size))

    def forward(self, x):
        return self.run(x, [
            ('conv1', lambda h: relu(self.conv1(h))),
            ('conv2', lambda h: relu(self.conv2(h))),
            ('conv3', lambda h: F.mean(relu(self.conv3(h)), axis=(2, 3, 4))),
            ('fc4', lambda h: relu(self.fc4(h))),
            ('fc5', self.fc5),
            ('prob', F.softmax)])
