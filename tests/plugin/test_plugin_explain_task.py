"""A run started as the dock starts it, on a real Sentinel-2 layer: styled maps on the input's grid, Cancel, messages."""
import json
from pathlib import Path

import pytest
from osgeo import gdal
from qgis.core import Qgis, QgsApplication, QgsRasterLayer
from qgis.PyQt.QtCore import Qt

from core.resources import DEFAULT_GENERATORS
from natural_explain_plugin.layer_names import output_name
from natural_explain_plugin.reporting import TITLE
from natural_explain_plugin.run_folder import GROUP_PREFIX
from tests.helpers.plugin_runs import result_groups, run_to_end
from tests.helpers.plugin_styles import assert_attribution_style, show_in_colour, shown_in_colour


@pytest.mark.slow
def test_a_run_adds_styled_naturalness_and_attribution_layers_on_the_input_grid(
        plugin, qgis_iface, project, stack_layer, output_base) -> None:
    task = plugin.start_explain(stack_layer, ["gradcam"])
    assert list(plugin.tasks) == [task] and task.request.methods == ("gradcam",)
    progress: list[float] = []
    task.progressChanged.connect(progress.append)
    assert run_to_end(task) == "completed", qgis_iface.messageBar().messages
    assert progress and all(0 <= p <= 100 for p in progress) and progress == sorted(progress)

    (group,) = result_groups(project)
    assert group.name().startswith(f"{GROUP_PREFIX} – virginia_s2 – ")
    layers: dict[str, QgsRasterLayer] = {output_name(node.layer()): node.layer() for node in group.findLayers()}
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
    assert not qgis_iface.messageBar().get_messages(Qgis.Warning)  # the sample is what the model was trained on


@pytest.mark.skipif(not DEFAULT_GENERATORS.exists(), reason="the bundled CycleGAN generators are not trained yet")
def test_cyclegan_run_adds_enhanced_images_in_the_input_layers_bands_and_stretch(
        plugin, qgis_iface, project, small_stack, output_base) -> None:
    layer = QgsRasterLayer(str(small_stack), "small", "gdal")
    project.addMapLayer(layer)
    limits = [(900.0, 3100.0), (300.0, 1200.0), (350.0, 1250.0)]
    show_in_colour(layer, ["B08", "B04", "B03"], limits)
    task = plugin.start_explain(layer, ["cyclegan"])
    assert run_to_end(task) == "completed", qgis_iface.messageBar().messages

    (group,) = result_groups(project)
    layers = {output_name(node.layer()): node.layer() for node in group.findLayers()}
    assert list(layers) == ["naturalness", "attribution_cyclegan", "enhanced_max", "enhanced_min"]
    assert_attribution_style(layers["attribution_cyclegan"])
    for name in ("enhanced_max", "enhanced_min"):
        assert shown_in_colour(layers[name]) == (["B08", "B04", "B03"], limits)
        assert layers[name].extent() == layer.extent() and layers[name].crs() == layer.crs()


def test_cancel_mid_run_leaves_no_result_layer_and_no_final_file(plugin, qgis_iface, project, stack_layer,
                                                                 output_base) -> None:
    task = plugin.start_explain(stack_layer, ["gradcam"])
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
    assert not list(output_base.rglob("*.tif")) and not list(output_base.rglob("run.json"))
    assert any("canceled" in m for m in qgis_iface.messageBar().get_messages(Qgis.Info))


def test_run_warnings_reach_the_message_bar_as_sentences_with_details_in_the_log(
        plugin, qgis_iface, project, small_stack, output_base, tmp_path) -> None:
    """A 20 m input is resampled to the model's 10 m: a real run whose result carries a warning."""
    coarse = tmp_path / "coarse_20m.tif"
    gdal.Translate(str(coarse), str(small_stack), xRes=20, yRes=20, resampleAlg="average")
    layer = QgsRasterLayer(str(coarse), "coarse", "gdal")
    project.addMapLayer(layer)
    logged: list[tuple[str, str, Qgis.MessageLevel]] = []
    QgsApplication.messageLog().messageReceived.connect(lambda *message: logged.append(message))
    task = plugin.start_explain(layer, [])
    assert run_to_end(task) == "completed", qgis_iface.messageBar().messages

    # the resampling, and the verdict on the input: a 20 m product read at 10 m lacks the fine detail of the
    # training imagery (core.input_statistics' fine-detail check), which is what the model then sees
    resampled, unlike = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert "resampled" in resampled and "coarser product resampled" in unlike
    assert not any("\n" in w or "Traceback" in w for w in (resampled, unlike))
    warning = resampled
    (group,) = result_groups(project)
    run_json = Path(group.findLayers()[0].layer().source()).with_name("run.json")
    details = [text for text, tag, level in logged if tag == TITLE and level == Qgis.Warning]
    assert any(warning.removeprefix(f"{TITLE}:") in text and str(run_json) in text for text in details)


def test_layer_missing_model_bands_gets_one_sentence_on_the_message_bar(plugin, qgis_iface, project, output_base,
                                                                        make_stack, tmp_path) -> None:
    red_green = QgsRasterLayer(str(make_stack(tmp_path / "rg.vrt", ["B04", "B03"])), "rg", "gdal")
    project.addMapLayer(red_green)
    task = plugin.start_explain(red_green, [])
    assert run_to_end(task) == "terminated"
    assert not result_groups(project)
    (warning,) = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert "B02" in warning and "naturalness_s2_rgb" in warning  # what is missing, and the model that would fit
    assert "Traceback" not in warning and "\n" not in warning
    assert not qgis_iface.messageBar().get_messages(Qgis.Critical)
    assert not list(output_base.rglob("naturalness.tif"))


@pytest.mark.slow
def test_an_rgb_layer_is_explained_by_the_bundled_rgb_model(plugin, project, output_base, make_stack, tmp_path) -> None:
    rgb = QgsRasterLayer(str(make_stack(tmp_path / "rgb.vrt", ["B04", "B03", "B02"])), "rgb", "gdal")
    project.addMapLayer(rgb)
    assert run_to_end(plugin.start_explain(rgb, [])) == "completed"
    (run_json,) = output_base.rglob("run.json")
    record = json.loads(run_json.read_text())
    assert record["model"]["chosen_automatically"] and Path(record["model"]["path"]).stem == "naturalness_s2_rgb"
