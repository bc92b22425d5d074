"""The grid of overlapping tiles over a raster window, and the weights that blend them.

The tiler knows nothing about models: it only says where to cut and how much each pixel
of a tile counts when overlapping tiles are averaged.
"""
import dataclasses

import numpy as np
from rasterio.windows import Window


@dataclasses.dataclass(frozen=True)
class Tile:
    """One tile: its row in the tile grid and its window (all tiles of a grid share one size)."""

    row: int
    window: Window


def _offsets(length: int, size: int, stride: int) -> list[int]:
    """Start offsets covering [0, length) with tiles of `size`; the last one ends at `length`."""
    if length <= size:
        return [0]
    starts = list(range(0, length - size, stride))
    return starts + [length - size]


def tile_grid(height: int, width: int, size: int, overlap: int) -> list[Tile]:
    """Row-major tiles of `size` (or the raster's size, if smaller) overlapping by `overlap`.

    Raises:
        ValueError: when the overlap leaves no stride.
    """
    if not 0 <= overlap < size:
        raise ValueError(f"overlap {overlap} must be in [0, {size})")
    th, tw = min(size, height), min(size, width)
    rows = _offsets(height, th, size - overlap)
    cols = _offsets(width, tw, size - overlap)
    return [Tile(i, Window(c, r, tw, th)) for i, r in enumerate(rows) for c in cols]


def blend_weights(height: int, width: int, overlap: int) -> np.ndarray:
    """A (H, W) weight that ramps linearly over `overlap` pixels at every edge, never reaching 0.

    Averaging overlapping tiles with these weights hides the seams where a fully
    convolutional network sees less context near a tile edge.
    """
    def ramp(n: int) -> np.ndarray:
        i = np.arange(n, dtype=np.float32)
        edge = np.minimum(i + 1, n - i)
        return np.minimum(edge / max(overlap, 1), 1.0)

    return np.outer(ramp(height), ramp(width))
