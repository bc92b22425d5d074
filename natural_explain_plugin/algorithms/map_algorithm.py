"""What the algorithms that deliver one map share: a run into a hidden folder, the map renamed onto OUTPUT.

naturalness_map, confidence_map and segment differ only in the engine call that makes the map
and in its style; how OUTPUT appears whole or not at all, with its run record beside it, is here once.
"""
from pathlib import Path
from typing import Any

from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingParameterRasterDestination

from ..explain_request import ExplainRequest, run_explain
from ..result_layers import styled_layer
from ..result_styles import ResultStyler
from .engine_algorithm import EngineAlgorithm, engine_errors
from .output_folder import hidden_run_folder, publish

MadeMap = tuple[Path, Path, list[str]]  # the map the engine wrote, its run.json, the run's warnings


class MapAlgorithm(EngineAlgorithm):
    """Base of the single-output algorithms: OUTPUT is one map, its run record beside it as <name>.run.json."""

    OUTPUT = "OUTPUT"
    MAP = ""  # the map's output name (layer_names): which style it gets
    JEM = False  # MODEL is a JEM, the bundled one by default

    def output_description(self) -> str:
        """OUTPUT's label in the Processing dialog: the algorithm's name unless it says otherwise."""
        return self.displayName()

    def make_map(self, request: ExplainRequest, feedback: QgsProcessingFeedback, tiling: dict[str, int]) -> MadeMap:
        """Run the engine for `request` into its folder: explain, whose MAP output is delivered (segment runs another)."""
        result = run_explain(request, feedback.setProgress, feedback.isCanceled, tiling=tiling)
        return result.outputs[self.MAP], result.run_json, result.warnings

    def styler(self, output: Path) -> ResultStyler:  # noqa: ARG002 (the confidence map reads its run record)
        """How the delivered map at `output` is styled."""
        return ResultStyler(None)

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.add_input_parameter()
        self.add_aoi_parameter()
        self.add_model_parameters(jem=self.JEM)
        self.add_tiling_parameters()
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.output_description()))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Run the engine into a hidden sibling folder, then rename its map onto OUTPUT."""
        output = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
        with engine_errors(), hidden_run_folder(output) as run_dir:
            request = self.explain_request(parameters, context, run_dir)
            made, run_json, warnings = self.make_map(request, feedback,
                                                     self.tiling(parameters, context).engine_arguments())
            publish(made, run_json, output)
        styled_layer(output, self.MAP, self.styler(output))
        for warning in warnings:
            feedback.pushWarning(warning)
        return {self.OUTPUT: str(output)}
