"""Style each result layer by the kind of output it holds, named as the engine names its files.

- naturalness (and any output with a bundled `<name>.qml`): that style as it is;
- attribution_<method>: one perceptual ramp for every method, spread over the map's own
  2-98 % cut, because each method measures importance in its own units;
- confidence (a JEM's log p(x)): its ramp spread over the training patches' 1st to 99th
  percentile from the model's sidecar, so red means "less familiar than 99 % of the training
  imagery" in every run; stretched over its own cut, a scene the model has never seen would
  look as blue in places as one it knows well;
- enhanced_<max|min> and inpainted: the input layer's bands and stretch, so they compare with the input.
"""
import json
from pathlib import Path

from qgis.core import QgsColorRampShader, QgsRasterLayer, QgsSingleBandPseudoColorRenderer

from core.jem.histogram import training_histogram
from core.models.card import read_card
from core.resources import STYLES

from .input_stretch import RgbStretch, apply_rgb_stretch, band_numbers, input_rgb_stretch
from .layer_statistics import cumulative_cut

ATTRIBUTION_PREFIX = "attribution_"
ENHANCED_PREFIX = "enhanced_"
CONFIDENCE = "confidence"
INPAINTED = "inpainted"


def bundled_style(output_name: str) -> Path | None:
    """The bundled QML for an output: attribution.qml for every attribution map; None when there is none."""
    stem = "attribution" if output_name.startswith(ATTRIBUTION_PREFIX) else output_name
    style = STYLES / f"{stem}.qml"
    return style if style.is_file() else None


def training_log_px_range(model: str | Path) -> tuple[float, float]:
    """The 1st and 99th percentile of the training patches' log p(x) that the JEM's sidecar holds.

    Raises:
        NaturalExplainError: when `model` is no JEM (or its sidecar is broken).
    """
    percentiles = training_histogram(read_card(model)[0]).percentiles
    return percentiles["p1"], percentiles["p99"]


def run_model(run_json: Path) -> str:
    """The model file a run used, as its record names it."""
    return json.loads(run_json.read_text(encoding="utf-8"))["model"]["path"]


def spread_ramp(layer: QgsRasterLayer, low: float, high: float) -> None:
    """Move the pseudocolour ramp, written on 0..1, onto [low, high]."""
    renderer: QgsSingleBandPseudoColorRenderer = layer.renderer()
    ramp: QgsColorRampShader = renderer.shader().rasterShaderFunction()
    ramp.setColorRampItemList([QgsColorRampShader.ColorRampItem(low + item.value * (high - low), item.color, item.label)
                               for item in ramp.colorRampItemList()])
    ramp.setMinimumValue(low)
    ramp.setMaximumValue(high)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(high)


def stretch_ramp_to_cut(layer: QgsRasterLayer) -> None:
    """Spread the ramp over the band's 2-98 % cut; a constant map (no spread) keeps the ramp as written."""
    low, high = cumulative_cut(layer, layer.renderer().band())
    if low < high:
        spread_ramp(layer, low, high)


class ResultStyler:
    """Styles one run's result layers; the input's stretch is worked out once, when first needed.

    `input_layer` is the layer the run explained; None leaves enhanced and inpainted images in
    QGIS's default style. `run_json` is the run's record, read only for a confidence map's model.
    """

    def __init__(self, input_layer: QgsRasterLayer | None, run_json: Path | None = None) -> None:
        self.input_layer = input_layer
        self.run_json = run_json
        self._stretches: dict[tuple[str, ...], RgbStretch | None] = {}

    def style(self, layer: QgsRasterLayer, output_name: str) -> None:
        """Give `layer`, which holds the output `output_name`, its style."""
        style = bundled_style(output_name)
        if style is not None:
            layer.loadNamedStyle(str(style))
        if output_name.startswith(ATTRIBUTION_PREFIX):
            stretch_ramp_to_cut(layer)
        elif output_name == CONFIDENCE:
            spread_ramp(layer, *training_log_px_range(run_model(self.run_json)))
        elif (output_name.startswith(ENHANCED_PREFIX) or output_name == INPAINTED) and self.input_layer is not None:
            stretch = self._input_stretch(tuple(band_numbers(layer)))
            if stretch is not None:
                apply_rgb_stretch(layer, stretch)

    def _input_stretch(self, shown: tuple[str, ...]) -> RgbStretch | None:
        if shown not in self._stretches:
            self._stretches[shown] = input_rgb_stretch(self.input_layer, shown)
        return self._stretches[shown]
