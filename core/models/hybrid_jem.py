"""A JEM that generates: the Wide-ResNet classifier's logits plus one energy that a U-Net carries.

The classifier alone is a poor energy for sampling: its log p(x) is a sum of local features
pooled into one linear head, and trained by denoising score matching its input gradient learned
the band means' shrinkage and a grain, never an edge (README, `core sample`). Here log p(x, y) =
c(x)[y] + e(x, sigma), where c is the JEMWideResNet's logits and e(x, sigma) =
-||x - r(x, sigma)||^2 / (2 sigma) per pixel, with r a smooth U-Net told the noise level: the
energy form Salimans & Ho (2021) found to sample as well as a score network. r is preconditioned
as Karras et al.'s EDM denoiser (2022) for data of unit std, the classifier's standardised input:
r(x, sigma) = x / (1 + sigma^2) + sigma / sqrt(1 + sigma^2) * u(x / sqrt(1 + sigma^2), log sigma),
so that one U-Net u, told the level, fits every level of the ladder with outputs of unit scale.
(Without the output's sigma factor, u's outputs must shrink 100-fold from the top of the ladder
to its bottom, and two epochs fitted every level worse: bench/measure_samples.py's residual at
sigma 0.13 was 0.98 against 0.82.) Without the level (the first bundled generative JEM) the
gradient hardly fitted the top of the ladder, and chains from noise there painted worms.
e is the same for every class, so it cancels in p(y|x): the
classifier's probabilities, maps and GradCAMs are the Wide-ResNet's, bit for bit, whatever the
energy learns. log p(x) = logsumexp c(x) + e(x, SIGMA_MIN), so confidence maps and OOD reports
see both.

With `energy_classes`, the U-Net is also told a class, and
was trained with the class dropped for a share of its crops (train/trainers/energy.py): told a
class, r(x, sigma, y) denoises towards that class; told none, it is the energy above, which alone
enters log p(x) and the logits. `core sample` mixes the two as classifier-free guidance (Ho &
Salimans 2022): r + w (r_y - r). The bundled model is steered so (README, `core sample`).

How the U-Net is told the level and the class: as constant input bands (log(sigma) / 4 and the
class one-hot, all zeros for none), or with `energy_embedding`, as an embedding that scales and
shifts every normalisation of the U-Net (FiLM, core.models.unet), as diffusion U-Nets are told their
noise level: Fourier features of log(sigma) / 4 through a two-layer MLP, plus a learned vector per
class and one for no class. Bands reach the deeper stages only through the stem's GroupNorm, which
subtracts most of a constant band; the bundled model is told by the embedding.

A tile's energy is the mean of its pixels' times `energy_pixels` (the training patch's pixel
count): the sum over a training patch, which denoising score matching fits, and a mean on any
other tile size, so the tiles of a map compare with the training histogram. Per pixel (dense
logits), each pixel's own energy times `energy_pixels`: the mean of a tile's dense values is its
tile value, as for the classifier's own maps.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

from core.models.unet import UNet
from core.models.wide_resnet import JEMWideResNet

# The bottom of the noise ladder the energy is trained on (standardised units; train/score_term.py):
# a clean input is scored at this level, below the finest texture (~0.25 in the visible bands).
SIGMA_MIN = 0.02
# The U-Net energy's full-resolution channels and 2x poolings unless told (the training commands' defaults).
ENERGY_WIDTH, ENERGY_DEPTH = 32, 2
# The level-and-class embedding's size for the energies the training commands start.
ENERGY_EMBEDDING = 128
# A noise level: one for the batch, or one per sample.
Level = float | torch.Tensor | None


class LevelAndClass(nn.Module):
    """(B, E) the embedding of a noise level (B, 1, 1, 1) and of a class told (B,), -1 for none (no labels at all,
    None, when it takes no class).

    Args:
        size: E, even.
        classes: the classes it can be told (0: none, the level alone).
    """

    def __init__(self, size: int, classes: int) -> None:
        super().__init__()
        # log(sigma) / 4 spans about [-1, 0.6] on the ladder: frequencies from 1 to 100 cycles over one unit
        self.register_buffer("frequencies", 2 * math.pi * torch.logspace(0, 2, size // 2), persistent=False)
        self.mlp = nn.Sequential(nn.Linear(size, size), nn.SiLU(), nn.Linear(size, size))
        self.classes = nn.Embedding(classes + 1, size) if classes else None

    def forward(self, sigma: torch.Tensor, label: torch.Tensor | None) -> torch.Tensor:
        angle = (sigma.reshape(-1, 1).log() / 4) * self.frequencies
        embedding = self.mlp(torch.cat([angle.cos(), angle.sin()], dim=1))
        if self.classes is not None:
            embedding = embedding + self.classes(label % self.classes.num_embeddings)  # -1: the last row
        return F.silu(embedding)


class ToldUNet(UNet):
    """The smooth U-Net with its own level-and-class embedding, FiLM-conditioning every block: one module, so that
    training, its moving average and half-precision storage take both (all under `energy.`).

    Args:
        channels: input and output bands.
        width: the full-resolution channels.
        depth: 2x poolings.
        embedding: the embedding's size.
        classes: the classes it can be told (0: none).
    """

    def __init__(self, channels: int, width: int, depth: int, embedding: int, classes: int) -> None:
        super().__init__(channels, channels, width, depth, smooth=True, embedding=embedding)
        self.told = LevelAndClass(embedding, classes)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, H, W) for input (B, C, H, W) at levels (B, 1, 1, 1), told classes (B,) (see LevelAndClass)."""
        return super().forward(x, self.told(sigma, label))


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
        energy_classes: the classes the U-Net can be told (0: none, the energy of every class alike).
        energy_embedding: the size of the level-and-class embedding that conditions every block of the U-Net (0: the
            level and class go in as input bands instead).
    """

    def __init__(self, in_channels: int, num_classes: int = 2, width: int = 16, blocks: int = 1,
                 energy_width: int = ENERGY_WIDTH, energy_depth: int = ENERGY_DEPTH, energy_pixels: int = 1024,
                 energy_classes: int = 0, energy_embedding: int = 0) -> None:
        super().__init__()
        self.classifier = JEMWideResNet(in_channels, num_classes, width, blocks)
        self.energy = ToldUNet(in_channels, energy_width, energy_depth, energy_embedding, energy_classes) \
            if energy_embedding else UNet(in_channels + 1 + energy_classes, in_channels, energy_width, energy_depth,
                                          smooth=True)
        self.energy_pixels, self.energy_classes = energy_pixels, energy_classes

    @property
    def cam_layer(self) -> nn.Module:
        """The classifier's features: GradCAM explains the class, which the energy does not take part in."""
        return self.classifier.cam_layer

    def denoised(self, x: torch.Tensor, sigma: Level = None, label: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, H, W) r(x, sigma, y): EDM's preconditioned denoiser whose U-Net is told the level and, with
        energy_classes, the class `label` (B,), none where a label is -1 or `label` is None.

        Raises:
            ValueError: for a label given to a U-Net told no class.
        """
        if label is not None and not self.energy_classes:
            raise ValueError("this JEM's energy is told no class")
        if self.energy_classes:
            label = torch.full((len(x),), -1, device=x.device) if label is None else label.to(x.device)
        sigma = _levels(sigma, x).expand(len(x), 1, 1, 1)
        unit = (sigma ** 2 + 1).rsqrt()
        if isinstance(self.energy, ToldUNet):
            u = self.energy(x * unit, sigma, label)
        else:
            u = self.energy(torch.cat([x * unit, *self._told_bands(x, sigma, label)], dim=1))
        return x * unit ** 2 + sigma * unit * u

    def _told_bands(self, x: torch.Tensor, sigma: torch.Tensor, label: torch.Tensor | None) -> list[torch.Tensor]:
        """log(sigma) / 4 as a band, and with energy_classes the one-hot class bands of `label` (all 0: -1, none)."""
        bands = [(sigma.log() / 4).expand(-1, 1, *x.shape[-2:])]
        if self.energy_classes:
            one_hot = (label[:, None] == torch.arange(self.energy_classes, device=x.device)).to(x.dtype)  # -1: all 0
            bands.append(one_hot[:, :, None, None].expand(-1, -1, *x.shape[-2:]))
        return bands

    def pixel_energy(self, x: torch.Tensor, sigma: Level = None) -> torch.Tensor:
        """(B, 1, H, W) e(x, sigma) per pixel times energy_pixels: -||x - r(x, sigma)||^2 / (2 sigma) over the bands.

        Its gradient is sigma times the score of the data noised at sigma (NCSNv2's rule, core.jem.annealed):
        -(x - r) / sigma, the noise r removes in units of sigma, when the Jacobian of r is small.
        """
        sigma = _levels(sigma, x)
        return -0.5 * self.energy_pixels * (x - self.denoised(x, sigma)).pow(2).sum(dim=1, keepdim=True) / sigma

    def forward(self, x: torch.Tensor, sigma: Level = None) -> torch.Tensor:
        """(B, K) tile logits: the classifier's plus the tile's mean pixel energy at noise level sigma (SIGMA_MIN)."""
        return self.classifier(x) + self.pixel_energy(x, sigma).mean(dim=(2, 3))

    def dense_logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K, H, W) per-pixel logits of a clean input: the classifier's plus each pixel's energy."""
        return self.classifier.dense_logits(x) + self.pixel_energy(x)


def _levels(sigma: Level, x: torch.Tensor) -> torch.Tensor:
    """sigma (SIGMA_MIN when None) as a (1 or B, 1, 1, 1) tensor on x's device."""
    sigma = SIGMA_MIN if sigma is None else sigma
    return torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
