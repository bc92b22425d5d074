"""Compare with input: a real cyclegan run on the sample, its result in a second map linked to the main one."""
from pathlib import Path

import pytest
from pytest_qgis.utils import wait_until
from qgis.core import QgsPointXY, QgsProject, QgsRasterLayer, QgsRectangle
from qgis.gui import QgsMapCanvas
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QEvent, Qt
from qgis.PyQt.QtGui import QColor, QImage, QPainter
from qgis.PyQt.QtWidgets import QApplication

from core.resources import DEFAULT_GENERATORS
from natural_explain_plugin.compare_view import CompareDock
from natural_explain_plugin.layer_names import output_name, readable_name
from tests.helpers.plugin_runs import result_groups, run_to_end
from tests.helpers.plugin_styles import show_in_colour, shown_in_colour

pytestmark = [pytest.mark.slow,  # runs explain with the pattern generators
              pytest.mark.skipif(not DEFAULT_GENERATORS.exists(),
                                 reason="the bundled CycleGAN generators are not trained yet")]

INPUT_BANDS = ["B08", "B04", "B03"]
INPUT_LIMITS = [(900.0, 3100.0), (300.0, 1200.0), (350.0, 1250.0)]
RENDER_TIMEOUT_MS = 30_000


def input_on_main_map(qgis_iface, project: QgsProject, small_stack: Path) -> QgsRasterLayer:  # noqa: ANN001
    """The sample's middle in false colour, on a shown main map in its CRS, which is the project's."""
    layer = QgsRasterLayer(str(small_stack), "small", "gdal")
    project.addMapLayer(layer)
    show_in_colour(layer, INPUT_BANDS, INPUT_LIMITS)
    project.setCrs(layer.crs())
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(project.crs())
    canvas.setRotation(0)
    canvas.setExtent(layer.extent())
    qgis_iface.mainWindow().show()
    return layer


def run(plugin, qgis_iface, layer: QgsRasterLayer, methods: list[str]) -> dict[str, QgsRasterLayer]:  # noqa: ANN001
    """Run `methods` on `layer` as the dock does; the new group's layers by output, the main map left on the input."""
    assert run_to_end(plugin.start_explain(layer, methods)) == "completed", qgis_iface.messageBar().messages
    group = result_groups(QgsProject.instance())[0]  # a run's group goes on top
    qgis_iface.mapCanvas().setLayers([layer])  # QGIS's canvas follows the layer tree; the stub's does not
    return {output_name(node.layer()): node.layer() for node in group.findLayers()}


@pytest.fixture
def compared(plugin, qgis_iface, project, small_stack,  # noqa: ANN001
             output_base) -> tuple[QgsRasterLayer, dict[str, QgsRasterLayer], CompareDock]:
    """The input on the main map, a cyclegan run's layers, and the compare map opened from the dock's button."""
    layer = input_on_main_map(qgis_iface, project, small_stack)
    results = run(plugin, qgis_iface, layer, ["cyclegan"])
    dock = plugin.open_dock()
    dock.compare_button.click()
    compare = plugin.compare
    qgis_iface.mainWindow().addDockWidget(Qt.RightDockWidgetArea, compare)  # the stub iface's does nothing
    QApplication.processEvents()
    return layer, results, compare


def ticked(project: QgsProject, layer: QgsRasterLayer) -> bool:
    return project.layerTreeRoot().findLayer(layer.id()).itemVisibilityChecked()


def assert_same_view(a: QgsMapCanvas, b: QgsMapCanvas) -> None:
    """Same CRS, centre, map units per pixel and rotation: the same place at the same scale."""
    assert a.mapSettings().destinationCrs() == b.mapSettings().destinationCrs()
    assert (a.center().x(), a.center().y()) == pytest.approx((b.center().x(), b.center().y()), abs=1e-6)
    assert a.mapUnitsPerPixel() == pytest.approx(b.mapUnitsPerPixel(), rel=1e-9)
    assert a.rotation() == pytest.approx(b.rotation())


def rendered(canvas: QgsMapCanvas) -> QImage:
    """The map as the canvas shows it (without its frame) once it has drawn its layers anew."""
    drawn: list[bool] = []

    def note() -> None:
        drawn.append(True)

    canvas.mapCanvasRefreshed.connect(note)
    canvas.refreshAllLayers()
    assert wait_until(lambda: bool(drawn), timeout_milliseconds=RENDER_TIMEOUT_MS)
    canvas.mapCanvasRefreshed.disconnect(note)
    QApplication.processEvents()
    return canvas.viewport().grab().toImage()


def imagery_box(image: QImage, background: QColor) -> tuple[int, int, int, int]:
    """The pixel box (left, top, right, bottom) of what is not map background."""
    xs, ys = [], []
    for y in range(image.height()):
        for x in range(image.width()):
            if image.pixelColor(x, y) != background:
                xs.append(x)
                ys.append(y)
    return min(xs), min(ys), max(xs), max(ys)


def test_compare_button_is_disabled_until_a_run_leaves_enhanced_images(plugin, qgis_iface, project, small_stack,
                                                                      output_base) -> None:
    layer = input_on_main_map(qgis_iface, project, small_stack)
    dock = plugin.open_dock()
    assert not dock.compare_button.isEnabled()

    run(plugin, qgis_iface, layer, [])  # naturalness only: nothing to compare
    assert not dock.compare_button.isEnabled()

    run(plugin, qgis_iface, layer, ["cyclegan"])
    assert dock.compare_button.isEnabled()


def test_compare_map_shows_enhanced_max_as_styled_in_the_project_and_hides_the_results_on_the_main_map(
        compared, project) -> None:
    layer, results, compare = compared
    assert [compare.choice.itemText(i) for i in range(compare.choice.count())] == [
        result.name() for result in results.values()]
    assert compare.choice.currentText() == readable_name("enhanced_max") == "Pattern-enhanced: more natural"
    (shown,) = compare.canvas.layers()
    assert shown is results["enhanced_max"]
    assert shown_in_colour(shown) == (INPUT_BANDS, INPUT_LIMITS)  # the input's bands and stretch, as in the project
    assert compare.canvas.mapSettings().destinationCrs() == project.crs()
    assert not any(ticked(project, result) for result in results.values())  # the main map shows the input
    assert ticked(project, layer)

    compare.choice.setCurrentText(readable_name("enhanced_min"))
    assert compare.canvas.layers() == [results["enhanced_min"]]


def test_moving_either_map_moves_the_other_to_the_same_extent(compared, qgis_iface) -> None:
    layer, _, compare = compared
    main = qgis_iface.mapCanvas()
    assert_same_view(main, compare.canvas)  # opened on the main map's view
    main.resize(compare.canvas.size())  # maps of one size show one extent
    extent = layer.extent()

    main.setExtent(QgsRectangle(extent.xMinimum(), extent.yMinimum(), extent.center().x(), extent.center().y()))
    assert_same_view(main, compare.canvas)
    assert compare.canvas.extent().toString(3) == main.extent().toString(3)

    compare.canvas.setCenter(QgsPointXY(extent.xMaximum(), extent.yMaximum()))
    assert_same_view(main, compare.canvas)
    assert compare.canvas.extent().toString(3) == main.extent().toString(3)

    main.setRotation(30)
    assert_same_view(main, compare.canvas)
    compare.canvas.zoomByFactor(0.5)
    assert_same_view(main, compare.canvas)


def test_resizing_the_compare_map_keeps_the_main_map_still(compared, qgis_iface) -> None:
    _, _, compare = compared
    main = qgis_iface.mapCanvas()
    before = main.extent().toString(6)

    compare.setFloating(True)
    compare.resize(compare.width() + 150, compare.height() + 90)
    QApplication.processEvents()
    assert main.extent().toString(6) == before
    assert_same_view(main, compare.canvas)


def test_both_maps_show_imagery_at_the_same_place(compared, qgis_iface, tmp_path) -> None:
    layer, _, compare = compared
    main = qgis_iface.mapCanvas()
    main.resize(compare.canvas.size())
    # The main map can take the resize into its map settings after resize() returns: under load (CI beside a training
    # run) it landed after the extent was set and moved the main map while the compare map drew (1 run in 4 with
    # both cores busy). Wait for it first.
    size = compare.canvas.mapSettings().outputSize()
    assert wait_until(lambda: main.mapSettings().outputSize() == size, timeout_milliseconds=RENDER_TIMEOUT_MS)
    main.setExtent(layer.extent().buffered(layer.extent().width() / 3))  # the layer's edge shows on both maps
    images = [rendered(main), rendered(compare.canvas)]

    side_by_side = QImage(images[0].width() * 2, images[0].height(), QImage.Format_RGB32)
    painter = QPainter(side_by_side)
    painter.drawImage(0, 0, images[0])
    painter.drawImage(images[0].width(), 0, images[1])
    painter.end()
    assert side_by_side.save(str(tmp_path / "input_and_enhanced_max.png"))
    boxes = [imagery_box(image, main.canvasColor()) for image in images]
    assert boxes[0] == boxes[1]
    assert boxes[0][2] - boxes[0][0] > images[0].width() / 4  # the imagery, not a stray pixel
    assert boxes[0][2] < images[0].width() - 1  # and the layer's edge, not the whole map
    for image in images:
        left, top, right, bottom = boxes[0]
        colours = {image.pixel(x, y) for x in range(left, right, 4) for y in range(top, bottom, 4)}
        assert len(colours) > 50  # a rendered image, not a flat fill


def test_layers_removed_from_the_project_leave_the_compare_map(compared, project) -> None:
    _, results, compare = compared
    project.removeMapLayer(results["enhanced_max"].id())
    assert readable_name("enhanced_max") not in [compare.choice.itemText(i) for i in range(compare.choice.count())]
    assert compare.canvas.layers() == [project.mapLayer(compare.choice.currentData())]

    project.removeMapLayers([node.layerId() for node in result_groups(project)[0].findLayers()])
    assert compare.choice.count() == 0 and compare.canvas.layers() == []
    compare.canvas.refresh()
    compare.canvas.waitWhileRendering()


def test_closing_the_compare_map_unlinks_it_and_ticks_the_results_again(compared, plugin, qgis_iface, project) -> None:
    _, results, compare = compared
    project.removeMapLayer(results["naturalness"].id())
    compare.close()
    assert plugin.compare is None
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    assert sip.isdeleted(compare)
    remaining = [r for name, r in results.items() if name != "naturalness"]
    assert all(ticked(project, result) for result in remaining)

    main = qgis_iface.mapCanvas()
    main.zoomByFactor(2)  # nothing follows any more
    assert plugin.open_compare() is plugin.compare and plugin.compare is not None
    assert_same_view(main, plugin.compare.canvas)
