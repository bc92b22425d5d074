"""Thresholded maps to polygons (Shapefile or GeoPackage) with score statistics and area.

GDAL's Polygonize traces the regions; each polygon is one 4-connected region of pixels at
or above the threshold, so its statistics are computed from the same labelled regions.
"""
import contextlib
import errno
import math
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
from osgeo import gdal, ogr, osr
from scipy import ndimage

from core.errors import NaturalExplainError
from core.memory import available_memory
from core.raster.grid import Grid, metres_per_unit
from core.raster.read import read_band_masked
from core.raster.sources import band_descriptions, open_raster

gdal.UseExceptions()
DRIVERS = {".shp": "ESRI Shapefile", ".gpkg": "GPKG"}
FOUR_CONNECTED = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])
# Peak memory per pixel: the masked float32 scores (5 B), the boolean threshold (1), labels (4 + 4 copy),
# float64 scores (8) and GDAL's in-memory label band (4).
BYTES_PER_PIXEL = 26


def _read_scores(path: Path) -> tuple[np.ma.MaskedArray, Grid, str]:
    """The first band with nodata (and non-finite scores) masked, its grid and its name."""
    with open_raster(path) as src:
        if src.crs is None:
            raise NaturalExplainError(f"{path} has no CRS: assign one before vectorizing")
        grid = Grid(src.crs, src.transform, src.width, src.height)
        return read_band_masked(src, 1, path=path), grid, band_descriptions(src)[0] or "score"


def top_percent_threshold(raster: str | Path, percent: float) -> float:
    """The score at or above which the top `percent` % of the valid pixels of `raster`'s first band lie.

    Each attribution method scores importance in its own units, so a fixed score means
    nothing across methods; "the most important 10 %" does.

    Raises:
        NaturalExplainError: for a percent outside (0, 100] or a map without valid pixels.
    """
    if not 0 < percent <= 100:
        raise NaturalExplainError(f"the top {percent:g} % is no share of a map: choose a percent above 0 and up to 100")
    scores, _, _ = _read_scores(Path(raster))
    valid = scores.compressed()
    if valid.size == 0:
        raise NaturalExplainError(f"{raster} holds only nodata: there is nothing to threshold")
    return float(np.percentile(valid, 100.0 - percent))


def _regions(path: Path, threshold: float) -> tuple[np.ndarray, np.ndarray, Grid, str]:
    """Label regions of valid pixels >= threshold; returns labels, scores, grid and band name."""
    scores, grid, name = _read_scores(path)
    labels, _ = ndimage.label(np.ma.filled(scores >= threshold, False), structure=FOUR_CONNECTED)
    return labels.astype(np.int32), np.ma.filled(scores.astype(np.float64), np.nan), grid, name


def _polygonize(labels: np.ndarray, grid: Grid, layer: ogr.Layer) -> None:
    mem = gdal.GetDriverByName("MEM").Create("", grid.width, grid.height, 1, gdal.GDT_Int32)
    mem.SetGeoTransform(grid.transform.to_gdal())
    mem.SetProjection(grid.crs.to_wkt())
    band = mem.GetRasterBand(1)
    band.WriteArray(labels)
    gdal.Polygonize(band, band, layer, 0, [], callback=None)


def vectorize(raster: str | Path, threshold: float, out: str | Path, layer: str | None = None,
              overwrite: bool = False) -> int:
    """Write polygons of pixels >= `threshold` in `raster`'s first band to a .shp or a .gpkg layer.

    Each polygon carries `region` (id), `score_mean`, `score_min`, `score_max`, `pixels`
    and `area_m2`, plus `above` (the threshold). A GeoPackage keeps its other layers: only
    the layer `layer` (default: the raster's name) is added, or replaced with `overwrite`.
    Returns the number of polygons.

    Raises:
        NaturalExplainError: for an unreadable raster, an unknown format, an existing target
            without `overwrite`, too little memory, or an unwritable target or full disk.
    """
    raster, out = Path(raster), Path(out)
    driver_name = DRIVERS.get(out.suffix.lower())
    if driver_name is None:
        raise NaturalExplainError(f"cannot write '{out.suffix}' files: give --out a .shp or .gpkg path")
    if not math.isfinite(threshold):
        raise NaturalExplainError(f"the threshold must be a finite number, got {threshold}")
    if not raster.exists():
        raise NaturalExplainError(f"raster {raster} does not exist")
    if not out.parent.is_dir():
        raise NaturalExplainError(f"folder {out.parent} does not exist: create it or choose another --out")
    layer = _layer_name(out, driver_name, layer or raster.stem)
    _check_target(out, driver_name, layer, overwrite)
    _check_memory(raster)
    labels, scores, grid, name = _regions(raster, threshold)
    ids = np.arange(1, labels.max() + 1)
    stats = {
        "pixels": np.bincount(labels.ravel(), minlength=len(ids) + 1)[1:].astype(np.float64),
        "score_mean": ndimage.mean(scores, labels, ids),
        "score_min": ndimage.minimum(scores, labels, ids),
        "score_max": ndimage.maximum(scores, labels, ids),
    }
    mx, my = metres_per_unit(grid)
    pixel_area_m2 = grid.res[0] * mx * grid.res[1] * my
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.stem}.", dir=out.parent))
    except OSError as exc:
        raise NaturalExplainError(f"cannot write to {out.parent}: choose a folder you may write to") from exc
    try:
        with _write_errors(out):
            if driver_name == "GPKG" and out.exists():  # edit a copy, so the user's other layers survive a failure
                shutil.copyfile(out, staging / out.name)
            _write_layer(staging / out.name, driver_name, layer, labels, grid, stats, pixel_area_m2, threshold, name)
            parts = sorted(staging.iterdir(), key=lambda p: p.suffix.lower() == out.suffix.lower())
            for part in parts:  # the main file last, so a crash never leaves it without its sidecars
                part.replace(out.with_suffix(part.suffix) if part.stem == out.stem else out.parent / part.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(ids)


def _layer_name(out: Path, driver_name: str, wanted: str) -> str:
    """The layer written: `wanted` in a GeoPackage; a Shapefile's one layer is named after its file."""
    if driver_name == "ESRI Shapefile":
        return out.stem
    if not wanted.strip():
        raise NaturalExplainError("the layer name is empty: give --layer a name")
    return wanted


def _check_target(out: Path, driver_name: str, layer: str, overwrite: bool) -> None:
    """Refuse to replace an existing Shapefile, or a GeoPackage's same-named layer, unless told to."""
    if not out.exists() or overwrite and driver_name == "ESRI Shapefile":
        return
    if driver_name == "ESRI Shapefile":
        raise NaturalExplainError(f"{out} exists: add --overwrite to replace it, or choose another --out")
    try:
        source = ogr.Open(str(out))
    except RuntimeError as exc:
        raise NaturalExplainError(f"{out} exists and is not a GeoPackage GDAL can read: choose another --out") from exc
    if source is None or source.GetDriver().GetName() != "GPKG":
        raise NaturalExplainError(f"{out} exists and is not a GeoPackage: choose another --out")
    if source.GetLayerByName(layer) is not None and not overwrite:
        raise NaturalExplainError(f"{out} already has a layer '{layer}': add --overwrite to replace it, "
                                  "or choose another --layer")


def _check_memory(raster: Path) -> None:
    """Refuse, with the numbers, a raster whose pixels cannot be labelled in the memory there is."""
    with open_raster(raster) as src:
        pixels = src.width * src.height
    need, have = pixels * BYTES_PER_PIXEL, available_memory()
    if have is not None and need > have:
        raise NaturalExplainError(f"{raster} is {pixels / 1e6:,.0f} megapixels: vectorizing it needs about "
                                  f"{need / 2**30:.1f} GiB of memory and {have / 2**30:.1f} GiB is free; "
                                  "vectorize a crop (explain with --aoi) instead")


@contextlib.contextmanager
def _write_errors(out: Path) -> Iterator[None]:
    """Turn a full disk or a write GDAL refuses into one line that names `out`."""
    try:
        yield
    except (OSError, RuntimeError) as exc:
        if getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in str(exc):
            raise NaturalExplainError(f"the disk is full while writing {out}: free some space and run again; "
                                      "the file was left as it was") from exc
        raise NaturalExplainError(f"cannot write {out} ({str(exc).strip() or type(exc).__name__}); "
                                  "the file was left as it was") from exc


def _write_layer(path: Path, driver_name: str, name: str, labels: np.ndarray, grid: Grid,
                 stats: dict[str, np.ndarray], pixel_area_m2: float, threshold: float, score_name: str) -> None:
    """Create (or, in an existing GeoPackage, replace) the layer `name` of `path` and fill it."""
    driver = ogr.GetDriverByName(driver_name)
    source = ogr.Open(str(path), update=1) if path.exists() else driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromWkt(grid.crs.to_wkt())
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    layer = source.CreateLayer(name, srs, ogr.wkbPolygon, options=["OVERWRITE=YES"] if driver_name == "GPKG" else [])
    layer.CreateField(ogr.FieldDefn("region", ogr.OFTInteger))
    for field in ("score_mean", "score_min", "score_max", "area_m2", "above"):
        layer.CreateField(ogr.FieldDefn(field, ogr.OFTReal))
    layer.CreateField(ogr.FieldDefn("pixels", ogr.OFTInteger))
    layer.CreateField(ogr.FieldDefn("score", ogr.OFTString))
    _polygonize(labels, grid, layer)
    layer.StartTransaction()
    for feature in layer:
        index = feature.GetField("region") - 1
        for key, values in stats.items():
            feature.SetField(key, float(values[index]) if key != "pixels" else int(values[index]))
        feature.SetField("area_m2", float(stats["pixels"][index] * pixel_area_m2))
        feature.SetField("above", float(threshold))
        feature.SetField("score", score_name)
        layer.SetFeature(feature)
    layer.CommitTransaction()
    source = None
