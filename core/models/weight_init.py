"""The GAN weight initialisation SpacEX and CycleGAN prescribe: N(0, 0.02).

One function for the generators and the discriminators alike; SpacEX's own code gave its
discriminator std 0, which starts every weight at zero and every unit identical.
"""
from torch import nn

INIT_STD = 0.02


def init_gan_weights(module: nn.Module) -> None:
    """Draw conv weights from N(0, 0.02) and zero their biases; norms start at scale 1, shift 0.

    Args:
        module: any module; apply it with `network.apply(init_gan_weights)`.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, INIT_STD)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.InstanceNorm2d) and module.affine:
        nn.init.normal_(module.weight, 1.0, INIT_STD)
        nn.init.zeros_(module.bias)
