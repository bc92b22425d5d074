"""Processing algorithm `natural_explain:inpaint`: fill masked and nodata pixels with what a JEM finds familiar.

SGLD moves only the pixels to fill, the known ones clamped, so the fill fits its surroundings
and every known pixel comes out as it went in, bit for bit. The pixels to fill are a raster
on the input's grid (nonzero = fill) or polygons in any CRS, plus the input's nodata.
"""
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsRasterLayer,
)

from core.errors import NaturalExplainError

from ..explain_request import run_engine
from ..i18n import tr
from ..layer_arguments import raster_path
from ..result_layers import styled_layer
from ..result_styles import INPAINTED, ResultStyler
from .engine_algorithm import EngineAlgorithm, engine_errors
from .evaluate import VECTOR_FORMATS


def advanced_integer(name: str, description: str, default: int | None, minimum: int) -> QgsProcessingParameterNumber:
    """An integer under Advanced parameters; optional (the engine's default) when it has no default."""
    number = QgsProcessingParameterNumber(name, description, QgsProcessingParameterNumber.Integer,
                                          defaultValue=default, optional=default is None, minValue=minimum)
    number.setFlags(number.flags() | QgsProcessingParameterNumber.FlagAdvanced)
    return number


class InpaintAlgorithm(EngineAlgorithm):
    """Runs core.inpaint.inpaint into OUTPUT and shows the result in the input layer's stretch."""

    MASK = "MASK"
    MASK_POLYGONS = "MASK_POLYGONS"
    STEPS = "STEPS"
    SEED = "SEED"
    OUTPUT = "OUTPUT"

    def __init__(self) -> None:
        super().__init__()
        self._input: QgsRasterLayer | None = None
        self._output: Path | None = None

    GROUP_ID = "imagery"

    def name(self) -> str:
        return "inpaint"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Inpaint (JEM)"

    def help_text(self) -> str:
        return tr("Fills clouds, gaps or any area you mark with imagery a JEM model finds familiar given the pixels "
                  "around it, by Langevin dynamics (SGLD) on the pixels to fill alone. Mark them with MASK (a raster "
                  "on the input's grid, nonzero = fill) or MASK_POLYGONS (polygons in any CRS); the input's nodata "
                  "pixels are filled too. OUTPUT has the input's grid and data type and the model's bands; every "
                  "pixel not filled is the input's own value. The input must have the model's resolution.")

    def createInstance(self) -> "InpaintAlgorithm":  # noqa: N802 (QGIS's name)
        return InpaintAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.add_input_parameter()
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.MASK, "Pixels to fill: a raster on the input's grid, nonzero = fill (or give polygons)", optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.MASK_POLYGONS, "Pixels to fill: polygons (or give a raster)", [QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.add_model_parameters(jem=True)
        self.addParameter(advanced_integer(self.STEPS, "SGLD steps (the engine's default when empty)", None, 1))
        self.addParameter(advanced_integer(self.SEED, "Random seed (the same seed repeats a run)", 0, 0))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Inpainted raster"))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Worker side: run the engine; styling waits for postProcessAlgorithm, on the main thread."""
        self._output = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
        with engine_errors():
            request = self.explain_request(parameters, context, self._output.parent)
            self._input = self.input_layer(parameters, context)
            mask = self._mask(parameters, context, feedback)
            steps = self.parameterAsInt(parameters, self.STEPS, context)  # 0: left empty, the engine's default
            chain = {"steps": steps} if steps else {}
            result = run_engine("inpaint", request, feedback.setProgress, feedback.isCanceled, out=self._output,
                                mask=mask, seed=self.parameterAsInt(parameters, self.SEED, context), **chain)
        steps = result.settings.steps
        feedback.pushInfo(f"{result.filled_pixels} pixels filled by {steps} SGLD step{'s' * (steps != 1)} "
                          f"in {result.seconds:.1f} s")
        for warning in result.warnings:
            feedback.pushWarning(warning)
        return {self.OUTPUT: str(self._output)}

    def postProcessAlgorithm(self, context: QgsProcessingContext,  # noqa: N802 (QGIS's name)
                             feedback: QgsProcessingFeedback) -> dict[str, Any]:  # noqa: ARG002
        """Main thread: save the input layer's stretch beside OUTPUT, which QGIS then loads with the file."""
        styled_layer(self._output, INPAINTED, ResultStyler(self._input))
        return {self.OUTPUT: str(self._output)}

    def _mask(self, parameters: dict[str, Any], context: QgsProcessingContext,
              feedback: QgsProcessingFeedback) -> str:
        """The mask as a file the engine reads: the raster's, or the polygons exported if QGIS holds them otherwise.

        Raises:
            NaturalExplainError: unless exactly one of MASK and MASK_POLYGONS is given.
        """
        raster = self.parameterAsRasterLayer(parameters, self.MASK, context)
        polygons = parameters.get(self.MASK_POLYGONS) not in (None, "")
        if (raster is not None) == polygons:
            raise NaturalExplainError("give the pixels to fill either as a MASK raster or as MASK_POLYGONS, not "
                                      f"{'both' if polygons else 'neither'}")
        if raster is not None:
            return raster_path(raster)
        return self.parameterAsCompatibleSourceLayerPath(parameters, self.MASK_POLYGONS, context, VECTOR_FORMATS,
                                                         "gpkg", feedback)
