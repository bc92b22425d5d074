"""A PNG quick-look: the input in true colour beside the naturalness map, on one grid.

Both are read onto a coarse copy of the map's grid through the same band reader, so the
figure stays small and cheap however large the raster is.
"""
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from affine import Affine  # noqa: E402

from core.atomic import atomic_path  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.grid import Grid  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.raster.sources import open_input  # noqa: E402

TRUE_COLOUR = ["B04", "B03", "B02"]


def _coarse(grid: Grid, max_pixels: int) -> Grid:
    factor = max(1, math.ceil(max(grid.width, grid.height) / max_pixels))
    return Grid(grid.crs, grid.transform * Affine.scale(factor), math.ceil(grid.width / factor),
                math.ceil(grid.height / factor))


def _stretch(rgb: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """2-98 % percentile stretch per band, as GIS viewers do by default."""
    out = np.zeros(rgb.shape[1:] + (3,), dtype=np.float32)
    for i in range(3):
        lo, hi = np.nanpercentile(rgb[i][valid], [2, 98]) if valid.any() else (0, 1)
        out[..., i] = np.clip((rgb[i] - lo) / max(hi - lo, 1e-6), 0, 1)
    out[~valid] = 1.0
    return out


def quicklook(input_path: str | Path, run_dir: str | Path, out: str | Path, max_pixels: int = 900) -> Path:
    """Draw input | naturalness | overlay to a PNG; returns its path."""
    run_dir = Path(run_dir)
    with rasterio.open(run_dir / "naturalness.tif") as src:
        grid = _coarse(Grid(src.crs, src.transform, src.width, src.height), max_pixels)
    raster = open_input(input_path)
    rgb, valid = read_window(match_bands(raster, TRUE_COLOUR), grid)
    (score,), score_valid = read_window(match_bands(open_input(run_dir / "naturalness.tif"), ["NATURALNESS"]), grid)
    score = np.where(score_valid, score, np.nan)
    image = _stretch(rgb, valid)
    extent = [grid.bounds[0], grid.bounds[2], grid.bounds[1], grid.bounds[3]]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.6), constrained_layout=True)
    axes[0].imshow(image, extent=extent)
    axes[0].set_title("Input (true colour, B04/B03/B02)")
    shown = axes[1].imshow(score, extent=extent, cmap="BrBG", vmin=0, vmax=1)
    axes[1].set_title("Naturalness (probability of a natural class)")
    fig.colorbar(shown, ax=axes[1], shrink=0.8, label="0 = anthropogenic … 1 = natural")
    axes[2].imshow(image, extent=extent)
    axes[2].contourf(np.flipud(score), levels=[0.5, 1.0], colors=["#01665e"], alpha=0.35,
                     extent=extent, origin="lower")
    axes[2].contour(np.flipud(score), levels=[0.5], colors=["#ffd92f"], linewidths=1.2, extent=extent, origin="lower")
    axes[2].set_title("Naturalness ≥ 0.5 over the input")
    for ax in axes:
        ax.set_xlabel(f"x ({grid.crs.to_string()})")
        ax.ticklabel_format(useOffset=False, style="plain")
        ax.tick_params(labelsize=7)
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return out
