"""Processing algorithm `natural_explain:confidence_map`: how familiar each pixel looks to a JEM, as one map.

A JEM's log p(x) is high where the input resembles its training imagery and low where it does
not (clouds, another sensor, a landscape it never saw), so the map shows where the naturalness
map deserves less trust. It costs the naturalness map's forward pass and no sampling.
"""
import dataclasses
from pathlib import Path

from qgis.core import QgsProcessingFeedback

from core.resources import DEFAULT_JEM

from ..explain_request import ExplainRequest
from ..i18n import tr
from ..result_styles import CONFIDENCE, ResultStyler, training_log_px_range
from .map_algorithm import MadeMap, MapAlgorithm
from .output_folder import run_json_path


class ConfidenceMapAlgorithm(MapAlgorithm):
    """Runs core.pipeline.explain with a JEM and delivers its confidence.tif at OUTPUT, run.json beside it."""

    MAP = CONFIDENCE
    JEM = True

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

    def output_description(self) -> str:
        return "Confidence map"

    def make_map(self, request: ExplainRequest, feedback: QgsProcessingFeedback, tiling: dict[str, int]) -> MadeMap:
        """Check the model is a JEM before the run, not after; then run as naturalness_map does."""
        request = dataclasses.replace(request, model=request.model or str(DEFAULT_JEM))
        training_log_px_range(request.model)  # raises for a model that is no JEM
        return super().make_map(request, feedback, tiling)

    def styler(self, output: Path) -> ResultStyler:
        return ResultStyler(None, run_json_path(output))
