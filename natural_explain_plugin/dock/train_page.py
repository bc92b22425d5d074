"""The panel's Train model page: the analyst's own classifier from a raster and labelled polygons.

Pick the raster, the polygon layer and its class field, tick which of the field's values count
as natural, choose the band set (the bands of one of the bundled classifiers), the epochs (with
a time estimate) and the model file; Train runs `python -m train classifier` as a child process
in a QgsTask (train_task), with progress, each epoch's held-out accuracy in the page's log, and
Cancel, which keeps the last checkpoint: Resume (offered while checkpoints exist) carries on.
When it ends, the new model is chosen on the Explain page and its card is summarized here, and
the page offers to train the pattern generators for it as a second step.

Inputs the page can check cheaply are checked before the child starts, each refused in one
sentence (train_request); the rest come from train's own one-line errors.
"""
import dataclasses
import re
from pathlib import Path
from typing import Callable

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsFieldProxyModel,
    QgsMapLayerProxyModel,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.gui import QgsFieldComboBox, QgsFileWidget, QgsMapLayerComboBox, QgsMessageBar
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.errors import NaturalExplainError

from ..i18n import tr
from ..layer_arguments import raster_path
from ..reporting import TITLE, report_failure
from ..settings import output_folder, remember_run_time, remembered_run_times
from ..train_request import (
    TrainRequest,
    band_items,
    band_sets,
    calibration_device,
    check_classes,
    checkpoint_epochs,
    class_values,
    generators_request,
    labelled_pixels,
    polygons_for_training,
    training_seconds,
)
from ..train_task import TrainResult, TrainTask
from .cost_estimate import calibration_factor, duration_text

ERROR_STYLE = "color: #c00000"
DEFAULT_EPOCHS = 10
MAX_EPOCHS = 500
NATURAL_DEFAULTS = ("natural",)  # values ticked by default when the field holds them


def default_model_path(raster_name: str) -> Path:
    """<output folder>/models/<raster>_classifier.json."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", raster_name).strip("_") or "my"
    return output_folder() / "models" / f"{stem}_classifier.json"


class TrainPage(QWidget):
    """The Train model page. `device` gives the device chosen on the Explain page.

    `trained(model_json)` is emitted when a classifier has been trained, so the dock selects it.
    """

    trained = pyqtSignal(str)

    def __init__(self, message_bar: QgsMessageBar, device: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_bar, self.device = message_bar, device
        self.task: TrainTask | None = None
        self.last_request: TrainRequest | None = None
        self.last_result: TrainResult | None = None
        self.estimate_s: float | None = None  # the running run's uncalibrated estimate
        self.outcome = ""
        self.raster_combo = QgsMapLayerComboBox()
        self.raster_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.polygon_combo = QgsMapLayerComboBox()
        self.polygon_combo.setFilters(QgsMapLayerProxyModel.PolygonLayer)
        self.polygon_combo.setAllowEmptyLayer(True)
        self.field_combo = QgsFieldComboBox()
        self.field_combo.setFilters(QgsFieldProxyModel.String | QgsFieldProxyModel.Numeric)
        self.classes = QListWidget()
        self.classes.setMaximumHeight(110)
        self.bands = QComboBox()
        self.sets = band_sets()
        for name, bands in self.sets.items():
            self.bands.addItem(tr("{0} bands, as {1}: {2}").format(len(bands), name, ", ".join(bands)), name)
        self.bands.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.bands.setMinimumContentsLength(12)
        self.band_note = QLabel()
        self.band_note.setWordWrap(True)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, MAX_EPOCHS)
        self.epochs.setValue(DEFAULT_EPOCHS)
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        self.out = QgsFileWidget()
        self.out.setStorageMode(QgsFileWidget.SaveFile)
        self.out.setFilter(tr("Natural Explain model (*.json)"))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(ERROR_STYLE)
        self.note.hide()
        self.train_button = QPushButton(tr("Train"))
        self.resume_button = QPushButton(tr("Resume"))
        self.resume_button.setToolTip(tr("carry on from the checkpoints an earlier, canceled run left"))
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setToolTip(tr("stop after the current batch; the finished epochs are kept for Resume"))
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumHeight(120)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.generators_button = QPushButton(tr("Train pattern generators for it…"))
        self.generators_button.setToolTip(tr("second step: the cyclegan and counterfactual methods need pattern "
                                             "generators trained against this model (4 epochs, much longer than "
                                             "the classifier)"))
        self.generators_button.hide()
        self._layout()
        self._connect()
        self._raster_changed()
        self._polygons_changed()

    def _layout(self) -> None:
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        form.addRow(tr("Raster"), self.raster_combo)
        form.addRow(tr("Labelled polygons"), self.polygon_combo)
        form.addRow(tr("Class field"), self.field_combo)
        form.addRow(tr("Natural classes"), self.classes)
        form.addRow(tr("Bands"), self.bands)
        form.addRow("", self.band_note)
        form.addRow(tr("Epochs"), self.epochs)
        form.addRow("", self.estimate)
        form.addRow(tr("Model file"), self.out)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.resume_button, self.cancel_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.log)
        layout.addWidget(self.summary)
        layout.addWidget(self.generators_button)
        layout.addStretch(1)

    def _connect(self) -> None:
        self.raster_combo.layerChanged.connect(self._raster_changed)
        self.polygon_combo.layerChanged.connect(self._polygons_changed)
        self.field_combo.fieldChanged.connect(self._field_changed)
        self.bands.currentIndexChanged.connect(self._check_bands)
        self.epochs.valueChanged.connect(self.update_estimate)
        self.out.fileChanged.connect(self._show_buttons)
        self.train_button.clicked.connect(lambda: self.train())
        self.resume_button.clicked.connect(lambda: self.train(resume=True))
        self.cancel_button.clicked.connect(self.cancel)
        self.generators_button.clicked.connect(lambda: self.train_generators())
        self._show_buttons()

    # --- choices ---

    def set_raster(self, layer: QgsRasterLayer | None) -> None:
        """Follow the Explain page's input layer."""
        if layer is not None:
            self.raster_combo.setLayer(layer)

    def set_polygons(self, layer: QgsVectorLayer, field: str = "label") -> None:
        self.polygon_combo.setLayer(layer)
        self.field_combo.setLayer(layer)
        self.field_combo.setField(field)
        self._field_changed()

    def natural_classes(self) -> list[str]:
        return [self.classes.item(i).text() for i in range(self.classes.count())
                if self.classes.item(i).checkState() == Qt.Checked]

    def set_natural_classes(self, names: list[str]) -> None:
        for i in range(self.classes.count()):
            item = self.classes.item(i)
            item.setCheckState(Qt.Checked if item.text() in names else Qt.Unchecked)

    def model_file(self) -> Path | None:
        text = self.out.filePath().strip()
        if not text:
            return None
        path = Path(text)
        return path if path.suffix.lower() == ".json" else path.with_suffix(".json")

    def _raster_changed(self) -> None:
        layer = self.raster_combo.currentLayer()
        if layer is not None and not self.out.filePath():
            self.out.setFilePath(str(default_model_path(layer.name())))
        if layer is not None:
            self._choose_band_set(layer)
        self._check_bands()
        self.update_estimate()

    def _choose_band_set(self, layer: QgsRasterLayer) -> None:
        """Select the richest band set the layer has (the Bands note says what is missing otherwise)."""
        for index in range(self.bands.count()):
            name = self.bands.itemData(index)
            try:
                band_items(raster_path(layer), self.sets[name], name)
            except NaturalExplainError:
                continue
            self.bands.setCurrentIndex(index)
            return

    def _polygons_changed(self) -> None:
        layer = self.polygon_combo.currentLayer()
        self.field_combo.setLayer(layer)
        if layer is not None and layer.fields().indexOf("label") >= 0:
            self.field_combo.setField("label")
        self._field_changed()

    def _field_changed(self) -> None:
        """Fill the checklist with the field's values, ticking 'natural' where it is one."""
        self.classes.clear()
        layer, field = self.polygon_combo.currentLayer(), self.field_combo.currentField()
        values = class_values(layer, field) if layer is not None and field else []
        for value in values:
            item = QListWidgetItem(value)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if value in NATURAL_DEFAULTS else Qt.Unchecked)
            self.classes.addItem(item)
        self.update_estimate()

    def _check_bands(self) -> None:
        layer, name = self.raster_combo.currentLayer(), self.bands.currentData()
        text, style = "", ""
        if layer is not None and name:
            try:
                items = band_items(raster_path(layer), self.sets[name], name)
                text = tr("bands used: {0}").format(", ".join(items))
            except NaturalExplainError as exc:
                text, style = str(exc), ERROR_STYLE
        self.band_note.setText(text)
        self.band_note.setStyleSheet(style)
        self.band_note.setVisible(bool(text))

    def _calibration(self) -> float:
        return calibration_factor(remembered_run_times(), calibration_device(self.device()))

    def update_estimate(self) -> None:
        """The run's estimated time from the labelled pixels inside the raster and the epochs."""
        raster, polygons = self.raster_combo.currentLayer(), self.polygon_combo.currentLayer()
        if raster is None or polygons is None:
            self.estimate.setText("")
            return
        pixels = labelled_pixels(raster, polygons)
        seconds = training_seconds(pixels, self.epochs.value(), self._calibration())
        self.estimate.setText(tr("{0} labelled pixels: about {1} on this machine").format(
            f"{pixels:,}", duration_text(seconds)))

    def _show_buttons(self) -> None:
        running = self.task is not None
        out = self.model_file()
        kept = checkpoint_epochs(self._checkpoints(out)) if out is not None else 0
        self.train_button.setEnabled(not running)
        self.resume_button.setEnabled(not running and kept > 0)
        self.resume_button.setText(tr("Resume (epoch {0} done)").format(kept) if kept else tr("Resume"))
        self.cancel_button.setEnabled(running)

    @staticmethod
    def _checkpoints(out: Path) -> Path:
        return out.with_suffix("").with_name(out.stem + ".ckpt")

    # --- running ---

    def request(self, *, resume: bool = False) -> TrainRequest:
        """The run for the page's choices, after the checks the plugin makes itself.

        Raises:
            NaturalExplainError: one sentence naming what to change.
        """
        raster, polygons = self.raster_combo.currentLayer(), self.polygon_combo.currentLayer()
        if raster is None:
            raise NaturalExplainError(tr("choose the raster to train on"))
        if polygons is None:
            raise NaturalExplainError(tr("choose a polygon layer whose class field labels the raster"))
        field = self.field_combo.currentField()
        if not field:
            raise NaturalExplainError(tr("choose the class field of '{0}'").format(polygons.name()))
        natural = self.natural_classes()
        check_classes(class_values(polygons, field), natural, field)
        name = self.bands.currentData()
        bands = band_items(raster_path(raster), self.sets[name], name)
        out = self.model_file()
        if out is None:
            raise NaturalExplainError(tr("choose the model file to write"))
        kept = checkpoint_epochs(self._checkpoints(out))
        labels = polygons_for_training(raster, polygons, field, out.parent, reuse=resume and kept > 0)
        return TrainRequest(raster_path(raster), labels, field, tuple(natural), self.epochs.value(), out, bands,
                            resume=resume and kept > 0, fresh=not resume and kept > 0, device=self.device())

    def train(self, *, resume: bool = False) -> TrainTask | None:
        """Start training with the page's choices; None when a choice stops it (the page and message bar say which)."""
        try:
            request = self.request(resume=resume)
        except NaturalExplainError as exc:
            self._refuse(exc)
            return None
        pixels = labelled_pixels(self.raster_combo.currentLayer(), self.polygon_combo.currentLayer())
        done = checkpoint_epochs(request.checkpoint_folder) if request.resume else 0
        self.estimate_s = training_seconds(pixels, max(request.epochs - done, 1))
        return self._start(request, tr("Train a naturalness classifier"))

    def train_generators(self) -> TrainTask | None:
        """The second step: train the pattern generators against the model just trained."""
        if self.last_request is None or self.last_result is None:
            return None
        request = generators_request(self.last_request, self.last_result.model_json)
        request = dataclasses.replace(request, fresh=checkpoint_epochs(request.checkpoint_folder) > 0)
        self.estimate_s = None
        return self._start(request, tr("Train pattern generators"))

    def _start(self, request: TrainRequest, title: str) -> TrainTask:
        self.note.hide()
        self.log.clear()
        self.summary.clear()
        self.generators_button.hide()
        self.progress.setValue(0)
        task = TrainTask(f"{title}: {request.out.name}", request,
                         on_success=lambda result: self._finished(request, result),
                         on_failure=lambda exc: self._failed(request, exc),
                         on_canceled=lambda: self._canceled(request))
        task.logged.connect(self.log.appendPlainText)
        task.progressChanged.connect(lambda percent: self.progress.setValue(int(percent)))
        self.task = task
        self.status.setText(tr("training {0}: {1}").format(
            request.out.name, tr("about {0}").format(duration_text(self.estimate_s * self._calibration()))
            if self.estimate_s else tr("running")))
        QgsApplication.taskManager().addTask(task)
        self._show_buttons()
        return task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _ended(self) -> TrainTask | None:
        task, self.task = self.task, None
        self._show_buttons()
        return task

    def _finished(self, request: TrainRequest, result: TrainResult) -> None:
        task = self._ended()
        if request.command == "cyclegan":
            self.status.setText(tr("pattern generators written to {0}: explain runs with {1} use them for the "
                                   "cyclegan and counterfactual methods").format(result.model_json,
                                                                                 request.classifier.name))
            self.message_bar.pushMessage(TITLE, self.status.text(), level=Qgis.Success)
            return
        if self.estimate_s and task is not None and task.elapsed_s():
            remember_run_time(self.estimate_s, task.elapsed_s(), calibration_device(request.device))
        self.last_request, self.last_result = request, result
        self.status.setText(tr("trained {0} in {1}").format(result.model_json.name, duration_text(result.seconds)))
        self.summary.setText(self.card_summary(result.model_json))
        self.generators_button.show()
        self.message_bar.pushMessage(TITLE, tr("trained {0}: it is now the panel's model").format(result.model_json),
                                     level=Qgis.Success)
        self.trained.emit(str(result.model_json))

    @staticmethod
    def card_summary(model_json: Path) -> str:
        """Bands, classes, held-out accuracy and the command that reproduces the model, from its card."""
        from .model_choice import read_summary

        summary = read_summary(str(model_json))
        natural = ", ".join(summary.natural_classes)
        return "\n".join(filter(None, [
            tr("Bands: {0}").format(", ".join(summary.bands)),
            tr("Classes: {0} (natural: {1})").format(", ".join(summary.classes), natural),
            summary.training_text(),
        ]))

    def _failed(self, request: TrainRequest, exc: Exception) -> None:
        self._ended()
        self.status.setText(tr("training stopped"))
        self._refuse(exc)

    def _canceled(self, request: TrainRequest) -> None:
        self._ended()
        kept = checkpoint_epochs(request.checkpoint_folder)
        self.status.setText(tr("training canceled; {0} finished epoch(s) kept in {1}: Resume carries on").format(
            kept, request.checkpoint_folder) if kept else tr("training canceled before the first epoch ended"))
        self.message_bar.pushMessage(TITLE, self.status.text(), level=Qgis.Info)

    def _refuse(self, exc: Exception) -> None:
        self.note.setText(str(exc))
        self.note.show()
        report_failure(self.message_bar, exc)
