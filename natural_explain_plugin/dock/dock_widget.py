"""The Natural Explain dock: everything a run needs on one panel, checked before Run.

Input layer, model (with its sidecar summary), band mapping, methods with their cost for
the chosen AOI, the AOI itself, device and output folder; then Run, Cancel and the run's
progress, the export of a result map to polygons and the comparison of a result with the
input. Problems the user can fix are shown as they arise, and a Run that cannot succeed is
refused with one sentence on the message bar.
"""
from typing import Any, Callable

from qgis.core import Qgis, QgsMapLayerProxyModel, QgsProject, QgsRasterLayer
from qgis.gui import QgsDockWidget, QgsFileWidget, QgsMapCanvas, QgsMapLayerComboBox, QgsMessageBar
from qgis.PyQt.QtCore import QSignalBlocker
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.device import DEVICE_CHOICES
from core.errors import NaturalExplainError

from ..export_dialog import ask_export
from ..layer_arguments import raster_path
from ..reporting import TITLE, report_failure
from ..settings import (
    output_folder,
    remember_device,
    remember_methods,
    remembered_device,
    remembered_methods,
    set_output_folder,
)
from ..task import ExplainTask
from .aoi_choice import area_m2, in_raster_crs, request_aoi, work_extent
from .aoi_panel import AoiPanel
from .band_mapping import BandMappingTable, auto_band_mapping, mapping_doubts, mapping_problem
from .cost_estimate import megapixels
from .methods_panel import WARNING_STYLE, MethodsPanel
from .model_choice import ModelChoice, ModelSummary

ERROR_STYLE = "color: #c00000"
StartRun = Callable[..., ExplainTask | None]  # (layer, methods, **ExplainRequest fields)


def _section(title: str, *widgets: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    for widget in widgets:
        layout.addWidget(widget)
    return box


class NaturalExplainDock(QgsDockWidget):
    """The dock. `start_run(layer, methods, **fields)` queues a run (the plugin's start_explain)."""

    def __init__(self, canvas: QgsMapCanvas, message_bar: QgsMessageBar, start_run: StartRun,
                 parent: QWidget | None = None) -> None:
        super().__init__(TITLE, parent)
        self.setObjectName("NaturalExplainDock")
        self.message_bar, self.start_run = message_bar, start_run
        self.runs: list[ExplainTask] = []
        self.outcome = ""  # how the last run ended, shown once none is left
        self.layer_combo = QgsMapLayerComboBox()
        self.layer_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.model = ModelChoice(message_bar)
        self.bands = BandMappingTable()
        self.band_note = QLabel()
        self.band_note.setWordWrap(True)
        self.methods = MethodsPanel(remembered_methods())
        self.aoi = AoiPanel(canvas)
        self.device = QComboBox()
        self.device.addItems(DEVICE_CHOICES)
        self.device.setCurrentText(remembered_device())
        self.folder = QgsFileWidget()
        self.folder.setStorageMode(QgsFileWidget.GetDirectory)
        self.folder.setFilePath(str(output_folder()))
        self.run_button, self.cancel_button = QPushButton("Run"), QPushButton("Cancel")
        self.cancel_button.setToolTip("stop the running run within one batch and drop the queued ones")
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.export_button = QPushButton("Export polygons…")
        self.compare_button = QPushButton("Compare with input")
        self.compare_button.setToolTip("show a result of the last run (by default the input pushed towards more "
                                       "natural) in a second map that moves with the main map; available once a run "
                                       "has written enhanced images (cyclegan)")
        self.compare_button.setEnabled(False)  # the plugin enables it once a run leaves enhanced images
        self.setWidget(self._layout())
        self._connect()
        self._layer_changed()

    def _layout(self) -> QScrollArea:
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        settings = QWidget()
        form = QFormLayout(settings)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Device", self.device)
        form.addRow("Output folder", self.folder)
        form.addRow(run_row)
        form.addRow(self.progress)
        form.addRow(self.status)
        results_row = QHBoxLayout()
        results_row.addWidget(self.export_button)
        results_row.addWidget(self.compare_button)
        form.addRow(results_row)
        content = QWidget()
        layout = QVBoxLayout(content)
        for section in (_section("Input layer", self.layer_combo), _section("Model", self.model),
                        _section("Band mapping", self.bands, self.band_note), _section("Maps", self.methods),
                        _section("Area of interest", self.aoi), _section("Run", settings)):
            layout.addWidget(section)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        return scroll

    def _connect(self) -> None:
        self.layer_combo.layerChanged.connect(self._layer_changed)
        self.model.summaryChanged.connect(self._model_changed)
        self.bands.changed.connect(self._check_bands)
        for signal in (self.methods.changed, self.aoi.changed, self.device.currentIndexChanged):
            signal.connect(self.update_costs)
        self.folder.fileChanged.connect(self._folder_chosen)
        QgsProject.instance().readProject.connect(self._show_project_folder)
        QgsProject.instance().cleared.connect(self._show_project_folder)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(lambda: ask_export(QgsProject.instance(), self.message_bar, self))
        self._show_runs()

    def set_input_layer(self, layer: QgsRasterLayer) -> None:
        """Make `layer` the input, as choosing it in the combo does."""
        self.layer_combo.setLayer(layer)

    def release_canvas(self) -> None:
        """Undo what the dock did outside itself (map tools, rubber band, project signals) before it is deleted."""
        self.aoi.release_canvas()
        QgsProject.instance().readProject.disconnect(self._show_project_folder)
        QgsProject.instance().cleared.disconnect(self._show_project_folder)

    def run(self) -> ExplainTask | None:
        """Queue a run with the dock's choices; None when a choice stops it (the message bar says which)."""
        layer = self.layer_combo.currentLayer()
        try:
            fields = self._request_fields(layer)
        except NaturalExplainError as exc:
            report_failure(self.message_bar, exc)
            return None
        methods = self.methods.methods()
        remember_methods(methods)
        remember_device(self.device.currentText())
        warning = self.methods.warning.text()
        if warning:
            self.message_bar.pushMessage(TITLE, warning, level=Qgis.Warning)
        task = self.start_run(layer, methods, **fields)
        if task is not None:
            self._follow(task)
        return task

    def cancel(self) -> None:
        """Cancel the dock's runs: the running one stops within a batch, queued ones never start."""
        for task in list(self.runs):
            task.cancel()

    def _request_fields(self, layer: QgsRasterLayer | None) -> dict[str, Any]:
        """The ExplainRequest fields the dock sets: model, device, band mapping and AOI.

        Raises:
            NaturalExplainError: naming the first choice that stops the run.
        """
        if layer is None:
            raise NaturalExplainError("choose the raster layer to explain in the Natural Explain panel")
        summary = self.model.summary
        if summary is None:
            raise NaturalExplainError(f"the model is not ready ({self.model.label.text()}): choose a usable model")
        mapping = self.bands.mapping()
        problem = mapping_problem(mapping)
        if problem:
            raise NaturalExplainError(problem)
        fields = {"model": summary.path, "device": self.device.currentText(), "bands": mapping}
        shape = self.aoi.shape()
        if shape is not None:
            fields.update(request_aoi(in_raster_crs(shape, layer, QgsProject.instance().transformContext()),
                                      layer.crs()))
        return fields

    def _layer_changed(self) -> None:
        self._fill_bands()
        self.update_costs()

    def _model_changed(self, summary: ModelSummary | None) -> None:
        self.methods.set_jem(summary is not None and summary.is_jem)
        self._fill_bands()
        self.update_costs()

    def _fill_bands(self) -> None:
        """Match the model's bands to the layer's by name and show the match."""
        layer, summary = self.layer_combo.currentLayer(), self.model.summary
        if layer is None or summary is None:
            self.bands.fill([], None, {})
            return
        try:
            mapping = auto_band_mapping(raster_path(layer), summary.bands)
        except NaturalExplainError as exc:
            self.bands.fill([], None, {})
            self._note(str(exc), ERROR_STYLE)
            return
        self.bands.fill(summary.bands, layer, mapping)

    def _check_bands(self) -> None:
        """Show what is wrong with the band mapping before any run."""
        if not self.bands.combos:
            self._note("", "")
            return
        mapping = self.bands.mapping()
        problem, doubts = mapping_problem(mapping), mapping_doubts(mapping)
        self._note(problem or doubts or "every model band has an input band",
                   ERROR_STYLE if problem else WARNING_STYLE if doubts else "")

    def _note(self, text: str, style: str) -> None:
        self.band_note.setText(text)
        self.band_note.setStyleSheet(style)

    def update_costs(self) -> None:
        """Each method's estimated cost over the part of the layer the AOI covers; blank while that is unknown."""
        self.methods.show_costs(self._work_megapixels(), self.device.currentText())

    def _work_megapixels(self) -> float | None:
        """Model pixels (millions) the run would compute; None without a layer, a model or a usable AOI."""
        layer, summary = self.layer_combo.currentLayer(), self.model.summary
        if layer is None or summary is None:
            return None
        context = QgsProject.instance().transformContext()
        try:
            shape = self.aoi.shape()
            geometry = None if shape is None else in_raster_crs(shape, layer, context)
        except NaturalExplainError:
            return None
        return megapixels(area_m2(work_extent(geometry, layer), layer.crs(), context), summary.resolution_m)

    def _follow(self, task: ExplainTask) -> None:
        """Show the run's per-tile progress and whether it is running or queued."""
        self.runs.append(task)
        task.progressChanged.connect(lambda percent: self._show_runs(percent if self.runs[:1] == [task] else None))
        task.taskCompleted.connect(lambda: self._ended(task, "the last run finished"))
        task.taskTerminated.connect(lambda: self._ended(task, "the last run was canceled or failed"))
        self._show_runs(0.0 if len(self.runs) == 1 else None)

    def _ended(self, task: ExplainTask, outcome: str) -> None:
        """The next run starts from 0 %; after the last one the bar keeps where it stopped."""
        self.runs.remove(task)
        self.outcome = outcome
        self._show_runs(0.0 if self.runs else None)

    def _show_runs(self, percent: float | None = None) -> None:
        if percent is not None:
            self.progress.setValue(int(percent))
        queued = len(self.runs) - 1
        self.status.setText(self.outcome if not self.runs else "running" + (f", {queued} queued" if queued else ""))
        self.cancel_button.setEnabled(bool(self.runs))

    def _folder_chosen(self, folder: str) -> None:
        if folder:
            set_output_folder(folder)

    def _show_project_folder(self) -> None:
        """Another project was opened or a new one started: show the folder its runs will use.

        Only shown: the project keeps no folder of its own until the user chooses one.
        """
        with QSignalBlocker(self.folder):
            self.folder.setFilePath(str(output_folder()))

