"""Processing algorithm `natural_explain:naturalness_map`: one raster in, one naturalness map out."""
from pathlib import Path
from typing import Any

from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingParameterRasterDestination

from ..i18n import tr
from ..result_layers import styled_layer
from ..result_styles import ResultStyler
from ..explain_request import run_explain
from .engine_algorithm import EngineAlgorithm, engine_errors
from .output_folder import hidden_run_folder, publish


class NaturalnessMapAlgorithm(EngineAlgorithm):
    """Runs core.pipeline.explain and delivers its naturalness.tif at OUTPUT, run.json beside it."""

    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "naturalness_map"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Naturalness map"

    def help_text(self) -> str:
        return tr("Maps how natural each pixel of a multi-band satellite image looks: a probability from 0 "
                  "(anthropogenic) to 1 (natural), on exactly the input's grid, nodata where the input has none. "
                  "Bands are matched to the model by name or description. The run record (model, parameters, "
                  "input checksum, timings, warnings) is written beside OUTPUT as <name>.run.json.")

    def createInstance(self) -> "NaturalnessMapAlgorithm":  # noqa: N802 (QGIS's name)
        return NaturalnessMapAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.add_input_parameter()
        self.add_aoi_parameter()
        self.add_model_parameters()
        self.add_tiling_parameters()
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Naturalness map"))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Run the engine into a hidden sibling folder, then rename its map onto OUTPUT."""
        output = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
        with engine_errors(), hidden_run_folder(output) as run_dir:
            request = self.explain_request(parameters, context, run_dir)
            result = run_explain(request, feedback.setProgress, feedback.isCanceled,
                                       tiling=self.tiling(parameters, context).engine_arguments())
            publish(result.outputs["naturalness"], result.run_json, output)
        styled_layer(output, "naturalness", ResultStyler(None))
        for warning in result.warnings:
            feedback.pushWarning(warning)
        return {self.OUTPUT: str(output)}
