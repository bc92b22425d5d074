"""The fully convolutional naturalness classifier.

One network gives tile logits (for training and for Captum) and dense per-pixel logits
(for maps) from the same weights, so a dense map costs about one pass over the raster.
There is no BatchNorm, so the same network can later be trained as a JEM, and every
nonlinearity is its own module used once, as DeepLIFT requires.
"""
import torch
from torch import nn
from torch.nn import functional as F


def _conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, padding_mode="replicate"), nn.ReLU()]


class NaturalnessFCN(nn.Module):
    """A small FCN with output stride 4 and a 1x1 classifier head.

    Args:
        in_channels: number of input bands.
        num_classes: K >= 2 logits.
        width: channels of the first stage; later stages double it.
    """

    output_stride = 4

    def __init__(self, in_channels: int, num_classes: int = 2, width: int = 32) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError("num_classes must be at least 2")
        w = width
        self.features = nn.Sequential(
            *_conv(in_channels, w),
            *_conv(w, w),
            *_conv(w, 2 * w, stride=2),
            *_conv(2 * w, 2 * w),
            *_conv(2 * w, 4 * w, stride=2),
            *_conv(4 * w, 4 * w),
            *_conv(4 * w, 4 * w),
        )
        self.head = nn.Conv2d(4 * w, num_classes, 1)

    @property
    def cam_layer(self) -> nn.Module:
        """The last feature map, which GradCAM weights by its gradients."""
        return self.features

    def logits_map(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits at 1/4 resolution, shape (B, K, H/4, W/4)."""
        return self.head(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tile logits (B, K): the spatial mean of the logit map (the head is linear)."""
        return self.logits_map(x).mean(dim=(2, 3))

    def dense_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Per-pixel logits (B, K, H, W), bilinearly upsampled from the logit map."""
        return F.interpolate(self.logits_map(x), size=x.shape[-2:], mode="bilinear", align_corners=False)
