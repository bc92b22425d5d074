"""PNG sample grids: input | maximized | minimized | attribution, one row per validation patch.

A look at the grid says at once whether the generators do something sensible (change
land cover, not just add noise) and where the attribution points. Every image shares one
true-colour stretch, from all the grid's inputs, as a QGIS layer's stretch is shared by all
its pixels: a per-tile stretch would make a repainted field on a dark water tile look
saturated red when it is plain bare soil.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from core.atomic import atomic_path  # noqa: E402

TRUE_COLOUR = ["B04", "B03", "B02"]
GAP = 2


def display_bands(bands: list[str]) -> list[int]:
    """The band indices shown: B04/B03/B02 when present, else the first three (or one band as grey)."""
    if all(name in bands for name in TRUE_COLOUR):
        return [bands.index(name) for name in TRUE_COLOUR]
    return [0, 1, 2] if len(bands) >= 3 else [0, 0, 0]


def _stretch(images: list[np.ndarray], reference: np.ndarray) -> list[np.ndarray]:
    """2-98 % stretch per channel from `reference`, applied to every image; (3, H, W) -> (H, W, 3)."""
    lo = np.percentile(reference, 2, axis=(1, 2))[:, None, None]
    hi = np.percentile(reference, 98, axis=(1, 2))[:, None, None]
    return [np.clip((image - lo) / np.maximum(hi - lo, 1e-6), 0, 1).transpose(1, 2, 0) for image in images]


def _heat(attribution: np.ndarray) -> np.ndarray:
    """(H, W) attribution -> (H, W, 3) magma colours, scaled to the row's 99th percentile."""
    top = max(float(np.percentile(attribution, 99)), 1e-9)
    return plt.get_cmap("magma")(np.clip(attribution / top, 0, 1))[..., :3]


def write_sample_grid(path: Path, inputs: np.ndarray, maximized: np.ndarray, minimized: np.ndarray,
                      bands: list[str]) -> Path:
    """Write the grid PNG atomically.

    Args:
        path: the PNG to write.
        inputs: (N, C, H, W) patches in unit space (reflectance).
        maximized: the maximizer's outputs, same shape.
        minimized: the minimizer's outputs, same shape.
        bands: band names, to find true colour.

    Returns:
        The path written.
    """
    shown = display_bands(bands)
    reference = np.concatenate([x[shown] for x in inputs], axis=2)
    rows = []
    for x, high, low in zip(inputs, maximized, minimized):
        tiles = _stretch([x[shown], high[shown], low[shown]], reference) + [_heat(np.abs(high - low).mean(axis=0))]
        gap = np.ones((x.shape[1], GAP, 3))
        rows.append(np.concatenate([part for tile in tiles for part in (tile, gap)][:-1], axis=1))
        rows.append(np.ones((GAP, rows[-1].shape[1], 3)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        plt.imsave(tmp, np.concatenate(rows[:-1], axis=0), format="png")
    return path
