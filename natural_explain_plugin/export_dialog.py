"""The dialog that asks what to export: a result map, a threshold, a format and a file.

It starts from the newest run's naturalness map, and offers a score threshold for the
probability maps (naturalness, sharpened naturalness, segmentation) and the top 10 % for an
attribution map, the choices that mean something for each.
"""
from pathlib import Path

from qgis.core import QgsMapLayerProxyModel, QgsProject, QgsRasterLayer
from qgis.gui import QgsFileWidget, QgsMapLayerComboBox, QgsMessageBar
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QRadioButton,
    QWidget,
)

from core.errors import NaturalExplainError

from .export import FORMATS, ExportRequest, Threshold, start_export
from .i18n import tr
from .layer_arguments import raster_path
from .layer_names import PROBABILITY_MAPS, output_name
from .reporting import TITLE, report_failure
from .result_styles import ATTRIBUTION_PREFIX
from .run_folder import GROUP_PREFIX
from .task import EngineTask

DEFAULT_SCORE = 0.5
DEFAULT_TOP_PERCENT = 10.0


def newest_result_layer(project: QgsProject) -> QgsRasterLayer | None:
    """The first map of the topmost Natural Explain result group, None when there is no run yet."""
    for group in project.layerTreeRoot().findGroups():
        if group.name().startswith(GROUP_PREFIX) and group.findLayers():
            return group.findLayers()[0].layer()
    return None


class ExportDialog(QDialog):
    """Map, threshold (score or top q %), format and target file; `request()` holds the answer."""

    def __init__(self, project: QgsProject, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("{0}: export polygons").format(TITLE))
        self.map = QgsMapLayerComboBox()
        self.map.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.by_score, self.by_top = QRadioButton(tr("score at least")), QRadioButton(tr("top percent of the map"))
        self.score, self.top_percent = QDoubleSpinBox(), QDoubleSpinBox()
        self.score.setDecimals(4)
        self.score.setRange(-1e9, 1e9)
        self.score.setValue(DEFAULT_SCORE)
        self.top_percent.setRange(0.1, 100.0)
        self.top_percent.setValue(DEFAULT_TOP_PERCENT)
        self.top_percent.setSuffix(" %")
        self.format = QComboBox()
        for name, suffix in FORMATS.items():
            self.format.addItem(name, suffix)
        self.file = QgsFileWidget()
        self.file.setStorageMode(QgsFileWidget.SaveFile)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(tr("Result map"), self.map)
        for radio, spin in ((self.by_score, self.score), (self.by_top, self.top_percent)):
            row = QHBoxLayout()
            row.addWidget(radio)
            row.addWidget(spin)
            form.addRow(row)
        form.addRow(tr("Format"), self.format)
        form.addRow(tr("Save as"), self.file)
        form.addRow(buttons)
        self.map.layerChanged.connect(self._map_chosen)
        self.format.currentIndexChanged.connect(self._suggest_file)
        newest = newest_result_layer(project)
        if newest is not None:
            self.map.setLayer(newest)
        self._map_chosen()

    def request(self) -> ExportRequest:
        """The export as chosen.

        Raises:
            NaturalExplainError: when no map or file is chosen, or the map is not a raster file.
        """
        layer = self.map.currentLayer()
        if layer is None:
            raise NaturalExplainError(tr("choose the result map to export"))
        if not self.file.filePath():
            raise NaturalExplainError(tr("choose the file to save the polygons in"))
        threshold = (Threshold(top_percent=self.top_percent.value()) if self.by_top.isChecked()
                     else Threshold(score=self.score.value()))
        out = Path(self.file.filePath()).with_suffix(self.format.currentData())
        return ExportRequest(raster_path(layer), layer.name(), threshold, out)

    def _map_chosen(self) -> None:
        """Probability maps (naturalness, SSC, segmentation) default to score >= 0.5, attribution maps to the
        top q %; other maps keep a score."""
        layer = self.map.currentLayer()
        output = output_name(layer) if layer is not None else ""
        attribution = output.startswith(ATTRIBUTION_PREFIX)
        (self.by_top if attribution else self.by_score).setChecked(True)
        if output in PROBABILITY_MAPS:
            self.score.setValue(DEFAULT_SCORE)
        self._suggest_file()

    def _suggest_file(self) -> None:
        """`<map>_polygons.<format>` beside the map's file."""
        layer = self.map.currentLayer()
        if layer is not None:
            source = Path(layer.source())
            self.file.setFilePath(str(source.with_name(f"{source.stem}_polygons{self.format.currentData()}")))
        self.file.setFilter(f"{self.format.currentText()} (*{self.format.currentData()})")


def ask_export(project: QgsProject, message_bar: QgsMessageBar, parent: QWidget | None = None) -> EngineTask | None:
    """Ask what to export and start the export; None when the user cancels or a choice is missing (they are told)."""
    dialog = ExportDialog(project, parent)
    if dialog.exec_() != QDialog.Accepted:
        return None
    try:
        request = dialog.request()
    except NaturalExplainError as exc:
        report_failure(message_bar, exc)
        return None
    return start_export(request, message_bar)
