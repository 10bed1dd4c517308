"""The paper's normal-GAN baseline (paper §6, Table 4 "normal GAN")."""
import chainer
import chainer.functions as F

from updaters.wgan import LOSS_CRITIC, LOSS_GEN, WGANUpdater


class GANUpdater(WGANUpdater):
    """Same step as :class:`WGANUpdater` with the sigmoid cross-entropy
    objective of Goodfellow et al.; the critic is a discriminator whose logit
    is D(x). The original adds Gaussian noise to the discriminator's
    activations (``Critic(noise_sigma=0.3)``); no Lipschitz constraint."""

    def loss_gen(self, y_fake):
        """Non-saturating generator loss: -E[log sigmoid(D(G(z)))]."""
        loss = F.sum(F.softplus(-y_fake)) / len(y_fake)
        chainer.report({LOSS_GEN: loss})
        return loss

    def loss_critic(self, y_fake, y_real):
        """-E[log sigmoid(D(x))] - E[log(1 - sigmoid(D(G(z))))]."""
        loss = (F.sum(F.softplus(-y_real)) + F.sum(F.softplus(y_fake))) / len(y_fake)
        chainer.report({LOSS_CRITIC: loss})
        return loss
