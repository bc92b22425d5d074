"""Facts about how result layers are drawn, for tests and the walk-through to check, not to trust.

- `colour_at_maximum` / `drawn_at_maximum`: the colour the layer's renderer gives the pixel
  holding the map's largest value (a ramp that clips leaves it transparent);
- `true_colour_facts`: the bands an enhanced image shows as red, green, blue and their
  min/max, next to the input layer's bands and min/max for the same model bands.
"""
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal
from qgis.core import QgsMultiBandColorRenderer, QgsRasterLayer, QgsRectangle
from qgis.PyQt.QtGui import QColor

from .input_stretch import TRUE_COLOUR, band_numbers, input_band_numbers, input_limits_for
from .layer_names import run_json_of

LIMIT_TOLERANCE = 1e-6  # relative: the limits are copied, not recomputed


def extreme_pixel(path: str, band: int = 1, largest: bool = True) -> tuple[int, int, float]:
    """(column, row, value) of the largest (or smallest) valid value of `band` in the raster at `path`."""
    dataset = gdal.Open(path)
    source = dataset.GetRasterBand(band)
    values = source.ReadAsArray().astype("float64")
    nodata = source.GetNoDataValue()
    valid = np.isfinite(values) & (values != nodata if nodata is not None else True)
    masked = np.where(valid, values, -np.inf if largest else np.inf)
    row, column = np.unravel_index(np.argmax(masked) if largest else np.argmin(masked), masked.shape)
    return int(column), int(row), float(values[row, column])


def colour_at_pixel(layer: QgsRasterLayer, column: int, row: int) -> QColor:
    """The colour the layer's renderer draws the file's pixel (`column`, `row`) in, transparent for none."""
    extent, width, height = layer.extent(), layer.width(), layer.height()
    dx, dy = extent.width() / width, extent.height() / height
    x0, y1 = extent.xMinimum() + column * dx, extent.yMaximum() - row * dy
    block = layer.renderer().block(1, QgsRectangle(x0, y1 - dy, x0 + dx, y1), 1, 1)
    return QColor.fromRgba(block.color(0, 0))


def colour_at_maximum(layer: QgsRasterLayer) -> QColor:
    """The colour the layer's renderer draws the pixel holding its band 1's largest value in."""
    column, row, _ = extreme_pixel(layer.source().split("|")[0])
    return colour_at_pixel(layer, column, row)


def drawn_at_maximum(layer: QgsRasterLayer) -> bool:
    """Whether the pixel holding the map's largest value is drawn (not transparent)."""
    return colour_at_maximum(layer).alpha() > 0


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return all(abs(x - y) <= LIMIT_TOLERANCE * max(1.0, abs(x), abs(y)) for x, y in zip(a, b))


def true_colour_facts(enhanced_layer: QgsRasterLayer, input_layer: QgsRasterLayer,
                      run_json: Path | None = None) -> dict[str, Any]:
    """How an enhanced image is shown next to how the input shows the same bands.

    Returns a JSON-ready dict: `bands` (the model bands shown as red, green, blue, by the
    enhanced file's band descriptions), `limits` (their min/max), `input_bands` (the input's
    band numbers that fed those model bands, from the run's band mapping: `run_json`, else the
    one marked on the layer, else matched as the engine does), `input_limits` (the input's
    min/max for those bands: its renderer's, else its 2-98 % cut), and the verdicts
    `true_colour` (B04/B03/B02), `limits_match` and `ok` (both).
    """
    renderer = enhanced_layer.renderer()
    facts: dict[str, Any] = {"renderer": renderer.type() if renderer else None, "bands": None, "limits": None,
                             "input_bands": None, "input_limits": None, "true_colour": False,
                             "limits_match": False, "ok": False}
    if not isinstance(renderer, QgsMultiBandColorRenderer):
        return facts
    names = {number: name for name, number in band_numbers(enhanced_layer).items()}
    rgb = (renderer.redBand(), renderer.greenBand(), renderer.blueBand())
    contrasts = (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
                 renderer.blueContrastEnhancement())
    bands = [names.get(number) for number in rgb]
    limits = [(c.minimumValue(), c.maximumValue()) if c is not None else None for c in contrasts]
    pairing = input_band_numbers(input_layer, list(names.values()), run_json or run_json_of(enhanced_layer))
    input_bands = [pairing.get(band) for band in bands]
    input_limits = [input_limits_for(input_layer, number) if number else None for number in input_bands]
    facts.update(bands=bands, limits=[list(l) if l else None for l in limits], input_bands=input_bands,
                 input_limits=[list(l) if l else None for l in input_limits],
                 true_colour=tuple(bands) == TRUE_COLOUR,
                 limits_match=all(a is not None and b is not None and _close(a, b)
                                  for a, b in zip(limits, input_limits)))
    facts["ok"] = facts["true_colour"] and facts["limits_match"]
    return facts
