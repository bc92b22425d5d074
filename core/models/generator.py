"""The pattern generators: two ResNet generators (CycleGAN's, SpacEX's Fig. 2) for any band count.

They work in the unit space of the data (the card's clip range mapped to [0, 1]; reflectance
for Sentinel-2) and their output stays there: the network predicts a change of the input's
logit and a sigmoid maps it back, so an output is a valid image for any weights, and a fresh
generator starts near the identity, which short CPU training needs (SpacEX's tanh output
did not even cover its [0, 1] data). Padding is reflect padding sized by the layer, not by
the band count, so 10 Sentinel-2 bands work as well as RGB.
"""
import torch
from torch import nn
from torch.nn import functional as F

from core.models.weight_init import init_gan_weights

# Keeps the input's logit finite where reflectance sits at the clip limits.
UNIT_EPS = 1e-3


def _norm_relu(channels: int) -> list[nn.Module]:
    return [nn.InstanceNorm2d(channels, affine=True), nn.ReLU()]


class ResnetBlock(nn.Module):
    """Two reflect-padded 3x3 convolutions with InstanceNorm, added to the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), *_norm_relu(channels),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x plus the residual, same shape."""
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """7x7 stem, strided downsampling, ResNet blocks, transposed upsampling, 7x7 head.

    Any tile size works: the input is padded to a multiple of the total stride (and to a
    minimum the reflect paddings need) and the output cropped back.

    Args:
        in_channels: number of bands, in and out.
        ngf: channels of the first stage; each downsampling doubles them.
        n_blocks: ResNet blocks at the lowest resolution.
        n_downsampling: stride-2 stages (the total stride is 2 ** n_downsampling).
    """

    def __init__(self, in_channels: int, ngf: int = 16, n_blocks: int = 4, n_downsampling: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), *_norm_relu(ngf)]
        for i in range(n_downsampling):
            c = ngf * 2 ** i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), *_norm_relu(2 * c)]
        layers += [ResnetBlock(ngf * 2 ** n_downsampling) for _ in range(n_blocks)]
        for i in reversed(range(n_downsampling)):
            c = ngf * 2 ** i
            layers += [nn.ConvTranspose2d(2 * c, c, 3, stride=2, padding=1, output_padding=1), *_norm_relu(c)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, in_channels, 7)]
        self.body = nn.Sequential(*layers)
        self.stride = 2 ** n_downsampling
        self.apply(init_gan_weights)

    def _padded(self, u: torch.Tensor) -> torch.Tensor:
        """Replicate-pad bottom/right to a multiple of the stride, at least 4 px at the lowest level."""
        minimum = 4 * self.stride
        height, width = u.shape[-2:]
        pad_h = max(-(-height // self.stride) * self.stride, minimum) - height
        pad_w = max(-(-width // self.stride) * self.stride, minimum) - width
        return F.pad(u, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else u

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> the generated image (B, C, H, W) in [0, 1]."""
        height, width = u.shape[-2:]
        logit = torch.logit(self._padded(u).clamp(UNIT_EPS, 1 - UNIT_EPS))
        return torch.sigmoid(logit + self.body(logit))[..., :height, :width]


class PatternGenerators(nn.Module):
    """The pair a model file holds: the pattern maximizer and the pattern minimizer.

    Args:
        in_channels: number of bands.
        ngf: see ResnetGenerator.
        n_blocks: see ResnetGenerator.
        n_downsampling: see ResnetGenerator.
    """

    def __init__(self, in_channels: int, ngf: int = 16, n_blocks: int = 4, n_downsampling: int = 2) -> None:
        super().__init__()
        self.maximizer = ResnetGenerator(in_channels, ngf, n_blocks, n_downsampling)
        self.minimizer = ResnetGenerator(in_channels, ngf, n_blocks, n_downsampling)
