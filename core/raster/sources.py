"""Open what the user calls "the raster": one multi-band file or a folder of band files.

Sentinel-2 ships one file per band at 10, 20 and 60 m; analysts also stack bands into one
GeoTIFF. Both become a RasterInput: named bands, each on its own native grid, plus the
reference grid (the finest band's) that outputs are written on.

Bands are named with Sentinel-2's names, which the bundled models use, whatever product they
come from (normalize_band_name): Sentinel-2 L1C/L2A file names (`T18SVG_..._B02_10m.jp2`,
`B8A_20m`), Landsat 8/9 Collection 2 names mapped by wavelength (`SR_B5` and, in a file named
like a Landsat product, `B5` are near infrared: B08), and colour words (Red, Green, Blue, NIR).
A band without a name from its description, its file or a VRT's source file takes one from its
colour interpretation (Red/Green/Blue: B04/B03/B02).
"""
import contextlib
import dataclasses
import re
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

import rasterio
from rasterio.errors import RasterioIOError

from core.checksum import file_sha256
from core.errors import NaturalExplainError
from core.raster.grid import Grid

RASTER_SUFFIXES = {".tif", ".tiff", ".jp2", ".vrt", ".img", ".gtiff"}
_BAND_NAME = re.compile(r"(?:^|[^A-Z0-9])B0?(\d{1,2})(A?)(?![0-9])")
# A Landsat product ID as USGS names its files and folders: LC09_L2SP_014034_..., LE07_L1TP_...
# (sensor C/O/T/E, mission 4-9, processing level L1 or L2); the mission says how its bands are numbered.
_LANDSAT_PRODUCT = re.compile(r"(?:^|[^A-Z0-9])L[COTE]0([4-9])_L[12]")
# Landsat Collection 2 Level-2 band names: SR_B1 ... SR_B7 (surface reflectance), ST_B10 / ST_B6 (temperature).
_LANDSAT_LEVEL2_BAND = re.compile(r"(?:^|[^A-Z0-9])(?:SR|ST)_B(\d{1,2})(?![0-9])")
# USGS never pads Landsat band numbers: a 'B05' in a Landsat-named file is a Sentinel-2 name.
_LANDSAT_BAND = re.compile(r"(?:^|[^A-Z0-9])B([1-9][0-9]?)(?![0-9A-Z])")
# Landsat band number -> the Sentinel-2 band of the same wavelength (the names the models use), or a
# name of its own where Sentinel-2 has none (panchromatic, thermal).
LANDSAT_OLI_TO_S2 = {1: "B01", 2: "B02", 3: "B03", 4: "B04", 5: "B08", 6: "B11", 7: "B12", 8: "PAN", 9: "B10",
                     10: "TIR1", 11: "TIR2"}  # Landsat 8 and 9 (OLI/TIRS)
LANDSAT_TM_TO_S2 = {1: "B02", 2: "B03", 3: "B04", 4: "B08", 5: "B11", 6: "TIR1", 7: "B12", 8: "PAN"}  # Landsat 4-7
# Colour words in band descriptions (spaces, '_' and '-' alike) -> Sentinel-2 band.
COLOUR_NAMES = {"BLUE": "B02", "GREEN": "B03", "RED": "B04", "NIR": "B08", "NEAR INFRARED": "B08", "NEAR IR": "B08",
                "INFRARED": "B08", "SWIR1": "B11", "SWIR 1": "B11", "SWIR2": "B12", "SWIR 2": "B12"}
# GDAL colour interpretations (rasterio's ColorInterp names, lower case; NIR from GDAL 3.10) -> Sentinel-2 band.
COLOUR_INTERPRETATIONS = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08"}


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
        return file_sha256(*self.files)


def landsat_mission(text: str | None) -> int | None:
    """4 to 9 when `text` holds a Landsat product ID (LC09_L2SP_..., LE07_L1TP_...), else None."""
    found = _LANDSAT_PRODUCT.search(text.upper()) if text else None
    return int(found.group(1)) if found else None


def normalize_band_name(text: str | None, context: str | None = None) -> str | None:
    """A band's name as the models spell it: Sentinel-2's, whatever product named it.

    'B2', 'b02', 's2_B02.jp2', 'B02 (490 nm)', 'T18SVG_20230101T155511_B02_10m' -> 'B02'; 'B8A',
    'B8A_20m' -> 'B8A'; Landsat 'SR_B5', or 'B5' in a file named like a Landsat product
    ('LC09_L2SP_..._B5.TIF'), -> 'B08' (near infrared; see LANDSAT_OLI_TO_S2, and LANDSAT_TM_TO_S2 for
    Landsat 4-7 products); 'Red', 'near-infrared' -> 'B04', 'B08' (COLOUR_NAMES); other text upper-cased.

    Args:
        text: a band description, a file name or a name the user typed.
        context: where the band came from (its file's name), which says whether a plain 'B5' is Landsat's.
    """
    if not text:
        return None
    upper = text.strip().upper()
    colour = COLOUR_NAMES.get(re.sub(r"[\s_\-]+", " ", upper))
    if colour:
        return colour
    mission = landsat_mission(upper) or landsat_mission(context)
    landsat = _LANDSAT_LEVEL2_BAND.search(upper) or (_LANDSAT_BAND.search(upper) if mission else None)
    if landsat:
        table = LANDSAT_TM_TO_S2 if mission and mission < 8 else LANDSAT_OLI_TO_S2
        return table.get(int(landsat.group(1)), f"LANDSAT_B{int(landsat.group(1))}")
    found = _BAND_NAME.search(upper)
    if found:
        number, a_suffix = int(found.group(1)), found.group(2)
        return f"B{number}A" if a_suffix else f"B{number:02d}"
    return upper


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


def colour_band_names(ds: rasterio.DatasetReader) -> list[str | None]:
    """Each band's Sentinel-2 name from its colour interpretation (Red: B04, Green: B03, Blue: B02, NIR: B08), or None.

    An RGB GeoTIFF or JPEG says which band is red, green and blue this way, not in its
    descriptions; gray, alpha, undefined and the rest name nothing.
    """
    try:
        names = [c.name.lower() for c in ds.colorinterp]
    except ValueError:  # a GDAL colour interpretation this rasterio does not know (e.g. GDAL 3.10's NIR)
        from osgeo import gdal

        try:
            found = gdal.Open(str(ds.name))
        except RuntimeError:  # raised instead of None where gdal.UseExceptions() is on
            found = None
        if found is None:
            return [None] * ds.count
        names = [gdal.GetColorInterpretationName(found.GetRasterBand(i).GetColorInterpretation()).lower()
                 for i in range(1, ds.count + 1)]
    return [COLOUR_INTERPRETATIONS.get(name) for name in names]


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
        # In a folder of band files the file names say which band is which (Sentinel-2's TCI_10m.jp2
        # says red, green, blue in its colour interpretation but holds an 8-bit picture of B04, B03, B02).
        colours = [None] * ds.count if name_from_file else colour_band_names(ds)
        refs = []
        for i in range(1, ds.count + 1):
            label = (descriptions[i - 1] or (path.stem if name_from_file and ds.count == 1 else None)
                     or sources.get(i))
            name = normalize_band_name(label, context=path.name) or colours[i - 1]
            refs.append(BandRef(name, path, i, grid, ds.nodatavals[i - 1]))
        return refs


def _band_files(folder: Path) -> list[Path]:
    """The raster files of a folder of band files, sorted by path.

    A Sentinel-2 L2A IMG_DATA folder keeps its bands in R10m/, R20m/ and R60m/; a .SAFE folder
    keeps them under GRANULE/<granule>/IMG_DATA. When the folder itself holds no raster, the
    first of those layouts that does is used (finest resolution first, by the folders' names).
    """
    def rasters(where: Path) -> list[Path]:
        return sorted(p for p in where.iterdir() if p.suffix.lower() in RASTER_SUFFIXES and not p.name.startswith("."))

    found = rasters(folder)
    if found:
        return found
    for pattern in ("R[0-9]*m", "IMG_DATA", "IMG_DATA/R[0-9]*m", "GRANULE/*/IMG_DATA", "GRANULE/*/IMG_DATA/R[0-9]*m"):
        found = [p for sub in sorted(folder.glob(pattern)) if sub.is_dir() for p in rasters(sub)]
        if found:
            return found
    return []


def _first_of_each_name(bands: list[BandRef]) -> list[BandRef]:
    """Bands in order with a name that an earlier band already has left out (L2A ships B02 at 10, 20 and 60 m)."""
    seen, kept = set(), []
    for band in bands:
        if band.name is None or band.name not in seen:
            kept.append(band)
            seen.add(band.name)
    return kept


def open_input(path: str | Path) -> RasterInput:
    """Open a raster file or a folder of band files.

    Args:
        path: a GDAL raster (any number of bands) or a folder whose raster files each hold
            bands named by their description or file name (e.g. `s2_B02.jp2`, `B8A.tif`,
            `..._B02_10m.jp2`, `LC09_..._SR_B5.TIF`); a Sentinel-2 L2A IMG_DATA or .SAFE folder
            is read from its R10m/R20m/R60m folders, each band at its finest resolution.

    Returns:
        The input's named bands and the finest band's grid as the reference grid.

    Raises:
        NaturalExplainError: for a missing path, a non-raster, no CRS, or mixed CRSs.
    """
    path = Path(path)
    if not path.exists():
        raise NaturalExplainError(f"input {path} does not exist")
    if path.is_dir():
        files = _band_files(path)
        if not files:
            raise NaturalExplainError(f"folder {path} holds no raster files (.tif, .jp2, .vrt, ...)")
        bands = _first_of_each_name([b for f in files for b in _open_file(f, name_from_file=True)])
    else:
        bands = _open_file(path, name_from_file=False)
    crss = {b.grid.crs.to_wkt() for b in bands}
    if len(crss) > 1:
        raise NaturalExplainError(f"the band files in {path} are in {len(crss)} different CRSs: warp them to one CRS first")
    finest = min(bands, key=lambda b: b.grid.res[0] * b.grid.res[1])
    return RasterInput(path=path, bands=bands, grid=finest.grid)
