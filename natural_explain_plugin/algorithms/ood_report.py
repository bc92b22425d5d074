"""Processing algorithm `natural_explain:ood_report`: does the input look like the JEM's training imagery?

Reads the input as explain does and compares its patches' log p(x) with the training
histogram in the JEM's sidecar (the KL divergence, the share of patches below the training
1st percentile, and the two histograms drawn one over the other, the JEM paper's Fig. 2), and
the input statistics log p(x) cannot see; one verdict, OUT_OF_DISTRIBUTION, combines them.
"""
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFolderDestination,
)

from ..explain_request import run_engine
from ..i18n import tr
from .engine_algorithm import EngineAlgorithm, engine_errors


class OodReportAlgorithm(EngineAlgorithm):
    """Runs core.ood.ood_report into OUTPUT_FOLDER; outputs its verdict, numbers, JSON and plot."""

    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    JSON = "JSON"
    FIGURE = "FIGURE"
    KL_DIVERGENCE = "KL_DIVERGENCE"
    SHARE_BELOW_P1 = "SHARE_BELOW_P1"
    OUT_OF_DISTRIBUTION = "OUT_OF_DISTRIBUTION"

    GROUP_ID = "checks"

    def name(self) -> str:
        return "ood_report"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Out-of-distribution report (JEM)"

    def help_text(self) -> str:
        return tr("Says whether the input looks like the imagery a JEM model was trained on, so you know whether to "
                  "trust its naturalness map here. Compares the log p(x) of the input's patches with the training "
                  "histogram stored with the model (KL_DIVERGENCE between the two, SHARE_BELOW_P1: the share of "
                  "patches less familiar than 99 % of the training patches) and checks what log p(x) cannot see: "
                  "the band means against the training ones, the band order, fine detail (a coarser product "
                  "resampled) and the training value range. OUT_OF_DISTRIBUTION is true when any check fires; the "
                  "warning names each check that fired with its statistic and limit. Writes ood.json (every check's "
                  "reason) and the two histograms, one over the other, as ood.png into OUTPUT_FOLDER.")

    def createInstance(self) -> "OodReportAlgorithm":  # noqa: N802 (QGIS's name)
        return OodReportAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.add_input_parameter()
        self.add_aoi_parameter()
        self.add_model_parameters(jem=True)
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "Output folder"))
        self.addOutput(QgsProcessingOutputFile(self.JSON, "Report (JSON)"))
        self.addOutput(QgsProcessingOutputFile(self.FIGURE, "Training and input log p(x) histograms (PNG)"))
        self.addOutput(QgsProcessingOutputNumber(self.KL_DIVERGENCE, "KL divergence from the training histogram"))
        self.addOutput(QgsProcessingOutputNumber(self.SHARE_BELOW_P1,
                                                 "Share of patches below the training 1st percentile"))
        self.addOutput(QgsProcessingOutputBoolean(self.OUT_OF_DISTRIBUTION, "The input looks out of distribution"))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Run the report; its one sentence, naming the checks that fired, goes to the log as explain's warnings do."""
        out_dir = Path(self.parameterAsString(parameters, self.OUTPUT_FOLDER, context))
        with engine_errors():
            request = self.explain_request(parameters, context, out_dir)
            report = run_engine("ood", request, feedback.setProgress, feedback.isCanceled)
        if report.warning:
            feedback.pushWarning(report.warning)
        return {self.OUTPUT_FOLDER: str(out_dir), self.JSON: str(report.json_path),
                self.FIGURE: str(report.figure_path), self.KL_DIVERGENCE: report.kl_divergence,
                self.SHARE_BELOW_P1: report.share_below_p1, self.OUT_OF_DISTRIBUTION: report.out_of_distribution}
