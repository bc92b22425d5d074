"""The pattern generators: two ResNet generators (SpacEX's Fig. 2) that repaint pixels with real spectra.

A generator may only say *where* to change its input and *into what real material*, never
invent a colour:

    G(u) = u + m * (p - u),    p = sum_k w_k e_k

in the unit space of the data (the card's clip range mapped to [0, 1]; reflectance for
Sentinel-2). Per pixel the network gives a mask m in (0, 1) and softmax weights w over K
endmembers e_k, real spectra of the classifier's training pixels of the class it aims at
(k-means centres, see train/endmembers.py): the maximizer paints with natural spectra, the
minimizer with anthropogenic ones. Every output pixel is therefore a mix of its own spectrum and
real land-cover spectra of the target class: it stays inside the range of the training imagery
(no further out than the input pixel was), and a field can become marsh or a marsh a field, but
no tile can turn white, cyan or dark red, as SpacEX's free U-Net output (and this project's
earlier free sigmoid output) let it. The counterfactual map is then m * |p - u|: where, and how
much.

The network reads the input standardised per band (a 0.02-reflectance blue band weighs as much
as near infrared); pads by reflection everywhere, sized by the layer and not by the band count
(zero padding tells the top-left edges from the bottom-right ones, which let it paint edge
stripes); upsamples by nearest-neighbour resize and a 3x3 convolution rather than transposed
convolutions (which print a 2-px checkerboard); and its last layer starts at zero with the mask's
bias far negative, so a fresh generator is close to the identity (1.8 % mix).
"""
import torch
from torch import nn
from torch.nn import functional as F

from core.models.weight_init import init_gan_weights


def _norm_relu(channels: int) -> list[nn.Module]:
    return [nn.InstanceNorm2d(channels, affine=True), nn.ReLU()]


def _band_vector(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)[None, :, None, None]


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


def _resize_conv(channels_in: int, channels_out: int) -> list[nn.Module]:
    """Nearest x2 then a reflect-padded 3x3 convolution: upsampling without a checkerboard."""
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(channels_in, channels_out, 3),
            *_norm_relu(channels_out)]


# The mask's starting bias: sigmoid(-4) = 1.8 % of each pixel repainted by a fresh generator; further down, the
# mask's gradient (sigmoid') is too small for the score term to start it in a few steps.
MASK_START = -4.0


class RepaintGenerator(nn.Module):
    """7x7 stem, strided downsampling, ResNet blocks, resize-convolution upsampling, 7x7 head: a mask and a palette mix.

    Any tile size works: the input is padded to a multiple of the total stride (and to a
    minimum the reflect paddings need) and the output cropped back.

    Args:
        in_channels: number of bands, in and out.
        mean: each band's training mean in unit space.
        std: each band's training standard deviation in unit space.
        endmembers: K real spectra in unit space, (K, in_channels) as nested lists.
        ngf: channels of the first stage; each downsampling doubles them.
        n_blocks: ResNet blocks at the lowest resolution.
        n_downsampling: stride-2 stages (the total stride is 2 ** n_downsampling).
    """

    def __init__(self, in_channels: int, mean: list[float], std: list[float], endmembers: list[list[float]],
                 ngf: int = 16, n_blocks: int = 4, n_downsampling: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), *_norm_relu(ngf)]
        for i in range(n_downsampling):
            c = ngf * 2 ** i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, padding_mode="reflect"), *_norm_relu(2 * c)]
        layers += [ResnetBlock(ngf * 2 ** n_downsampling) for _ in range(n_blocks)]
        for i in reversed(range(n_downsampling)):
            layers += _resize_conv(ngf * 2 ** (i + 1), ngf * 2 ** i)
        head = nn.Conv2d(ngf, 1 + len(endmembers), 7)
        self.body = nn.Sequential(*layers, nn.ReflectionPad2d(3), head)
        self.apply(init_gan_weights)
        nn.init.zeros_(head.weight)
        with torch.no_grad():
            head.bias[0] = MASK_START
        self.stride = 2 ** n_downsampling
        self.register_buffer("mean", _band_vector(mean), persistent=False)
        self.register_buffer("std", _band_vector(std), persistent=False)
        self.register_buffer("endmembers", torch.tensor(endmembers, dtype=torch.float32), persistent=False)

    def _padded(self, z: torch.Tensor) -> torch.Tensor:
        """Replicate-pad bottom/right to a multiple of the stride, at least 4 px at the lowest level."""
        minimum = 4 * self.stride
        height, width = z.shape[-2:]
        pad_h = max(-(-height // self.stride) * self.stride, minimum) - height
        pad_w = max(-(-width // self.stride) * self.stride, minimum) - width
        return F.pad(z, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else z

    def mask_and_paint(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, H, W) the share of each pixel repainted, and (B, C, H, W) the real spectrum it is repainted with."""
        height, width = u.shape[-2:]
        out = self.body(self._padded((u - self.mean) / self.std))[..., :height, :width]
        weights = torch.softmax(out[:, 1:], dim=1)
        return torch.sigmoid(out[:, :1]), torch.einsum("bkhw,kc->bchw", weights, self.endmembers)

    def repaint(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The enhanced image (each pixel mixed with a real spectrum) and the mask saying how much of each."""
        mask, paint = self.mask_and_paint(u)
        return u + mask * (paint - u), mask

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> the enhanced image."""
        return self.repaint(u)[0]


class PatternGenerators(nn.Module):
    """The pair a model file holds: the pattern maximizer and the pattern minimizer.

    Args:
        in_channels: number of bands.
        mean, std, ngf, n_blocks, n_downsampling: see RepaintGenerator.
        natural_endmembers: the maximizer's spectra, (K, in_channels) from natural training pixels.
        anthropogenic_endmembers: the minimizer's spectra, from anthropogenic training pixels.
    """

    def __init__(self, in_channels: int, mean: list[float], std: list[float], natural_endmembers: list[list[float]],
                 anthropogenic_endmembers: list[list[float]], ngf: int = 16, n_blocks: int = 4,
                 n_downsampling: int = 2) -> None:
        super().__init__()
        shape = (ngf, n_blocks, n_downsampling)
        self.maximizer = RepaintGenerator(in_channels, mean, std, natural_endmembers, *shape)
        self.minimizer = RepaintGenerator(in_channels, mean, std, anthropogenic_endmembers, *shape)
