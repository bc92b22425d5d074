"""Processing algorithm `natural_explain:segment`: a U-Net segmenter's naturalness map, sharp to the pixel.

A segmenter labels every pixel of its tile at once, so its map follows field and shore edges
that a tile classifier blurs. It is written as the naturalness map is (core.segment: tiled,
blended, on the input's grid) and delivered the same way, one file at OUTPUT.
"""
from typing import Any

from qgis.core import QgsProcessingFeedback

from ..explain_request import ExplainRequest, run_engine
from ..i18n import tr
from ..layer_names import SEGMENTATION
from .map_algorithm import MadeMap, MapAlgorithm


class SegmentAlgorithm(MapAlgorithm):
    """Runs core.segment.segment and delivers its segmentation.tif at OUTPUT, run.json beside it."""

    MAP = SEGMENTATION

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

    def output_description(self) -> str:
        return tr("Segmentation map")

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 (QGIS's)
        super().initAlgorithm(config)
        self.parameterDefinition(self.MODEL).setDescription(tr("Segmenter model file (bundled segmenter when empty)"))

    def make_map(self, request: ExplainRequest, feedback: QgsProcessingFeedback, tiling: dict[str, int]) -> MadeMap:
        result = run_engine("segment", request, feedback.setProgress, feedback.isCanceled, report=feedback.pushInfo,
                            **tiling)
        return result.segmentation, result.run_json, result.warnings
