"""A real gradcam + cyclegan run's layers as the analyst sees them: colours, true colour, names, metadata, legends.

Two real runs on a small AOI of the sample: one on a stack with its bands described by name,
one on a Build Virtual Raster stack of the sample's band files, which has no band
descriptions (QGIS calls its bands "Band 01", ...), so only the band mapping pairs them.
"""
import json
from datetime import datetime
from pathlib import Path

import pytest
import rasterio
from osgeo import gdal
from qgis.core import (
    QgsColorRampLegendNode,
    QgsLayerTreeModel,
    QgsMultiBandColorRenderer,
    QgsProject,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import Qt

from core.aoi import AOI
from core.pipeline import explain
from core.resources import DEFAULT_GENERATORS, DEFAULT_JEM, SAMPLE
from natural_explain_plugin.input_stretch import TRUE_COLOUR, input_band_numbers
from natural_explain_plugin.layer_names import output_name, readable_name
from natural_explain_plugin.result_checks import (
    colour_at_maximum,
    colour_at_pixel,
    drawn_at_maximum,
    extreme_pixel,
    true_colour_facts,
)
from natural_explain_plugin.result_layers import add_result_group, styled_layer, styled_layers
from natural_explain_plugin.result_styles import ResultStyler, training_log_px_range
from natural_explain_plugin.run_folder import group_name
from tests.helpers.plugin_styles import MAGMA_ENDS, RDYLBU_ENDS, percentiles_2_98, show_bands

pytestmark = [pytest.mark.slow,  # runs explain with the pattern generators
              pytest.mark.skipif(not DEFAULT_GENERATORS.exists(),
                                 reason="the bundled CycleGAN generators are not trained yet")]

AOI_HALF_WIDTH_M = 640.0
METHODS = ["gradcam", "cyclegan"]
READABLE = {"naturalness": "Naturalness", "attribution_gradcam": "Why: GradCAM (importance)",
            "attribution_cyclegan": "Why: pattern generators (importance)",
            "enhanced_max": "Pattern-enhanced: more natural", "enhanced_min": "Pattern-enhanced: less natural"}


def centre_aoi(raster: Path) -> AOI:
    ds = gdal.Open(str(raster))
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    cx, cy = x0 + dx * ds.RasterXSize / 2, y0 + dy * ds.RasterYSize / 2
    h = AOI_HALF_WIDTH_M
    return AOI.from_bounds(cx - h, cy - h, cx + h, cy + h, f"EPSG:{ds.GetSpatialRef().GetAuthorityCode(None)}")


def real_run(raster: Path, out: Path):
    return explain(raster, out, methods=METHODS, aoi=centre_aoi(raster), device="cpu")


@pytest.fixture(scope="module")
def undescribed_vrt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What Build Virtual Raster (separate bands) makes of the sample's band files: no band descriptions."""
    path = tmp_path_factory.mktemp("vrt") / "virginia_s2.vrt"
    built = gdal.BuildVRT(str(path), sorted(str(p) for p in SAMPLE.glob("*.tif")), separate=True,
                          resolution="highest")
    built = None  # closing the dataset writes the VRT  # noqa: F841
    written = gdal.Open(str(path))
    assert all(not written.GetRasterBand(n).GetDescription() for n in (1, 2, 3, 4))
    return path


@pytest.fixture(scope="module")
def vrt_run(undescribed_vrt: Path, tmp_path_factory: pytest.TempPathFactory):
    return real_run(undescribed_vrt, tmp_path_factory.mktemp("vrt_run") / "run")


@pytest.fixture(scope="module")
def stack_run(sample_stack: Path, tmp_path_factory: pytest.TempPathFactory):
    return real_run(sample_stack, tmp_path_factory.mktemp("stack_run") / "run")


def file_band(path: Path, name: str) -> int:
    """The 1-based band of `path` described as `name`, read with rasterio, not QGIS."""
    with rasterio.open(path) as src:
        return list(src.descriptions).index(name) + 1


def rgb_and_limits(layer: QgsRasterLayer) -> tuple[tuple[int, int, int], list[tuple[float, float]]]:
    renderer = layer.renderer()
    assert isinstance(renderer, QgsMultiBandColorRenderer)
    contrasts = (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
                 renderer.blueContrastEnhancement())
    return (renderer.redBand(), renderer.greenBand(), renderer.blueBand()), [(c.minimumValue(), c.maximumValue())
                                                                             for c in contrasts]


def by_output(layers: list[QgsRasterLayer]) -> dict[str, QgsRasterLayer]:
    return {output_name(layer): layer for layer in layers}


# Item 1: the most important pixels are drawn, in the ramp's end colour.

def test_attribution_maps_draw_values_beyond_their_cut_in_the_ramps_end_colours(project, stack_run,
                                                                                stack_layer) -> None:
    layers = by_output(styled_layers(stack_run.outputs, stack_layer, stack_run.run_json))
    for name in ("attribution_gradcam", "attribution_cyclegan"):
        layer = layers[name]
        ramp = layer.renderer().shader().rasterShaderFunction()
        column, row, largest = extreme_pixel(layer.source())
        assert largest > ramp.maximumValue()  # the top 2 % lie beyond the cut
        assert drawn_at_maximum(layer)
        assert colour_at_maximum(layer).name() == MAGMA_ENDS[1]
        assert colour_at_maximum(layer).alpha() == 255
        column, row, smallest = extreme_pixel(layer.source(), largest=False)
        if smallest < ramp.minimumValue():
            assert colour_at_pixel(layer, column, row).name() == MAGMA_ENDS[0]
        reopened = QgsRasterLayer(layer.source(), "again", "gdal")  # the saved style does not clip either
        assert colour_at_maximum(reopened).name() == MAGMA_ENDS[1]


def test_confidence_beyond_the_training_p1_and_p99_takes_the_end_colours(project, tmp_path) -> None:
    """A log p(x) map spanning past both training percentiles: the sample's B08 pattern, rescaled onto them."""
    low, high = training_log_px_range(DEFAULT_JEM)
    with rasterio.open(SAMPLE / "B08.tif") as src:
        values, profile = src.read(1).astype("float32"), src.profile
    margin = 0.2 * (high - low)
    values = low - margin + (values - values.min()) / (values.max() - values.min()) * (high - low + 2 * margin)
    raster = tmp_path / "confidence.tif"
    profile.update(dtype="float32", nodata=None)
    with rasterio.open(raster, "w", **profile) as dst:
        dst.write(values, 1)
    run_json = tmp_path / "run.json"
    run_json.write_text(json.dumps({"model": {"path": str(DEFAULT_JEM)}}), encoding="utf-8")

    layer = styled_layer(raster, "confidence", ResultStyler(None, run_json))
    column, row, largest = extreme_pixel(str(raster))
    assert largest > high
    assert colour_at_pixel(layer, column, row).name() == RDYLBU_ENDS[1]
    column, row, smallest = extreme_pixel(str(raster), largest=False)
    assert smallest < low
    assert colour_at_pixel(layer, column, row).name() == RDYLBU_ENDS[0]
    assert layer.name() == "Confidence (log p(x))"


# Item 2: enhanced images in true colour, paired and stretched with the input's bands.

def test_enhanced_images_of_an_undescribed_vrt_show_b04_b03_b02_with_the_inputs_limits(
        project, undescribed_vrt, vrt_run) -> None:
    input_layer = QgsRasterLayer(str(undescribed_vrt), "virginia_s2", "gdal")
    assert input_layer.bandName(4) == "Band 04"  # QGIS cannot tell which band is which
    project.addMapLayer(input_layer)
    input_bands = (4, 3, 2)  # sorted B01, B02, B03, B04, ...: B04/B03/B02 as the user shows true colour
    input_limits = [(420.0, 1900.0), (640.0, 1800.0), (950.0, 1930.0)]
    show_bands(input_layer, input_bands, input_limits)

    layers = by_output(styled_layers(vrt_run.outputs, input_layer, vrt_run.run_json))
    for name in ("enhanced_max", "enhanced_min"):
        layer, path = layers[name], vrt_run.outputs[name]
        assert rgb_and_limits(layer) == (tuple(file_band(path, b) for b in TRUE_COLOUR), input_limits)
        facts = true_colour_facts(layer, input_layer)
        assert facts["ok"] and facts["bands"] == list(TRUE_COLOUR) and facts["input_bands"] == list(input_bands)
        assert rgb_and_limits(QgsRasterLayer(str(path), "again", "gdal"))[1] == input_limits  # saved beside


def test_enhanced_images_of_an_input_in_qgis_default_colours_are_in_true_colour_with_its_limits_per_band(
        project, undescribed_vrt, vrt_run) -> None:
    """QGIS shows the stack's bands 1/2/3 (B01/B02/B03): the enhanced images show B04/B03/B02 instead,
    B03 and B02 with the input's own min/max for them and B04, which it does not show, cut at 2-98 %."""
    input_layer = QgsRasterLayer(str(undescribed_vrt), "virginia_s2", "gdal")
    project.addMapLayer(input_layer)
    (red, green, blue), limits = rgb_and_limits(input_layer)
    assert (red, green, blue) == (1, 2, 3)

    layer = by_output(styled_layers(vrt_run.outputs, input_layer, vrt_run.run_json))["enhanced_max"]
    path = vrt_run.outputs["enhanced_max"]
    numbers, shown = rgb_and_limits(layer)
    assert numbers == tuple(file_band(path, b) for b in TRUE_COLOUR)
    assert shown[1:] == [limits[2], limits[1]]  # B03 is the input's blue, B02 its green
    want_low, want_high = percentiles_2_98(undescribed_vrt, 4)
    assert shown[0] == pytest.approx((want_low, want_high), abs=0.03 * (want_high - want_low))
    assert true_colour_facts(layer, input_layer)["ok"]


def test_enhanced_images_of_a_described_stack_take_its_true_colour_bands_and_limits(
        project, sample_stack, stack_run, stack_layer, model_bands) -> None:
    input_bands = tuple(model_bands.index(b) + 1 for b in TRUE_COLOUR)
    input_limits = [(400.0, 1800.0), (600.0, 1700.0), (900.0, 1900.0)]
    show_bands(stack_layer, input_bands, input_limits)

    layers = by_output(styled_layers(stack_run.outputs, stack_layer, stack_run.run_json))
    for name in ("enhanced_max", "enhanced_min"):
        assert rgb_and_limits(layers[name]) == (tuple(file_band(stack_run.outputs[name], b) for b in TRUE_COLOUR),
                                                input_limits)
        assert true_colour_facts(layers[name], stack_layer)["ok"]


def test_a_band_mapping_recorded_in_run_json_pairs_the_bands(project, undescribed_vrt, vrt_run, tmp_path) -> None:
    """When the run records which input band fed each model band, that record wins over matching."""
    record = json.loads(vrt_run.run_json.read_text(encoding="utf-8"))
    record["input"]["band_numbers"] = {"B02": 5, "B03": 6, "B04": 7}
    run_json = tmp_path / "run.json"
    run_json.write_text(json.dumps(record), encoding="utf-8")
    input_layer = QgsRasterLayer(str(undescribed_vrt), "virginia_s2", "gdal")

    assert input_band_numbers(input_layer, TRUE_COLOUR, run_json) == {"B04": 7, "B03": 6, "B02": 5}
    assert input_band_numbers(input_layer, TRUE_COLOUR, vrt_run.run_json) == {"B04": 4, "B03": 3, "B02": 2}


# Item 5: names for people, metadata from run.json, legends with values.

def test_result_layers_are_named_for_people_and_described_by_their_run(project, stack_run, stack_layer) -> None:
    group = add_result_group(project, group_name("virginia_s2", datetime.now()), stack_run.outputs, stack_layer,
                             stack_run.run_json)
    layers = [node.layer() for node in group.findLayers()]
    assert [layer.name() for layer in layers] == [READABLE[name] for name in stack_run.outputs]
    assert [output_name(layer) for layer in layers] == list(stack_run.outputs)
    record = json.loads(stack_run.run_json.read_text(encoding="utf-8"))
    for layer in layers:
        abstract = layer.metadata().abstract()
        assert Path(record["model"]["path"]).name in abstract
        assert str(stack_run.run_json.parent) in abstract
        assert f"{record['timings']['total_s']:.1f} s" in abstract
        assert layer.metadata().title() == layer.name()
    gradcam = by_output(layers)["attribution_gradcam"].metadata().abstract()
    assert "Method: GradCAM" in gradcam
    assert "Method: pattern generators" in by_output(layers)["enhanced_max"].metadata().abstract()
    for name, path in stack_run.outputs.items():  # the output a file holds is saved in its style
        assert output_name(QgsRasterLayer(str(path), "reopened", "gdal")) == name
        assert readable_name(name) == READABLE[name]


def legend_texts(model: QgsLayerTreeModel, project: QgsProject, layer: QgsRasterLayer) -> list[str]:
    """What the Layers panel writes under `layer`: each legend line, a colour bar as its two end labels."""
    texts = []
    for node in model.layerLegendNodes(project.layerTreeRoot().findLayer(layer.id())):
        if isinstance(node, QgsColorRampLegendNode):
            texts += [node.settings().minimumLabel(), node.settings().maximumLabel()]
        else:
            texts.append(node.data(Qt.DisplayRole))
    return texts


def test_legends_say_what_the_values_are_and_label_them_with_numbers(project, stack_run, stack_layer) -> None:
    group = add_result_group(project, group_name("virginia_s2", datetime.now()), stack_run.outputs, stack_layer,
                             stack_run.run_json)
    layers = by_output([node.layer() for node in group.findLayers()])
    model = QgsLayerTreeModel(project.layerTreeRoot())

    naturalness = legend_texts(model, project, layers["naturalness"])
    assert naturalness[0] == "naturalness score, 0 to 1"
    assert naturalness[1:] == ["0 – anthropogenic (built-up, farmland)", "0.25", "0.5 – uncertain", "0.75",
                               "1 – natural (marsh, forest, water)"]
    for name in ("attribution_gradcam", "attribution_cyclegan"):
        layer = layers[name]
        ramp = layer.renderer().shader().rasterShaderFunction()
        title, low, high = legend_texts(model, project, layer)
        assert not title.startswith("Band") and "importance" in title
        assert low.startswith("≤ ") and low.endswith("(low importance)")
        assert high.startswith("≥ ") and high.endswith("(high importance)")
        low_value, high_value = float(low.split()[1]), float(high.split()[1])
        assert low_value == pytest.approx(ramp.minimumValue(), rel=5e-3, abs=1e-9)
        assert high_value == pytest.approx(ramp.maximumValue(), rel=5e-3)
        items = ramp.colorRampItemList()
        assert [float(item.label) for item in items[1:-1]] == pytest.approx([i.value for i in items[1:-1]], rel=5e-3)
