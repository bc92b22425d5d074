"""Carry the input layer's colour stretch over to images in the model's bands.

The enhanced images are the input pushed towards more or less natural, in the input's own
units. Shown with the input's bands and per-band min/max, a pixel that looks brighter is
brighter, so flicking between the input and an enhanced image shows only what changed.

Bands are paired through the run's band mapping (which input band fed each model band), not
through the input layer's band names: a Build Virtual Raster stack has no band descriptions,
so QGIS calls its bands "Band 1", "Band 2", ... while the engine knows them from the source
files' names (or from the user's mapping). The enhanced images hold the model's bands, in the
model's order, each described by its name.

Which bands: the input renderer's own red/green/blue when the user chose them (a false-colour
B08/B04/B03 stays false colour); true colour (B04/B03/B02) when the input still shows QGIS's
default pick of its first three bands (on a Sentinel-2 stack in band order, blue as red) or is
shown in grey. Each band's min/max is the input renderer's for that band, wherever it is shown,
else the input band's own 2-98 % cut.
"""
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from qgis.core import (
    QgsContrastEnhancement,
    QgsMultiBandColorRenderer,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
    QgsRasterRenderer,
    QgsSingleBandGrayRenderer,
)

from .layer_statistics import cumulative_cut

TRUE_COLOUR = ("B04", "B03", "B02")
QGIS_DEFAULT_RGB = (1, 2, 3)  # what QGIS shows a multiband raster with no colour interpretation in
RECORDED_BAND_NUMBERS = ("input", "band_numbers")  # where run.json keeps model band -> input band number

Limits = tuple[float, float]


@dataclasses.dataclass(frozen=True)
class RgbStretch:
    """The bands shown as red, green and blue (by model band name) and each channel's (min, max)."""

    bands: tuple[str, str, str]
    limits: tuple[Limits, Limits, Limits]


def _normalize(name: str | None) -> str | None:
    from core.raster.sources import normalize_band_name  # loads rasterio: only once results exist

    return normalize_band_name(name)


def band_numbers(layer: QgsRasterLayer) -> dict[str, int]:
    """Band name -> 1-based band number, names normalised as the engine matches them ('b2' -> 'B02')."""
    numbers: dict[str, int] = {}
    for number in range(1, layer.bandCount() + 1):
        numbers.setdefault(_normalize(layer.bandName(number)), number)
    return numbers


def recorded_band_numbers(run_json: Path | None) -> dict[str, int] | None:
    """The model band -> input band number mapping a run recorded, None when its record has none."""
    if run_json is None:
        return None
    try:
        found = json.loads(Path(run_json).read_text(encoding="utf-8"))
        for key in RECORDED_BAND_NUMBERS:
            found = found[key]
        return {_normalize(name): int(number) for name, number in found.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def derived_band_numbers(input_path: str, model_bands: Sequence[str]) -> dict[str, int]:
    """Model band -> input band number, matched as the engine matches them (band descriptions, else VRT sources).

    Empty when the input is no single raster file or the engine cannot match every band.
    """
    from core.errors import NaturalExplainError
    from core.raster.bands import match_bands
    from core.raster.sources import open_input

    path = Path(input_path.split("|")[0])
    if not path.is_file():
        return {}
    try:
        refs = match_bands(open_input(path), list(model_bands))
    except (NaturalExplainError, OSError, ValueError):
        return {}
    return {_normalize(name): ref.index for name, ref in zip(model_bands, refs)}


def input_band_numbers(input_layer: QgsRasterLayer, model_bands: Sequence[str],
                       run_json: Path | None = None) -> dict[str, int]:
    """Model band name -> the 1-based band of `input_layer` that fed it, for each of `model_bands` found.

    From the run's record when it holds the mapping; else matched as the engine does on the
    input's file; else by the layer's band names.
    """
    wanted = [_normalize(b) for b in model_bands]
    recorded = recorded_band_numbers(run_json)
    if recorded:
        found = recorded
    else:
        found = derived_band_numbers(input_layer.source(), wanted) or band_numbers(input_layer)
    return {b: found[b] for b in wanted if b in found and 1 <= found[b] <= input_layer.bandCount()}


def _useful(enhancement: QgsContrastEnhancement | None) -> bool:
    return (enhancement is not None
            and enhancement.contrastEnhancementAlgorithm() != QgsContrastEnhancement.NoEnhancement)


def renderer_limits(renderer: QgsRasterRenderer) -> dict[int, Limits]:
    """Input band number -> the (min, max) its renderer stretches it over, for the bands it shows stretched."""
    if isinstance(renderer, QgsMultiBandColorRenderer):
        shown = ((renderer.redBand(), renderer.redContrastEnhancement()),
                 (renderer.greenBand(), renderer.greenContrastEnhancement()),
                 (renderer.blueBand(), renderer.blueContrastEnhancement()))
    elif isinstance(renderer, QgsSingleBandGrayRenderer):
        shown = ((renderer.grayBand(), renderer.contrastEnhancement()),)
    else:
        return {}
    limits: dict[int, Limits] = {}
    for band, enhancement in shown:
        if band > 0 and _useful(enhancement):
            limits.setdefault(band, (enhancement.minimumValue(), enhancement.maximumValue()))
    return limits


def renderer_rgb(renderer: QgsRasterRenderer) -> tuple[int, int, int] | None:
    """The band numbers a multiband colour renderer shows as red, green, blue; None for any other renderer."""
    if not isinstance(renderer, QgsMultiBandColorRenderer):
        return None
    return renderer.redBand(), renderer.greenBand(), renderer.blueBand()


def shown_model_bands(input_layer: QgsRasterLayer, pairing: dict[str, int]) -> tuple[str, str, str] | None:
    """The model bands to show as red, green, blue (see the module); None when fewer than three are paired."""
    by_number: dict[int, str] = {}
    for name, number in pairing.items():
        by_number.setdefault(number, name)
    rgb = renderer_rgb(input_layer.renderer())
    follows_input = rgb is not None and all(n in by_number for n in rgb)
    if follows_input and rgb != QGIS_DEFAULT_RGB:
        return tuple(by_number[n] for n in rgb)
    if set(TRUE_COLOUR) <= pairing.keys():
        return TRUE_COLOUR
    if follows_input:
        return tuple(by_number[n] for n in rgb)
    return tuple(pairing)[:3] if len(pairing) >= 3 else None


def input_limits_for(input_layer: QgsRasterLayer, number: int) -> Limits:
    """The input's (min, max) for its band `number`: as its renderer stretches it, else its 2-98 % cut."""
    return renderer_limits(input_layer.renderer()).get(number) or cumulative_cut(input_layer, number)


def input_rgb_stretch(input_layer: QgsRasterLayer, shown: Sequence[str],
                      run_json: Path | None = None) -> RgbStretch | None:
    """The stretch for images holding the model bands named `shown`, paired with the input's bands.

    None when fewer than three of them can be paired with bands of the input.
    """
    pairing = input_band_numbers(input_layer, shown, run_json)
    bands = shown_model_bands(input_layer, pairing)
    if bands is None:
        return None
    return RgbStretch(bands, tuple(input_limits_for(input_layer, pairing[b]) for b in bands))


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
