"""Result styles: attribution maps in magma over their own cut, enhanced images in the input's stretch.

Real sample bands stand in for the engine's files: a band for an attribution map, and the
model's bands in another order for an enhanced image, so these run without a trained CycleGAN.
"""
import shutil
from pathlib import Path

import pytest
from qgis.core import (
    QgsContrastEnhancement,
    QgsMultiBandColorRenderer,
    QgsRasterLayer,
    QgsSingleBandGrayRenderer,
)

from core.resources import SAMPLE
from natural_explain_plugin.result_layers import styled_layer, styled_layers
from natural_explain_plugin.result_styles import ResultStyler
from tests.plugin.conftest import assert_attribution_style, percentiles_2_98

INPUT_LIMITS = ((300.0, 1400.0), (350.0, 1500.0), (400.0, 1600.0))


def shown_bands(layer: QgsRasterLayer) -> list[str]:
    """The band names a multiband colour layer shows as red, green and blue."""
    renderer = layer.renderer()
    assert isinstance(renderer, QgsMultiBandColorRenderer)
    return [layer.bandName(n).split(": ")[-1] for n in (renderer.redBand(), renderer.greenBand(), renderer.blueBand())]


def shown_limits(layer: QgsRasterLayer) -> list[tuple[float, float]]:
    renderer = layer.renderer()
    return [(e.minimumValue(), e.maximumValue()) for e in (renderer.redContrastEnhancement(),
                                                           renderer.greenContrastEnhancement(),
                                                           renderer.blueContrastEnhancement())]


def enhanced_stand_ins(folder: Path, make_stack, model_bands: list[str]) -> dict[str, Path]:
    """Files laid out as the engine writes enhanced images, but in an order unlike the input's."""
    return {name: make_stack(folder / f"{name}.vrt", model_bands[::-1]) for name in ("enhanced_max", "enhanced_min")}


def test_attribution_map_gets_magma_over_its_own_cut_and_keeps_it_when_reopened(project, tmp_path) -> None:
    raster = Path(shutil.copyfile(SAMPLE / "B08.tif", tmp_path / "attribution_demo.tif"))
    layer = styled_layer(raster, "attribution_demo", ResultStyler(None))
    assert layer.name() == "attribution_demo"
    assert_attribution_style(layer)

    reopened = QgsRasterLayer(str(raster), "again", "gdal")  # QGIS loads attribution_demo.qml by itself
    assert_attribution_style(reopened)


def test_enhanced_images_take_the_input_renderers_bands_and_min_max(project, stack_layer, make_stack,
                                                                    model_bands, tmp_path) -> None:
    numbers = {stack_layer.bandName(n).split(": ")[-1]: n for n in range(1, stack_layer.bandCount() + 1)}
    renderer = QgsMultiBandColorRenderer(stack_layer.dataProvider(), numbers["B08"], numbers["B04"], numbers["B03"])
    for set_contrast, (low, high) in zip((renderer.setRedContrastEnhancement, renderer.setGreenContrastEnhancement,
                                          renderer.setBlueContrastEnhancement), INPUT_LIMITS):
        contrast = QgsContrastEnhancement(stack_layer.dataProvider().dataType(1))
        contrast.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        contrast.setMinimumValue(low)
        contrast.setMaximumValue(high)
        set_contrast(contrast)
    stack_layer.setRenderer(renderer)

    for layer in styled_layers(enhanced_stand_ins(tmp_path, make_stack, model_bands), stack_layer):
        assert shown_bands(layer) == ["B08", "B04", "B03"]
        assert shown_limits(layer) == list(INPUT_LIMITS)
        assert shown_bands(QgsRasterLayer(layer.source(), "again", "gdal")) == ["B08", "B04", "B03"]


def test_enhanced_images_of_an_input_shown_in_grey_get_true_colour_cut_on_the_input(
        project, stack_layer, make_stack, model_bands, tmp_path) -> None:
    stack_layer.setRenderer(QgsSingleBandGrayRenderer(stack_layer.dataProvider(), 1))
    expected = [percentiles_2_98(Path(stack_layer.source()), model_bands.index(b) + 1) for b in ("B04", "B03", "B02")]

    for layer in styled_layers(enhanced_stand_ins(tmp_path, make_stack, model_bands), stack_layer):
        assert shown_bands(layer) == ["B04", "B03", "B02"]
        for (low, high), (want_low, want_high) in zip(shown_limits(layer), expected):
            tolerance = 0.03 * (want_high - want_low)  # QGIS cuts a histogram of a sample
            assert (low, high) == pytest.approx((want_low, want_high), abs=tolerance)
