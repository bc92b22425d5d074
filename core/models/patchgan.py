"""The 70x70 PatchGAN discriminator (n_layers 3) that CycleGAN and SpacEX use.

It scores overlapping 70x70 px patches as real or generated, so it judges texture, not
layout, and works on any tile size; InstanceNorm, as in CycleGAN, and N(0, 0.02) weights
(SpacEX's discriminator started from all-zero weights).
"""
import torch
from torch import nn

from core.models.weight_init import init_gan_weights


class PatchGANDiscriminator(nn.Module):
    """Conv 4x4 stages: stride 2 for `n_layers`, then stride 1 twice; one score per patch.

    Args:
        in_channels: number of bands.
        ndf: channels of the first stage, doubled per stage up to 8 * ndf.
        n_layers: stride-2 stages after the first (3 gives the 70x70 receptive field).
    """

    def __init__(self, in_channels: int, ndf: int = 32, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        c = ndf
        for i in range(1, n_layers + 1):
            c_out = ndf * min(2 ** i, 8)
            layers += [nn.Conv2d(c, c_out, 4, stride=2 if i < n_layers else 1, padding=1),
                       nn.InstanceNorm2d(c_out, affine=True), nn.LeakyReLU(0.2)]
            c = c_out
        layers.append(nn.Conv2d(c, 1, 4, stride=1, padding=1))
        self.body = nn.Sequential(*layers)
        self.apply(init_gan_weights)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> (B, 1, h, w) patch scores (LSGAN: 1 real, 0 generated)."""
        return self.body(u)
