"""Processing algorithm `natural_explain:confidence_map`: how familiar each pixel looks to a JEM, as one map.

A JEM's log p(x) is high where the input resembles its training imagery and low where it does
not (clouds, another sensor, a landscape it never saw), so the map shows where the naturalness
map deserves less trust. It costs the naturalness map's forward pass and no sampling.
"""
import dataclasses
from pathlib import Path
from typing import Any

from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingParameterRasterDestination

from core.resources import DEFAULT_JEM

from ..i18n import tr
from ..result_layers import styled_layer
from ..result_styles import CONFIDENCE, ResultStyler, training_log_px_range
from ..explain_request import run_explain
from .engine_algorithm import EngineAlgorithm, engine_errors
from .output_folder import hidden_run_folder, publish, run_json_path


class ConfidenceMapAlgorithm(EngineAlgorithm):
    """Runs core.pipeline.explain with a JEM and delivers its confidence.tif at OUTPUT, run.json beside it."""

    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "confidence_map"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Confidence map (JEM)"

    def help_text(self) -> str:
        return tr("Maps how familiar each pixel looks to a JEM model: its log p(x), high where the input resembles the "
                  "imagery the model was trained on, low where it does not (clouds, another sensor, a landscape it "
                  "never saw), where its naturalness map deserves less trust. The map lies on the input's grid; its "
                  "colours run from the training patches' 1st percentile (red) to their 99th (blue). The run record, "
                  "with the input's log p(x) against the training histogram and any warning, is written beside OUTPUT "
                  "as <name>.run.json.")

    def createInstance(self) -> "ConfidenceMapAlgorithm":  # noqa: N802 (QGIS's name)
        return ConfidenceMapAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.add_input_parameter()
        self.add_aoi_parameter()
        self.add_model_parameters(jem=True)
        self.add_tiling_parameters()
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Confidence map"))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Check the model is a JEM before the run, not after; then run as naturalness_map does."""
        output = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
        with engine_errors(), hidden_run_folder(output) as run_dir:
            request = self.explain_request(parameters, context, run_dir)
            request = dataclasses.replace(request, model=request.model or str(DEFAULT_JEM))
            training_log_px_range(request.model)  # raises for a model that is no JEM
            result = run_explain(request, feedback.setProgress, feedback.isCanceled,
                                       tiling=self.tiling(parameters, context).engine_arguments())
            publish(result.outputs[CONFIDENCE], result.run_json, output)
        styled_layer(output, CONFIDENCE, ResultStyler(None, run_json_path(output)))
        for warning in result.warnings:
            feedback.pushWarning(warning)
        return {self.OUTPUT: str(output)}
