"""Open what the user calls "the raster": one multi-band file or a folder of band files.

Sentinel-2 ships one file per band at 10, 20 and 60 m; analysts also stack bands into one
GeoTIFF. Both become a RasterInput: named bands, each on its own native grid, plus the
reference grid (the finest band's) that outputs are written on.
"""
import contextlib
import dataclasses
import hashlib
import re
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

import rasterio
from rasterio.errors import RasterioIOError

from core.errors import NaturalExplainError
from core.raster.grid import Grid

RASTER_SUFFIXES = {".tif", ".tiff", ".jp2", ".vrt", ".img", ".gtiff"}
_BAND_NAME = re.compile(r"(?:^|[^A-Z0-9])B0?(\d{1,2})(A?)(?![0-9])")


@dataclasses.dataclass(frozen=True)
class BandRef:
    """One band of one file, with the name it is matched by (None when it has none)."""

    name: str | None
    path: Path
    index: int
    grid: Grid
    nodata: float | None


@dataclasses.dataclass(frozen=True)
class RasterInput:
    """An opened input: its bands and the reference grid outputs share."""

    path: Path
    bands: list[BandRef]
    grid: Grid

    @property
    def files(self) -> list[Path]:
        """The distinct files behind the bands, in band order."""
        return list(dict.fromkeys(b.path for b in self.bands))

    def checksum(self) -> str:
        """sha256 over the bytes of every file, so run.json pins exactly what was read."""
        digest = hashlib.sha256()
        for path in self.files:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()


def normalize_band_name(text: str | None) -> str | None:
    """'B2', 'b02', 's2_B02.jp2', 'B02 (490 nm)' -> 'B02'; 'B8A' stays 'B8A'; other text upper-cased."""
    if not text:
        return None
    found = _BAND_NAME.search(text.upper())
    if found:
        number, a_suffix = int(found.group(1)), found.group(2)
        return f"B{number}A" if a_suffix else f"B{number:02d}"
    return text.strip().upper()


_quiet_lock = threading.Lock()
_quiet_users = 0
_previous_hooks: tuple = ()


def _drop_undecodable_unraisable(unraisable) -> None:
    if issubclass(unraisable.exc_type, UnicodeDecodeError) and "rasterio" in str(unraisable.object):
        return
    _previous_hooks[1](unraisable)


def _drop_undecodable_excepthook(exc_type, value, tb) -> None:
    if issubclass(exc_type, UnicodeDecodeError):
        return
    _previous_hooks[0](exc_type, value, tb)


@contextlib.contextmanager
def undecodable_gdal_messages_silenced() -> Iterator[None]:
    """Keep rasterio from printing "Exception ignored ... UnicodeDecodeError" while it is active.

    GDAL passes its warnings (e.g. "XML parsing error" for a GDAL_METADATA tag holding a byte
    that is not UTF-8) to rasterio's logging callback, which decodes them as UTF-8 inside a
    Cython callback: a byte it cannot decode prints a traceback through sys.excepthook and an
    "Exception ignored in: 'rasterio._env.log_error'" through sys.unraisablehook, then GDAL
    goes on. Only that message is lost (it was a warning); every other exception still reaches
    the hooks that were there before. Nested and concurrent uses share one installation.
    """
    global _quiet_users, _previous_hooks
    with _quiet_lock:
        if _quiet_users == 0:
            _previous_hooks = (sys.excepthook, sys.unraisablehook)
            sys.excepthook, sys.unraisablehook = _drop_undecodable_excepthook, _drop_undecodable_unraisable
        _quiet_users += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_users -= 1
            if _quiet_users == 0:
                if sys.excepthook is _drop_undecodable_excepthook:
                    sys.excepthook = _previous_hooks[0]
                if sys.unraisablehook is _drop_undecodable_unraisable:
                    sys.unraisablehook = _previous_hooks[1]


@contextlib.contextmanager
def open_raster(path: str | Path) -> Iterator[rasterio.DatasetReader]:
    """rasterio.open for a user's raster: one line for a file GDAL cannot open, no noise from its metadata.

    Raises:
        NaturalExplainError: when GDAL cannot open `path` as a raster.
    """
    with undecodable_gdal_messages_silenced():
        try:
            ds = rasterio.open(path)
        except RasterioIOError as exc:
            raise NaturalExplainError(f"{path} is not a raster GDAL can read: give a GeoTIFF or another GDAL "
                                      "raster") from exc
        with ds:
            yield ds


def _printable(text: str | None) -> str | None:
    """Text GDAL handed over with bytes that are not UTF-8 (as surrogates), those bytes shown as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") if text else text


def band_descriptions(ds: rasterio.DatasetReader) -> list[str | None]:
    """The bands' descriptions; one holding bytes that are not UTF-8 keeps them, shown as \\xNN.

    rasterio decodes every description as UTF-8 and raises on the first byte it cannot decode;
    GDAL's own bindings hand such bytes over as surrogates, so the other bands keep their names.
    """
    try:
        return list(ds.descriptions)
    except UnicodeDecodeError:
        from osgeo import gdal

        gdal.PushErrorHandler("CPLQuietErrorHandler")
        try:
            found = gdal.Open(str(ds.name))
        except RuntimeError:  # raised instead of None where gdal.UseExceptions() is on
            found = None
        finally:
            gdal.PopErrorHandler()
        if found is None:
            return [None] * ds.count
        return [_printable(found.GetRasterBand(i).GetDescription()) or None for i in range(1, ds.count + 1)]


def _grid_of(ds: rasterio.DatasetReader) -> Grid:
    return Grid(ds.crs, ds.transform, ds.width, ds.height)


def vrt_source_names(path: Path) -> dict[int, str]:
    """1-based band number -> the stem of its one source file, for a VRT that stacks band files.

    QGIS's Build Virtual Raster (separate bands) stacks Sentinel-2's B02.tif, B03.tif, ... into
    one layer but leaves the band descriptions empty; the source file names still say which
    band is which. Bands mixed from several files get no name.
    """
    if path.suffix.lower() != ".vrt":
        return {}
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return {}
    names = {}
    for band in root.iter("VRTRasterBand"):
        sources = {Path(s.text.strip()).stem for s in band.iter("SourceFilename") if s.text and s.text.strip()}
        if band.get("band", "").isdigit() and len(sources) == 1:
            names[int(band.get("band"))] = sources.pop()
    return names


def _open_file(path: Path, name_from_file: bool) -> list[BandRef]:
    with open_raster(path) as ds:
        if ds.crs is None:
            raise NaturalExplainError(f"{path} has no CRS: assign one first (QGIS: Layer > Set CRS; or gdal_edit.py -a_srs EPSG:<code> {path.name})")
        if ds.transform.b or ds.transform.d:
            raise NaturalExplainError(f"{path} is rotated: warp it north-up first (gdalwarp {path.name} north_up.tif)")
        grid = _grid_of(ds)
        sources = vrt_source_names(path)
        descriptions = band_descriptions(ds)
        refs = []
        for i in range(1, ds.count + 1):
            label = (descriptions[i - 1] or (path.stem if name_from_file and ds.count == 1 else None)
                     or sources.get(i))
            refs.append(BandRef(normalize_band_name(label), path, i, grid, ds.nodatavals[i - 1]))
        return refs


def open_input(path: str | Path) -> RasterInput:
    """Open a raster file or a folder of band files.

    Args:
        path: a GDAL raster (any number of bands) or a folder whose raster files each hold
            bands named by their description or file name (e.g. `s2_B02.jp2`, `B8A.tif`).

    Returns:
        The input's named bands and the finest band's grid as the reference grid.

    Raises:
        NaturalExplainError: for a missing path, a non-raster, no CRS, or mixed CRSs.
    """
    path = Path(path)
    if not path.exists():
        raise NaturalExplainError(f"input {path} does not exist")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in RASTER_SUFFIXES and not p.name.startswith("."))
        if not files:
            raise NaturalExplainError(f"folder {path} holds no raster files (.tif, .jp2, .vrt, ...)")
        bands = [b for f in files for b in _open_file(f, name_from_file=True)]
    else:
        bands = _open_file(path, name_from_file=False)
    crss = {b.grid.crs.to_wkt() for b in bands}
    if len(crss) > 1:
        raise NaturalExplainError(f"the band files in {path} are in {len(crss)} different CRSs: warp them to one CRS first")
    finest = min(bands, key=lambda b: b.grid.res[0] * b.grid.res[1])
    return RasterInput(path=path, bands=bands, grid=finest.grid)
