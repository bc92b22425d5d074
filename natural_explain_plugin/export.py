"""Turn a result map into polygons (Shapefile or GeoPackage) and add them to the project.

The threshold is either a score (naturalness >= 0.5) or the top q % of a map, because
attribution methods score importance in their own units and only the share of the most
important pixels compares across methods. core.raster.vectorize does the pixel work.
"""
import dataclasses
from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsProject, QgsVectorLayer
from qgis.gui import QgsMessageBar

from .engine_import import engine_packages
from .reporting import TITLE, report_failure
from .task import EngineTask

FORMATS = {"ESRI Shapefile": ".shp", "GeoPackage": ".gpkg"}


@dataclasses.dataclass(frozen=True)
class Threshold:
    """Keep pixels whose score reaches `score`, or the `top_percent` % highest pixels (exactly one is set)."""

    score: float | None = None
    top_percent: float | None = None

    def describe(self) -> str:
        return f"top {self.top_percent:g} %" if self.top_percent is not None else f"≥ {self.score:g}"


@dataclasses.dataclass(frozen=True)
class ExportRequest:
    """One export as plain values, so the worker thread never touches a layer."""

    raster: str
    map_name: str
    threshold: Threshold
    out: Path

    @property
    def layer(self) -> str:
        """The layer written: named after the map's file (a GeoPackage keeps its other layers)."""
        return Path(self.raster).stem


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """The file written, how many polygons it holds, and the score the threshold came to."""

    path: Path
    polygons: int
    score: float


def export_polygons(request: ExportRequest) -> ExportResult:
    """Write the polygons of `request.raster`'s pixels at or above the threshold.

    Raises:
        NaturalExplainError: for an unreadable map, an empty one, or an unwritable target.
    """
    with engine_packages():
        from core.raster.vectorize import top_percent_threshold, vectorize
    threshold = request.threshold
    score = threshold.score if threshold.top_percent is None else top_percent_threshold(request.raster,
                                                                                         threshold.top_percent)
    # The save dialog already asked before replacing a file; a GeoPackage keeps its other layers.
    count = vectorize(request.raster, score, request.out, layer=request.layer, overwrite=True)
    return ExportResult(request.out, count, score)


def add_polygons_layer(project: QgsProject, request: ExportRequest, result: ExportResult) -> QgsVectorLayer:
    """Add the written polygons at the top of the layer tree, named for the map and the threshold."""
    source = f"{result.path}|layername={request.layer}" if result.path.suffix.lower() == ".gpkg" else str(result.path)
    layer = QgsVectorLayer(source, f"{request.map_name} {request.threshold.describe()} (polygons)", "ogr")
    project.addMapLayer(layer, False)
    project.layerTreeRoot().insertLayer(0, layer)
    return layer


def start_export(request: ExportRequest, message_bar: QgsMessageBar) -> EngineTask:
    """Export in a background task; the polygons are added to the current project when it ends."""

    def done(result: ExportResult) -> None:
        add_polygons_layer(QgsProject.instance(), request, result)
        message_bar.pushMessage(TITLE, f"{result.polygons} polygons of '{request.map_name}' with score "
                                       f"≥ {result.score:.4g} saved in {result.path}", level=Qgis.Success)

    task = EngineTask(f"{TITLE}: export {request.map_name}", lambda *_: export_polygons(request), done,
                      lambda exc: report_failure(message_bar, exc),
                      lambda: message_bar.pushMessage(TITLE, "the export was canceled", level=Qgis.Info))
    QgsApplication.taskManager().addTask(task)
    return task
