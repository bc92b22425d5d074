"""Processing algorithm `natural_explain:naturalness_map`: one raster in, one naturalness map out."""
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsRasterLayer,
)

from core.device import DEVICE_CHOICES
from core.errors import NaturalExplainError, RunCanceled

from ..explain_request import ExplainRequest, run_explain
from ..layer_arguments import crs_text, raster_path, rectangle_bounds
from ..result_layers import place_style_beside
from .output_folder import hidden_run_folder, publish


class NaturalnessMapAlgorithm(QgsProcessingAlgorithm):
    """Runs core.pipeline.explain and delivers its naturalness.tif at OUTPUT, run.json beside it."""

    INPUT = "INPUT"
    AOI = "AOI"
    MODEL = "MODEL"
    DEVICE = "DEVICE"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "naturalness_map"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Naturalness map"

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS's name)
        return ("Maps how natural each pixel of a multi-band satellite image looks: a probability from 0 "
                "(anthropogenic) to 1 (natural), on exactly the input's grid, nodata where the input has none. "
                "Bands are matched to the model by name or description. The run record (model, parameters, "
                "input checksum, timings, warnings) is written beside OUTPUT as <name>.run.json.")

    def createInstance(self) -> "NaturalnessMapAlgorithm":  # noqa: N802 (QGIS's name)
        return NaturalnessMapAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "Input raster (all the model's bands)"))
        self.addParameter(QgsProcessingParameterExtent(self.AOI, "Area of interest (whole raster when empty)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, "Model file (bundled default model when empty)", optional=True,
            fileFilter="Natural Explain models (*.json *.safetensors)"))
        self.addParameter(QgsProcessingParameterEnum(self.DEVICE, "Device", options=list(DEVICE_CHOICES),
                                                     defaultValue=0))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Naturalness map"))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Run the engine into a hidden sibling folder, then rename its map onto OUTPUT."""
        output = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
        try:
            with hidden_run_folder(output) as run_dir:
                request = self._request(parameters, context, run_dir)
                result = run_explain(request, feedback.setProgress, feedback.isCanceled)
                publish(result.outputs["naturalness"], result.run_json, output)
        except RunCanceled as exc:
            raise QgsProcessingException("the run was canceled; no output was written") from exc
        except NaturalExplainError as exc:
            raise QgsProcessingException(str(exc)) from exc
        place_style_beside(output, "naturalness")
        for warning in result.warnings:
            feedback.pushWarning(warning)
        return {self.OUTPUT: str(output)}

    def _request(self, parameters: dict[str, Any], context: QgsProcessingContext, out_dir: Path) -> ExplainRequest:
        """The plain engine arguments for these parameters; the extent keeps its own CRS."""
        layer: QgsRasterLayer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise NaturalExplainError("INPUT is not a raster layer or file GDAL can open: check the path")
        model = self.parameterAsFile(parameters, self.MODEL, context) or None
        device = DEVICE_CHOICES[self.parameterAsEnum(parameters, self.DEVICE, context)]
        extent = self.parameterAsExtent(parameters, self.AOI, context)
        aoi_bounds, aoi_crs = None, None
        if not extent.isNull():
            extent_crs = self.parameterAsExtentCrs(parameters, self.AOI, context)
            aoi_bounds = rectangle_bounds(extent)
            aoi_crs = crs_text(extent_crs if extent_crs.isValid() else layer.crs())
        return ExplainRequest(raster_path(layer), out_dir, model=model, aoi_bounds=aoi_bounds, aoi_crs=aoi_crs,
                              device=device)
