"""SSC's figure: image | labels | CNN classification | SSC classification, side by side.

core.ssc reads the panels and this module draws the arrays it is given, so the classifier code
holds no plotting and the figure knows nothing of rasters.
"""
import dataclasses
from pathlib import Path

import numpy as np

from core.atomic import atomic_path


@dataclasses.dataclass(frozen=True)
class FourParts:
    """The panels on one grid: image (H, W, 3) in [0, 1]; labels and each phase's classes (H, W), 1 natural,
    0 anthropogenic, NaN for none; the grid's bounds (xmin, ymin, xmax, ymax); whether labels were given."""

    image: np.ndarray
    labels: np.ndarray
    phase1: np.ndarray
    phase2: np.ndarray
    bounds: tuple[float, float, float, float]
    labelled: bool


def four_part_figure(parts: FourParts, out: Path, learner: str) -> Path:
    """Draw the four panels to a PNG at `out`, atomically; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(["#b35806", "#1b7837"])
    cmap.set_bad("white")
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.6), constrained_layout=True)
    titles = ["image", "labels" if parts.labelled else "labels (none given)", "CNN classification (phase 1)",
              f"SSC classification ({learner.upper()}, phase 2)"]
    xmin, ymin, xmax, ymax = parts.bounds
    for ax, title, data in zip(axes, titles, [parts.image, parts.labels, parts.phase1, parts.phase2]):
        if data.ndim == 3:
            ax.imshow(data, extent=(xmin, xmax, ymin, ymax))
        else:
            ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=0, vmax=1, interpolation="nearest",
                      extent=(xmin, xmax, ymin, ymax))
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ("#1b7837", "#b35806")]
    fig.legend(handles, ["natural", "anthropogenic"], loc="lower center", ncol=2, fontsize=9)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return out
