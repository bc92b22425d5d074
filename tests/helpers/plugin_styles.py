"""How result layers must look, and showing a layer in colour as a user would."""
from pathlib import Path

import numpy as np
import pytest
import rasterio
from qgis.core import QgsContrastEnhancement, QgsMultiBandColorRenderer, QgsRasterLayer, QgsSingleBandPseudoColorRenderer

MAGMA_ENDS = ("#000004", "#fcfdbf")
RDYLBU_ENDS = ("#d73027", "#4575b4")


def percentiles_2_98(raster: Path, band: int) -> tuple[float, float]:
    """The band's 2nd and 98th percentiles over its valid pixels, read independently of QGIS."""
    with rasterio.open(raster) as src:
        values = src.read(band, masked=True)
    low, high = np.percentile(values.compressed(), [2, 98])
    return float(low), float(high)


def assert_ramp(layer: QgsRasterLayer, ends: tuple[str, str], low: float, high: float, tolerance: float = 0.0) -> None:
    """The layer shows its band with a ramp from colour ends[0] at `low` to ends[1] at `high`."""
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
    ramp = renderer.shader().rasterShaderFunction()
    items = ramp.colorRampItemList()
    assert (items[0].color.name(), items[-1].color.name()) == ends
    assert (items[0].value, items[-1].value) == pytest.approx((low, high), rel=1e-6, abs=tolerance)
    low, high = items[0].value, items[-1].value
    assert (ramp.minimumValue(), ramp.maximumValue()) == pytest.approx((low, high))
    assert (renderer.classificationMin(), renderer.classificationMax()) == pytest.approx((low, high))


def assert_attribution_style(layer: QgsRasterLayer) -> None:
    """The layer shows its band with the magma ramp spread over the band's own 2-98 % cut, low to high."""
    items = layer.renderer().shader().rasterShaderFunction().colorRampItemList()
    assert (items[0].label, items[-1].label) == ("low importance", "high importance")
    low, high = percentiles_2_98(Path(layer.source()), 1)
    assert_ramp(layer, MAGMA_ENDS, low, high, tolerance=0.03 * (high - low))  # QGIS cuts a histogram of a sample


Limits = list[tuple[float, float]]


def show_bands(layer: QgsRasterLayer, numbers: tuple[int, int, int], limits: Limits) -> None:
    """Show `layer`'s bands `numbers` as red, green, blue, each stretched to its (min, max), as a user would."""
    renderer = QgsMultiBandColorRenderer(layer.dataProvider(), *numbers)
    for set_contrast, (low, high) in zip((renderer.setRedContrastEnhancement, renderer.setGreenContrastEnhancement,
                                          renderer.setBlueContrastEnhancement), limits):
        contrast = QgsContrastEnhancement(layer.dataProvider().dataType(1))
        contrast.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        contrast.setMinimumValue(low)
        contrast.setMaximumValue(high)
        set_contrast(contrast)
    layer.setRenderer(renderer)


def show_in_colour(layer: QgsRasterLayer, bands: list[str], limits: Limits) -> None:
    """Show `layer` as a user might: `bands` (by name) as red, green, blue, each stretched to its (min, max)."""
    numbers = {layer.bandName(n).split(": ")[-1]: n for n in range(1, layer.bandCount() + 1)}
    show_bands(layer, tuple(numbers[band] for band in bands), limits)


def shown_in_colour(layer: QgsRasterLayer) -> tuple[list[str], Limits]:
    """The band names a multiband colour layer shows as red, green, blue, and each one's (min, max)."""
    renderer = layer.renderer()
    assert isinstance(renderer, QgsMultiBandColorRenderer)
    bands = [layer.bandName(n).split(": ")[-1] for n in (renderer.redBand(), renderer.greenBand(), renderer.blueBand())]
    contrasts = (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
                 renderer.blueContrastEnhancement())
    return bands, [(c.minimumValue(), c.maximumValue()) for c in contrasts]
