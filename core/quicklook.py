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
from affine import Affine  # noqa: E402

from core.atomic import atomic_path  # noqa: E402
from core.raster.bands import match_bands  # noqa: E402
from core.raster.grid import Grid  # noqa: E402
from core.raster.read import read_window  # noqa: E402
from core.raster.sources import open_input, open_raster  # noqa: E402

TRUE_COLOUR = ["B04", "B03", "B02"]


def _coarse(grid: Grid, max_pixels: int) -> Grid:
    factor = max(1, math.ceil(max(grid.width, grid.height) / max_pixels))
    return Grid(grid.crs, grid.transform * Affine.scale(factor), math.ceil(grid.width / factor),
                math.ceil(grid.height / factor))


def _limits(rgb: np.ndarray, valid: np.ndarray) -> list[tuple[float, float]]:
    """2-98 % percentile limits per band, as GIS viewers stretch by default."""
    if not valid.any():
        return [(0.0, 1.0)] * 3
    return [tuple(np.nanpercentile(band[valid], [2, 98])) for band in rgb]


def _stretch(rgb: np.ndarray, valid: np.ndarray, limits: list[tuple[float, float]]) -> np.ndarray:
    """(H, W, 3) image in [0, 1]; no-data shows white."""
    out = np.stack([np.clip((band - lo) / max(hi - lo, 1e-6), 0, 1) for band, (lo, hi) in zip(rgb, limits)], axis=-1)
    out[~valid] = 1.0
    return out


def _read_named(path: Path, names: list[str], grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    return read_window(match_bands(open_input(path), names), grid)


def _decorate(ax: plt.Axes, grid: Grid, title: str) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"x ({grid.crs.to_string()})", fontsize=8)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(labelsize=6)


def quicklook(input_path: str | Path, run_dir: str | Path, out: str | Path, max_pixels: int = 700) -> Path:
    """Draw input | naturalness | overlay, then every attribution and enhanced image the run wrote.

    Enhanced images use the input's stretch, so brighter or darker than the input means the
    generator changed the pixels, not the display.
    """
    run_dir = Path(run_dir)
    with open_raster(run_dir / "naturalness.tif") as src:
        grid = _coarse(Grid(src.crs, src.transform, src.width, src.height), max_pixels)
    rgb, valid = _read_named(Path(input_path), TRUE_COLOUR, grid)
    limits = _limits(rgb, valid)
    image = _stretch(rgb, valid, limits)
    (score,), score_valid = _read_named(run_dir / "naturalness.tif", ["NATURALNESS"], grid)
    score = np.where(score_valid, score, np.nan)
    attributions = sorted(run_dir.glob("attribution_*.tif"))
    enhanced = [p for p in (run_dir / "enhanced_max.tif", run_dir / "enhanced_min.tif") if p.exists()]
    extras = len(attributions) + len(enhanced)
    rows = 1 + math.ceil(extras / 3)
    fig, axes = plt.subplots(rows, 3, figsize=(16, 5.4 * rows), constrained_layout=True, squeeze=False)
    extent = [grid.bounds[0], grid.bounds[2], grid.bounds[1], grid.bounds[3]]
    axes[0, 0].imshow(image, extent=extent)
    _decorate(axes[0, 0], grid, "Input (true colour, B04/B03/B02)")
    shown = axes[0, 1].imshow(score, extent=extent, cmap="BrBG", vmin=0, vmax=1)
    _decorate(axes[0, 1], grid, "Naturalness (probability of a natural class)")
    fig.colorbar(shown, ax=axes[0, 1], shrink=0.8, label="0 = anthropogenic … 1 = natural")
    axes[0, 2].imshow(image, extent=extent)
    scored = score[np.isfinite(score)]
    if scored.size and scored.min() < 0.5 <= scored.max():  # else matplotlib warns that no contour was found
        axes[0, 2].contourf(np.flipud(score), levels=[0.5, 1.0], colors=["#01665e"], alpha=0.35,
                            extent=extent, origin="lower")
        axes[0, 2].contour(np.flipud(score), levels=[0.5], colors=["#ffd92f"], linewidths=1.2, extent=extent,
                           origin="lower")
    elif scored.size and scored.min() >= 0.5:
        axes[0, 2].contourf(np.flipud(score), levels=[0.5, 1.0], colors=["#01665e"], alpha=0.35,
                            extent=extent, origin="lower")
    _decorate(axes[0, 2], grid, "Naturalness ≥ 0.5 over the input")
    panels = iter(axes[1:].ravel())
    for path in attributions:
        ax = next(panels)
        (values,), ok = _read_named(path, [path.stem.upper()], grid)
        lo, hi = np.percentile(values[ok], [2, 98]) if ok.any() else (0, 1)
        ax.imshow(np.where(ok, values, np.nan), extent=extent, cmap="magma", vmin=lo, vmax=hi)
        _decorate(ax, grid, f"{path.stem.removeprefix('attribution_')}: importance (low → high)")
    for path in enhanced:
        ax = next(panels)
        values, ok = _read_named(path, TRUE_COLOUR, grid)
        ax.imshow(_stretch(values, ok, limits), extent=extent)
        _decorate(ax, grid, f"{path.stem.replace('_', ' ')} (input's stretch)")
    for ax in panels:
        ax.axis("off")
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    return out
