"""Scores of an attribution map: faithfulness to the classifier, agreement with a reference.

Deletion and insertion (Petsiuk et al., RISE, BMVC 2018) ask the classifier itself: removing
the pixels an explanation ranks highest should drop its score fastest (low deletion AUC), and
restoring them first should bring the score back fastest (high insertion AUC). Removed pixels
are replaced by a blurred copy of the tile rather than by zeros, so a perturbed tile keeps its
colours and stays near the data the classifier knows: only the detail is taken away. The IoU
of the top-q% pixels with a reference class is SpacEX's Table I measure.
"""
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.nn import functional as F

Score = Callable[[torch.Tensor], torch.Tensor]


def pixel_order(attribution: torch.Tensor, tie_break: torch.Tensor) -> torch.Tensor:
    """Flat pixel indices of a (H, W) map, most important first.

    Equal values (GradCAM's upsampled cells, occlusion's clamped zeros) are ordered by
    `tie_break`, a random key of the same shape, not by raster order, which would favour the
    tile's top rows.
    """
    by_key = torch.argsort(tie_break.flatten())
    return by_key[torch.argsort(-attribution.flatten()[by_key], stable=True)]


def top_fraction_mask(attribution: torch.Tensor, tie_break: torch.Tensor, q: float) -> torch.Tensor:
    """Bool (H, W) mask of the top `q` percent of pixels (at least one)."""
    order = pixel_order(attribution, tie_break)
    count = max(1, round(order.numel() * q / 100.0))
    mask = torch.zeros(order.numel(), dtype=torch.bool, device=order.device)
    mask[order[:count]] = True
    return mask.view(attribution.shape)


def iou(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """Intersection over union of two bool masks; 1.0 when both are empty (they agree)."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, C, H, W) blurred per band by a separable Gaussian, edges reflected."""
    radius = min(math.ceil(3 * sigma), x.shape[-2] - 1, x.shape[-1] - 1)
    if radius < 1:
        return x.clone()
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    out = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(out, (0, 0, radius, radius), mode="reflect"), kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def removal_masks(order: torch.Tensor, shape: Sequence[int], fractions: Sequence[float]) -> torch.Tensor:
    """(K, H, W) bool masks of the first round(fraction * H * W) pixels of `order`, one per fraction.

    Args:
        order: flat pixel indices, most important first.
        shape: the map's (H, W).
        fractions: shares of the pixels to mark, each in [0, 1].
    """
    n = order.numel()
    rank = torch.empty(n, dtype=torch.long, device=order.device)
    rank[order] = torch.arange(n, device=order.device)
    counts = torch.tensor([round(n * f) for f in fractions], device=order.device)
    return (rank[None, :] < counts[:, None]).view(len(fractions), *shape)


def reveal_curve(score: Score, start: torch.Tensor, fill: torch.Tensor, order: torch.Tensor, steps: int) -> np.ndarray:
    """Scores as the pixels of `start` are replaced by `fill` in `order`, `steps` equal steps.

    Deletion is start = tile, fill = blurred tile; insertion is the reverse. All steps + 1
    perturbed tiles go through the classifier in one batch.

    Args:
        score: maps a (N, C, H, W) batch to (N,) scores.
        start, fill: (C, H, W) tiles.
        order: flat pixel indices, most important first.
        steps: how many equal fractions of the pixels are replaced in turn.

    Returns:
        (steps + 1,) scores at fractions 0, 1/steps, ..., 1 of the pixels replaced.
    """
    replaced = removal_masks(order, start.shape[-2:], [k / steps for k in range(steps + 1)])
    batch = torch.where(replaced[:, None], fill[None], start[None])
    with torch.no_grad():
        return score(batch).float().cpu().numpy()


def curve_auc(scores: np.ndarray) -> float:
    """Area under a curve sampled at equal fractions of [0, 1], by the trapezoid rule."""
    return float(np.trapz(scores, dx=1.0 / (len(scores) - 1)))


def class_log_odds(logits: torch.Tensor, target: int) -> torch.Tensor:
    """(N,) log-odds of class `target` against the logsumexp of the others, from (N, K) logits: what the curves follow."""
    others = torch.cat([logits[:, :target], logits[:, target + 1:]], dim=1)
    return logits[:, target] - torch.logsumexp(others, dim=1)


def untouched_scale(deletion: np.ndarray) -> float:
    """The untouched tile's score (a deletion curve's first point), by which every curve of the tile is divided,
    so that tiles with strong and weak verdicts weigh alike."""
    return max(abs(float(deletion[0])), 1e-6)
