"""Explain naturalness on a real Sentinel-2 layer: styled maps on the input's grid, Cancel, errors."""
from pathlib import Path

import pytest
from pytest_qgis.utils import wait_until
from qgis.core import Qgis, QgsLayerTreeGroup, QgsProject, QgsRasterLayer, QgsTask
from qgis.PyQt.QtCore import Qt

from core.resources import DEFAULT_GENERATORS

from natural_explain_plugin.run_folder import GROUP_PREFIX
from tests.plugin.conftest import assert_attribution_style, show_in_colour, shown_in_colour

RUN_TIMEOUT_MS = 120_000


def result_groups(project: QgsProject) -> list[QgsLayerTreeGroup]:
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


def test_action_adds_styled_naturalness_and_attribution_layers_on_the_input_grid(
        plugin, qgis_iface, project, stack_layer, output_base, dialog_answer) -> None:
    dialog_answer.methods = ["gradcam"]
    qgis_iface.setActiveLayer(stack_layer)
    plugin.explain_active_layer()
    (task,) = plugin.tasks
    assert task.request.methods == ("gradcam",)
    assert run_to_end(task) == "completed", qgis_iface.messageBar().messages

    (group,) = result_groups(project)
    assert group.name().startswith(f"{GROUP_PREFIX} – virginia_s2 – ")
    layers: dict[str, QgsRasterLayer] = {node.layer().name(): node.layer() for node in group.findLayers()}
    assert list(layers) == ["naturalness", "attribution_gradcam"]
    for layer in layers.values():
        assert layer.isValid()
        assert layer.crs() == stack_layer.crs()
        assert layer.extent() == stack_layer.extent()
        assert (layer.width(), layer.height()) == (stack_layer.width(), stack_layer.height())
        assert layer.renderer().type() == "singlebandpseudocolor"
        assert Path(layer.source()).with_suffix(".qml").is_file()
    assert_attribution_style(layers["attribution_gradcam"])

    source = Path(layers["naturalness"].source())
    assert source.name == "naturalness.tif" and source.parent.parent == output_base
    assert source.parent.name.startswith("virginia_s2_")
    assert Path(layers["attribution_gradcam"].source()) == source.with_name("attribution_gradcam.tif")
    assert (source.parent / "run.json").is_file()
    assert any(str(source.parent) in m for m in qgis_iface.messageBar().get_messages(Qgis.Success))


@pytest.mark.skipif(not DEFAULT_GENERATORS.exists(), reason="the bundled CycleGAN generators are not trained yet")
def test_cyclegan_run_adds_enhanced_images_in_the_input_layers_bands_and_stretch(
        plugin, qgis_iface, project, small_stack, output_base, dialog_answer) -> None:
    layer = QgsRasterLayer(str(small_stack), "small", "gdal")
    project.addMapLayer(layer)
    limits = [(900.0, 3100.0), (300.0, 1200.0), (350.0, 1250.0)]
    show_in_colour(layer, ["B08", "B04", "B03"], limits)
    dialog_answer.methods = ["cyclegan"]
    qgis_iface.setActiveLayer(layer)
    task = plugin.explain_active_layer()
    assert run_to_end(task) == "completed", qgis_iface.messageBar().messages

    (group,) = result_groups(project)
    layers = {node.layer().name(): node.layer() for node in group.findLayers()}
    assert list(layers) == ["naturalness", "attribution_cyclegan", "enhanced_max", "enhanced_min"]
    assert_attribution_style(layers["attribution_cyclegan"])
    for name in ("enhanced_max", "enhanced_min"):
        assert shown_in_colour(layers[name]) == (["B08", "B04", "B03"], limits)
        assert layers[name].extent() == layer.extent() and layers[name].crs() == layer.crs()


def test_cancel_mid_run_leaves_no_result_layer_and_no_final_file(plugin, qgis_iface, project, stack_layer,
                                                                 output_base) -> None:
    qgis_iface.setActiveLayer(stack_layer)
    task = plugin.explain_active_layer()
    canceled_at = []

    def cancel_on_first_progress(percent: float) -> None:
        if not canceled_at and percent < 100:
            canceled_at.append(percent)
            task.cancel()

    # Direct: cancel from the worker thread at once, before the engine asks for the next batch.
    task.progressChanged.connect(cancel_on_first_progress, Qt.DirectConnection)
    assert run_to_end(task) == "terminated"
    assert canceled_at and 0 < canceled_at[0] < 100
    assert not result_groups(project)
    assert task.request.methods == ("gradcam",)  # the first run's default
    assert not list(output_base.rglob("*.tif"))
    assert any("canceled" in m for m in qgis_iface.messageBar().get_messages(Qgis.Info))


def test_layer_missing_model_bands_gets_one_sentence_on_the_message_bar(plugin, qgis_iface, project, output_base,
                                                                        make_stack, tmp_path) -> None:
    rgb = QgsRasterLayer(str(make_stack(tmp_path / "rgb.vrt", ["B04", "B03", "B02"])), "rgb", "gdal")
    project.addMapLayer(rgb)
    task = plugin.start_explain(rgb, [])
    assert run_to_end(task) == "terminated"
    assert not result_groups(project)
    (warning,) = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert "B08" in warning and "Traceback" not in warning and "\n" not in warning
    assert not qgis_iface.messageBar().get_messages(Qgis.Critical)
    assert not list(output_base.rglob("naturalness.tif"))
