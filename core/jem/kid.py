"""Kernel Inception Distance (Bińkowski et al., 2018) between two sets of image patches.

KID is the squared maximum mean discrepancy between the two sets' features under the cubic
polynomial kernel k(a, b) = (a.b / d + 1)^3, estimated without bias, so unlike FID it is fair
to small sets (16 samples) and 0 in expectation when both sets come from one distribution.

The features are NOT Inception's: its weights cannot be downloaded here, and an ImageNet
network knows no 10-band Sentinel-2 patch anyway. They are the global-average-pooled
`features` of the bundled plain classifier (core.resources.DEFAULT_MODEL), a network trained
on the same bands but independently of the JEM whose samples are judged. Values are
therefore comparable with each other, not with KIDs published on Inception features.
"""
import numpy as np
import torch

from core.errors import NaturalExplainError
from core.models.model_file import LoadedModel
from core.models.preprocess import UnitSpace


def polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, m) kernel matrix (a.b / d + 1)^3 of (n, d) and (m, d) features."""
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def kid(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 between feature sets x (m, d) and y (n, d) under the cubic kernel.

    Raises:
        ValueError: when either set has fewer than two rows (the estimator needs pairs).
    """
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"KID needs at least two patches per set, got {m} and {n}")
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * kxy.mean())


def feature_scale(reference: np.ndarray) -> float:
    """One scalar to divide every feature set by: the root mean square of the reference features.

    The kernel's "+1" and cube were set for Inception's pooled features, which are of order 1;
    a classifier's pooled ReLU activations can be of any size, and cubing their dot products
    would let a few large features swamp the rest. Dividing all sets by the same scalar keeps
    KID a proper MMD and its values comparable within one run.
    """
    return float(np.sqrt(np.mean(np.square(reference)))) or 1.0


@torch.no_grad()
def features(extractor: LoadedModel, physical: torch.Tensor, bands: list[str], batch_size: int = 64) -> np.ndarray:
    """(B, D) pooled classifier features of patches given in physical units (reflectance).

    Args:
        extractor: the feature network (a NaturalnessFCN), e.g. the bundled plain classifier.
        physical: (B, C, H, W) patches in physical units, bands in the order `bands` names.
        bands: the patches' band names; the extractor's bands are picked from them by name.
        batch_size: patches per forward pass.

    Raises:
        NaturalExplainError: when the patches lack a band the extractor needs.
    """
    missing = [b for b in extractor.card.bands if b not in bands]
    if missing:
        raise NaturalExplainError(f"the KID feature network needs band(s) {', '.join(missing)}, "
                                  f"which the samples ({', '.join(bands)}) lack")
    order = [bands.index(b) for b in extractor.card.bands]
    device = next(extractor.network.parameters()).device
    space = UnitSpace(extractor.card, device)
    scaled = (physical[:, order].to(device) - space.low) / (space.high - space.low)
    out = []
    for start in range(0, len(scaled), batch_size):
        x = space.to_input(scaled[start:start + batch_size].clamp(0.0, 1.0))
        out.append(extractor.network.features(x).mean(dim=(2, 3)).cpu())
    return torch.cat(out).double().numpy()
