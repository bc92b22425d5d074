"""Export a real result map to polygons: inside the raster, in its CRS, with score statistics and area."""
import gc
from datetime import datetime
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import rasterio
from osgeo import ogr
from pytest_qgis.utils import wait_until
from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsVectorLayer
from qgis.PyQt.QtWidgets import QDialog

from core.pipeline import explain
from natural_explain_plugin.export_dialog import ExportDialog, ask_export
from natural_explain_plugin.layer_names import output_name
from natural_explain_plugin.result_layers import add_result_group
from natural_explain_plugin.run_folder import group_name
from natural_explain_plugin.task import EngineTask

PIXEL_AREA_M2 = 100.0  # 10 m pixels
EXPORT_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def run_outputs(tmp_path_factory: pytest.TempPathFactory, small_stack: Path) -> dict[str, Path]:
    """A real naturalness + gradcam run on a 128 px window of the sample."""
    return explain(small_stack, tmp_path_factory.mktemp("run"), methods=["gradcam"]).outputs


@pytest.fixture
def result_group(project: QgsProject, run_outputs: dict[str, Path], small_stack: Path) -> dict[str, QgsRasterLayer]:
    """The run's maps in the project, as the plugin adds them after a run."""
    group = add_result_group(project, group_name("small", datetime.now()), run_outputs,
                             QgsRasterLayer(str(small_stack), "small", "gdal"))
    return {output_name(node.layer()): node.layer() for node in group.findLayers()}


def answer_dialog(monkeypatch: pytest.MonkeyPatch, choose: Callable[[ExportDialog], None]) -> list[ExportDialog]:
    """Make ExportDialog.exec_ apply `choose` and press OK instead of blocking; returns the dialogs shown."""
    shown: list[ExportDialog] = []

    def exec_(dialog: ExportDialog) -> int:
        shown.append(dialog)
        choose(dialog)
        return QDialog.Accepted

    monkeypatch.setattr(ExportDialog, "exec_", exec_)
    return shown


def export_to_end(task: EngineTask) -> None:
    ended = []
    task.taskCompleted.connect(lambda: ended.append(True))
    task.taskTerminated.connect(lambda: ended.append(False))
    assert wait_until(lambda: bool(ended), timeout_milliseconds=EXPORT_TIMEOUT_MS)


def features(path: Path) -> tuple[list[dict], ogr.Layer, ogr.DataSource]:
    source = ogr.Open(str(path))
    layer = source.GetLayer(0)
    return [{**f.items(), "bounds": f.GetGeometryRef().GetEnvelope()} for f in layer], layer, source


def valid_scores(raster: Path) -> np.ndarray:
    with rasterio.open(raster) as src:
        return src.read(1, masked=True).compressed()


@pytest.mark.slow
def test_naturalness_above_a_score_becomes_a_shapefile_inside_the_raster_in_its_crs(
        result_group, run_outputs, project, qgis_iface, tmp_path, monkeypatch) -> None:
    target = tmp_path / "natural.shp"

    def choose(dialog: ExportDialog) -> None:
        assert dialog.map.currentLayer() is result_group["naturalness"]  # the newest run's first map
        assert dialog.by_score.isChecked() and dialog.score.value() == 0.5
        assert dialog.file.filePath() == str(run_outputs["naturalness"].with_name("naturalness_polygons.shp"))
        dialog.file.setFilePath(str(target))

    answer_dialog(monkeypatch, choose)
    export_to_end(ask_export(project, qgis_iface.messageBar()))

    rows, layer, _source = features(target)
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "32618"
    with rasterio.open(run_outputs["naturalness"]) as src:
        left, bottom, right, top = src.bounds
    assert rows and all(left <= x0 and x1 <= right and bottom <= y0 and y1 <= top for x0, x1, y0, y1 in
                        (row["bounds"] for row in rows))
    assert all(0.5 <= row["score_min"] <= row["score_mean"] <= row["score_max"] <= 1.0 for row in rows)
    assert all(row["area_m2"] == pytest.approx(row["pixels"] * PIXEL_AREA_M2) for row in rows)
    natural_pixels = int((valid_scores(run_outputs["naturalness"]) >= 0.5).sum())
    assert sum(row["area_m2"] for row in rows) == pytest.approx(natural_pixels * PIXEL_AREA_M2)

    added = project.layerTreeRoot().children()[0].layer()
    assert isinstance(added, QgsVectorLayer) and added.isValid() and added.featureCount() == len(rows)
    assert added.name() == "Naturalness ≥ 0.5 (polygons)" and added.crs().authid() == "EPSG:32618"
    assert any(str(target) in m for m in qgis_iface.messageBar().get_messages(Qgis.Success))


def test_top_percent_of_an_attribution_map_becomes_a_geopackage(result_group, run_outputs, project, qgis_iface,
                                                                 monkeypatch) -> None:
    def choose(dialog: ExportDialog) -> None:
        dialog.map.setLayer(result_group["attribution_gradcam"])
        assert dialog.by_top.isChecked() and dialog.top_percent.value() == 10.0  # attribution: the top q %
        dialog.format.setCurrentText("GeoPackage")

    answer_dialog(monkeypatch, choose)
    export_to_end(ask_export(project, qgis_iface.messageBar()))

    target = run_outputs["attribution_gradcam"].with_name("attribution_gradcam_polygons.gpkg")
    rows, layer, _source = features(target)
    scores = valid_scores(run_outputs["attribution_gradcam"])
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "32618"
    assert min(row["score_min"] for row in rows) >= np.percentile(scores, 90) - 1e-6
    covered = sum(row["pixels"] for row in rows)
    assert 0.099 * scores.size <= covered <= 0.11 * scores.size  # ties at the threshold may add a few
    assert project.layerTreeRoot().children()[0].layer().name() == "Why: GradCAM (importance) top 10 % (polygons)"


def test_an_export_with_no_file_is_one_sentence_and_writes_nothing(result_group, project, qgis_iface,
                                                                   monkeypatch) -> None:
    answer_dialog(monkeypatch, lambda dialog: dialog.file.setFilePath(""))
    assert ask_export(project, qgis_iface.messageBar()) is None
    (warning,) = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert "choose the file to save the polygons in" in warning


def test_an_export_nobody_holds_on_to_still_ends_with_its_layer(result_group, project, qgis_iface, tmp_path,
                                                                monkeypatch) -> None:
    """The dock's button drops the task ask_export returns; the export must still run and report."""
    target = tmp_path / "dropped.shp"
    answer_dialog(monkeypatch, lambda dialog: dialog.file.setFilePath(str(target)))
    ask_export(project, qgis_iface.messageBar())
    gc.collect()
    assert wait_until(lambda: bool(qgis_iface.messageBar().get_messages(Qgis.Success)),
                      timeout_milliseconds=EXPORT_TIMEOUT_MS)
    assert target.is_file() and project.layerTreeRoot().children()[0].layer().source().startswith(str(target))
