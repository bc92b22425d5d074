"""The Processing provider `natural_explain`, for the toolbox, models, batches and qgis_process."""
from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .algorithms.confidence_map import ConfidenceMapAlgorithm
from .algorithms.evaluate import EvaluateAlgorithm
from .algorithms.explain import ExplainAlgorithm
from .algorithms.inpaint import InpaintAlgorithm
from .algorithms.naturalness_map import NaturalnessMapAlgorithm
from .algorithms.ood_report import OodReportAlgorithm
from .algorithms.segment import SegmentAlgorithm
from .algorithms.ssc import SSCAlgorithm
from .algorithms.train_classifier import TrainClassifierAlgorithm
from .icons import plugin_icon


class NaturalExplainProvider(QgsProcessingProvider):
    """Lists Natural Explain's algorithms; outputs are GeoTIFFs because the engine writes GeoTIFFs."""

    def id(self) -> str:
        return "natural_explain"

    def name(self) -> str:
        return "Natural Explain"

    def icon(self) -> QIcon:
        return plugin_icon()

    def loadAlgorithms(self) -> None:  # noqa: N802 (QGIS's name)
        for algorithm in (NaturalnessMapAlgorithm(), ExplainAlgorithm(), EvaluateAlgorithm(), ConfidenceMapAlgorithm(),
                          OodReportAlgorithm(), InpaintAlgorithm(), TrainClassifierAlgorithm(), SSCAlgorithm(),
                          SegmentAlgorithm()):
            self.addAlgorithm(algorithm)

    def supportedOutputRasterLayerExtensions(self) -> list[str]:  # noqa: N802 (QGIS's name)
        return ["tif"]
