"""Read bands onto a target grid window by window, resampling each from its own grid.

Only the source pixels under the requested window are read, so memory stays flat however
large the raster is. Bands already on the target grid are read as they are; bands in the
same CRS go through GDAL's resampling reads, and the rest through its warper (average when
shrinking, bilinear when enlarging).

Every read of a user's file goes through `read_checked`, so a damaged or truncated file whose
header still opens ends in one line naming the file and the window, and ±inf pixels are
nodata like NaN (BandReader counts them, so the caller can say so).
"""
import contextlib
import math
import re
import threading
from pathlib import Path

import numpy as np
import rasterio
from rasterio._err import CPLE_BaseError
from rasterio.enums import Resampling
from rasterio.env import env_ctx_if_needed
from rasterio.errors import RasterioIOError
from rasterio.warp import reproject
from rasterio.windows import Window, from_bounds

from core.errors import NaturalExplainError
from core.raster.grid import Grid
from core.raster.sources import BandRef, open_raster, undecodable_gdal_messages_silenced

# Extra source pixels read around a window so that resampling kernels see their neighbours.
_MARGIN = 2


def _aligned_offset(src: Grid, dst: Grid) -> tuple[int, int] | None:
    """(col, row) of dst's origin on src's pixel lattice when both share one lattice, else None."""
    if src.crs != dst.crs or not np.allclose(src.res, dst.res, rtol=1e-9):
        return None
    col, row = ~src.transform * (dst.transform.c, dst.transform.f)
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    return round(col), round(row)


# What rasterio raises when GDAL cannot decode a block of a file it could open.
READ_ERRORS = (RasterioIOError, CPLE_BaseError)


def _short_cause(exc: Exception, path: str) -> str:
    """GDAL's reason without the path it repeats, e.g. 'band 1: TIFFReadEncodedStrip() failed'."""
    text = " ".join(str(exc).replace(path, "").split())
    reason = text.rstrip(". ").rsplit(":", 1)[-1].strip() or type(exc).__name__
    band = re.search(r"\bband (\d+)", text)
    cause = f"band {band.group(1)}: {reason}" if band else reason
    return cause if len(cause) <= 160 else cause[:157] + "..."


def window_text(window: Window | None, ds: rasterio.DatasetReader) -> str:
    """'rows 0-255, cols 10-73' (first and last, in the file's pixels) for the whole file when `window` is None."""
    if window is None:
        window = Window(0, 0, ds.width, ds.height)
    elif not isinstance(window, Window):
        window = Window.from_slices(*window)
    r0, c0 = math.floor(window.row_off), math.floor(window.col_off)
    r1 = max(math.ceil(window.row_off + window.height) - 1, r0)
    c1 = max(math.ceil(window.col_off + window.width) - 1, c0)
    return f"rows {r0}-{r1}, cols {c0}-{c1}"


@contextlib.contextmanager
def read_errors_explained(ds: rasterio.DatasetReader, window: Window | None = None, path: str | Path | None = None):
    """Turn a failed read of `ds` into one line naming the file and the window.

    Raises:
        NaturalExplainError: "cannot read PATH at window rows R0-R1, cols C0-C1: the file is
            damaged or truncated (GDAL's reason)".
    """
    name = str(path or ds.name)
    try:  # outside a rasterio.Env GDAL would print its own "ERROR 1: ..." lines besides ours
        with env_ctx_if_needed(), undecodable_gdal_messages_silenced():
            yield
    except READ_ERRORS as exc:
        raise NaturalExplainError(f"cannot read {name} at window {window_text(window, ds)}: the file is damaged or "
                                  f"truncated ({_short_cause(exc, str(ds.name))})") from exc


def read_checked(ds: rasterio.DatasetReader, band: int | list[int] | None = None, window: Window | None = None,
                 path: str | Path | None = None, **kwargs) -> np.ndarray:
    """`ds.read(band, window=window, **kwargs)` for a user's file: a damaged block is one line, not a traceback.

    Args:
        ds: an open dataset (see core.raster.sources.open_raster).
        band: 1-based band number(s); None reads every band.
        window: the window to read; None reads the whole file.
        path: the name to report; the dataset's own name when None.
        kwargs: passed on to `ds.read` (masked, out_shape, resampling, out_dtype, ...).

    Raises:
        NaturalExplainError: naming the file and the window when GDAL cannot decode what it holds.
    """
    with read_errors_explained(ds, window, path):
        return ds.read(band, window=window, **kwargs)


def read_masks_checked(ds: rasterio.DatasetReader, band: int, window: Window | None = None,
                       path: str | Path | None = None, **kwargs) -> np.ndarray:
    """`ds.read_masks(band, window=window, **kwargs)`, failing as `read_checked` does."""
    with read_errors_explained(ds, window, path):
        return ds.read_masks(band, window=window, **kwargs)


def read_band_masked(ds: rasterio.DatasetReader, band: int = 1, window: Window | None = None,
                     path: str | Path | None = None) -> np.ma.MaskedArray:
    """One band with its nodata and its non-finite pixels (NaN, ±inf) masked, failing as `read_checked` does.

    For maps read whole (vectorize): a ±inf score is no score.
    """
    values = read_checked(ds, band, window, path, masked=True)
    if np.dtype(values.dtype).kind in "fc":
        values = np.ma.masked_where(~np.isfinite(values.filled(0)), values, copy=False)
    return values


class _PixelSet:
    """Distinct pixels of one file's grid, one bit each, so pixels read twice (tile overlaps) count once."""

    def __init__(self, height: int, width: int) -> None:
        self.bits = np.zeros((height, (width + 7) // 8), dtype=np.uint8)

    def add(self, row0: int, col0: int, mask: np.ndarray) -> None:
        """Add the True pixels of `mask`, whose top-left pixel is (row0, col0) of the file."""
        b0, b1 = col0 // 8, (col0 + mask.shape[1] + 7) // 8
        rows = slice(row0, row0 + mask.shape[0])
        bits = np.unpackbits(self.bits[rows, b0:b1], axis=1)
        bits[:, col0 - 8 * b0:col0 - 8 * b0 + mask.shape[1]] |= mask.astype(np.uint8)
        self.bits[rows, b0:b1] = np.packbits(bits, axis=1)

    def count(self) -> int:
        return int(np.unpackbits(self.bits).sum())

    def merge(self, other: "_PixelSet") -> None:
        """Add the pixels another reader of the same file met (a Dask worker's)."""
        self.bits |= other.bits


class _Infinite:
    """±inf pixels met while reading, per file: they are nodata and the caller says how many there were."""

    def __init__(self) -> None:
        self._files: dict[str, _PixelSet] = {}

    def add(self, ds: rasterio.DatasetReader, row0: int, col0: int, mask: np.ndarray) -> None:
        if mask.any():
            found = self._files.setdefault(ds.name, _PixelSet(ds.height, ds.width))
            found.add(row0, col0, mask)

    def count(self) -> int:
        return sum(found.count() for found in self._files.values())

    def merge(self, other: "_Infinite") -> None:
        """Add what another reader met, so pixels both read still count once."""
        for name, found in other._files.items():
            if name in self._files:
                self._files[name].merge(found)
            else:
                self._files[name] = found


def _float_band(ds: rasterio.DatasetReader, band: int) -> bool:
    return np.dtype(ds.dtypes[band - 1]).kind in "fc"


def _read_native(ds: rasterio.DatasetReader, band: int, window: Window, infinite: _Infinite | None) -> np.ndarray:
    """A window inside the dataset as float32; masked and non-finite pixels are NaN (±inf ones recorded)."""
    data = read_checked(ds, band, window).astype(np.float32)
    data[read_masks_checked(ds, band, window) == 0] = np.nan
    if _float_band(ds, band):
        inf = np.isinf(data)
        if infinite is not None:
            infinite.add(ds, int(window.row_off), int(window.col_off), inf)
        data[inf] = np.nan
    return data


def _read_padded(ds: rasterio.DatasetReader, band: int, window: Window, infinite: _Infinite | None = None) -> np.ndarray:
    """Read a window that may reach outside the dataset; outside, masked and non-finite pixels are NaN."""
    out = np.full((int(window.height), int(window.width)), np.nan, dtype=np.float32)
    r0, c0 = int(window.row_off), int(window.col_off)
    rr0, cc0 = max(r0, 0), max(c0, 0)
    rr1, cc1 = min(r0 + int(window.height), ds.height), min(c0 + int(window.width), ds.width)
    if rr1 <= rr0 or cc1 <= cc0:
        return out
    inner = Window(cc0, rr0, cc1 - cc0, rr1 - rr0)
    out[rr0 - r0:rr1 - r0, cc0 - c0:cc1 - c0] = _read_native(ds, band, inner, infinite)
    return out


def _source_window(src: Grid, dst: Grid) -> Window:
    """The whole-pixel window of src covering dst's bounds, with a resampling margin."""
    w = from_bounds(*dst.bounds, transform=src.transform)
    col0 = math.floor(w.col_off) - _MARGIN
    row0 = math.floor(w.row_off) - _MARGIN
    col1 = math.ceil(w.col_off + w.width) + _MARGIN
    row1 = math.ceil(w.row_off + w.height) + _MARGIN
    return Window(col0, row0, col1 - col0, row1 - row0)


def _resampled_window(src: Grid, dst: Grid) -> Window | None:
    """dst's (fractional) window on src when both share a CRS and it lies inside src, else None."""
    if src.crs != dst.crs:
        return None
    w = from_bounds(*dst.bounds, transform=src.transform)
    inside = w.col_off >= 0 and w.row_off >= 0 and w.col_off + w.width <= src.width and w.row_off + w.height <= src.height
    return w if inside else None


def _read_resampled(ds: rasterio.DatasetReader, band: int, window: Window, dst: Grid,
                    resampling: Resampling, infinite: _Infinite | None = None) -> np.ndarray:
    """GDAL's resampling RasterIO: ten times cheaper than the warper for a same-CRS grid change.

    A pixel GDAL resampled from a ±inf one is not finite and becomes NaN; the ±inf pixels
    themselves are then counted from the window's native pixels, read only when that happens.
    """
    shape = (dst.height, dst.width)
    data = read_checked(ds, band, window, out_shape=shape, resampling=resampling, out_dtype="float32")
    data[read_masks_checked(ds, band, window, out_shape=shape, resampling=Resampling.nearest) == 0] = np.nan
    if _float_band(ds, band):
        not_finite = ~np.isfinite(data)
        if infinite is not None and not_finite.any():
            c0, r0 = math.floor(window.col_off), math.floor(window.row_off)
            c1 = min(math.ceil(window.col_off + window.width), ds.width)
            r1 = min(math.ceil(window.row_off + window.height), ds.height)
            _read_native(ds, band, Window(c0, r0, c1 - c0, r1 - r0), infinite)
        data[not_finite] = np.nan
    return data


def _read_band(ds: rasterio.DatasetReader, band: BandRef, dst: Grid, infinite: _Infinite | None = None) -> np.ndarray:
    offset = _aligned_offset(band.grid, dst)
    if offset is not None:
        return _read_padded(ds, band.index, Window(offset[0], offset[1], dst.width, dst.height), infinite)
    shrinking = band.grid.crs == dst.crs and band.grid.res[0] < dst.res[0]
    resampling = Resampling.average if shrinking else Resampling.bilinear
    window = _resampled_window(band.grid, dst)
    if window is not None:
        return _read_resampled(ds, band.index, window, dst, resampling, infinite)
    sw = _source_window(band.grid, dst)
    source = _read_padded(ds, band.index, sw, infinite)
    out = np.full((dst.height, dst.width), np.nan, dtype=np.float32)
    reproject(source, out, src_transform=band.grid.window(sw).transform, src_crs=band.grid.crs,
              dst_transform=dst.transform, dst_crs=dst.crs, src_nodata=np.nan, dst_nodata=np.nan,
              resampling=resampling)
    return out


class BandReader:
    """Open datasets for a list of bands and read any window of a target grid from them.

    Pixels that are ±inf are nodata, as NaN and masked pixels are; `nonfinite_pixels` says how
    many distinct ones the reads so far met, so the caller can warn. Reads may come from several
    threads (the scan engine reads ahead in one): they take turns, as a GDAL dataset needs.
    """

    def __init__(self, bands: list[BandRef]) -> None:
        self.bands = bands
        self._stack = contextlib.ExitStack()
        self._datasets = {}
        self._infinite = _Infinite()
        self._turn = threading.Lock()

    @property
    def nonfinite_pixels(self) -> int:
        """Distinct ±inf pixels met so far (per file, a pixel counted once however many bands or reads hold it).

        They were read as nodata. NaN pixels are nodata too but are not counted: NaN is a
        common nodata value, ±inf is not.
        """
        return self._infinite.count()

    @property
    def nonfinite_record(self) -> _Infinite:
        """The ±inf pixels met so far, to hand to another reader's add_nonfinite (from a Dask worker)."""
        return self._infinite

    def add_nonfinite(self, record: _Infinite) -> None:
        """Count the ±inf pixels another reader of the same bands met, once each."""
        self._infinite.merge(record)

    def __enter__(self) -> "BandReader":
        self._stack.enter_context(rasterio.Env())  # one GDAL environment for all reads, not one per call
        self._stack.enter_context(undecodable_gdal_messages_silenced())
        try:
            for path in dict.fromkeys(b.path for b in self.bands):
                self._datasets[path] = self._stack.enter_context(open_raster(path))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def read(self, dst: Grid) -> tuple[np.ndarray, np.ndarray]:
        """Read every band onto `dst`.

        Returns:
            raw values as float32 (C, H, W) in the file's units, and a bool (H, W) mask that is
            True where every band has data.
        """
        with self._turn:
            raw = np.stack([_read_band(self._datasets[b.path], b, dst, self._infinite) for b in self.bands])
        valid = ~np.isnan(raw).any(axis=0)
        return raw, valid


def nonfinite_warning(count: int) -> str | None:
    """The line telling the user that ±inf pixels were read as nodata; None when there were none."""
    if count <= 0:
        return None
    return f"{count} pixel{'s were' if count != 1 else ' was'} ±inf and {'were' if count != 1 else 'was'} treated as nodata"


def read_window(bands: list[BandRef], grid: Grid, window: Window | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read `bands` onto `grid` (or the part of it `window` addresses); see BandReader.read."""
    with BandReader(bands) as reader:
        return reader.read(grid.window(window) if window is not None else grid)

