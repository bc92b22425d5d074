"""Carry the input layer's colour stretch over to images in the model's bands.

The enhanced images are the input pushed towards more or less natural, in the input's own
units. Shown with the input's bands and per-channel min/max, a pixel that looks brighter is
brighter, so flicking between the input and an enhanced image shows only what changed.
Bands are paired by name, because the enhanced images hold the model's bands in the model's
order, not the input's.
"""
import dataclasses
from typing import Sequence

from qgis.core import (
    QgsContrastEnhancement,
    QgsMultiBandColorRenderer,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
    QgsRasterRenderer,
)

from .layer_statistics import cumulative_cut

TRUE_COLOUR = ("B04", "B03", "B02")


@dataclasses.dataclass(frozen=True)
class RgbStretch:
    """The bands shown as red, green and blue (by name) and each channel's (min, max)."""

    bands: tuple[str, str, str]
    limits: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]


def band_numbers(layer: QgsRasterLayer) -> dict[str, int]:
    """Band name -> 1-based band number, names normalised as the engine matches them ('b2' -> 'B02')."""
    from core.raster.sources import normalize_band_name  # loads rasterio: only once results exist

    numbers: dict[str, int] = {}
    for number in range(1, layer.bandCount() + 1):
        numbers.setdefault(normalize_band_name(layer.bandName(number)), number)
    return numbers


def renderer_stretch(renderer: QgsRasterRenderer, names: dict[int, str]) -> RgbStretch | None:
    """The stretch of a multiband colour renderer; None for any other renderer or an unnamed band."""
    if not isinstance(renderer, QgsMultiBandColorRenderer):
        return None
    numbers = (renderer.redBand(), renderer.greenBand(), renderer.blueBand())
    enhancements = (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
                    renderer.blueContrastEnhancement())
    if any(e is None for e in enhancements) or any(n not in names for n in numbers):
        return None
    return RgbStretch(tuple(names[n] for n in numbers),
                      tuple((e.minimumValue(), e.maximumValue()) for e in enhancements))


def input_rgb_stretch(input_layer: QgsRasterLayer, shown: Sequence[str]) -> RgbStretch | None:
    """The stretch for images holding the bands named `shown`.

    The input renderer's own bands and min/max when all three are among `shown`; otherwise
    true colour (B04/B03/B02), or the first three of `shown`, cut at 2-98 % on the input's
    same-named bands. None when the input has no such bands.
    """
    numbers = band_numbers(input_layer)
    current = renderer_stretch(input_layer.renderer(), {n: name for name, n in numbers.items()})
    if current is not None and set(current.bands) <= set(shown):
        return current
    bands = TRUE_COLOUR if set(TRUE_COLOUR) <= set(shown) else tuple(shown[:3])
    if len(bands) < 3 or not set(bands) <= numbers.keys():
        return None
    return RgbStretch(bands, tuple(cumulative_cut(input_layer, numbers[b]) for b in bands))


def _contrast(data_type: int, low: float, high: float) -> QgsContrastEnhancement:
    contrast = QgsContrastEnhancement(data_type)
    contrast.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
    contrast.setMinimumValue(low)
    contrast.setMaximumValue(high)
    return contrast


def apply_rgb_stretch(layer: QgsRasterLayer, stretch: RgbStretch) -> None:
    """Show `layer` with the stretch's bands (found by name) and fixed min/max per channel.

    The min/max origin is 'user defined', so QGIS never recomputes them from this layer.
    """
    numbers = band_numbers(layer)
    provider = layer.dataProvider()
    renderer = QgsMultiBandColorRenderer(provider, *(numbers[band] for band in stretch.bands))
    setters = (renderer.setRedContrastEnhancement, renderer.setGreenContrastEnhancement,
               renderer.setBlueContrastEnhancement)
    for set_contrast, band, (low, high) in zip(setters, stretch.bands, stretch.limits):
        set_contrast(_contrast(provider.dataType(numbers[band]), low, high))
    origin = QgsRasterMinMaxOrigin()
    origin.setLimits(QgsRasterMinMaxOrigin.None_)
    renderer.setMinMaxOrigin(origin)
    layer.setRenderer(renderer)
