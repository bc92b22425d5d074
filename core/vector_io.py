"""Read polygon layers (GeoPackage, Shapefile, GeoJSON, ...) as GeoJSON geometries plus a CRS.

Plain OGR: one GDAL in the process, no extra wheels.
"""
import json
from pathlib import Path
from typing import Any

from osgeo import ogr, osr

from core.errors import NaturalExplainError

ogr.UseExceptions()
osr.UseExceptions()

POLYGON_TYPES = {"Polygon", "MultiPolygon"}


def read_polygons(path: str | Path, field: str | None = None) -> tuple[list[tuple[dict[str, Any], Any]], str]:
    """Read every polygon of a layer's first (or only) table.

    Args:
        path: a vector file GDAL/OGR can read.
        field: attribute to return with each polygon; None returns None for each.

    Returns:
        ([(GeoJSON geometry, field value), ...], the layer's CRS as WKT).

    Raises:
        NaturalExplainError: for a missing or unreadable file, no CRS, an unknown field,
            or a layer without polygons.
    """
    path = Path(path)
    if not path.exists():
        raise NaturalExplainError(f"vector file {path} does not exist")
    try:
        source = ogr.Open(str(path))
    except RuntimeError as exc:
        raise NaturalExplainError(f"{path} is not a vector file GDAL can read ({exc})") from exc
    if source is None or source.GetLayerCount() == 0:
        raise NaturalExplainError(f"{path} is not a vector file GDAL can read")
    layer = source.GetLayer(0)
    srs = layer.GetSpatialRef()
    if srs is None:
        raise NaturalExplainError(f"{path} has no CRS: save it with one (QGIS: Export > Save Features As, with a CRS)")
    names = [layer.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(layer.GetLayerDefn().GetFieldCount())]
    if field is not None and field not in names:
        raise NaturalExplainError(f"{path} has no field '{field}'; its fields are: {', '.join(names) or 'none'}")
    polygons = []
    for feature in layer:
        geometry = feature.GetGeometryRef()
        if geometry is None:
            continue
        geojson = json.loads(geometry.ExportToJson())
        if geojson["type"] in POLYGON_TYPES:
            polygons.append((geojson, feature.GetField(field) if field else None))
    if not polygons:
        raise NaturalExplainError(f"{path} holds no polygons")
    return polygons, srs.ExportToWkt()
