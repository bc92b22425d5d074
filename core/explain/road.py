"""ROAD, RemOve And Debias (Rong et al., ICML 2022): deletion whose fill does not give the mask away.

A blurred or constant fill leaves the outline of what was removed in the tile, and the
classifier can react to that outline instead of to the lost evidence. ROAD replaces each
removed pixel by the weighted mean of its 8 neighbours (1/6 for the 4 direct, 1/12 for the
4 diagonal ones, as in the paper). Removed neighbours are unknowns too, so one sparse linear
system per tile fills a hole smoothly from its rim; small Gaussian noise on the filled pixels
keeps the fill from being recognisably smooth. The curve removes the most relevant pixels
first (MoRF): the faster the score falls, the lower the AUC and the more faithful the map.
"""
from collections.abc import Sequence

import numpy as np
import torch
from scipy import sparse
from scipy.sparse.linalg import splu

from core.explain.metrics import Score, removal_masks

NEIGHBOURS = ((-1, 0, 1 / 6), (1, 0, 1 / 6), (0, -1, 1 / 6), (0, 1, 1 / 6),
              (-1, -1, 1 / 12), (-1, 1, 1 / 12), (1, -1, 1 / 12), (1, 1, 1 / 12))
# Nine removal levels, one sparse solve each per tile and map: about 0.4 s for a 128 px tile's nine.
PERCENTAGES = tuple(range(10, 100, 10))
# The paper's noise, on images standardised per band as the classifier's input is.
NOISE_STD = 0.01


def noisy_linear_imputation(tile: np.ndarray, removed: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """The tile with each removed pixel set to the weighted mean of its neighbours, plus `noise`.

    Every band is filled from the same system: for removed pixel i, (sum of w_j over its
    neighbours j inside the tile) v_i - (sum of w_j v_j over removed j) = (sum of w_j x_j over kept j).

    Args:
        tile: (C, H, W) values.
        removed: (H, W) bool, the pixels to fill; at least one pixel must be kept.
        noise: (C, H, W) added to the filled pixels only (zeros for none).

    Returns:
        A (C, H, W) copy of `tile`, float64.

    Raises:
        ValueError: when every pixel is removed (nothing to fill from).
    """
    c, h, w = tile.shape
    unknown = np.flatnonzero(removed)
    filled = tile.reshape(c, -1).astype(np.float64)
    if unknown.size == 0:
        return filled.reshape(c, h, w)
    if unknown.size == h * w:
        raise ValueError("noisy linear imputation needs at least one kept pixel")
    variable = np.full(h * w, -1)
    variable[unknown] = np.arange(unknown.size)
    rows, cols = np.divmod(unknown, w)
    diagonal = np.zeros(unknown.size)
    rhs = np.zeros((unknown.size, c))
    entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for dy, dx, weight in NEIGHBOURS:
        r, q = rows + dy, cols + dx
        inside = np.flatnonzero((r >= 0) & (r < h) & (q >= 0) & (q < w))
        neighbour = r[inside] * w + q[inside]
        diagonal[inside] += weight
        other = variable[neighbour]
        free = other >= 0
        entries.append((inside[free], other[free], np.full(int(free.sum()), -weight)))
        rhs[inside[~free]] += weight * filled[:, neighbour[~free]].T  # each pixel once per offset
    i, j, v = (np.concatenate(parts) for parts in zip(*entries))
    system = sparse.coo_matrix((v, (i, j)), shape=(unknown.size,) * 2) + sparse.diags(diagonal)
    # The system is symmetric: a symmetric ordering factors it about a quarter faster than the default.
    factor = splu(system.tocsc(), permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
    filled[:, unknown] = factor.solve(rhs).T + noise.reshape(c, -1)[:, unknown]
    return filled.reshape(c, h, w)


def road_curve(score: Score, tile: torch.Tensor, order: torch.Tensor, noise: np.ndarray,
               percentages: Sequence[int] = PERCENTAGES) -> np.ndarray:
    """Scores of the tile with its first p % pixels of `order` imputed, for each p in `percentages`.

    Args:
        score: maps a (N, C, H, W) batch to (N,) scores.
        tile: (C, H, W) model input.
        order: flat pixel indices, most relevant first (MoRF).
        noise: (C, H, W) noise for the filled pixels; one field per tile, shared by every map,
            so methods differ only by which pixels they remove.
        percentages: removal levels in (0, 100).

    Returns:
        (len(percentages),) scores, all imputed tiles through the classifier in one batch.
    """
    masks = removal_masks(order, tile.shape[-2:], [p / 100 for p in percentages]).cpu().numpy()
    values = tile.detach().cpu().numpy()
    batch = np.stack([noisy_linear_imputation(values, mask, noise) for mask in masks])
    with torch.no_grad():
        return score(torch.from_numpy(batch).to(tile)).float().cpu().numpy()


def road_auc(curve: np.ndarray, percentages: Sequence[int] = PERCENTAGES) -> float:
    """The curve's area over its removal span divided by that span: its mean height, on deletion's scale."""
    fractions = np.asarray(percentages, dtype=float) / 100
    if len(fractions) == 1:
        return float(curve[0])
    return float(np.trapz(curve, fractions) / (fractions[-1] - fractions[0]))
