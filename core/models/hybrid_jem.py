"""A JEM that generates: the Wide-ResNet classifier's logits plus one energy that a U-Net carries.

The classifier alone is a poor energy for sampling: its log p(x) is a sum of local features
pooled into one linear head, and trained by denoising score matching its input gradient learned
the band means' shrinkage and a grain, never an edge (README, `core sample`). Here log p(x, y) =
c(x)[y] + e(x), where c is the JEMWideResNet's logits and e(x) = -1/2 ||x - r(x)||^2 per pixel
with r a smooth U-Net (core.models.unet) - the energy form Salimans & Ho (2021) found to sample as
well as a score network. e is the same for every class, so it cancels in p(y|x): the classifier's
probabilities, maps and GradCAMs are the Wide-ResNet's, bit for bit, whatever the energy learns.
log p(x) = logsumexp c(x) + e(x), so confidence maps and OOD reports see both.

A tile's energy is the mean of its pixels' times `energy_pixels` (the training patch's pixel
count): the sum over a training patch, which denoising score matching fits, and a mean on any
other tile size, so the tiles of a map compare with the training histogram. Per pixel (dense
logits), each pixel's own energy times `energy_pixels`: the mean of a tile's dense values is its
tile value, as for the classifier's own maps.
"""
import torch
from torch import nn

from core.models.unet import UNet
from core.models.wide_resnet import JEMWideResNet


class HybridJEM(nn.Module):
    """JEMWideResNet logits plus a U-Net energy shared by all classes.

    Args:
        in_channels: number of input bands.
        num_classes: K >= 2 logits.
        width: the Wide-ResNet's first-stage channels.
        blocks: its residual blocks per stage.
        energy_width: the U-Net's full-resolution channels.
        energy_depth: the U-Net's 2x poolings.
        energy_pixels: the training patch's pixel count (a tile's energy is its mean pixel energy times this).
    """

    def __init__(self, in_channels: int, num_classes: int = 2, width: int = 16, blocks: int = 1,
                 energy_width: int = 32, energy_depth: int = 2, energy_pixels: int = 1024) -> None:
        super().__init__()
        self.classifier = JEMWideResNet(in_channels, num_classes, width, blocks)
        self.energy = UNet(in_channels, in_channels, energy_width, energy_depth, smooth=True)
        self.energy_pixels = energy_pixels

    @property
    def cam_layer(self) -> nn.Module:
        """The classifier's features: GradCAM explains the class, which the energy does not take part in."""
        return self.classifier.cam_layer

    def pixel_energy(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) e(x) per pixel times energy_pixels: -1/2 ||x - r(x)||^2 over the bands."""
        return -0.5 * self.energy_pixels * (x - self.energy(x)).pow(2).sum(dim=1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K) tile logits: the classifier's plus the tile's mean pixel energy."""
        return self.classifier(x) + self.pixel_energy(x).mean(dim=(2, 3))

    def dense_logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K, H, W) per-pixel logits: the classifier's plus each pixel's energy."""
        return self.classifier.dense_logits(x) + self.pixel_energy(x)
