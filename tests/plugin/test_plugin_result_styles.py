"""Result styles: attribution maps in magma over their own cut, enhanced images in the input's stretch.

Real sample bands stand in for the engine's files: a band for an attribution map, and the
model's bands in another order for an enhanced image, so these run without a trained CycleGAN.
"""
import shutil
from pathlib import Path

import pytest
from qgis.core import QgsRasterLayer, QgsSingleBandGrayRenderer

from core.resources import SAMPLE
from natural_explain_plugin.layer_names import output_name
from natural_explain_plugin.result_layers import styled_layer, styled_layers
from natural_explain_plugin.result_styles import ResultStyler
from tests.helpers.plugin_styles import assert_attribution_style, percentiles_2_98, show_in_colour, shown_in_colour

INPUT_LIMITS = [(300.0, 1400.0), (350.0, 1500.0), (400.0, 1600.0)]


def enhanced_stand_ins(folder: Path, make_stack, model_bands: list[str]) -> dict[str, Path]:
    """Files laid out as the engine writes enhanced images, but in an order unlike the input's."""
    return {name: make_stack(folder / f"{name}.vrt", model_bands[::-1]) for name in ("enhanced_max", "enhanced_min")}


def test_attribution_map_gets_magma_over_its_own_cut_and_keeps_it_when_reopened(project, tmp_path) -> None:
    raster = Path(shutil.copyfile(SAMPLE / "B08.tif", tmp_path / "attribution_demo.tif"))
    layer = styled_layer(raster, "attribution_demo", ResultStyler(None))
    assert layer.name() == "Why: demo (importance)"
    assert_attribution_style(layer)

    reopened = QgsRasterLayer(str(raster), "again", "gdal")  # QGIS loads attribution_demo.qml by itself
    assert_attribution_style(reopened)
    assert output_name(reopened) == "attribution_demo"


def test_enhanced_images_take_the_input_renderers_bands_and_min_max(project, stack_layer, make_stack,
                                                                    model_bands, tmp_path) -> None:
    show_in_colour(stack_layer, ["B08", "B04", "B03"], INPUT_LIMITS)

    for layer in styled_layers(enhanced_stand_ins(tmp_path, make_stack, model_bands), stack_layer):
        assert shown_in_colour(layer) == (["B08", "B04", "B03"], INPUT_LIMITS)
        assert shown_in_colour(QgsRasterLayer(layer.source(), "again", "gdal")) == (["B08", "B04", "B03"], INPUT_LIMITS)


def test_enhanced_images_of_an_input_shown_in_grey_get_true_colour_cut_on_the_input(
        project, stack_layer, make_stack, model_bands, tmp_path) -> None:
    stack_layer.setRenderer(QgsSingleBandGrayRenderer(stack_layer.dataProvider(), 1))
    expected = [percentiles_2_98(Path(stack_layer.source()), model_bands.index(b) + 1) for b in ("B04", "B03", "B02")]

    for layer in styled_layers(enhanced_stand_ins(tmp_path, make_stack, model_bands), stack_layer):
        bands, limits = shown_in_colour(layer)
        assert bands == ["B04", "B03", "B02"]
        for (low, high), (want_low, want_high) in zip(limits, expected):
            tolerance = 0.03 * (want_high - want_low)  # QGIS cuts a histogram of a sample
            assert (low, high) == pytest.approx((want_low, want_high), abs=tolerance)
