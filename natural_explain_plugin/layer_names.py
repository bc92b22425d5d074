"""What the analyst reads for each result: the layer's name, and which output a layer holds.

The engine names its files for programs (`attribution_gradcam.tif`); the Layers panel names
them for people ("Why: GradCAM (importance)"). The output a layer holds is kept in a layer
property, saved in the style beside the file, so code never has to parse a readable,
translated name: use `output_name(layer)`.
"""
from pathlib import Path

from qgis.core import QgsMapLayer

from .i18n import tr

OUTPUT_PROPERTY = "natural_explain/output"
RUN_JSON_PROPERTY = "natural_explain/run_json"
ATTRIBUTION_PREFIX = "attribution_"
ENHANCED_PREFIX = "enhanced_"
NATURALNESS = "naturalness"
CONFIDENCE = "confidence"
INPAINTED = "inpainted"
SSC = "naturalness_ssc"
SEGMENTATION = "segmentation"
# Maps whose band 1 is a probability of natural: one style and one legend serve all three.
PROBABILITY_MAPS = (NATURALNESS, SSC, SEGMENTATION)

# Proper names of the methods (not translated); the generic ones go through tr() in method_name().
METHOD_PROPER_NAMES = {"gradcam": "GradCAM", "occlusion": "Occlusion", "deeplift": "DeepLIFT"}


def method_name(method: str) -> str:
    """A method's name as the literature spells it ('gradcam' -> 'GradCAM')."""
    generic = {"ig": tr("Integrated Gradients"), "cyclegan": tr("pattern generators"),
               "counterfactual": tr("counterfactual")}
    return METHOD_PROPER_NAMES.get(method) or generic.get(method) or method


def readable_name(output: str) -> str:
    """The layer name for the engine's output `output` (its file stem); an unknown output keeps its own name."""
    if output == NATURALNESS:
        return tr("Naturalness")
    if output == SSC:
        return tr("Naturalness, sharpened (SSC)")
    if output == SEGMENTATION:
        return tr("Natural land (U-Net segmentation)")
    if output.startswith(ATTRIBUTION_PREFIX):
        return tr("Why: {method} (importance)").format(method=method_name(output.removeprefix(ATTRIBUTION_PREFIX)))
    if output == f"{ENHANCED_PREFIX}max":
        return tr("Pattern-enhanced: more natural")
    if output == f"{ENHANCED_PREFIX}min":
        return tr("Pattern-enhanced: less natural")
    if output == CONFIDENCE:
        return tr("Confidence (log p(x))")
    if output == INPAINTED:
        return tr("Inpainted")
    return output


def value_title(output: str) -> str | None:
    """What a single-band map's values are, for the legend's first line; None for images of the input's bands."""
    if output in PROBABILITY_MAPS:
        return tr("naturalness score, 0 to 1")
    if output.startswith(ATTRIBUTION_PREFIX):
        return tr("importance, in {method}'s own units").format(
            method=method_name(output.removeprefix(ATTRIBUTION_PREFIX)))
    if output == CONFIDENCE:
        return tr("log p(x), in the model's units")
    return None


def mark_output(layer: QgsMapLayer, output: str, run_json: Path | None = None) -> None:
    """Remember on `layer` which output it holds (and the run's record), for output_name() and run_json_of()."""
    layer.setCustomProperty(OUTPUT_PROPERTY, output)
    if run_json is not None:
        layer.setCustomProperty(RUN_JSON_PROPERTY, str(run_json))


def output_name(layer: QgsMapLayer) -> str:
    """The engine's name for the output `layer` holds ('attribution_gradcam'), whatever the layer is called.

    A layer the plugin did not mark (an older project, a file added by hand) is known by its file's stem.
    """
    marked = layer.customProperty(OUTPUT_PROPERTY)
    if marked:
        return str(marked)
    return Path(layer.source().split("|")[0]).stem


def run_json_of(layer: QgsMapLayer) -> Path | None:
    """The run record of the run that wrote `layer`: the one marked on it, else a run.json beside its file."""
    marked = layer.customProperty(RUN_JSON_PROPERTY)
    if marked and Path(str(marked)).is_file():
        return Path(str(marked))
    beside = Path(layer.source().split("|")[0]).with_name("run.json")
    return beside if beside.is_file() else None
