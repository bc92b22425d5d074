"""Processing algorithm `natural_explain:ssc`: a naturalness map sharpened to the pixel by Self-Supervised Classification.

Phase 1 is the naturalness map (the CNN, tiled); its confident pixels then train a shallow
learner on this image's own pixels (core.ssc), which maps every pixel from its own values.
OUTPUT is phase 2's probability of natural; the 4-part figure and the record go beside it.
"""
import json
import os
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from core.atomic import write_json

from ..explain_request import run_engine
from ..i18n import tr
from ..layer_names import SSC
from ..result_layers import styled_layer
from ..result_styles import ResultStyler
from .engine_algorithm import EngineAlgorithm, advanced, engine_errors
from .evaluate import VECTOR_FORMATS
from .output_folder import hidden_run_folder, run_json_path

# core.ssc's LEARNERS and defaults, spelled out so QGIS starts without importing the engine (numpy, rasterio,
# scipy); tests/plugin/test_plugin_sharp_maps.py checks they still agree.
LEARNERS = ("mlp", "rf")
DEFAULT_CONFIDENCE = 0.9
DEFAULT_SAMPLES_PER_CLASS = 20_000
DEFAULT_SEED = 0
DEFAULT_LABEL_FIELD = "label"


def record_path(output: Path) -> Path:
    """Where the SSC record of `output` goes: `<stem>.ssc.json` beside it."""
    return output.with_name(f"{output.stem}.ssc.json")


def figure_path(output: Path) -> Path:
    """Where the 4-part figure of `output` goes: `<stem>.ssc.png` beside it."""
    return output.with_name(f"{output.stem}.ssc.png")


def publish_ssc(probability: Path, figure: Path, record: Path, phase1_run: Path, output: Path) -> None:
    """Move phase 2's map onto `output` and its figure beside it; write both records naming only what stays.

    Phase 1's map stays in the hidden run folder, which is removed: its run record (model,
    input checksum, timings) goes beside OUTPUT as `<stem>.run.json` with no outputs, and the
    SSC record names that file, OUTPUT and the figure instead of the run folder.
    """
    phase1 = json.loads(phase1_run.read_text(encoding="utf-8"))
    phase1["outputs"] = {}
    ssc = json.loads(record.read_text(encoding="utf-8"))
    ssc["phase1"] = {**ssc.get("phase1", {}), "run_json": str(run_json_path(output).resolve()), "naturalness": None}
    ssc["outputs"] = {"naturalness_ssc": str(output.resolve()), "figure": str(figure_path(output).resolve())}
    os.replace(figure, figure_path(output))
    os.replace(probability, output)
    write_json(run_json_path(output), phase1)
    write_json(record_path(output), ssc)


class SSCAlgorithm(EngineAlgorithm):
    """Runs core.ssc.ssc and delivers naturalness_ssc.tif at OUTPUT, its figure and records beside it."""

    LEARNER = "LEARNER"
    LABELS = "LABELS"
    LABEL_FIELD = "LABEL_FIELD"
    CONFIDENCE = "CONFIDENCE"
    SAMPLES_PER_CLASS = "SAMPLES_PER_CLASS"
    SEED = "SEED"
    OUTPUT = "OUTPUT"
    FIGURE = "FIGURE"
    JSON = "JSON"
    AGREEMENT = "AGREEMENT"
    CNN_F1 = "CNN_F1"
    SSC_F1 = "SSC_F1"

    def name(self) -> str:
        return "ssc"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return tr("Sharp naturalness map (SSC)")

    def help_text(self) -> str:
        return tr("Sharpens the naturalness map to the pixel by Self-Supervised Classification: the classifier's map "
                  "(phase 1) is smooth at the scale of its tiles, so the pixels it is confident about (probability at "
                  "least CONFIDENCE, or at most 1 - CONFIDENCE) train a small learner (LEARNER: 0 = MLP, the default; "
                  "1 = random forest) on this image's own pixels, which then maps every pixel from its own values "
                  "(phase 2). OUTPUT is phase 2's probability of natural, 0 anthropogenic to 1 natural, on the input's "
                  "grid (cut to the area of interest), nodata where the input has none. Beside OUTPUT go the 4-part "
                  "figure (<name>.ssc.png), the SSC record (<name>.ssc.json: learner, training pixels, agreement of "
                  "the two phases, scores) and phase 1's run record (<name>.run.json). With LABELS (polygons whose "
                  "LABEL_FIELD names a class of the model) both phases are scored: pixel-weighted F1 overall, per "
                  "class and near label edges. It needs at least 200 confident pixels: give a larger area or a lower "
                  "CONFIDENCE otherwise.")

    def createInstance(self) -> "SSCAlgorithm":  # noqa: N802 (QGIS's name)
        return SSCAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.add_input_parameter()
        self.add_aoi_parameter()
        self.add_model_parameters()
        self.addParameter(QgsProcessingParameterEnum(
            self.LEARNER, tr("Phase-2 learner"), options=[tr("MLP (small neural network)"), tr("Random forest")],
            defaultValue=0))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.LABELS, tr("Label polygons, to score both phases (optional)"), [QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.LABEL_FIELD, tr("Label field (its values name the model's classes)"),
            defaultValue=DEFAULT_LABEL_FIELD, parentLayerParameterName=self.LABELS, optional=True))
        self.addParameter(advanced(QgsProcessingParameterNumber(
            self.CONFIDENCE, tr("Phase-1 probability from which a pixel trains phase 2 (and at most 1 minus it)"),
            QgsProcessingParameterNumber.Double, defaultValue=DEFAULT_CONFIDENCE, minValue=0.51, maxValue=0.99)))
        self.addParameter(advanced(QgsProcessingParameterNumber(
            self.SAMPLES_PER_CLASS, tr("Training pixels kept per class"), QgsProcessingParameterNumber.Integer,
            defaultValue=DEFAULT_SAMPLES_PER_CLASS, minValue=100)))
        self.addParameter(advanced(QgsProcessingParameterNumber(
            self.SEED, tr("Random seed (the same seed repeats a run)"), QgsProcessingParameterNumber.Integer,
            defaultValue=DEFAULT_SEED, minValue=0)))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Sharp naturalness map (SSC)")))
        self.addOutput(QgsProcessingOutputFile(self.FIGURE, tr("Input, phase 1, phase 2 and labels (PNG)")))
        self.addOutput(QgsProcessingOutputFile(self.JSON, tr("SSC record (JSON)")))
        self.addOutput(QgsProcessingOutputNumber(self.AGREEMENT, tr("Share of pixels where both phases agree")))
        self.addOutput(QgsProcessingOutputNumber(self.CNN_F1, tr("Phase 1 pixel-weighted F1 against LABELS")))
        self.addOutput(QgsProcessingOutputNumber(self.SSC_F1, tr("Phase 2 pixel-weighted F1 against LABELS")))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Run both phases into a hidden sibling folder, then move the map onto OUTPUT and the rest beside it."""
        output = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
        labels = None
        if parameters.get(self.LABELS) not in (None, ""):
            labels = self.parameterAsCompatibleSourceLayerPath(parameters, self.LABELS, context, VECTOR_FORMATS,
                                                               "gpkg", feedback)
        with engine_errors(), hidden_run_folder(output) as run_dir:
            request = self.explain_request(parameters, context, run_dir)
            result = run_engine(
                "ssc", request, feedback.setProgress, feedback.isCanceled,
                learner=LEARNERS[self.parameterAsEnum(parameters, self.LEARNER, context)], labels=labels,
                label_field=self.parameterAsString(parameters, self.LABEL_FIELD, context) or DEFAULT_LABEL_FIELD,
                confidence=self.parameterAsDouble(parameters, self.CONFIDENCE, context),
                samples_per_class=self.parameterAsInt(parameters, self.SAMPLES_PER_CLASS, context),
                seed=self.parameterAsInt(parameters, self.SEED, context), report=feedback.pushInfo)
            from core.ssc import summary_lines  # imported by the run above

            publish_ssc(result.probability, result.figure, result.json_path, result.phase1_run, output)
        styled_layer(output, SSC, ResultStyler(None))
        for line in summary_lines(result):
            feedback.pushInfo(line)
        for warning in result.warnings:
            feedback.pushWarning(warning)
        scores = result.scores or {}
        return {self.OUTPUT: str(output), self.FIGURE: str(figure_path(output)), self.JSON: str(record_path(output)),
                self.AGREEMENT: result.agreement,
                self.CNN_F1: scores["cnn"]["pixel_weighted_f1"] if scores else None,
                self.SSC_F1: scores["ssc"]["pixel_weighted_f1"] if scores else None}
