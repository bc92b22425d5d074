"""Processing algorithm `natural_explain:explain`: the naturalness map and every chosen method's maps.

The engine writes straight into OUTPUT_FOLDER, each file through a temporary name, as the
headless CLI does; a cancel leaves no final-named file there.
"""
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputRasterLayer,
    QgsProcessingParameterFolderDestination,
    QgsRasterLayer,
)

from ..explain_request import run_explain
from ..i18n import tr
from ..result_layers import styled_layers
from .engine_algorithm import EngineAlgorithm, engine_errors

if TYPE_CHECKING:
    from core.pipeline import ExplainResult


class ExplainAlgorithm(EngineAlgorithm):
    """Runs core.pipeline.explain with METHODS into OUTPUT_FOLDER and styles every map it wrote."""

    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    NATURALNESS = "NATURALNESS"
    LAYERS = "LAYERS"
    RUN_JSON = "RUN_JSON"

    def __init__(self) -> None:
        super().__init__()
        self._input: QgsRasterLayer | None = None
        self._result: "ExplainResult | None" = None

    def name(self) -> str:
        return "explain"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Explain naturalness"

    def help_text(self) -> str:
        return tr("Writes into OUTPUT_FOLDER the naturalness map (naturalness.tif, 0 anthropogenic to 1 natural) and, "
                  "for each chosen method, where the model found its evidence (attribution_<method>.tif, higher = "
                  "more important); cyclegan adds the input pushed towards more and less natural (enhanced_max.tif, "
                  "enhanced_min.tif). Every map lies on the input's grid, with a style beside it (<name>.qml) and the "
                  "run record in run.json. occlusion and ig run the model many times per tile: expect minutes on a "
                  "CPU. METHODS takes names or numbers, e.g. METHODS=gradcam,deeplift or METHODS=2,4 in qgis_process. "
                  "METHOD_OPTIONS (advanced) sets the methods' settings, e.g. occlusion.window=8 ig.steps=64 or "
                  "cyclegan.generators=<file>; run.json records them.")

    def createInstance(self) -> "ExplainAlgorithm":  # noqa: N802 (QGIS's name)
        return ExplainAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.add_input_parameter()
        self.add_aoi_parameter()
        self.add_methods_parameter()
        self.add_method_options_parameter()
        self.add_model_parameters()
        self.add_tiling_parameters()
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "Output folder"))
        self.addOutput(QgsProcessingOutputRasterLayer(self.NATURALNESS, "Naturalness map"))
        self.addOutput(QgsProcessingOutputMultipleLayers(self.LAYERS, "Every map written"))
        self.addOutput(QgsProcessingOutputFile(self.RUN_JSON, "Run record"))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Worker side: run the engine; styling waits for postProcessAlgorithm, on the main thread."""
        out_dir = Path(self.parameterAsString(parameters, self.OUTPUT_FOLDER, context))
        with engine_errors():
            request = self.explain_request(parameters, context, out_dir)
            self._input = self.input_layer(parameters, context)
            self._result = run_explain(request, feedback.setProgress, feedback.isCanceled,
                                       tiling=self.tiling(parameters, context).engine_arguments(),
                                       method_options=self.method_settings(parameters, context))
        for warning in self._result.warnings:
            feedback.pushWarning(warning)
        return self._outputs()

    def postProcessAlgorithm(self, context: QgsProcessingContext,  # noqa: N802 (QGIS's name)
                             feedback: QgsProcessingFeedback) -> dict[str, Any]:  # noqa: ARG002
        """Main thread: style each map as the input layer looks, save the styles beside, load the maps.

        The input layer may belong to the project, whose renderer is read safely only here.
        """
        for layer in styled_layers(self._result.outputs, self._input, self._result.run_json):
            if context.project() is not None:
                details = QgsProcessingContext.LayerDetails(layer.name(), context.project(), layer.name())
                context.addLayerToLoadOnCompletion(layer.source(), details)
        return self._outputs()

    def _outputs(self) -> dict[str, Any]:
        result = self._result
        return {self.OUTPUT_FOLDER: str(result.run_json.parent), self.NATURALNESS: str(result.outputs["naturalness"]),
                self.LAYERS: [str(path) for path in result.outputs.values()], self.RUN_JSON: str(result.run_json)}
