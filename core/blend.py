"""Weighted blending of overlapping tiles over a moving strip of rows.

Tiles arrive in row-major order; once every tile that can touch a row has been added,
that row is final and is handed to a sink. Only a strip about one tile high is held in
memory, so memory stays flat however tall the raster is.
"""
from typing import Callable

import numpy as np
from rasterio.windows import Window

# sink(first_row, values (C, h, W), covered (h, W)): receives finished rows in order.
RowSink = Callable[[int, np.ndarray, np.ndarray], None]


class RowBlender:
    """Accumulate weighted tiles and emit finished rows, in order, to a sink.

    Args:
        height, width: size of the grid the tiles lie on.
        channels: values per pixel.
        sink: called with each block of finished rows.
    """

    def __init__(self, height: int, width: int, channels: int, sink: RowSink) -> None:
        self.height, self.width, self.channels = height, width, channels
        self.sink = sink
        self.base = 0
        self.sum = np.zeros((channels, 0, width), dtype=np.float64)
        self.weight = np.zeros((0, width), dtype=np.float64)

    def _ensure_rows(self, end: int) -> None:
        extra = end - self.base - self.weight.shape[0]
        if extra > 0:
            self.sum = np.concatenate([self.sum, np.zeros((self.channels, extra, self.width))], axis=1)
            self.weight = np.concatenate([self.weight, np.zeros((extra, self.width))], axis=0)

    def add(self, window: Window, values: np.ndarray, weights: np.ndarray) -> None:
        """Add a tile's (C, h, w) values with (h, w) weights; weight 0 marks pixels without data."""
        r0, c0 = int(window.row_off), int(window.col_off)
        h, w = weights.shape
        if r0 < self.base:
            raise ValueError(f"tile at row {r0} arrived after rows up to {self.base} were released")
        self._ensure_rows(r0 + h)
        rows = slice(r0 - self.base, r0 - self.base + h)
        self.sum[:, rows, c0:c0 + w] += values * weights
        self.weight[rows, c0:c0 + w] += weights

    def release_until(self, row: int) -> None:
        """Emit rows [base, row): the caller promises no later tile touches them."""
        row = min(row, self.height)
        n = row - self.base
        if n <= 0:
            return
        self._ensure_rows(row)
        weight = self.weight[:n]
        covered = weight > 0
        values = np.where(covered, self.sum[:, :n] / np.where(covered, weight, 1.0), 0.0)
        self.sink(self.base, values.astype(np.float32), covered)
        self.sum, self.weight = self.sum[:, n:], self.weight[n:]
        self.base = row

    def close(self) -> None:
        """Emit every remaining row."""
        self.release_until(self.height)
