"""Driving the plugin as a user does: runs to their end, Cancel mid-run, the panel, the map canvas, stacks."""
from pathlib import Path

import pytest
import rasterio
from osgeo import gdal
from pytest_qgis.utils import wait_until
from qgis.core import QgsLayerTreeGroup, QgsProcessingFeedback, QgsProject, QgsRasterLayer, QgsTask
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool
from qgis.PyQt.QtCore import QEvent, QPoint, QPointF, Qt
from qgis.PyQt.QtGui import QMouseEvent

from core.resources import SAMPLE
from natural_explain_plugin.dock.dock_widget import NaturalExplainDock
from natural_explain_plugin.run_folder import GROUP_PREFIX

RUN_TIMEOUT_MS = 120_000
SUMMARY_TIMEOUT_MS = 60_000
AOI_HALF_WIDTH_M = 640  # 128 x 128 pixels of 10 m: one tile, a second or two on a CPU


def result_groups(project: QgsProject) -> list[QgsLayerTreeGroup]:
    """The layer-tree groups that runs added."""
    return [g for g in project.layerTreeRoot().findGroups() if g.name().startswith(GROUP_PREFIX)]


def run_to_end(task: QgsTask) -> str:
    """Wait for the task's end and say how it ended ('completed' or 'terminated').

    Signals, not task.status(): the task manager deletes a finished task, so it cannot be asked.
    """
    ended = []
    task.taskCompleted.connect(lambda: ended.append("completed"))
    task.taskTerminated.connect(lambda: ended.append("terminated"))
    assert wait_until(lambda: bool(ended), timeout_milliseconds=RUN_TIMEOUT_MS)
    return ended[0]


def feedback_that_cancels_mid_run() -> tuple[QgsProcessingFeedback, list[float]]:
    """Processing feedback that presses Cancel at the first progress report, and where it did."""
    feedback = QgsProcessingFeedback()
    canceled_at: list[float] = []

    def cancel_on_first_progress(percent: float) -> None:
        if not canceled_at and 0 < percent < 100:
            canceled_at.append(percent)
            feedback.cancel()

    feedback.progressChanged.connect(cancel_on_first_progress)
    return feedback, canceled_at


def build_stack(path: Path, bands: list[str]) -> Path:
    """A multi-band VRT of the sample's `bands` on the 10 m grid, each band described by its name."""
    ref = gdal.Open(str(SAMPLE / "B02.tif"))
    x0, dx, _, y0, _, dy = ref.GetGeoTransform()
    bounds = (x0, y0 + dy * ref.RasterYSize, x0 + dx * ref.RasterXSize, y0)
    vrt = gdal.BuildVRT(str(path), [str(SAMPLE / f"{band}.tif") for band in bands], separate=True,
                        resolution="highest", outputBounds=bounds)
    for number, band in enumerate(bands, start=1):
        vrt.GetRasterBand(number).SetDescription(band)
    vrt.FlushCache()
    vrt = None  # closing the dataset writes the descriptions into the VRT
    return path


def centre_aoi(raster: Path, half_width_m: float) -> str:
    """A square AOI around the raster's centre, as a Processing extent string in the raster's CRS."""
    ds = gdal.Open(str(raster))
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    cx, cy = x0 + dx * ds.RasterXSize / 2, y0 + dy * ds.RasterYSize / 2
    epsg = ds.GetSpatialRef().GetAuthorityCode(None)
    return f"{cx - half_width_m},{cx + half_width_m},{cy - half_width_m},{cy + half_width_m} [EPSG:{epsg}]"


def assert_on_input_grid(path: Path, input_path: Path) -> None:
    """`path` has the input's CRS and pixel size, and its pixels sit exactly on the input's pixels."""
    with rasterio.open(path) as out, rasterio.open(input_path) as src:
        assert out.crs == src.crs and (out.transform.a, out.transform.e) == (src.transform.a, src.transform.e)
        col, row = ~src.transform * (out.transform.c, out.transform.f)
        assert (col, row) == pytest.approx((round(col), round(row)))
        assert 0 < out.width < src.width and 0 < out.height < src.height


def open_dock(plugin, qgis_iface, layer: QgsRasterLayer) -> NaturalExplainDock:  # noqa: ANN001
    """Select `layer`, click Explain naturalness, and wait until the model's sidecar is read."""
    qgis_iface.setActiveLayer(layer)
    plugin.action.trigger()
    dock = plugin.dock
    assert wait_until(lambda: dock.model.summary is not None, timeout_milliseconds=SUMMARY_TIMEOUT_MS), \
        dock.model.label.text()
    return dock


def add_layer(project: QgsProject, path: Path, name: str) -> QgsRasterLayer:
    layer = QgsRasterLayer(str(path), name, "gdal")
    assert layer.isValid()
    project.addMapLayer(layer)
    return layer


def click(tool: QgsMapTool, canvas: QgsMapCanvas, kind: QEvent.Type, pixel: QPoint,
          button: Qt.MouseButton = Qt.LeftButton) -> None:
    """Send one mouse event at `pixel` to `tool` as the canvas would."""
    buttons = Qt.NoButton if kind == QEvent.MouseButtonRelease else button
    event = QgsMapMouseEvent(canvas, QMouseEvent(kind, QPointF(pixel), button, buttons, Qt.NoModifier))
    {QEvent.MouseButtonPress: tool.canvasPressEvent, QEvent.MouseMove: tool.canvasMoveEvent,
     QEvent.MouseButtonRelease: tool.canvasReleaseEvent}[kind](event)


def show_layer_on_canvas(canvas: QgsMapCanvas, layer: QgsRasterLayer) -> None:
    canvas.setDestinationCrs(layer.crs())
    canvas.setLayers([layer])
    canvas.setExtent(layer.extent())
    canvas.window().show()
    canvas.refresh()
