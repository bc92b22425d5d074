"""Style each result layer by the kind of output it holds, named as the engine names its files.

- naturalness (and any output with a bundled `<name>.qml`): that style as it is;
- attribution_<method>: one perceptual ramp for every method, spread over the map's own
  2-98 % cut, because each method measures importance in its own units;
- enhanced_<max|min>: the input layer's bands and stretch, so they compare with the input.
"""
from pathlib import Path

from qgis.core import QgsColorRampShader, QgsRasterLayer, QgsSingleBandPseudoColorRenderer

from core.resources import STYLES

from .input_stretch import RgbStretch, apply_rgb_stretch, band_numbers, input_rgb_stretch
from .layer_statistics import cumulative_cut

ATTRIBUTION_PREFIX = "attribution_"
ENHANCED_PREFIX = "enhanced_"


def bundled_style(output_name: str) -> Path | None:
    """The bundled QML for an output: attribution.qml for every attribution map; None when there is none."""
    stem = "attribution" if output_name.startswith(ATTRIBUTION_PREFIX) else output_name
    style = STYLES / f"{stem}.qml"
    return style if style.is_file() else None


def stretch_ramp_to_cut(layer: QgsRasterLayer) -> None:
    """Move the pseudocolour ramp, written on 0..1, onto the band's 2-98 % cut.

    A constant map (no spread to stretch over) keeps the ramp as written.
    """
    renderer: QgsSingleBandPseudoColorRenderer = layer.renderer()
    low, high = cumulative_cut(layer, renderer.band())
    if not low < high:
        return
    ramp: QgsColorRampShader = renderer.shader().rasterShaderFunction()
    ramp.setColorRampItemList([QgsColorRampShader.ColorRampItem(low + item.value * (high - low), item.color, item.label)
                               for item in ramp.colorRampItemList()])
    ramp.setMinimumValue(low)
    ramp.setMaximumValue(high)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(high)


class ResultStyler:
    """Styles one run's result layers; the input's stretch is worked out once, when first needed.

    `input_layer` is the layer the run explained; None leaves enhanced images in QGIS's default style.
    """

    def __init__(self, input_layer: QgsRasterLayer | None) -> None:
        self.input_layer = input_layer
        self._stretches: dict[tuple[str, ...], RgbStretch | None] = {}

    def style(self, layer: QgsRasterLayer, output_name: str) -> None:
        """Give `layer`, which holds the output `output_name`, its style."""
        style = bundled_style(output_name)
        if style is not None:
            layer.loadNamedStyle(str(style))
        if output_name.startswith(ATTRIBUTION_PREFIX):
            stretch_ramp_to_cut(layer)
        elif output_name.startswith(ENHANCED_PREFIX) and self.input_layer is not None:
            stretch = self._input_stretch(tuple(band_numbers(layer)))
            if stretch is not None:
                apply_rgb_stretch(layer, stretch)

    def _input_stretch(self, shown: tuple[str, ...]) -> RgbStretch | None:
        if shown not in self._stretches:
            self._stretches[shown] = input_rgb_stretch(self.input_layer, shown)
        return self._stretches[shown]
