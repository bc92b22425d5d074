"""Thresholded maps to polygons (Shapefile or GeoPackage) with score statistics and area.

GDAL's Polygonize traces the regions; each polygon is one 4-connected region of pixels at
or above the threshold, so its statistics are computed from the same labelled regions.
"""
import shutil
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from osgeo import gdal, ogr, osr
from scipy import ndimage

from core.errors import NaturalExplainError
from core.raster.grid import Grid, metres_per_unit

gdal.UseExceptions()
DRIVERS = {".shp": "ESRI Shapefile", ".gpkg": "GPKG"}
FOUR_CONNECTED = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])


def _read_scores(path: Path) -> tuple[np.ma.MaskedArray, Grid, str]:
    """The first band with nodata masked, its grid and its name."""
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise NaturalExplainError(f"{path} is not a raster GDAL can read") from exc
    with src:
        if src.crs is None:
            raise NaturalExplainError(f"{path} has no CRS: assign one before vectorizing")
        return src.read(1, masked=True), Grid(src.crs, src.transform, src.width, src.height), src.descriptions[0] or "score"


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


def vectorize(raster: str | Path, threshold: float, out: str | Path) -> int:
    """Write polygons of pixels >= `threshold` in `raster`'s first band to a .shp or .gpkg.

    Each polygon carries `region` (id), `score_mean`, `score_min`, `score_max`, `pixels`
    and `area_m2`, plus `above` (the threshold). Returns the number of polygons.

    Raises:
        NaturalExplainError: for an unreadable raster, an unknown format or an unwritable target.
    """
    raster, out = Path(raster), Path(out)
    driver_name = DRIVERS.get(out.suffix.lower())
    if driver_name is None:
        raise NaturalExplainError(f"cannot write '{out.suffix}' files: give --out a .shp or .gpkg path")
    if not raster.exists():
        raise NaturalExplainError(f"raster {raster} does not exist")
    if not out.parent.is_dir():
        raise NaturalExplainError(f"folder {out.parent} does not exist: create it or choose another --out")
    labels, scores, grid, name = _regions(raster, threshold)
    ids = np.arange(1, labels.max() + 1)
    stats = {
        "pixels": ndimage.sum_labels(np.ones_like(scores), labels, ids),
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
        _write_layer(staging / out.name, driver_name, labels, grid, stats, pixel_area_m2, threshold, name)
        parts = sorted(staging.iterdir(), key=lambda p: p.suffix.lower() == out.suffix.lower())
        for part in parts:  # the main file last, so a crash never leaves it without its sidecars
            part.replace(out.with_suffix(part.suffix) if part.stem == out.stem else out.parent / part.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(ids)


def _write_layer(path: Path, driver_name: str, labels: np.ndarray, grid: Grid, stats: dict[str, np.ndarray],
                 pixel_area_m2: float, threshold: float, score_name: str) -> None:
    source = ogr.GetDriverByName(driver_name).CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromWkt(grid.crs.to_wkt())
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    layer = source.CreateLayer(path.stem, srs, ogr.wkbPolygon)
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
