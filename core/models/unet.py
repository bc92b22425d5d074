"""A small U-Net segmenter: per-pixel class logits at the input's own resolution.

The classifier (core.models.classifier) sees land cover at 1/4 resolution and its map is
upsampled bilinearly, so its edges are 40 m soft on a 10 m grid; the U-Net's decoder carries
the encoder's full-resolution features back through skip connections (Ronneberger et al.
2015), so boundaries can land on the right pixel. Upsampling is resize then convolve, not a
transposed convolution, which avoids checkerboard artefacts; every convolution is followed by
BatchNorm. Inputs of any size work: they are padded to a multiple of 2**depth by edge
replication and the logits cropped back.
"""
import torch
from torch import nn
from torch.nn import functional as F


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class _Up(nn.Module):
    """Resize x2 (bilinear), a 3x3 convolution halving the channels, concatenate the skip, double conv."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())
        self.fuse = _double_conv(2 * c_out, c_out)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.fuse(torch.cat([self.reduce(x), skip], dim=1))


class UNetSegmenter(nn.Module):
    """U-Net with `depth` poolings; stage i has width * 2**i channels.

    Args:
        in_channels: number of input bands.
        num_classes: K >= 2 logits per pixel.
        width: channels of the full-resolution stage.
        depth: number of 2x poolings (the input is padded to a multiple of 2**depth).
    """

    def __init__(self, in_channels: int, num_classes: int = 2, width: int = 16, depth: int = 3) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError("num_classes must be at least 2")
        widths = [width * 2 ** i for i in range(depth + 1)]
        self.depth = depth
        self.stem = _double_conv(in_channels, widths[0])
        self.down = nn.ModuleList(_double_conv(widths[i], widths[i + 1]) for i in range(depth))
        self.up = nn.ModuleList(_Up(widths[i + 1], widths[i]) for i in reversed(range(depth)))
        self.head = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-pixel logits (B, K, H, W) for input (B, C, H, W)."""
        height, width = x.shape[-2:]
        multiple = 2 ** self.depth
        pad_h, pad_w = -height % multiple, -width % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(F.max_pool2d(skips[-1], 2)))
        y = skips.pop()
        for block in self.up:
            y = block(y, skips.pop())
        return self.head(y)[..., :height, :width]

    def dense_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The same per-pixel logits, under the name core.scan.dense_logits calls."""
        return self.forward(x)
