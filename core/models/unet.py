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
With an `embedding` (the energy's noise level and class, core.models.hybrid_jem), every
normalisation's output is also scaled and shifted per channel by a linear map of it (FiLM, as the
diffusion U-Nets of Ho et al. 2020 and Karras et al. 2022 inject their noise level into every
block): a level or class given only as constant input bands reaches the deeper stages through the
stem's GroupNorm alone, which subtracts most of it.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

# Channels per GroupNorm group at most, in the smooth U-Net.
GROUPS = 8


class FiLMGroupNorm(nn.GroupNorm):
    """GroupNorm whose output is then scaled by 1 + s and shifted by t, (s, t) a linear map of an embedding.

    The map starts at zero, so an untrained one is a plain GroupNorm.
    """

    def __init__(self, groups: int, channels: int, embedding: int) -> None:
        super().__init__(groups, channels)
        self.film = nn.Linear(embedding, 2 * channels)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) normalised x for (B, E) embeddings."""
        scale, shift = self.film(embedding)[:, :, None, None].chunk(2, dim=1)
        return super().forward(x) * (1 + scale) + shift


def _conv_norm_act(c_in: int, c_out: int, smooth: bool, embedding: int = 0) -> list[nn.Module]:
    """A 3x3 convolution, its normalisation and activation: BatchNorm-ReLU, or GroupNorm-SiLU when smooth, the
    GroupNorm FiLM-conditioned when `embedding` is its size."""
    groups = math.gcd(GROUPS, c_out)
    norm = (FiLMGroupNorm(groups, c_out, embedding) if embedding else nn.GroupNorm(groups, c_out)) if smooth \
        else nn.BatchNorm2d(c_out)
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), norm, nn.SiLU() if smooth else nn.ReLU()]


def _double_conv(c_in: int, c_out: int, smooth: bool = False, embedding: int = 0) -> nn.Sequential:
    return nn.Sequential(*_conv_norm_act(c_in, c_out, smooth, embedding), *_conv_norm_act(c_out, c_out, smooth, embedding))


def _through(layers: nn.Sequential, x: torch.Tensor, embedding: torch.Tensor | None) -> torch.Tensor:
    """x through `layers`, the FiLM-conditioned normalisations also given the embedding."""
    for layer in layers:
        x = layer(x, embedding) if isinstance(layer, FiLMGroupNorm) else layer(x)
    return x


class _Up(nn.Module):
    """Resize x2 (bilinear), a 3x3 convolution halving the channels, concatenate the skip, double conv."""

    def __init__(self, c_in: int, c_out: int, smooth: bool = False, embedding: int = 0) -> None:
        super().__init__()
        self.reduce = nn.Sequential(*_conv_norm_act(c_in, c_out, smooth, embedding))
        self.fuse = _double_conv(2 * c_out, c_out, smooth, embedding)

    def forward(self, x: torch.Tensor, skip: torch.Tensor, embedding: torch.Tensor | None = None) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return _through(self.fuse, torch.cat([_through(self.reduce, x, embedding), skip], dim=1), embedding)


class UNet(nn.Module):
    """U-Net with `depth` poolings; stage i has width * 2**i channels.

    Args:
        in_channels: number of input bands.
        out_channels: channels per output pixel.
        width: channels of the full-resolution stage.
        depth: number of 2x poolings (the input is padded to a multiple of 2**depth).
        smooth: GroupNorm, SiLU and average pooling (twice differentiable, per sample) instead of
            BatchNorm, ReLU and max pooling.
        embedding: with smooth, the size of the (B, E) embedding every GroupNorm is FiLM-conditioned on (0: none).
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 16, depth: int = 3,
                 smooth: bool = False, embedding: int = 0) -> None:
        super().__init__()
        if embedding and not smooth:
            raise ValueError("an embedding FiLM-conditions the smooth U-Net's GroupNorms: BatchNorm takes none")
        widths = [width * 2 ** i for i in range(depth + 1)]
        self.depth = depth
        self.pool = F.avg_pool2d if smooth else F.max_pool2d
        self.stem = _double_conv(in_channels, widths[0], smooth, embedding)
        self.down = nn.ModuleList(_double_conv(widths[i], widths[i + 1], smooth, embedding) for i in range(depth))
        self.up = nn.ModuleList(_Up(widths[i + 1], widths[i], smooth, embedding) for i in reversed(range(depth)))
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor | None = None) -> torch.Tensor:
        """(B, out_channels, H, W) for input (B, C, H, W), and (B, E) embeddings when the U-Net was built for them."""
        height, width = x.shape[-2:]
        multiple = 2 ** self.depth
        pad_h, pad_w = -height % multiple, -width % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        skips = [_through(self.stem, x, embedding)]
        for block in self.down:
            skips.append(_through(block, self.pool(skips[-1], 2), embedding))
        y = skips.pop()
        for block in self.up:
            y = block(y, skips.pop(), embedding)
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
