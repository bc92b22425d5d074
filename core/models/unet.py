"""A small U-Net segmenter: per-pixel class logits at the input's own resolution.

The classifier (core.models.classifier) sees land cover at 1/4 resolution and its map is
upsampled bilinearly, so its edges are 40 m soft on a 10 m grid; the U-Net's decoder carries
the encoder's full-resolution features back through skip connections (Ronneberger et al.
2015), so boundaries can land on the right pixel. Upsampling is resize then convolve, not a
transposed convolution, which avoids checkerboard artefacts; every convolution is followed by
BatchNorm. Inputs of any size work: they are padded to a multiple of 2**depth by edge
replication and the logits cropped back.

The same U-Net, `smooth`, is the energy half of the generative JEM (core.models.hybrid_jem):
there its input gradient is trained and followed by Langevin dynamics, so it needs a
per-sample normalisation (GroupNorm: BatchNorm would tie each patch's gradient to its
batch) and activations and poolings with non-zero second derivatives (SiLU, average pooling).
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

# Channels per GroupNorm group at most, in the smooth U-Net.
GROUPS = 8


def _conv_norm_act(c_in: int, c_out: int, smooth: bool) -> list[nn.Module]:
    """A 3x3 convolution, its normalisation and activation: BatchNorm-ReLU, or GroupNorm-SiLU when smooth."""
    norm = nn.GroupNorm(math.gcd(GROUPS, c_out), c_out) if smooth else nn.BatchNorm2d(c_out)
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), norm, nn.SiLU() if smooth else nn.ReLU()]


def _double_conv(c_in: int, c_out: int, smooth: bool = False) -> nn.Sequential:
    return nn.Sequential(*_conv_norm_act(c_in, c_out, smooth), *_conv_norm_act(c_out, c_out, smooth))


class _Up(nn.Module):
    """Resize x2 (bilinear), a 3x3 convolution halving the channels, concatenate the skip, double conv."""

    def __init__(self, c_in: int, c_out: int, smooth: bool = False) -> None:
        super().__init__()
        self.reduce = nn.Sequential(*_conv_norm_act(c_in, c_out, smooth))
        self.fuse = _double_conv(2 * c_out, c_out, smooth)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.fuse(torch.cat([self.reduce(x), skip], dim=1))


class UNet(nn.Module):
    """U-Net with `depth` poolings; stage i has width * 2**i channels.

    Args:
        in_channels: number of input bands.
        out_channels: channels per output pixel.
        width: channels of the full-resolution stage.
        depth: number of 2x poolings (the input is padded to a multiple of 2**depth).
        smooth: GroupNorm, SiLU and average pooling (twice differentiable, per sample) instead of
            BatchNorm, ReLU and max pooling.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 16, depth: int = 3,
                 smooth: bool = False) -> None:
        super().__init__()
        widths = [width * 2 ** i for i in range(depth + 1)]
        self.depth = depth
        self.pool = F.avg_pool2d if smooth else F.max_pool2d
        self.stem = _double_conv(in_channels, widths[0], smooth)
        self.down = nn.ModuleList(_double_conv(widths[i], widths[i + 1], smooth) for i in range(depth))
        self.up = nn.ModuleList(_Up(widths[i + 1], widths[i], smooth) for i in reversed(range(depth)))
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, out_channels, H, W) for input (B, C, H, W)."""
        height, width = x.shape[-2:]
        multiple = 2 ** self.depth
        pad_h, pad_w = -height % multiple, -width % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(self.pool(skips[-1], 2)))
        y = skips.pop()
        for block in self.up:
            y = block(y, skips.pop())
        return self.head(y)[..., :height, :width]


class UNetSegmenter(UNet):
    """The U-Net as a segmenter: K >= 2 logits per pixel at the input's resolution.

    Args:
        in_channels: number of input bands.
        num_classes: K.
        width: channels of the full-resolution stage.
        depth: number of 2x poolings.
    """

    def __init__(self, in_channels: int, num_classes: int = 2, width: int = 16, depth: int = 3) -> None:
        if num_classes < 2:
            raise ValueError("num_classes must be at least 2")
        super().__init__(in_channels, num_classes, width, depth)

    def dense_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The same per-pixel logits, under the name core.scan.dense_logits calls."""
        return self.forward(x)
