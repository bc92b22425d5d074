"""The AOI the user chose, as the engine takes it: in the raster's CRS, a box or a GeoJSON polygon.

Drawn shapes are in the canvas (project) CRS and polygon layers in their own; both are
reprojected here with QGIS's own transform context (the datum transforms the user set up),
edges densified first so a rectangle bends as it should in another projection. Checking
the AOI against the raster here means a stray AOI is reported before a run, not after.
"""
import dataclasses
import enum
import json
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCoordinateTransformContext,
    QgsCsException,
    QgsDistanceArea,
    QgsGeometry,
    QgsRasterLayer,
    QgsRectangle,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.gui import QgsMapCanvas

from core.errors import NaturalExplainError

from ..i18n import tr
from ..layer_arguments import crs_text, rectangle_bounds

EDGE_VERTICES = 32  # per edge of a drawn rectangle, so it bends when reprojected


class AoiSource(enum.Enum):
    """Where the AOI comes from; the value is what the dock shows."""

    WHOLE_LAYER = "Whole layer"
    CANVAS_EXTENT = "Current map view"
    RECTANGLE = "Drawn rectangle"
    POLYGON = "Drawn polygon"
    SELECTED_FEATURES = "Selected features of a polygon layer"


@dataclasses.dataclass(frozen=True)
class AoiShape:
    """An AOI as the user gave it: a polygon and the CRS its coordinates are in."""

    geometry: QgsGeometry
    crs: QgsCoordinateReferenceSystem


def canvas_extent_shape(canvas: QgsMapCanvas) -> AoiShape:
    """What the map shows now, in the canvas (project) CRS."""
    return AoiShape(QgsGeometry.fromRect(canvas.extent()), canvas.mapSettings().destinationCrs())


def selected_features_shape(layer: QgsVectorLayer) -> AoiShape:
    """The union of the selected polygons of `layer`.

    Raises:
        NaturalExplainError: when nothing is selected.
    """
    geometries = [feature.geometry() for feature in layer.getSelectedFeatures() if feature.hasGeometry()]
    if not geometries:
        raise NaturalExplainError(tr("no feature of '{0}' is selected: select the polygons to explain "
                                     "(Select Features tool), or choose another area of interest").format(layer.name()))
    return AoiShape(QgsGeometry.unaryUnion(geometries), layer.crs())


def reprojected(shape: AoiShape, crs: QgsCoordinateReferenceSystem,
                context: QgsCoordinateTransformContext) -> QgsGeometry:
    """`shape`'s polygon in `crs`, edges densified when the CRS changes.

    Raises:
        NaturalExplainError: when the shape cannot be expressed in `crs` (e.g. far outside its zone).
    """
    geometry = QgsGeometry(shape.geometry)
    if shape.crs == crs:
        return geometry
    geometry = geometry.densifyByCount(EDGE_VERTICES)
    try:
        geometry.transform(QgsCoordinateTransform(shape.crs, crs, context))
    except QgsCsException as exc:
        raise NaturalExplainError(tr("the area of interest cannot be reprojected to {0}: draw it over the "
                                     "raster").format(crs.authid() or tr("the raster CRS"))) from exc
    return geometry


def in_raster_crs(shape: AoiShape, raster: QgsRasterLayer, context: QgsCoordinateTransformContext) -> QgsGeometry:
    """`shape` in `raster`'s CRS, checked to overlap the raster.

    Raises:
        NaturalExplainError: when it does not overlap the raster or cannot be reprojected.
    """
    geometry = reprojected(shape, raster.crs(), context)
    if not geometry.intersects(QgsGeometry.fromRect(raster.extent())):
        raise NaturalExplainError(tr("the area of interest lies outside '{0}': draw it over the raster, or choose "
                                     "the whole layer").format(raster.name()))
    return geometry


def request_aoi(geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem) -> dict[str, Any]:
    """ExplainRequest's AOI fields: bounds when the AOI is an axis-aligned box (no mask needed), else GeoJSON."""
    box = geometry.boundingBox()
    if geometry.isGeosEqual(QgsGeometry.fromRect(box)):
        return {"aoi_bounds": rectangle_bounds(box), "aoi_crs": crs_text(crs)}
    return {"aoi_geometry": json.loads(geometry.asJson()), "aoi_crs": crs_text(crs)}


def work_extent(geometry: QgsGeometry | None, raster: QgsRasterLayer) -> QgsRectangle:
    """The part of the raster a run computes: the AOI's bounding box on the raster (all of it for None)."""
    extent = raster.extent()
    return extent if geometry is None else geometry.boundingBox().intersect(extent)


def area_m2(rect: QgsRectangle, crs: QgsCoordinateReferenceSystem, context: QgsCoordinateTransformContext) -> float:
    """The area of `rect` (in `crs`) in square metres, on the ellipsoid when the CRS has one."""
    measure = QgsDistanceArea()
    measure.setSourceCrs(crs, context)
    measure.setEllipsoid(crs.ellipsoidAcronym() or "NONE")
    area = measure.measureArea(QgsGeometry.fromRect(rect))
    return measure.convertAreaMeasurement(area, QgsUnitTypes.AreaSquareMeters)
