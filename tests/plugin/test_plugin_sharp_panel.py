"""Issue 15 §4 in the panel: "Sharpen edges (SSC)" and "Segmentation (U-Net)" as extra maps, estimated,
run after explain on a drawn AOI of the real sample, styled like naturalness, exported by a score."""
from pathlib import Path

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QEvent, QPoint, Qt

from natural_explain_plugin.dock.aoi_choice import AoiSource
from natural_explain_plugin.dock.cost_estimate import method_seconds
from natural_explain_plugin.dock.dock_widget import NaturalExplainDock
from natural_explain_plugin.dock.methods_panel import method_label, method_tooltip
from natural_explain_plugin.explain_request import EXTRA_MAPS, _progress_ends
from natural_explain_plugin.export_dialog import DEFAULT_SCORE, ExportDialog
from natural_explain_plugin.layer_names import SEGMENTATION, SSC, output_name
from tests.helpers.plugin_runs import click, open_dock, result_groups, run_to_end, show_layer_on_canvas

pytestmark = pytest.mark.usefixtures("forget_model_and_device")

PIXEL_M = 10.0


def draw_small_rectangle(dock: NaturalExplainDock, canvas, half: int = 25) -> None:  # noqa: ANN001
    """Draw a small rectangle around the canvas's centre with the dock's AOI tool, as a user does."""
    dock.aoi.set_source(AoiSource.RECTANGLE)
    tool = dock.aoi.tools[AoiSource.RECTANGLE]
    centre = QPoint(canvas.width() // 2, canvas.height() // 2)
    click(tool, canvas, QEvent.MouseButtonPress, centre - QPoint(half, half))
    click(tool, canvas, QEvent.MouseMove, centre)
    click(tool, canvas, QEvent.MouseButtonRelease, centre + QPoint(half, half))
    assert dock.aoi.shape() is not None


def group_layers(project: QgsProject) -> dict[str, QgsRasterLayer]:
    (group,) = result_groups(project)
    return {output_name(node.layer()): node.layer() for node in group.findLayers()}


def test_the_extra_maps_have_readable_names_and_tooltips_and_start_unticked(plugin, qgis_iface, project,
                                                                            stack_layer) -> None:
    dock = open_dock(plugin, qgis_iface, stack_layer)
    boxes = dock.methods.extra_boxes
    assert list(boxes) == list(EXTRA_MAPS) and not set(boxes) & set(dock.methods.boxes)
    assert boxes["ssc"].text() == "Sharpen edges (SSC)" == method_label("ssc")
    assert boxes["segment"].text() == "Segmentation (U-Net)" == method_label("segment")
    for name in EXTRA_MAPS:
        tip = boxes[name].toolTip()
        assert tip == method_tooltip(name) and len(tip) > 60 and "\n" not in tip
        assert boxes[name].isEnabled() and not boxes[name].isChecked()
        assert name not in dock.methods.methods()
    assert dock.methods.extra_maps() == []
    dock.methods.set_extra_maps(["segment"])
    assert dock.methods.extra_maps() == ["segment"] and dock._request_fields(stack_layer)["extra_maps"] == ("segment",)


def test_the_estimate_counts_the_ticked_extra_maps(plugin, qgis_iface, qgis_canvas, project, stack_layer) -> None:
    show_layer_on_canvas(qgis_canvas, stack_layer)
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.methods.set_methods([])
    draw_small_rectangle(dock, qgis_canvas)
    mpx = dock._computed_megapixels()
    assert mpx is not None
    without = dock._estimate(calibrated=False)
    for name in EXTRA_MAPS:
        assert dock.methods.extra_costs[name].text().startswith("~"), dock.methods.extra_costs[name].text()
    dock.methods.set_extra_maps(list(EXTRA_MAPS))
    with_both = dock._estimate(calibrated=False)
    assert with_both - without == pytest.approx(method_seconds("ssc", mpx) + method_seconds("segment", mpx))
    assert method_seconds("ssc", mpx) > method_seconds("naturalness", mpx)  # SSC computes naturalness again
    assert dock.estimate.text().startswith("whole run: ~")
    ends = _progress_ends((), list(EXTRA_MAPS))
    assert ends == sorted(ends) and 0 < ends[0] < ends[1] < ends[2] == 100.0


def test_a_drawn_aoi_run_with_both_extra_maps_adds_them_styled_on_the_input_grid_and_exports_by_score(
        plugin, qgis_iface, qgis_canvas, project, stack_layer, output_base) -> None:
    show_layer_on_canvas(qgis_canvas, stack_layer)
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.methods.set_methods([])
    dock.methods.set_extra_maps(list(EXTRA_MAPS))
    draw_small_rectangle(dock, qgis_canvas)
    task = dock.run()
    assert task.request.extra_maps == ("ssc", "segment")
    progress: list[float] = []
    task.progressChanged.connect(progress.append)
    assert run_to_end(task) == "completed", qgis_iface.messageBar().messages
    assert progress == sorted(progress) and progress[-1] == 100

    layers = group_layers(project)
    assert list(layers) == ["naturalness", SSC, SEGMENTATION]
    assert layers[SSC].name() == "Naturalness, sharpened (SSC)"
    assert layers[SEGMENTATION].name() == "Natural land (U-Net segmentation)"
    run_dir = task.request.out_dir
    assert (run_dir / "run.json").is_file()  # explain's record stays; each extra map keeps its own beside its map
    assert Path(layers[SSC].source()) == run_dir / "ssc" / "naturalness_ssc.tif"
    assert Path(layers[SEGMENTATION].source()) == run_dir / "segmentation" / "segmentation.tif"
    origin = stack_layer.extent()
    for name in (SSC, SEGMENTATION):
        layer = layers[name]
        assert layer.isValid() and layer.crs() == stack_layer.crs()
        assert layer.rasterUnitsPerPixelX() == pytest.approx(PIXEL_M)
        assert layer.rasterUnitsPerPixelY() == pytest.approx(PIXEL_M)
        for offset in ((layer.extent().xMinimum() - origin.xMinimum()) / PIXEL_M,
                       (origin.yMaximum() - layer.extent().yMaximum()) / PIXEL_M):
            assert offset == pytest.approx(round(offset), abs=1e-6)  # on the input's pixel grid
        assert layer.extent() == layers["naturalness"].extent()
        assert layer.extent().width() < origin.width() / 3  # the drawn AOI, not the whole layer
        assert layer.renderer().type() == layers["naturalness"].renderer().type() == "singlebandpseudocolor"
        with rasterio.open(layer.source()) as ds:
            values = ds.read(1, masked=True)
        assert values.count() > 0 and 0.0 <= float(values.min()) and float(values.max()) <= 1.0
        assert np.ptp(values.compressed()) > 0  # a map, not a constant

        dialog = ExportDialog(project)
        dialog.by_top.setChecked(True)
        dialog.score.setValue(0.9)
        dialog.map.setLayer(layer)
        assert dialog.by_score.isChecked() and dialog.score.value() == DEFAULT_SCORE
        assert dialog.request().threshold.score == DEFAULT_SCORE


def test_cancel_during_an_extra_map_leaves_no_layer_and_no_file(plugin, qgis_iface, qgis_canvas, project,
                                                                stack_layer, output_base) -> None:
    show_layer_on_canvas(qgis_canvas, stack_layer)
    dock = open_dock(plugin, qgis_iface, stack_layer)
    dock.methods.set_methods([])
    dock.methods.set_extra_maps(["segment"])
    draw_small_rectangle(dock, qgis_canvas)
    task = dock.run()
    explain_end = _progress_ends((), ["segment"])[0]
    canceled_at: list[float] = []

    def cancel_once_explain_is_done(percent: float) -> None:
        if not canceled_at and percent >= explain_end - 1e-6:
            canceled_at.append(percent)
            task.cancel()

    # Direct: cancel from the worker thread at explain's last report, after which explain commits its maps and
    # the segmenter's first poll stops the run: the maps explain had committed must go too.
    task.progressChanged.connect(cancel_once_explain_is_done, Qt.DirectConnection)
    assert run_to_end(task) == "terminated"
    assert canceled_at == [pytest.approx(explain_end)]  # explain had finished: its maps were written
    assert not result_groups(project)
    assert not list(output_base.rglob("*.tif")) and not list(output_base.rglob("run.json"))
    assert not list(output_base.rglob("*")), list(output_base.rglob("*"))  # the run folder is gone too
    assert dock.status.text() == "the last run was canceled or failed"
