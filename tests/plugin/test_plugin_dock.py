"""The Natural Explain dock on the real sample: defaults, band mapping, costs, AOIs, Cancel, queueing, settings."""
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import gdal, ogr, osr
from pytest_qgis.utils import wait_until
from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsSettings,
    QgsTask,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QEvent, QPoint, Qt

from core.explain.registry import METHODS
from core.resources import DEFAULT_JEM, DEFAULT_MODEL
from natural_explain_plugin.dock.aoi_choice import AoiSource
from natural_explain_plugin.layer_names import output_name
from natural_explain_plugin.settings import MODEL_KEY, output_folder
from tests.helpers.plugin_runs import (
    SUMMARY_TIMEOUT_MS,
    add_layer,
    click,
    open_dock,
    result_groups,
    run_to_end,
    show_layer_on_canvas,
)

pytestmark = pytest.mark.usefixtures("forget_model_and_device")

PIXEL_M = 10.0


def output_layers(project: QgsProject) -> dict[str, QgsRasterLayer]:
    """The run's result layers by the output each holds ('naturalness', 'attribution_gradcam', ...)."""
    (group,) = result_groups(project)
    return {output_name(node.layer()): node.layer() for node in group.findLayers()}


def test_dock_opens_on_the_selected_layer_with_bands_matched_by_name_and_costs(
        plugin, qgis_iface, project, make_stack, model_bands, tmp_path) -> None:
    shuffled = list(reversed(model_bands))
    layer = add_layer(project, make_stack(tmp_path / "shuffled.vrt", shuffled), "shuffled")
    project.addMapLayer(QgsVectorLayer("Polygon?crs=EPSG:4326", "not a raster", "memory"))
    dock = open_dock(plugin, qgis_iface, layer)

    assert not dock.isHidden() and plugin.dock_action.isChecked()
    assert dock.layer_combo.currentLayer() is layer and dock.layer_combo.count() == 1
    assert dock.model.summary.path == str(DEFAULT_MODEL) and dock.model.summary.bands == model_bands
    assert "10 bands" in dock.model.label.text() and "Not a JEM" in dock.model.label.text()
    assert "(natural: natural)" not in dock.model.label.text()
    assert "natural rather than anthropogenic" in dock.model.label.text()
    assert dock.bands.mapping() == {name: shuffled.index(name) + 1 for name in model_bands}
    assert dock.band_panel.summary.text() == "10/10 bands matched" and dock.bands.isHidden()
    assert dock.band_note.text() == "" and not dock.input_note.text()  # 10 m stack, 10 m model: nothing to say

    assert list(dock.methods.boxes) == ["naturalness", *METHODS, "confidence"]
    assert dock.methods.methods() == ["gradcam"]  # the first run's default
    assert not dock.methods.boxes["naturalness"].isEnabled() and dock.methods.boxes["naturalness"].isChecked()
    assert not dock.methods.boxes["confidence"].isChecked()  # the bundled model is no JEM
    costs = {name: label.text() for name, label in dock.methods.costs.items()}
    # 800 px + 2 x 32 px margin = 4 x 4 tiles of 256 px = 1.05 computed Mpx
    assert costs["naturalness"] == "~3 s"  # 1.05 Mpx x 2.4 s/Mpx
    assert costs["occlusion"] == "~61 min"  # 1.05 Mpx x 3480 s/Mpx + 0.4 s
    assert not dock.methods.warning.isVisible()


def test_a_jem_model_file_ticks_the_confidence_map(plugin, qgis_iface, project, stack_layer, tmp_path) -> None:
    card = json.loads(DEFAULT_MODEL.read_text())
    jem = tmp_path / "jem.json"
    jem.write_text(json.dumps({**card, "jem": json.loads(DEFAULT_JEM.read_text())["jem"]}))
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.model.choose_file(str(jem))
    assert wait_until(lambda: dock.model.summary is not None, timeout_milliseconds=SUMMARY_TIMEOUT_MS)
    assert dock.model.summary.is_jem and "JEM: also writes a confidence map" in dock.model.label.text()
    assert dock.methods.boxes["confidence"].isChecked()
    assert QgsSettings().value(MODEL_KEY) == str(jem)


def test_a_broken_model_file_is_one_sentence_and_blocks_run(plugin, qgis_iface, project, stack_layer,
                                                             tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.model.choose_file(str(broken))
    assert wait_until(lambda: "cannot be used" in dock.model.label.text(), timeout_milliseconds=SUMMARY_TIMEOUT_MS)
    assert dock.run() is None and not plugin.tasks
    warnings = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert any("not valid JSON" in m for m in warnings) and all("\n" not in m for m in warnings)


def test_band_mismatch_shows_before_the_run_and_mapping_by_hand_fixes_it(
        plugin, qgis_iface, project, make_stack, model_bands, tmp_path) -> None:
    rgb = add_layer(project, make_stack(tmp_path / "rgb.vrt", ["B04", "B03", "B02"]), "rgb")
    dock = open_dock(plugin, qgis_iface, rgb)
    assert dock.model.summary.name == "naturalness_s2_rgb"  # Automatic takes the model the layer has the bands of
    dock.model.combo.setCurrentIndex(dock.model.combo.findData(str(DEFAULT_MODEL)))  # the 10-band one, by name
    missing = [name for name in model_bands if name not in ("B04", "B03", "B02")]
    assert "B08" in dock.band_note.text() and "no input band" in dock.band_note.text()
    assert dock.bands.mapping()["B04"] == 1 and dock.bands.mapping()["B02"] == 3
    assert dock.band_panel.summary.text() == "3/10 bands matched" and not dock.bands.isHidden()  # opened to fix

    assert dock.run() is None and not plugin.tasks
    (warning,) = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert f"no input band for {', '.join(missing)}: pick one" in warning

    for name in missing:
        dock.bands.set_band(name, 1)
    assert "input band 1 feeds B04 and B08" in dock.band_note.text()  # allowed, but pointed out


def test_a_large_aoi_with_slow_methods_warns_on_the_cpu_only(plugin, qgis_iface, project, sample_stack,
                                                             tmp_path) -> None:
    # The sample's 800 px padded to 2400 px (nodata around it): 5.76 Mpx at 10 m.
    wide = tmp_path / "wide.vrt"
    x0, y0 = 442730.0, 4174960.0
    gdal.BuildVRT(str(wide), [str(sample_stack)], outputBounds=(x0 - 8000, y0 - 16000, x0 + 16000, y0 + 8000))
    dock = open_dock(plugin, qgis_iface, add_layer(project, wide, "wide"))
    dock.methods.set_methods(["gradcam"])
    assert not dock.methods.warning.text()  # 121 tiles = 7.9 computed Mpx x 11 s/Mpx: under ten minutes
    dock.methods.set_methods(["gradcam", "occlusion"])
    assert "on the CPU" in dock.methods.warning.text() and "occlusion costs most" in dock.methods.warning.text()
    dock.device.setCurrentText("cuda")
    assert not dock.methods.warning.text()


def test_drawn_rectangle_sets_the_aoi_and_the_run_stays_inside_it(plugin, qgis_iface, qgis_canvas, project,
                                                                  stack_layer, output_base) -> None:
    show_layer_on_canvas(qgis_canvas, stack_layer)
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.methods.set_methods([])
    dock.aoi.set_source(AoiSource.RECTANGLE)
    tool = dock.aoi.tools[AoiSource.RECTANGLE]
    assert qgis_canvas.mapTool() is tool  # choosing a drawn AOI starts drawing

    centre = QPoint(qgis_canvas.width() // 2, qgis_canvas.height() // 2)
    start, end = centre - QPoint(40, 30), centre + QPoint(35, 45)
    click(tool, qgis_canvas, QEvent.MouseButtonPress, start)
    click(tool, qgis_canvas, QEvent.MouseMove, centre)
    click(tool, qgis_canvas, QEvent.MouseButtonRelease, end)
    to_map = qgis_canvas.getCoordinateTransform()
    drawn = QgsRectangle(to_map.toMapCoordinates(start), to_map.toMapCoordinates(end))
    shape = dock.aoi.shape()
    assert shape.geometry.boundingBox() == drawn and shape.crs == stack_layer.crs()
    assert dock.aoi.band.numberOfVertices() > 0  # shown on the map

    task = dock.run()
    assert task.request.aoi_bounds == pytest.approx((drawn.xMinimum(), drawn.yMinimum(), drawn.xMaximum(),
                                                     drawn.yMaximum()))
    assert run_to_end(task) == "completed", qgis_iface.messageBar().messages
    assert dock.progress.value() == 100 and dock.status.text().startswith("the last run finished in ~")
    assert dock.open_folder_button.isEnabled() and dock.last_folder == task.request.out_dir
    extent = output_layers(project)["naturalness"].extent()
    grown = drawn.buffered(PIXEL_M)  # the engine writes whole input pixels
    assert grown.contains(extent) and extent.contains(drawn.buffered(-PIXEL_M))
    assert extent.width() < stack_layer.extent().width() / 3  # not the whole layer


def test_drawn_polygon_is_closed_by_a_right_click_and_sent_as_geojson(plugin, qgis_iface, qgis_canvas, project,
                                                                     stack_layer) -> None:
    show_layer_on_canvas(qgis_canvas, stack_layer)
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.aoi.set_source(AoiSource.POLYGON)
    tool = dock.aoi.tools[AoiSource.POLYGON]
    corners = [QPoint(200, 200), QPoint(320, 210), QPoint(260, 330)]
    for corner in corners:
        click(tool, qgis_canvas, QEvent.MouseButtonPress, corner)
    click(tool, qgis_canvas, QEvent.MouseButtonPress, QPoint(400, 400), Qt.RightButton)
    to_map = qgis_canvas.getCoordinateTransform()
    triangle = QgsGeometry.fromPolygonXY([[to_map.toMapCoordinates(c) for c in corners]])
    assert dock.aoi.shape().geometry.isGeosEqual(triangle)
    fields = dock._request_fields(stack_layer)  # noqa: SLF001 (what Run hands the engine)
    assert "aoi_bounds" not in fields and fields["aoi_crs"] == "EPSG:32618"
    sent = QgsGeometry.fromWkt(ogr.CreateGeometryFromJson(json.dumps(fields["aoi_geometry"])).ExportToWkt())
    assert sent.symDifference(triangle).area() < 1e-6 * triangle.area()


def rasterized_footprint(polygon_wkt_4326: str, raster: Path) -> np.ndarray:
    """Pixels of `raster`'s grid whose centre lies in the EPSG:4326 polygon, by GDAL/OGR alone."""
    with rasterio.open(raster) as src:
        width, height, transform, wkt = src.width, src.height, src.transform, src.crs.to_wkt()
    wgs84, target = osr.SpatialReference(), osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    target.ImportFromWkt(wkt)
    for srs in (wgs84, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    polygon = ogr.CreateGeometryFromWkt(polygon_wkt_4326)
    polygon.Segmentize(0.0005)
    polygon.Transform(osr.CoordinateTransformation(wgs84, target))
    mem = gdal.GetDriverByName("MEM").Create("", width, height, 1, gdal.GDT_Byte)
    mem.SetGeoTransform(transform.to_gdal())
    mem.SetProjection(wkt)
    source = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = source.CreateLayer("aoi", target, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(polygon)
    layer.CreateFeature(feature)
    gdal.RasterizeLayer(mem, [1], layer, burn_values=[1])
    return mem.ReadAsArray().astype(bool)


def test_selected_polygon_in_another_crs_gives_the_right_footprint(plugin, qgis_iface, project, stack_layer,
                                                                    output_base) -> None:
    to_wgs84 = QgsCoordinateTransform(stack_layer.crs(), QgsCoordinateReferenceSystem("EPSG:4326"), project)
    corners = [QgsPointXY(446000, 4171000), QgsPointXY(446900, 4170700), QgsPointXY(446600, 4170100),
               QgsPointXY(446150, 4170300)]
    polygon = QgsGeometry.fromPolygonXY([[to_wgs84.transform(c) for c in corners]])
    vector = QgsVectorLayer("Polygon?crs=EPSG:4326", "fields", "memory")
    feature = QgsFeature()
    feature.setGeometry(polygon)
    vector.dataProvider().addFeatures([feature])
    project.addMapLayer(vector)
    vector.selectAll()
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.methods.set_methods([])
    dock.aoi.set_source(AoiSource.SELECTED_FEATURES)
    dock.aoi.polygon_layer.setLayer(vector)
    assert dock.aoi.band.numberOfVertices() > 0

    assert run_to_end(dock.run()) == "completed", qgis_iface.messageBar().messages
    source = Path(output_layers(project)["naturalness"].source())
    with rasterio.open(source) as out:
        valid = out.read_masks(1) > 0
        assert out.crs.to_epsg() == 32618
    expected = rasterized_footprint(polygon.asWkt(), source)
    assert expected.sum() > 2000  # the polygon covers thousands of pixels
    assert (valid != expected).sum() <= 0.02 * expected.sum()  # only pixels on the edge may differ


def test_cancel_in_the_dock_mid_run_leaves_no_result_layer_and_no_final_file(plugin, qgis_iface, project,
                                                                            stack_layer, output_base) -> None:
    dock = open_dock(plugin, qgis_iface, stack_layer)
    task = dock.run()
    canceled_at = []

    def press_cancel(percent: float) -> None:  # on the GUI thread, as a user's click is
        if not canceled_at and 0 < percent < 100:
            canceled_at.append(percent)
            dock.cancel_button.click()

    task.progressChanged.connect(press_cancel)
    assert run_to_end(task) == "terminated"
    assert canceled_at and canceled_at[0] < 100
    assert not result_groups(project)
    assert not list(output_base.rglob("*.tif")) and not list(output_base.rglob("run.json"))
    assert not dock.runs and not dock.cancel_button.isEnabled()
    assert dock.status.text() == "the last run was canceled or failed"
    assert any("canceled" in m for m in qgis_iface.messageBar().get_messages(Qgis.Info))


def test_runs_queue_one_after_another(plugin, qgis_iface, project, stack_layer, output_base) -> None:
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.methods.set_methods([])
    dock.aoi.set_source(AoiSource.CANVAS_EXTENT)
    qgis_iface.mapCanvas().setDestinationCrs(stack_layer.crs())
    qgis_iface.mapCanvas().setExtent(QgsRectangle(445000, 4171000, 446000, 4172000))
    first, second = dock.run(), dock.run()
    assert second.status() == QgsTask.OnHold and dock.status.text().endswith(", 1 queued")
    stages = []
    first.progressChanged.connect(lambda _: stages.append(dock.status.text()))
    assert run_to_end(first) == "completed"
    assert stages and all(" left" in text for text in stages), stages  # a stage and the time left, all along
    assert run_to_end(second) == "completed"
    assert len(result_groups(project)) == 2 and not plugin.tasks


def test_output_folder_is_remembered_per_project(plugin, qgis_iface, project, stack_layer, tmp_path) -> None:
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.folder.setFilePath(str(tmp_path / "study_a"))
    project_file = tmp_path / "study_a.qgz"
    assert project.write(str(project_file))
    project.clear()
    assert dock.folder.filePath() == str(tmp_path / "study_a")  # a new project starts from the last folder
    dock.folder.setFilePath(str(tmp_path / "study_b"))
    assert project.read(str(project_file))
    assert output_folder() == tmp_path / "study_a" and dock.folder.filePath() == str(tmp_path / "study_a")


def test_the_panel_action_toggles_the_dock(plugin, qgis_iface, project, stack_layer) -> None:
    dock = open_dock(plugin, qgis_iface, stack_layer)
    plugin.dock_action.trigger()
    assert dock.isHidden() and not plugin.dock_action.isChecked()
    plugin.dock_action.trigger()
    assert not dock.isHidden() and plugin.dock is dock



def test_automatic_is_the_default_model_and_follows_the_layers_bands(plugin, qgis_iface, project, stack_layer,
                                                                     make_stack, tmp_path) -> None:
    """Automatic picks the richest bundled classifier the layer has the bands of, says why, and names no model."""
    dock = open_dock(plugin, qgis_iface, stack_layer)
    assert dock.model.is_automatic() and dock.model.combo.currentIndex() == 0
    assert dock.model.combo.currentText() == "Automatic (best bundled model for this layer's bands)"
    entries = [dock.model.combo.itemData(i) for i in range(dock.model.combo.count())]
    assert [Path(e).stem for e in entries[1:4]] == ["naturalness_s2", "naturalness_s2_rgbn", "naturalness_s2_rgb"]
    assert dock.model.summary.path == str(DEFAULT_MODEL) and dock.model.summary.automatic
    assert dock.model.label.text().startswith("Automatic: naturalness_s2 (the input has all 10 of its bands")
    assert dock._request_fields(stack_layer)["model"] is None  # the engine chooses the same way
    rgb = add_layer(project, make_stack(tmp_path / "rgb.vrt", ["B02", "B03", "B04"]), "rgb")
    dock.set_input_layer(rgb)
    assert wait_until(lambda: dock.model.summary is not None and dock.model.summary.name == "naturalness_s2_rgb",
                      timeout_milliseconds=SUMMARY_TIMEOUT_MS), dock.model.label.text()
    assert "naturalness_s2_rgbn also needs B08" in dock.model.label.text()
    assert dock.bands.mapping() == {"B02": 1, "B03": 2, "B04": 3}
    dock.set_input_layer(stack_layer)
    dock.model.combo.setCurrentIndex(2)  # a bundled model named explicitly is passed as such
    assert dock._request_fields(stack_layer)["model"] == dock.model.combo.itemData(2)
