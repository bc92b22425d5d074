"""The input's own values on its grid, in its own dtype, window by window: what a fill leaves untouched.

Inpainting writes every known pixel as the input holds it, never converted and back, so it
reads the stored values here rather than the model input the network sees.
"""
import contextlib

import numpy as np
from rasterio.windows import Window

from core.raster.grid import Grid
from core.raster.read import BandReader, read_checked
from core.raster.sources import BandRef, open_raster


class OriginalValues:
    """The input's own values on its grid, in its own dtype: what known pixels are written as.

    Bands stored on the output grid are copied from their files; a coarser band (a 20 m
    Sentinel-2 band in a 10 m stack) has no value of its own there, so its resampled value,
    rounded to the dtype, stands in.
    """

    def __init__(self, refs: list[BandRef], grid: Grid, reader: BandReader) -> None:
        self.refs, self.grid, self.reader = refs, grid, reader
        self._stack = contextlib.ExitStack()
        try:
            self.datasets = {path: self._stack.enter_context(open_raster(path))
                             for path in dict.fromkeys(r.path for r in refs)}
        except BaseException:
            self._stack.close()
            raise
        self.dtype = np.result_type(*(self.datasets[r.path].dtypes[r.index - 1] for r in refs))

    def close(self) -> None:
        self._stack.close()

    def cast(self, values: np.ndarray) -> np.ndarray:
        """Values in the output dtype: rounded and clipped to its range for integers."""
        if np.issubdtype(self.dtype, np.integer):
            info = np.iinfo(self.dtype)
            values = np.clip(np.rint(np.nan_to_num(values)), info.min, info.max)
        return values.astype(self.dtype)

    def read(self, window: Window) -> np.ndarray:
        """(C, h, w) original values of a window of the grid (a known pixel is never ±inf: those are filled).

        Raises:
            NaturalExplainError: naming the file and the window when a block is damaged.
        """
        resampled = None
        bands = []
        for ref in self.refs:
            if ref.grid.same_as(self.grid):
                bands.append(read_checked(self.datasets[ref.path], ref.index, window).astype(self.dtype, copy=False))
                continue
            if resampled is None:
                resampled, _ = self.reader.read(self.grid.window(window))
            bands.append(self.cast(resampled[len(bands)]))
        return np.stack(bands)
