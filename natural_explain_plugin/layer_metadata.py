"""Each result layer's metadata (Layer Properties › Metadata): what the map shows and which run made it.

The abstract names the map, the method, the model, when the run finished and how long it took,
and the run folder, all read from the run's `run.json`, so a layer that outlives its dock
session still says where it came from.
"""
import json
from datetime import datetime
from pathlib import Path

from qgis.core import QgsLayerMetadata, QgsMapLayer

from .i18n import tr
from .layer_names import (
    ATTRIBUTION_PREFIX,
    CONFIDENCE,
    ENHANCED_PREFIX,
    INPAINTED,
    NATURALNESS,
    SEGMENTATION,
    SSC,
    method_name,
    readable_name,
)


def what_it_shows(output: str) -> str:
    """One sentence on what the map of `output` shows."""
    if output == NATURALNESS:
        return tr("The classifier's naturalness score per pixel: 0 anthropogenic (built-up, farmland), "
                  "1 natural (marsh, forest, water).")
    if output == SSC:
        return tr("The naturalness score sharpened per pixel by a small learner fitted on this image's own pixels "
                  "where the classifier was confident (Self-Supervised Classification).")
    if output == SEGMENTATION:
        return tr("The U-Net segmenter's probability of natural per pixel: 0 anthropogenic, 1 natural.")
    if output.startswith(ATTRIBUTION_PREFIX):
        return tr("How much each pixel mattered to the naturalness verdict, by {method}, in the method's own "
                  "units: compare places within the map, not values across methods.").format(
            method=method_name(output.removeprefix(ATTRIBUTION_PREFIX)))
    if output == f"{ENHANCED_PREFIX}max":
        return tr("The input repainted by the pattern maximizer, towards more natural, in the input's units.")
    if output == f"{ENHANCED_PREFIX}min":
        return tr("The input repainted by the pattern minimizer, towards less natural, in the input's units.")
    if output == CONFIDENCE:
        return tr("The model's log p(x) per pixel: how familiar the imagery looks next to its training imagery "
                  "(red: less familiar than 99 % of the training patches).")
    if output == INPAINTED:
        return tr("The input with the hole filled in by the pattern generators, in the input's units.")
    return output


def _method(output: str, record: dict) -> str:
    if output.startswith(ATTRIBUTION_PREFIX):
        return method_name(output.removeprefix(ATTRIBUTION_PREFIX))
    if output.startswith(ENHANCED_PREFIX) or output == INPAINTED:
        return method_name("cyclegan")
    if output == CONFIDENCE:
        return tr("JEM log p(x)")
    methods = record.get("parameters", {}).get("methods") or []
    return ", ".join(method_name(m) for m in methods) or tr("naturalness only")


def run_abstract(output: str, run_json: Path) -> str:
    """The metadata abstract of the map `output` written by the run that `run_json` records."""
    record = json.loads(run_json.read_text(encoding="utf-8"))
    model = record.get("model", {})
    model_path = Path(model.get("path", ""))
    finished = datetime.fromtimestamp(run_json.stat().st_mtime)
    total_s = record.get("timings", {}).get("total_s")
    lines = [
        what_it_shows(output),
        "",
        tr("Method: {method}").format(method=_method(output, record)),
        tr("Model: {model} ({architecture}; bands {bands})").format(
            model=model_path.name, architecture=model.get("architecture", "?"),
            bands=", ".join(model.get("bands", []))),
        tr("Model file: {path}").format(path=model_path),
        tr("Input: {path}").format(path=record.get("input", {}).get("path", "?")),
        tr("Run finished: {when}").format(when=f"{finished:%Y-%m-%d %H:%M:%S}"),
    ]
    if total_s is not None:
        lines.append(tr("Run time: {seconds} s").format(seconds=f"{total_s:.1f}"))
    lines.append(tr("Run folder: {folder}").format(folder=run_json.parent))
    return "\n".join(lines)


def describe_layer(layer: QgsMapLayer, output: str, run_json: Path | None) -> None:
    """Give `layer` a title and, when the run's record is known and readable, an abstract from it."""
    metadata: QgsLayerMetadata = layer.metadata()
    metadata.setTitle(readable_name(output))
    metadata.setType("dataset")
    metadata.setIdentifier(layer.source())
    abstract = what_it_shows(output)
    if run_json is not None:
        try:
            abstract = run_abstract(output, run_json)
        except (OSError, ValueError, AttributeError):  # a missing or hand-edited record: say what the map is
            pass
    metadata.setAbstract(abstract)
    layer.setMetadata(metadata)
