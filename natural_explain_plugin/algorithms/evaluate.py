"""Processing algorithm `natural_explain:evaluate`: is an explanation faithful, and does it find the reference class?

Scores each chosen method (beside the random and brightness controls) by deletion, insertion and
ROAD AUC, by the IoU of its top-Q % pixels with the polygons of REFERENCE_CLASS, by time per
megapixel and by how much its maps change when the classifier is randomised, over DRAWS draws of
tiles, as `python -m core evaluate` does.
"""
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..evaluate_request import EvaluateRequest, run_evaluate
from ..i18n import tr
from .engine_algorithm import EngineAlgorithm, engine_errors

VECTOR_FORMATS = ["gpkg", "shp", "geojson"]  # files the engine's OGR reader opens as they are


class EvaluateAlgorithm(EngineAlgorithm):
    """Runs core.evaluate.evaluate into OUTPUT_FOLDER; outputs the JSON, Markdown table and figure."""

    LABELS = "LABELS"
    LABEL_FIELD = "LABEL_FIELD"
    REFERENCE_CLASS = "REFERENCE_CLASS"
    Q = "Q"
    TILES = "TILES"
    DRAWS = "DRAWS"
    RANDOMIZATION = "RANDOMIZATION"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    JSON = "JSON"
    MARKDOWN = "MARKDOWN"
    FIGURE = "FIGURE"

    GROUP_ID = "checks"

    def name(self) -> str:
        return "evaluate"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Evaluate explanations"

    def help_text(self) -> str:
        return tr("Compares explanation methods on the input: deletion, insertion and ROAD AUC (faithfulness, against a"
                  " random and a brightness control), the IoU between each method's top-Q % pixels and the LABELS "
                  "polygons whose LABEL_FIELD is REFERENCE_CLASS, the time per megapixel and, with RANDOMIZATION, the "
                  "rank correlation of each method's maps with those of a randomised classifier (near 1: the map does "
                  "not depend on the model). DRAWS draws of tiles give the mean ± spread. Writes evaluation.json, "
                  "evaluation.md (the table) and comparison.png (the methods side by side on the same tiles) into "
                  "OUTPUT_FOLDER.")

    def createInstance(self) -> "EvaluateAlgorithm":  # noqa: N802 (QGIS's name)
        return EvaluateAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.add_input_parameter()
        self.addParameter(QgsProcessingParameterFeatureSource(self.LABELS, "Label polygons",
                                                              [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(self.LABEL_FIELD, "Label field", parentLayerParameterName=self.LABELS))
        self.addParameter(QgsProcessingParameterString(
            self.REFERENCE_CLASS, "Reference class (a value of the label field; the engine's default when empty)",
            optional=True))
        self.add_methods_parameter()
        self.addParameter(QgsProcessingParameterNumber(
            self.Q, "Top share of attribution pixels compared with the reference class (%)",
            QgsProcessingParameterNumber.Double, defaultValue=10.0, minValue=0.1, maxValue=100.0))
        tiles = QgsProcessingParameterNumber(self.TILES, "Tiles to sample (the engine's default when empty)",
                                             QgsProcessingParameterNumber.Integer, optional=True, minValue=1)
        draws = QgsProcessingParameterNumber(self.DRAWS, "Draws of tiles (the engine's default when empty)",
                                             QgsProcessingParameterNumber.Integer, optional=True, minValue=1)
        randomization = QgsProcessingParameterBoolean(
            self.RANDOMIZATION, "Randomisation check (recomputes every map once per classifier layer)", defaultValue=True)
        for parameter in (tiles, draws, randomization):
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)
        self.add_aoi_parameter()
        self.add_model_parameters()
        self.add_tiling_parameters(overlap_and_batch=False)
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "Output folder"))
        self.addOutput(QgsProcessingOutputFile(self.JSON, "Evaluation (JSON)"))
        self.addOutput(QgsProcessingOutputFile(self.MARKDOWN, "Evaluation table (Markdown)"))
        self.addOutput(QgsProcessingOutputFile(self.FIGURE, "Methods side by side (PNG)"))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Hand the engine the labels as a file it can read (QGIS exports a layer that is not one)."""
        out_dir = Path(self.parameterAsString(parameters, self.OUTPUT_FOLDER, context))
        labels = self.parameterAsCompatibleSourceLayerPath(parameters, self.LABELS, context, VECTOR_FORMATS, "gpkg",
                                                           feedback)
        with engine_errors():
            request = EvaluateRequest(
                self.explain_request(parameters, context, out_dir), labels,
                label_field=self.parameterAsString(parameters, self.LABEL_FIELD, context),
                reference_class=self.parameterAsString(parameters, self.REFERENCE_CLASS, context) or None,
                q=self.parameterAsDouble(parameters, self.Q, context),
                tiles=self._optional_int(parameters, self.TILES, context),
                draws=self._optional_int(parameters, self.DRAWS, context),
                randomization=self.parameterAsBool(parameters, self.RANDOMIZATION, context),
                tile_size=self.tiling(parameters, context).tile_size)
            result = run_evaluate(request, feedback.setProgress, feedback.isCanceled)
        return {self.OUTPUT_FOLDER: str(out_dir), self.JSON: str(result.json_path),
                self.MARKDOWN: str(result.markdown_path), self.FIGURE: str(result.figure_path)}

    def _optional_int(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext) -> int | None:
        """None when the optional number was left empty, so the engine's own default applies."""
        if parameters.get(name) in (None, ""):
            return None
        return self.parameterAsInt(parameters, name, context)
