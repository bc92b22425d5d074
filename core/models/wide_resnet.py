"""A Wide-ResNet-like fully convolutional classifier for JEMs (the JEM-EO seed trains a Wide-ResNet).

Residual blocks let a deeper network keep a well-conditioned input gradient, which SGLD follows;
there is no BatchNorm (JEM's sampler needs p(x) of one patch, not of a batch), leaky ReLUs keep
a gradient through every unit, so chains do not stall in dead regions, and the blocks that halve
the size average 2 x 2 pixels before a stride-1 convolution instead of striding it: a strided
3 x 3 convolution's input gradient is a checkerboard, which SGLD painted into the samples. The interface is
NaturalnessFCN's (features, head, logits_map, dense_logits, cam_layer, output stride 4), so every
command that takes a classifier takes this one, and each nonlinearity is its own module used
once, as DeepLIFT requires.
"""
import torch
from torch import nn

from core.models.classifier import NaturalnessFCN

LEAK = 0.2


def _conv(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, padding=1, padding_mode="replicate")


class ResidualBlock(nn.Module):
    """Pre-activation residual block (WRN's, without BatchNorm): act-(pool)-conv-act-conv plus a shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.act1, self.pool, self.conv1 = nn.LeakyReLU(LEAK), nn.AvgPool2d(stride), _conv(c_in, c_out)
        self.act2, self.conv2 = nn.LeakyReLU(LEAK), _conv(c_out, c_out)
        self.shortcut = nn.Sequential(nn.AvgPool2d(stride), nn.Conv2d(c_in, c_out, 1)) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv2(self.act2(self.conv1(self.pool(self.act1(x)))))


class JEMWideResNet(nn.Module):
    """Stem, three stages of residual blocks (width w, 2w, 4w; the last two halve the size), 1x1 head.

    Args:
        in_channels: number of input bands.
        num_classes: K >= 2 logits.
        width: channels of the first stage.
        blocks: residual blocks per stage (WRN depth = 6 * blocks + 4).
    """

    output_stride = 4

    def __init__(self, in_channels: int, num_classes: int = 2, width: int = 16, blocks: int = 1) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError("num_classes must be at least 2")
        layers: list[nn.Module] = [_conv(in_channels, width)]
        c = width
        for stage, stride in enumerate((1, 2, 2)):
            out = width * 2 ** stage
            layers += [ResidualBlock(c, out, stride), *(ResidualBlock(out, out) for _ in range(blocks - 1))]
            c = out
        self.features = nn.Sequential(*layers, nn.LeakyReLU(LEAK))
        self.head = nn.Conv2d(c, num_classes, 1)

    cam_layer = NaturalnessFCN.cam_layer
    logits_map = NaturalnessFCN.logits_map
    forward = NaturalnessFCN.forward
    dense_logits = NaturalnessFCN.dense_logits
