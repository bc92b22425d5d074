"""The Natural Explain dock: everything a run needs on one panel, checked before Run.

Input layer, model (with its sidecar summary), band mapping, methods with their cost for
the chosen AOI, the AOI itself, device and output folder; then Run, Cancel and the run's
progress, the export of a result map to polygons and the comparison of a result with the
input. Problems the user can fix are shown as they arise, and a Run that cannot succeed is
refused with one sentence on the message bar.

The choices scroll; Run, Cancel, the progress bar, the run's stage and time left, and the
buttons for the last run's results are pinned below them, so they stay in sight in a dock
of any height. Nothing in the scrolling part is wider than the dock: text wraps, combo
boxes shrink, and the band table stays folded to "10/10 bands matched" until Edit….

A second page, Train model (train_page), trains the analyst's own classifier; when it has
trained one, that model is chosen on the Explain page.
"""
from pathlib import Path
from typing import Any, Callable

from qgis.core import Qgis, QgsMapLayerProxyModel, QgsProject, QgsRasterLayer
from qgis.gui import QgsDockWidget, QgsFileWidget, QgsMapCanvas, QgsMapLayerComboBox, QgsMessageBar
from qgis.PyQt.QtCore import QSignalBlocker, Qt, QTimer, QUrl
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.device import DEVICE_CHOICES
from core.errors import NaturalExplainError

from ..explain_request import ExplainTask
from ..export_dialog import ask_export
from ..i18n import tr
from ..layer_arguments import raster_path
from ..reporting import TITLE, report_failure
from ..settings import (
    output_folder,
    remember_device,
    remember_methods,
    remember_run_time,
    remembered_device,
    remembered_methods,
    remembered_run_times,
    set_output_folder,
)
from ..stack_folder import stack_folder, stack_path
from .aoi_choice import area_m2, in_raster_crs, request_aoi, work_extent
from .aoi_panel import AoiPanel
from .band_mapping import BandMappingPanel, auto_band_mapping, mapping_doubts, mapping_problem
from .cost_estimate import calibration_factor, computed_megapixels, duration_text, remaining_seconds, run_seconds
from .input_check import layer_resolution_warning, not_a_file_message
from .methods_panel import WARNING_STYLE, MethodsPanel
from .model_choice import ModelChoice, ModelSummary
from .train_page import TrainPage

ERROR_STYLE = "color: #c00000"
StartRun = Callable[..., ExplainTask | None]  # (layer, methods, **ExplainRequest fields)


TICK_MS = 1000  # how often the stage line's time left is brought up to date during a run


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
        self.estimates: dict[int, float] = {}  # id(task) -> its uncalibrated estimate, for calibrating later ones
        self.first_tile: dict[int, tuple[float, float]] = {}  # id(task) -> (elapsed s, percent) at its first report
        self.last_estimate_s: float | None = None  # the calibrated estimate shown for the last run started
        self.last_measured_s: float | None = None  # how long the last finished run took
        self.last_folder: Path | None = None  # the last finished run's folder, for Open folder
        self.layer_combo = QgsMapLayerComboBox()
        self.layer_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.layer_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.layer_combo.setMinimumContentsLength(12)
        self.stack_button = QPushButton(tr("Stack a Sentinel-2 folder…"))
        self.stack_button.setToolTip(tr("pick a folder of Sentinel-2 band files: they are stacked into one virtual "
                                        "raster at the highest resolution, each band named, and added as the input"))
        self.input_note = QLabel()
        self.input_note.setWordWrap(True)
        self.input_note.hide()
        self.model = ModelChoice(message_bar)
        self.band_panel = BandMappingPanel()
        self.bands = self.band_panel.table
        self.band_note = QLabel()
        self.band_note.setWordWrap(True)
        self.methods = MethodsPanel(remembered_methods())
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        self.aoi = AoiPanel(canvas)
        self.device = QComboBox()
        self.device.addItems(DEVICE_CHOICES)
        self.device.setCurrentText(remembered_device())
        self.folder = QgsFileWidget()
        self.folder.setStorageMode(QgsFileWidget.GetDirectory)
        self.folder.setFilePath(str(output_folder()))
        self.run_button, self.cancel_button = QPushButton(tr("Run")), QPushButton(tr("Cancel"))
        self.cancel_button.setToolTip(tr("stop the running run within one batch and drop the queued ones"))
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.export_button = QPushButton(tr("Export polygons…"))
        self.compare_button = QPushButton(tr("Compare with input"))
        self.compare_button.setToolTip(tr("show a result of the last run (by default the input pushed towards more "
                                          "natural) in a second map that moves with the main map; available once a "
                                          "run has written enhanced images (cyclegan)"))
        self.compare_button.setEnabled(False)  # the plugin enables it once a run leaves enhanced images
        self.open_folder_button = QPushButton(tr("Open folder"))
        self.open_folder_button.setToolTip(tr("open the last run's folder: its GeoTIFFs and run.json"))
        self.open_folder_button.setEnabled(False)
        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(lambda: self._show_runs())
        self.train_page = TrainPage(message_bar, self.device.currentText)
        self.pages = QTabWidget()
        self.pages.addTab(self._layout(), tr("Explain"))
        train_scroll = QScrollArea()
        train_scroll.setWidgetResizable(True)
        train_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        train_scroll.setFrameShape(QScrollArea.NoFrame)
        train_scroll.setWidget(self.train_page)
        self.pages.addTab(train_scroll, tr("Train model"))
        self.setWidget(self.pages)
        self._connect()
        self._layer_changed()

    def _layout(self) -> QWidget:
        settings = QWidget()
        form = QFormLayout(settings)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        form.addRow(tr("Device"), self.device)
        form.addRow(tr("Output folder"), self.folder)
        content = QWidget()
        layout = QVBoxLayout(content)
        for section in (_section(tr("Input layer"), self.layer_combo, self.stack_button, self.input_note),
                        _section(tr("Model"), self.model),
                        _section(tr("Band mapping"), self.band_panel, self.band_note),
                        _section(tr("Maps"), self.methods, self.estimate),
                        _section(tr("Area of interest"), self.aoi), _section(tr("Device and output"), settings)):
            layout.addWidget(section)
        layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # wrap and shrink instead
        self.scroll.setFrameShape(QScrollArea.NoFrame)
        self.scroll.setWidget(content)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        results_row = QHBoxLayout()
        for button in (self.export_button, self.compare_button, self.open_folder_button):
            results_row.addWidget(button)
        self.pinned = QWidget()
        pinned = QVBoxLayout(self.pinned)
        pinned.setContentsMargins(9, 0, 9, 6)
        pinned.addLayout(run_row)
        pinned.addWidget(self.progress)
        pinned.addWidget(self.status)
        pinned.addLayout(results_row)
        outer = QWidget()
        column = QVBoxLayout(outer)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.scroll, 1)
        column.addWidget(self.pinned)
        return outer

    def _connect(self) -> None:
        self.layer_combo.layerChanged.connect(self._layer_changed)
        self.model.summaryChanged.connect(self._model_changed)
        self.train_page.trained.connect(self.use_trained_model)
        self.bands.changed.connect(self._check_bands)
        for signal in (self.methods.changed, self.aoi.changed, self.device.currentIndexChanged):
            signal.connect(self.update_costs)
        self.methods.changed.connect(self._model_context)
        self.folder.fileChanged.connect(self._folder_chosen)
        QgsProject.instance().readProject.connect(self._show_project_folder)
        QgsProject.instance().cleared.connect(self._show_project_folder)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.stack_button.clicked.connect(self.ask_stack_folder)
        self.open_folder_button.clicked.connect(self.open_last_folder)
        self.export_button.clicked.connect(lambda: ask_export(QgsProject.instance(), self.message_bar, self))
        self._show_runs()

    def set_input_layer(self, layer: QgsRasterLayer) -> None:
        """Make `layer` the input, as choosing it in the combo does."""
        self.layer_combo.setLayer(layer)

    def show_train_page(self) -> TrainPage:
        """Bring the Train model page to the front."""
        self.pages.setCurrentIndex(1)
        return self.train_page

    def use_trained_model(self, model_json: str) -> None:
        """Choose the model the Train model page just wrote, and show the Explain page with its summary."""
        self.model.choose_file(model_json)
        self.pages.setCurrentIndex(0)

    def release_canvas(self) -> None:
        """Undo what the dock did outside itself (map tools, rubber band, project signals) before it is deleted."""
        self.ticker.stop()
        self.aoi.release_canvas()
        QgsProject.instance().readProject.disconnect(self._show_project_folder)
        QgsProject.instance().cleared.disconnect(self._show_project_folder)

    def ask_stack_folder(self) -> QgsRasterLayer | None:
        """Stack a Sentinel-2 folder…: ask for the folder, then stack_and_add it."""
        folder = QFileDialog.getExistingDirectory(self, tr("Folder of Sentinel-2 band files"), str(Path.home()))
        return self.stack_and_add(Path(folder)) if folder else None

    def stack_and_add(self, folder: Path) -> QgsRasterLayer | None:
        """Stack the band files of `folder` at the highest resolution, add the stack and make it the input."""
        try:
            target = stack_folder(folder, stack_path(folder, output_folder()))
        except NaturalExplainError as exc:
            report_failure(self.message_bar, exc)
            return None
        layer = QgsRasterLayer(str(target), Path(folder).name or target.stem, "gdal")
        QgsProject.instance().addMapLayer(layer)
        self.set_input_layer(layer)
        self.message_bar.pushMessage(TITLE, tr("stacked {0} bands of {1} into {2}").format(
            layer.bandCount(), folder, target), level=Qgis.Info)
        return layer

    def open_last_folder(self) -> bool:
        """Open the last finished run's folder in the file manager; False when there is none or it is gone."""
        if self.last_folder is None or not self.last_folder.is_dir():
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_folder)))

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
        estimate = self._estimate(calibrated=False)
        task = self.start_run(layer, methods, **fields)
        if task is not None:
            if estimate is not None:
                self.estimates[id(task)] = estimate
                self.last_estimate_s = estimate * self._calibration()
            self._follow(task)
        return task

    def cancel(self) -> None:
        """Cancel the dock's runs: the running one stops within a batch, queued ones never start."""
        for task in list(self.runs):
            task.cancel()

    def _request_fields(self, layer: QgsRasterLayer | None) -> dict[str, Any]:
        """The ExplainRequest fields the dock sets: model, device, band mapping, extra maps and AOI.

        Raises:
            NaturalExplainError: naming the first choice that stops the run.
        """
        if layer is None:
            raise NaturalExplainError(tr("choose the raster layer to explain in the Natural Explain panel"))
        summary = self.model.summary
        refused = not_a_file_message(layer, summary.bands if summary else None,
                                     summary.resolution_m if summary else None)
        if refused:
            raise NaturalExplainError(refused)
        if summary is None:
            raise NaturalExplainError(tr("the model is not ready ({0}): choose a usable model").format(
                self.model.label.text()))
        mapping = self.bands.mapping()
        problem = mapping_problem(mapping)
        if problem:
            raise NaturalExplainError(problem)
        fields = {"model": self.model.run_model(), "device": self.device.currentText(), "bands": mapping,
                  "extra_maps": tuple(self.methods.extra_maps())}
        shape = self.aoi.shape()
        if shape is not None:
            fields.update(request_aoi(in_raster_crs(shape, layer, QgsProject.instance().transformContext()),
                                      layer.crs()))
        return fields

    def _layer_changed(self) -> None:
        layer = self.layer_combo.currentLayer()
        self.train_page.set_raster(layer)
        self._model_context()
        self._fill_bands()
        self.update_costs()

    def _model_context(self) -> None:
        """Tell the model choice the layer and methods Automatic chooses for (a layer that is no file: none)."""
        layer = self.layer_combo.currentLayer()
        path = raster_path(layer) if layer is not None and not not_a_file_message(layer, None, None) else None
        self.model.set_context(path, self.methods.methods())

    def _model_changed(self, summary: ModelSummary | None) -> None:
        self.methods.set_jem(summary is not None and summary.is_jem)
        self._fill_bands()
        self.update_costs()

    def _fill_bands(self) -> None:
        """Match the model's bands to the layer's by name, show the match, and say what is wrong with the layer."""
        layer, summary = self.layer_combo.currentLayer(), self.model.summary
        self._input_note("", "")
        if layer is None or summary is None:
            self.bands.fill([], None, {})
            return
        refused = not_a_file_message(layer, summary.bands, summary.resolution_m)
        if refused:
            self.bands.fill([], None, {})
            self._input_note(refused, ERROR_STYLE)
            self._note("", "")
            return
        try:
            mapping = auto_band_mapping(raster_path(layer), summary.bands)
        except NaturalExplainError as exc:
            self.bands.fill([], None, {})
            self._note(str(exc), ERROR_STYLE)
            return
        self.bands.fill(summary.bands, layer, mapping)
        self._input_note(layer_resolution_warning(raster_path(layer), summary.resolution_m) or "", WARNING_STYLE)

    def _input_note(self, text: str, style: str) -> None:
        self.input_note.setText(text)
        self.input_note.setStyleSheet(style)
        self.input_note.setVisible(bool(text))

    def _check_bands(self) -> None:
        """Show what is wrong with the band mapping before any run."""
        if not self.bands.combos:
            self._note("", "")
            return
        mapping = self.bands.mapping()
        problem, doubts = mapping_problem(mapping), mapping_doubts(mapping)
        self._note(problem or doubts or "", ERROR_STYLE if problem else WARNING_STYLE if doubts else "")

    def _note(self, text: str, style: str) -> None:
        self.band_note.setText(text)
        self.band_note.setStyleSheet(style)
        self.band_note.setVisible(bool(text))

    def update_costs(self) -> None:
        """Each method's estimated time over the part of the layer the AOI covers, and the whole run's."""
        calibration = self._calibration()
        self.methods.show_costs(self._computed_megapixels(), self.device.currentText(), calibration)
        estimate = self._estimate(calibrated=True)
        self.estimate.setText("" if estimate is None else tr("whole run: {0} (start-up included)").format(
            duration_text(estimate)))

    def _calibration(self) -> float:
        return calibration_factor(remembered_run_times(), self.device.currentText())

    def _estimate(self, *, calibrated: bool) -> float | None:
        """The whole run's estimated seconds with the chosen maps; None while the AOI or the layer is unknown."""
        mpx = self._computed_megapixels()
        if mpx is None:
            return None
        return run_seconds([*self.methods.methods(), *self.methods.extra_maps()], mpx,
                           calibration=self._calibration() if calibrated else 1.0)

    def _computed_megapixels(self) -> float | None:
        """Model pixels (millions) the run's tiles compute; None without a layer, a model or a usable AOI."""
        layer, summary = self.layer_combo.currentLayer(), self.model.summary
        if layer is None or summary is None or not_a_file_message(layer, None, None):
            return None
        context = QgsProject.instance().transformContext()
        try:
            shape = self.aoi.shape()
            geometry = None if shape is None else in_raster_crs(shape, layer, context)
        except NaturalExplainError:
            return None
        extent = work_extent(geometry, layer)
        area = area_m2(extent, layer.crs(), context)
        if area <= 0 or extent.height() <= 0:
            return None
        width_m = (area * extent.width() / extent.height()) ** 0.5
        return computed_megapixels(width_m / summary.resolution_m, area / width_m / summary.resolution_m)

    def _follow(self, task: ExplainTask) -> None:
        """Show the run's stage, progress and time left, and whether it is running or queued."""
        self.runs.append(task)
        task.progressChanged.connect(lambda percent: self._progressed(task, percent))
        task.taskCompleted.connect(lambda: self._ended(task, tr("the last run finished"), completed=True))
        task.taskTerminated.connect(lambda: self._ended(task, tr("the last run was canceled or failed")))
        self.ticker.start()
        self._show_runs(0.0 if len(self.runs) == 1 else None)

    def _progressed(self, task: ExplainTask, percent: float) -> None:
        elapsed = task.elapsed_s()
        if 0 < percent < 100 and id(task) not in self.first_tile and elapsed is not None:
            self.first_tile[id(task)] = (elapsed, percent)
        self._show_runs(percent if self.runs[:1] == [task] else None)

    def _ended(self, task: ExplainTask, outcome: str, completed: bool = False) -> None:  # noqa: FBT001, FBT002
        """The next run starts from 0 %; after the last one the bar keeps where it stopped.

        A finished run's measured time is kept with its estimate, to calibrate the next estimates.
        """
        self.runs.remove(task)
        estimate = self.estimates.pop(id(task), None)
        self.first_tile.pop(id(task), None)
        measured = task.elapsed_s()
        if completed:
            self.last_folder = task.request.out_dir
            self.open_folder_button.setEnabled(True)
            self.open_folder_button.setToolTip(tr("open {0}").format(self.last_folder))
            if measured is not None:
                self.last_measured_s = measured
                outcome = tr("the last run finished in {0}").format(duration_text(measured))
                if estimate:
                    remember_run_time(estimate, measured, task.request.device)
        self.outcome = outcome
        if not self.runs:
            self.ticker.stop()
        self.update_costs()
        self._show_runs(0.0 if self.runs else None)

    def _show_runs(self, percent: float | None = None) -> None:
        if percent is not None:
            self.progress.setValue(int(percent))
        self.status.setText(self.stage_text() if self.runs else self.outcome)
        self.status.setVisible(bool(self.status.text()))
        self.cancel_button.setEnabled(bool(self.runs))

    def stage_text(self) -> str:
        """What the running run is doing and about how long it has left, and how many wait behind it."""
        task = self.runs[0]
        queued = len(self.runs) - 1
        waiting = tr(", {0} queued").format(queued) if queued else ""
        elapsed = task.elapsed_s()
        if elapsed is None:
            return tr("waiting to start") + waiting
        percent = float(self.progress.value())
        first = self.first_tile.get(id(task))
        estimate = self.estimates.get(id(task), 0.0) * self._calibration()
        left = duration_text(remaining_seconds(estimate, elapsed, percent, first))
        if percent >= 100:
            stage = tr("writing the maps and adding the layers")
        elif first is None:
            stage = tr("loading the engine and the model, first tiles")
        else:
            stage = tr("computing the maps tile by tile ({0} %)").format(int(percent))
        return tr("{0}: {1} left").format(stage, left) + waiting

    def _folder_chosen(self, folder: str) -> None:
        if folder:
            set_output_folder(folder)

    def _show_project_folder(self) -> None:
        """Another project was opened or a new one started: show the folder its runs will use.

        Only shown: the project keeps no folder of its own until the user chooses one.
        """
        with QSignalBlocker(self.folder):
            self.folder.setFilePath(str(output_folder()))
