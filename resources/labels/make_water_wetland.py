"""Derive open-water and wetland polygons for the bundled sample from its own spectra.

Our training labels are coarse regions, too coarse to ask whether an attribution falls on a
land-cover class, as SpacEX's Table I does. This reference is derived, not hand drawn, and
no threshold was picked by eye:

- wet: MNDWI = (B03 - B11) / (B03 + B11) > 0, the index's published threshold (Xu 2006).
  On this coast that takes in the flooded salt marsh as well as open water (NDWI > 0 does too).
- open_water: wet pixels above Otsu's threshold of their MNDWI (open water forms a tight mode
  near 0.88; the marsh spreads below it).
- wetland: the other wet pixels: flooded salt marsh, tidal flats and wet sand.

B11 (20 m) is read onto the 10 m grid by the engine's band reader. Regions under 9 pixels
(0.09 ha) are merged into their neighbours (GDAL's sieve), then GDAL polygonizes the classes.
`PYTHONPATH=. .venv/bin/python resources/labels/make_water_wetland.py` re-makes it byte for byte.
"""
import json
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

from core.atomic import atomic_path
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import SAMPLE

gdal.UseExceptions()
OUT = Path(__file__).resolve().parent / "virginia_s2_water_wetland.geojson"
CLASSES = {1: "open_water", 2: "wetland"}
SIEVE_PIXELS = 9


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) / (a + b), 0 where both are 0."""
    total = a + b
    return np.divide(a - b, total, out=np.zeros_like(total), where=total != 0)


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """The threshold that maximises the between-class variance of `values` (Otsu 1979)."""
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(counts)[:-1]
    above = counts.sum() - below
    mean_below = np.cumsum(counts * centres)[:-1] / np.maximum(below, 1)
    mean_above = ((counts * centres).sum() - np.cumsum(counts * centres)[:-1]) / np.maximum(above, 1)
    return float(edges[1:-1][np.argmax(below * above * (mean_below - mean_above) ** 2)])


def classify(green: np.ndarray, swir: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, float]:
    """uint8 class codes (CLASSES; 0 = dry or nodata) and the open-water MNDWI threshold."""
    mndwi = normalized_difference(green, swir)
    wet = valid & (mndwi > 0)
    threshold = otsu_threshold(mndwi[wet])
    codes = np.zeros(green.shape, dtype=np.uint8)
    codes[wet] = 2
    codes[wet & (mndwi > threshold)] = 1
    return codes, threshold


def polygonize(codes: np.ndarray, transform: tuple, wkt: str, path: Path) -> int:
    """Sieve the class raster and write one GeoJSON feature per region; returns the count."""
    mem = gdal.GetDriverByName("MEM").Create("", codes.shape[1], codes.shape[0], 1, gdal.GDT_Byte)
    mem.SetGeoTransform(transform)
    mem.SetProjection(wkt)
    band = mem.GetRasterBand(1)
    band.WriteArray(codes)
    gdal.SieveFilter(band, None, band, SIEVE_PIXELS, 8)
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    source = ogr.GetDriverByName("Memory").CreateDataSource("")  # kept alive: the layer dies with it
    layer = source.CreateLayer("regions", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("code", ogr.OFTInteger))
    gdal.Polygonize(band, band, layer, 0, [], callback=None)
    features = [{"type": "Feature", "properties": {"class": CLASSES[f.GetField("code")]},
                 "geometry": json.loads(f.GetGeometryRef().ExportToJson())} for f in layer]
    epsg = srs.GetAuthorityCode(None)
    collection = {"type": "FeatureCollection", "name": path.stem,
                  "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}},
                  "features": features}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(collection, separators=(",", ":")) + "\n")
    return len(features)


def main() -> None:
    raster = open_input(SAMPLE)
    (green, swir), valid = read_window(match_bands(raster, ["B03", "B11"]), raster.grid)
    codes, threshold = classify(green, swir, valid)
    count = polygonize(codes, raster.grid.transform.to_gdal(), raster.grid.crs.to_wkt(), OUT)
    shares = {name: f"{(codes == code).mean():.1%}" for code, name in CLASSES.items()}
    print(f"{count} polygons written to {OUT.name}; open water above MNDWI {threshold:.3f}; "
          f"pixel shares before sieving: {shares}")


if __name__ == "__main__":
    main()
