"""natural_explain:ssc and natural_explain:segment, the pixel-sharp naturalness maps, from Processing and qgis_process.

Both run on a small area of the real sample stack with the bundled models: the area's
128 x 128 pixels (sample rows 64-191, columns 0-127) hold farmland, marsh and creeks, so phase 1
of SSC is confident about both classes there, and the training labels (farmland) cover its top rows.
"""
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProcessingException, QgsRasterLayer, QgsSingleBandPseudoColorRenderer

import core.ssc
from core.resources import DEFAULT_MODEL, MODELS, RESOURCES
from natural_explain_plugin.algorithms import ssc as ssc_algorithm
from tests.helpers.plugin_runs import feedback_that_cancels_mid_run

SSC_ID = "natural_explain:ssc"
SEGMENT_ID = "natural_explain:segment"
LABELS = RESOURCES / "labels" / "virginia_s2_train.geojson"
PIXELS = 128
ROW0 = 64


def mixed_aoi(stack: Path) -> str:
    """A Processing extent over the 128 x 128 pixels from sample row 64, column 0, in the stack's CRS."""
    with rasterio.open(stack) as src:
        x0, y0 = src.transform * (0, ROW0)
        x1, y1 = src.transform * (PIXELS, ROW0 + PIXELS)
        return f"{x0},{x1},{y1},{y0} [{src.crs.to_string()}]"


def assert_on_input_grid_in_0_1(output: Path, stack: Path) -> None:
    """`output` is the AOI's window of the input grid (same CRS, pixel size, alignment), valued in [0, 1]."""
    with rasterio.open(stack) as src, rasterio.open(output) as out:
        assert out.crs == src.crs
        assert (out.transform.a, out.transform.e) == (src.transform.a, src.transform.e)
        col, row = ~src.transform * (out.transform.c, out.transform.f)
        assert (col, row) == pytest.approx((0, ROW0))
        assert (out.width, out.height) == (PIXELS, PIXELS)
        values = out.read(1, masked=True)
    assert values.count() == PIXELS * PIXELS  # the sample has no nodata here
    assert 0.0 <= values.min() and values.max() <= 1.0


def assert_styled_as_naturalness(output: Path) -> None:
    """The style saved beside OUTPUT, which QGIS loads with the file, is the naturalness ramp."""
    assert output.with_suffix(".qml").is_file()
    layer = QgsRasterLayer(str(output), "map", "gdal")
    assert isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer)
    items = layer.renderer().shader().rasterShaderFunction().colorRampItemList()
    assert (items[0].value, items[-1].value) == (0.0, 1.0)


def no_hidden_folder(folder: Path) -> bool:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_the_plugin_spells_core_ssc_learners_and_defaults_alike() -> None:
    """The algorithm names them without importing the engine at QGIS start; they must not drift apart."""
    assert ssc_algorithm.LEARNERS == core.ssc.LEARNERS and ssc_algorithm.LEARNERS[0] == core.ssc.DEFAULT_LEARNER
    assert ssc_algorithm.DEFAULT_CONFIDENCE == core.ssc.DEFAULT_CONFIDENCE
    assert ssc_algorithm.DEFAULT_SAMPLES_PER_CLASS == core.ssc.DEFAULT_SAMPLES_PER_CLASS
    assert ssc_algorithm.DEFAULT_SEED == core.ssc.DEFAULT_SEED


def test_ssc_writes_its_map_on_the_input_grid_with_figure_records_and_scores(plugin, qgis_processing, sample_stack,
                                                                             tmp_path) -> None:
    import processing

    output = tmp_path / "maps" / "sharp.tif"
    result = processing.run(SSC_ID, {"INPUT": str(sample_stack), "AOI": mixed_aoi(sample_stack), "DEVICE": 1,
                                     "LABELS": str(LABELS), "LABEL_FIELD": "label", "SAMPLES_PER_CLASS": 2000,
                                     "OUTPUT": str(output)})
    assert Path(result["OUTPUT"]) == output
    assert_on_input_grid_in_0_1(output, sample_stack)
    assert_styled_as_naturalness(output)
    figure, record = tmp_path / "maps" / "sharp.ssc.png", tmp_path / "maps" / "sharp.ssc.json"
    assert (Path(result["FIGURE"]), Path(result["JSON"])) == (figure, record)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ssc = json.loads(record.read_text())
    assert ssc["outputs"] == {"naturalness_ssc": str(output.resolve()), "figure": str(figure.resolve())}
    assert ssc["phase1"]["run_json"] == str(output.with_name("sharp.run.json").resolve())
    assert ssc["learner"]["name"] == "mlp" and ssc["fallback"] is None
    phase1 = json.loads(output.with_name("sharp.run.json").read_text())
    assert phase1["outputs"] == {} and Path(phase1["model"]["path"]).stem == DEFAULT_MODEL.stem
    assert 0.5 < result["AGREEMENT"] <= 1.0
    assert 0.5 < result["CNN_F1"] <= 1.0 and 0.5 < result["SSC_F1"] <= 1.0
    assert ssc["scores"]["ssc"]["pixel_weighted_f1"] == pytest.approx(result["SSC_F1"])
    assert ssc["scores"]["ssc"]["pixels"] > 1000 and ssc["labels"]["field"] == "label"
    assert no_hidden_folder(output.parent)


def test_ssc_with_a_random_forest_and_no_labels_has_no_scores(plugin, qgis_processing, sample_stack, tmp_path) -> None:
    import processing

    output = tmp_path / "rf.tif"
    result = processing.run(SSC_ID, {"INPUT": str(sample_stack), "AOI": mixed_aoi(sample_stack), "DEVICE": 1,
                                     "LEARNER": 1, "SAMPLES_PER_CLASS": 2000, "OUTPUT": str(output)})
    assert_on_input_grid_in_0_1(output, sample_stack)
    assert json.loads((tmp_path / "rf.ssc.json").read_text())["learner"]["name"] == "rf"
    assert result["CNN_F1"] is None and result["SSC_F1"] is None


@pytest.mark.slow
def test_segment_writes_its_map_on_the_input_grid(plugin, qgis_processing, sample_stack, tmp_path) -> None:
    import processing

    output = tmp_path / "maps" / "segments.tif"
    result = processing.run(SEGMENT_ID, {"INPUT": str(sample_stack), "AOI": mixed_aoi(sample_stack), "DEVICE": 1,
                                         "TILE_SIZE": 128, "OUTPUT": str(output)})
    assert Path(result["OUTPUT"]) == output
    assert_on_input_grid_in_0_1(output, sample_stack)
    assert_styled_as_naturalness(output)
    record = json.loads(output.with_name("segments.run.json").read_text())
    assert record["outputs"] == {"segmentation": str(output.resolve())}
    assert Path(record["model"]["path"]).stem == "segmenter_s2"
    assert no_hidden_folder(output.parent)


@pytest.mark.parametrize(("algorithm", "model", "kind"), [(SEGMENT_ID, DEFAULT_MODEL, "segmenter"),
                                                          (SSC_ID, MODELS / "segmenter_s2.json", "classifier")])
def test_a_model_of_the_wrong_kind_is_a_one_line_processing_error(plugin, qgis_processing, sample_stack, tmp_path,
                                                                   algorithm, model, kind) -> None:
    import processing

    output = tmp_path / "out" / "map.tif"
    with pytest.raises(QgsProcessingException) as raised:
        processing.run(algorithm, {"INPUT": str(sample_stack), "AOI": mixed_aoi(sample_stack), "MODEL": str(model),
                                   "DEVICE": 1, "OUTPUT": str(output)})
    message = str(raised.value).strip()
    assert kind in message and "\n" not in message and "Traceback" not in message
    assert list(output.parent.iterdir()) == []


def test_labels_naming_no_class_of_the_model_are_refused_in_one_line(plugin, qgis_processing, sample_stack,
                                                                    tmp_path) -> None:
    """Checked before phase 1 runs: the land-cover reference layer's classes are not the model's."""
    import processing

    output = tmp_path / "out" / "map.tif"
    with pytest.raises(QgsProcessingException) as raised:
        processing.run(SSC_ID, {"INPUT": str(sample_stack), "AOI": mixed_aoi(sample_stack), "DEVICE": 1,
                                "LABELS": str(RESOURCES / "labels" / "virginia_s2_water_wetland.geojson"),
                                "LABEL_FIELD": "class", "OUTPUT": str(output)})
    message = str(raised.value).strip()
    assert "names a natural class of the model" in message and "open_water" in message and "\n" not in message
    assert list(output.parent.iterdir()) == []


@pytest.mark.parametrize("algorithm", [SSC_ID, SEGMENT_ID])
def test_cancel_mid_run_raises_and_leaves_no_output(plugin, qgis_processing, sample_stack, tmp_path, algorithm) -> None:
    import processing

    feedback, canceled_at = feedback_that_cancels_mid_run()
    output = tmp_path / "out" / "map.tif"
    tiles = {"TILE_SIZE": 64} if algorithm == SEGMENT_ID else {}  # several batches, so progress is reported mid-run
    with pytest.raises(QgsProcessingException, match="canceled"):
        processing.run(algorithm, {"INPUT": str(sample_stack), "AOI": mixed_aoi(sample_stack), "DEVICE": 1, **tiles,
                                   "OUTPUT": str(output)}, feedback=feedback)
    assert canceled_at
    assert list(output.parent.iterdir()) == []


@pytest.mark.slow
def test_qgis_process_runs_segment_on_a_small_aoi(qgis_process, sample_stack, tmp_path) -> None:
    output = tmp_path / "segments.tif"
    run = qgis_process(["run", SEGMENT_ID, "--", f"INPUT={sample_stack}", f"AOI={mixed_aoi(sample_stack)}",
                        "DEVICE=1", f"OUTPUT={output}"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert_on_input_grid_in_0_1(output, sample_stack)
    assert output.with_name("segments.run.json").is_file() and output.with_suffix(".qml").is_file()
    assert np.isfinite(json.loads(output.with_name("segments.run.json").read_text())["timings"]["total_s"])
