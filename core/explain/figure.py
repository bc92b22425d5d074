"""The side-by-side figure of SpacEX's Fig. 4: the same tiles through every method.

Rows are tiles; columns are the input in true colour (with the reference class outlined),
the naturalness map, then one attribution map per method. It only draws arrays it is given,
so it knows nothing of models or rasters.
"""
import dataclasses
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from core.atomic import atomic_path  # noqa: E402


@dataclasses.dataclass
class FigureTiles:
    """What the figure shows for N tiles.

    rgb: (N, 3, H, W) reflectance; naturalness: (N, H, W) in [0, 1]; attributions: method
    name -> (N, H, W) non-negative maps; reference: (N, H, W) bool mask of `reference_class`.
    """

    rgb: np.ndarray
    naturalness: np.ndarray
    attributions: dict[str, np.ndarray]
    reference: np.ndarray
    reference_class: str


def _true_colour(rgb: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) in [0, 1] by one 2-98 % stretch over all tiles, so tiles compare by brightness."""
    lo, hi = np.percentile(rgb, [2, 98], axis=(0, 2, 3), keepdims=True)
    return np.clip((rgb - lo) / np.maximum(hi - lo, 1e-6), 0, 1).transpose(0, 2, 3, 1)


def _relative(attribution: np.ndarray) -> np.ndarray:
    """A map divided by its own 99th percentile: methods differ in units, their rankings are what compare."""
    return np.clip(attribution / max(float(np.percentile(attribution, 99)), 1e-12), 0, 1)


def comparison_figure(tiles: FigureTiles, out: str | Path) -> Path:
    """Draw the tiles x (input | naturalness | each method) grid to a PNG, atomically; returns its path."""
    images = _true_colour(tiles.rgb)
    n, columns = len(images), 2 + len(tiles.attributions)
    fig, axes = plt.subplots(n, columns, figsize=(2.2 * columns, 2.3 * n), squeeze=False, constrained_layout=True)
    for i in range(n):
        axes[i, 0].imshow(images[i])
        if 0 < tiles.reference[i].mean() < 1:  # an outline needs both sides of the class edge in the tile
            axes[i, 0].contour(tiles.reference[i].astype(float), levels=[0.5], colors=["#ffd92f"], linewidths=0.8)
        axes[i, 1].imshow(tiles.naturalness[i], cmap="BrBG", vmin=0, vmax=1)
        for j, attribution in enumerate(tiles.attributions.values(), start=2):
            axes[i, j].imshow(_relative(attribution[i]), cmap="magma", vmin=0, vmax=1)
    titles = [f"input (outline: {tiles.reference_class})", "naturalness", *tiles.attributions]
    for j, title in enumerate(titles):
        axes[0, j].set_title(title, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return out
