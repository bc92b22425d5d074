"""Processing algorithm `natural_explain:segment`: a U-Net segmenter's naturalness map, sharp to the pixel.

A segmenter labels every pixel of its tile at once, so its map follows field and shore edges
that a tile classifier blurs. It is written as the naturalness map is (core.segment: tiled,
blended, on the input's grid) and delivered the same way, one file at OUTPUT.
"""
from pathlib import Path
from typing import Any

from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingParameterRasterDestination

from ..engine_import import engine_packages
from ..i18n import tr
from ..result_layers import styled_layer
from ..layer_names import SEGMENTATION
from ..result_styles import ResultStyler
from .engine_algorithm import EngineAlgorithm, engine_errors
from .output_folder import hidden_run_folder, publish


class SegmentAlgorithm(EngineAlgorithm):
    """Runs core.segment.segment and delivers its segmentation.tif at OUTPUT, run.json beside it."""

    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "segment"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return tr("Segmentation map (U-Net)")

    def help_text(self) -> str:
        return tr("Maps how natural each pixel looks with a segmentation model (a U-Net), which labels every pixel of "
                  "its tile at once and so follows field, road and shore edges to the pixel. OUTPUT is band 1, the "
                  "probability of the natural classes from 0 (anthropogenic) to 1 (natural), then one probability "
                  "band per class when the model has more than two; it lies on the input's grid, nodata where the "
                  "input has none. MODEL must be a segmenter (the bundled one when empty); a classifier is refused. "
                  "The run record is written beside OUTPUT as <name>.run.json.")

    def createInstance(self) -> "SegmentAlgorithm":  # noqa: N802 (QGIS's name)
        return SegmentAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.add_input_parameter()
        self.add_aoi_parameter()
        self.add_model_parameters()
        self.parameterDefinition(self.MODEL).setDescription(tr("Segmenter model file (bundled segmenter when empty)"))
        self.add_tiling_parameters()
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Segmentation map")))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Run the segmenter into a hidden sibling folder, then rename its map onto OUTPUT."""
        output = Path(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
        with engine_errors(), hidden_run_folder(output) as run_dir:
            request = self.explain_request(parameters, context, run_dir)
            with engine_packages():
                from core.segment import segment
            result = segment(request.input_path, run_dir, model=request.model, aoi=request.aoi(),
                             device=request.device, bands=request.bands, progress=feedback.setProgress,
                             is_canceled=feedback.isCanceled, report=feedback.pushInfo,
                             **self.tiling(parameters, context).engine_arguments())
            publish(result.segmentation, result.run_json, output)
        styled_layer(output, SEGMENTATION, ResultStyler(None))
        for warning in result.warnings:
            feedback.pushWarning(warning)
        return {self.OUTPUT: str(output)}
