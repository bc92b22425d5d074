"""natural_explain:explain and natural_explain:evaluate from Processing and qgis_process, on the real sample."""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from osgeo import ogr
from qgis.core import (
    QgsProcessingException,
    QgsRasterLayer,
    QgsVectorLayer,
)

from core.resources import DEFAULT_GENERATORS, RESOURCES
from tests.helpers.plugin_runs import AOI_HALF_WIDTH_M, assert_on_input_grid, centre_aoi, feedback_that_cancels_mid_run
from tests.helpers.plugin_styles import assert_attribution_style, show_in_colour, shown_in_colour

pytestmark = pytest.mark.slow  # Processing and qgis_process runs end to end

EXPLAIN_ID = "natural_explain:explain"
EVALUATE_ID = "natural_explain:evaluate"
LABELS = RESOURCES / "labels" / "virginia_s2_train.geojson"


def test_explain_writes_every_chosen_map_on_the_input_grid_with_its_style(plugin, qgis_processing, sample_stack,
                                                                          tmp_path) -> None:
    import processing

    folder = tmp_path / "maps"
    result = processing.run(EXPLAIN_ID, {"INPUT": str(sample_stack), "AOI": centre_aoi(sample_stack, AOI_HALF_WIDTH_M),
                                         "METHODS": ["gradcam"], "DEVICE": 1, "OUTPUT_FOLDER": str(folder)})
    written = {p.name for p in folder.iterdir()}
    assert written == {"naturalness.tif", "naturalness.qml", "attribution_gradcam.tif", "attribution_gradcam.qml",
                       "run.json"}
    assert Path(result["OUTPUT_FOLDER"]) == folder
    assert Path(result["NATURALNESS"]) == folder / "naturalness.tif"
    assert [Path(p).name for p in result["LAYERS"]] == ["naturalness.tif", "attribution_gradcam.tif"]
    assert json.loads(Path(result["RUN_JSON"]).read_text())["parameters"]["methods"] == ["gradcam"]
    for name in ("naturalness.tif", "attribution_gradcam.tif"):
        assert_on_input_grid(folder / name, sample_stack)
    assert_attribution_style(QgsRasterLayer(str(folder / "attribution_gradcam.tif"), "reopened", "gdal"))


def test_cancel_mid_run_raises_and_leaves_no_final_named_map(plugin, qgis_processing, sample_stack, tmp_path) -> None:
    import processing

    feedback, canceled_at = feedback_that_cancels_mid_run()
    folder = tmp_path / "maps"
    with pytest.raises(QgsProcessingException, match="canceled"):
        processing.run(EXPLAIN_ID, {"INPUT": str(sample_stack), "METHODS": ["gradcam"], "OUTPUT_FOLDER": str(folder)},
                       feedback=feedback)
    assert canceled_at
    assert [p.name for p in folder.glob("*") if not p.name.startswith(".")] == []


def test_qgis_process_runs_explain_with_methods(qgis_process, sample_stack, tmp_path) -> None:
    folder = tmp_path / "maps"
    run = qgis_process(["run", EXPLAIN_ID, "--", f"INPUT={sample_stack}", "METHODS=gradcam",
                        f"AOI={centre_aoi(sample_stack, AOI_HALF_WIDTH_M)}", f"OUTPUT_FOLDER={folder}"])
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("naturalness.tif", "attribution_gradcam.tif"):
        assert_on_input_grid(folder / name, sample_stack)
        assert (folder / name).with_suffix(".qml").is_file()


def test_qgis_process_runs_explain_with_methods_by_number(qgis_process, sample_stack, tmp_path) -> None:
    """`qgis_process help` lists the methods by number, so METHODS=2,4 must run gradcam and deeplift."""
    folder = tmp_path / "maps"
    run = qgis_process(["run", EXPLAIN_ID, "--", f"INPUT={sample_stack}", "METHODS=2,4", "DEVICE=1",
                        f"AOI={centre_aoi(sample_stack, AOI_HALF_WIDTH_M)}", f"OUTPUT_FOLDER={folder}"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads((folder / "run.json").read_text())["parameters"]["methods"] == ["gradcam", "deeplift"]
    for name in ("attribution_gradcam.tif", "attribution_deeplift.tif"):
        assert_on_input_grid(folder / name, sample_stack)


@pytest.mark.skipif(not DEFAULT_GENERATORS.exists(), reason="the bundled CycleGAN generators are not trained yet")
def test_enhanced_images_from_explain_take_the_input_layers_bands_and_min_max(plugin, qgis_processing, project,
                                                                               stack_layer, tmp_path) -> None:
    import processing

    limits = [(410.0, 1310.0), (420.0, 1320.0), (430.0, 1330.0)]
    show_in_colour(stack_layer, ["B04", "B03", "B02"], limits)

    folder = tmp_path / "maps"
    processing.run(EXPLAIN_ID, {"INPUT": stack_layer.id(), "AOI": centre_aoi(Path(stack_layer.source()), AOI_HALF_WIDTH_M),
                                "METHODS": ["cyclegan"], "DEVICE": 1, "OUTPUT_FOLDER": str(folder)})
    for name in ("enhanced_max", "enhanced_min"):
        layer = QgsRasterLayer(str(folder / f"{name}.tif"), name, "gdal")  # with the style saved beside it
        assert shown_in_colour(layer) == (["B04", "B03", "B02"], limits)

def fake_evaluate(calls: list) -> SimpleNamespace:
    """A stand-in for core.evaluate that records its arguments and writes the three files it promises."""

    def evaluate(input_path: str, out_dir: Path, **kwargs) -> SimpleNamespace:
        calls.append({"input_path": input_path, "out_dir": Path(out_dir), **kwargs})
        Path(out_dir).mkdir(parents=True)
        paths = [Path(out_dir) / name for name in ("evaluation.json", "evaluation.md", "comparison.png")]
        for path in paths:
            path.write_text("")
        return SimpleNamespace(json_path=paths[0], markdown_path=paths[1], figure_path=paths[2], rows=[])

    return SimpleNamespace(evaluate=evaluate)


def test_evaluate_hands_the_engine_a_label_file_with_only_the_features_the_layer_shows(
        plugin, qgis_processing, project, sample_stack, tmp_path, monkeypatch) -> None:
    """A filtered layer is no file OGR can read as QGIS shows it, so Processing exports what it shows."""
    import processing

    calls: list[dict] = []
    monkeypatch.setitem(sys.modules, "core.evaluate", fake_evaluate(calls))
    natural_only = QgsVectorLayer(str(LABELS), "natural labels", "ogr")
    natural_only.setSubsetString("\"label\" = 'natural'")
    project.addMapLayer(natural_only)
    folder = tmp_path / "evaluation"
    result = processing.run(EVALUATE_ID, {
        "INPUT": str(sample_stack), "LABELS": natural_only.id(), "LABEL_FIELD": "label", "REFERENCE_CLASS": "natural",
        "METHODS": ["gradcam", "deeplift"], "DEVICE": 1, "OUTPUT_FOLDER": str(folder)})

    (call,) = calls
    assert call["input_path"] == str(sample_stack) and call["out_dir"] == folder
    assert (call["label_field"], call["reference_class"], call["q"]) == ("label", "natural", 10.0)
    assert (call["methods"], call["model"], call["aoi"], call["device"]) == (["gradcam", "deeplift"], None, None, "cpu")
    assert not {"tiles", "draws", "tile_size"} & set(call)  # left empty: the engine's default
    assert call["randomization"] is True
    labels = ogr.Open(call["labels"])
    assert {feature.GetField("label") for feature in labels.GetLayer(0)} == {"natural"}
    assert result["JSON"] == str(folder / "evaluation.json") and Path(result["FIGURE"]).name == "comparison.png"


def test_evaluate_hands_the_engine_its_tile_size(plugin, qgis_processing, sample_stack, tmp_path, monkeypatch) -> None:
    import processing

    calls: list[dict] = []
    monkeypatch.setitem(sys.modules, "core.evaluate", fake_evaluate(calls))
    processing.run(EVALUATE_ID, {"INPUT": str(sample_stack), "LABELS": str(LABELS), "LABEL_FIELD": "label",
                                 "METHODS": "2", "TILE_SIZE": 64, "TILES": 3, "OUTPUT_FOLDER": str(tmp_path / "e")})
    (call,) = calls
    assert (call["tile_size"], call["tiles"], call["methods"]) == (64, 3, ["gradcam"])


def test_evaluate_writes_its_table_json_and_figure(plugin, qgis_processing, sample_stack, tmp_path) -> None:
    import processing

    folder = tmp_path / "evaluation"
    result = processing.run(EVALUATE_ID, {
        "INPUT": str(sample_stack), "LABELS": str(LABELS),
        "LABEL_FIELD": "label", "REFERENCE_CLASS": "natural", "METHODS": ["gradcam"], "TILES": 2, "DEVICE": 1,
        "OUTPUT_FOLDER": str(folder)})
    assert Path(result["JSON"]) == folder / "evaluation.json"
    assert Path(result["MARKDOWN"]) == folder / "evaluation.md"
    assert Path(result["FIGURE"]) == folder / "comparison.png"
    for key in ("JSON", "MARKDOWN", "FIGURE"):
        assert Path(result[key]).is_file()
    assert "gradcam" in Path(result["MARKDOWN"]).read_text()
    record = json.loads(Path(result["JSON"]).read_text())
    assert record["parameters"]["tiles"] == 2 and record["reference"]["class"] == "natural"
    assert sorted(row["method"] for row in record["rows"]) == ["brightness", "gradcam", "random"]
