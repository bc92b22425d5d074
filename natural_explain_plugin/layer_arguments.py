"""Turn QGIS objects into the plain arguments the engine takes: a path, bounds and a CRS.

The engine never sees a QGIS object; this is the one place that translates.
"""
from qgis.core import QgsCoordinateReferenceSystem, QgsRasterLayer, QgsRectangle

from core.errors import NaturalExplainError

Bounds = tuple[float, float, float, float]


def raster_path(layer: QgsRasterLayer) -> str:
    """The file GDAL reads the layer from.

    Raises:
        NaturalExplainError: when the layer is not file-based (a WMS, XYZ or other service).
    """
    from .dock.input_check import not_a_file_message

    message = not_a_file_message(layer, None, None)
    if message:
        raise NaturalExplainError(message)
    return layer.source()


def crs_text(crs: QgsCoordinateReferenceSystem) -> str:
    """The CRS as the engine takes it: its authority id when it has one, else WKT."""
    return crs.authid() or crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED)


def rectangle_bounds(rect: QgsRectangle) -> Bounds:
    """A rectangle as (xmin, ymin, xmax, ymax)."""
    return rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum()
