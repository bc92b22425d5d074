"""Style each result layer by the kind of output it holds, named as the engine names its files.

- naturalness (and any output with a bundled `<name>.qml`): that style, its classes labelled 0 to 1;
- attribution_<method>: one perceptual ramp for every method, spread over the map's own
  2-98 % cut, because each method measures importance in its own units;
- confidence (a JEM's log p(x)): its ramp spread over the training patches' 1st to 99th
  percentile from the model's sidecar, so red means "less familiar than 99 % of the training
  imagery" in every run; stretched over its own cut, a scene the model has never seen would
  look as blue in places as one it knows well;
- enhanced_<max|min> and inpainted: the input layer's bands and stretch, so they compare with
  the input, paired through the run's band mapping (input_stretch).

A ramp spread over a cut does not clip: values beyond it take the end colours, so the most
important 2 % of an attribution map (or imagery more familiar than the training p99) is drawn
in the brightest colour, not left as a hole. Legend labels give the values at both ends.
"""
import json
from pathlib import Path

from qgis.core import (
    QgsColorRampLegendNodeSettings,
    QgsColorRampShader,
    QgsRasterLayer,
    QgsSingleBandPseudoColorRenderer,
)

from core.jem.histogram import training_histogram
from core.models.card import read_card
from core.resources import STYLES

from .i18n import tr
from .input_stretch import RgbStretch, apply_rgb_stretch, band_numbers, input_rgb_stretch
from .layer_names import ATTRIBUTION_PREFIX, CONFIDENCE, ENHANCED_PREFIX, INPAINTED, NATURALNESS, PROBABILITY_MAPS
from .layer_statistics import cumulative_cut

__all__ = ["ATTRIBUTION_PREFIX", "CONFIDENCE", "ENHANCED_PREFIX", "INPAINTED", "NATURALNESS", "ResultStyler",
           "bundled_style", "training_log_px_range"]


def bundled_style(output_name: str) -> Path | None:
    """The bundled QML for an output: attribution.qml for every attribution map; None when there is none."""
    stem = ("attribution" if output_name.startswith(ATTRIBUTION_PREFIX)
            else NATURALNESS if output_name in PROBABILITY_MAPS else output_name)
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


def number(value: float) -> str:
    """A legend value: three significant digits, without exponent between 0.001 and 100 000."""
    if value == 0:
        return "0"
    if 1000 <= abs(value) < 1e5:
        return f"{value:.0f}"
    if 1e-3 <= abs(value) < 1000:
        return f"{value:.3g}"
    return f"{value:.2e}"


def ramp_of(layer: QgsRasterLayer) -> QgsColorRampShader:
    """The colour ramp of a pseudocolour layer."""
    renderer: QgsSingleBandPseudoColorRenderer = layer.renderer()
    return renderer.shader().rasterShaderFunction()


def label_ramp(ramp: QgsColorRampShader, low_label: str, high_label: str, end_words: tuple[str, str]) -> None:
    """Put `low_label` and `high_label` on the ends of the colour bar the legend draws; label inner classes by value.

    The end classes are labelled `end_words` ("low importance"), which the bar's labels repeat
    with the value, for a user who switches the legend to classes.
    """
    items = ramp.colorRampItemList()
    last = len(items) - 1
    ramp.setColorRampItemList([QgsColorRampShader.ColorRampItem(
        item.value, item.color, end_words[0] if i == 0 else end_words[1] if i == last else number(item.value))
        for i, item in enumerate(items)])
    settings = QgsColorRampLegendNodeSettings(ramp.legendSettings()) if ramp.legendSettings() \
        else QgsColorRampLegendNodeSettings()
    settings.setMinimumLabel(low_label)
    settings.setMaximumLabel(high_label)
    ramp.setLegendSettings(settings)


def spread_ramp(layer: QgsRasterLayer, low: float, high: float) -> None:
    """Move the pseudocolour ramp, written on 0..1, onto [low, high]; values beyond take the end colours."""
    renderer: QgsSingleBandPseudoColorRenderer = layer.renderer()
    ramp = ramp_of(layer)
    ramp.setColorRampItemList([QgsColorRampShader.ColorRampItem(low + item.value * (high - low), item.color, item.label)
                               for item in ramp.colorRampItemList()])
    ramp.setMinimumValue(low)
    ramp.setMaximumValue(high)
    ramp.setClip(False)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(high)


def stretch_ramp_to_cut(layer: QgsRasterLayer) -> tuple[float, float]:
    """Spread the ramp over the band's 2-98 % cut (a constant map keeps the ramp as written); the ends used."""
    low, high = cumulative_cut(layer, layer.renderer().band())
    if low < high:
        spread_ramp(layer, low, high)
    else:
        ramp_of(layer).setClip(False)
    ramp = ramp_of(layer)
    return ramp.minimumValue(), ramp.maximumValue()


def naturalness_labels(value: float) -> str:
    """The class label of the naturalness ramp at `value` (0, 0.25, ... 1)."""
    words = {0.0: tr("anthropogenic (built-up, farmland)"), 0.5: tr("uncertain"),
             1.0: tr("natural (marsh, forest, water)")}
    return f"{number(value)} – {words[value]}" if value in words else number(value)


def label_naturalness(layer: QgsRasterLayer) -> None:
    """Naturalness classes labelled by their score, the ends and the middle also in words."""
    ramp = ramp_of(layer)
    ramp.setColorRampItemList([QgsColorRampShader.ColorRampItem(item.value, item.color, naturalness_labels(item.value))
                               for item in ramp.colorRampItemList()])
    ramp.setClip(False)


class ResultStyler:
    """Styles one run's result layers; the input's stretch is worked out once, when first needed.

    `input_layer` is the layer the run explained; None leaves enhanced and inpainted images in
    QGIS's default style. `run_json` is the run's record: a confidence map's model, and the
    band mapping that pairs the enhanced images' bands with the input's.
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
        if output_name in PROBABILITY_MAPS and isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer):
            label_naturalness(layer)
        elif output_name.startswith(ATTRIBUTION_PREFIX):
            low, high = stretch_ramp_to_cut(layer)
            label_ramp(ramp_of(layer), tr("≤ {value} (low importance)").format(value=number(low)),
                       tr("≥ {value} (high importance)").format(value=number(high)),
                       (tr("low importance"), tr("high importance")))
        elif output_name == CONFIDENCE:
            low, high = training_log_px_range(run_model(self.run_json))
            spread_ramp(layer, low, high)
            label_ramp(ramp_of(layer), tr("≤ {value} (unlike the training imagery)").format(value=number(low)),
                       tr("≥ {value} (like the training imagery)").format(value=number(high)),
                       (tr("low log p(x): unlike the training imagery"), tr("high log p(x): like the training imagery")))
        elif (output_name.startswith(ENHANCED_PREFIX) or output_name == INPAINTED) and self.input_layer is not None:
            stretch = self._input_stretch(tuple(band_numbers(layer)))
            if stretch is not None:
                apply_rgb_stretch(layer, stretch)

    def _input_stretch(self, shown: tuple[str, ...]) -> RgbStretch | None:
        if shown not in self._stretches:
            self._stretches[shown] = input_rgb_stretch(self.input_layer, shown, self.run_json)
        return self._stretches[shown]
