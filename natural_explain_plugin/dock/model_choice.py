"""Pick the model: a bundled one or a model file, with what its sidecar says shown at once.

The sidecar is read in a background task, because reading it loads the engine's model
module and with it torch; the dock stays responsive while that happens the first time.
"""
import dataclasses
from pathlib import Path

from qgis.core import QgsApplication
from qgis.gui import QgsFileWidget, QgsMessageBar
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from core.resources import DEFAULT_JEM, DEFAULT_MODEL

from ..engine_import import engine_packages
from ..reporting import report_failure
from ..settings import remember_model, remembered_model
from ..task import EngineTask

MODEL_FILE_ENTRY = "Model file…"
MODEL_FILTER = "Natural Explain model (*.json *.safetensors)"


@dataclasses.dataclass(frozen=True)
class ModelSummary:
    """What the dock needs from a sidecar: the bands to map, the resolution to cost, and whether it is a JEM."""

    path: str
    bands: list[str]
    resolution_m: float
    classes: list[str]
    natural_classes: list[str]
    is_jem: bool

    def text(self) -> str:
        """Two short lines for the dock."""
        return (f"{len(self.bands)} bands ({' '.join(self.bands)}) at {self.resolution_m:g} m\n"
                f"classes: {', '.join(self.classes)} (natural: {', '.join(self.natural_classes)}); "
                f"JEM: {'yes, writes a confidence map' if self.is_jem else 'no'}")


def read_summary(path: str) -> ModelSummary:
    """The summary of the model at `path` (.json or .safetensors).

    Raises:
        NaturalExplainError: for a missing or broken sidecar, or a package missing from QGIS's Python.
    """
    with engine_packages():
        from core.models.model_file import read_card
    card, _ = read_card(path)
    return ModelSummary(path, list(card.bands), card.resolution_m, list(card.classes), list(card.natural_classes),
                        bool(card.jem))


def bundled_models() -> dict[str, Path]:
    """The bundled models the dock offers, by the name shown."""
    models = {f"Bundled: {DEFAULT_MODEL.stem}": DEFAULT_MODEL}
    if DEFAULT_JEM.is_file():
        models[f"Bundled: {DEFAULT_JEM.stem} (JEM)"] = DEFAULT_JEM
    return models


class ModelChoice(QWidget):
    """A combo of the bundled models plus 'Model file…', a file picker for the latter, and the summary.

    `summary` is None while the sidecar is read or when it is broken; `summaryChanged` says when it changes.
    """

    summaryChanged = pyqtSignal(object)  # ModelSummary | None

    def __init__(self, message_bar: QgsMessageBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_bar = message_bar
        self.summary: ModelSummary | None = None
        self.combo = QComboBox()
        for name, path in bundled_models().items():
            self.combo.addItem(name, str(path))
        self.combo.addItem(MODEL_FILE_ENTRY, "")
        self.file = QgsFileWidget()
        self.file.setFilter(MODEL_FILTER)
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.combo, self.file, self.label):
            layout.addWidget(widget)
        self._task: EngineTask | None = None
        self._restore(remembered_model())
        self.combo.currentIndexChanged.connect(self._chosen)
        self.file.fileChanged.connect(self._chosen)
        self._chosen()

    def model_path(self) -> str:
        """The chosen model file; '' while 'Model file…' has no file yet."""
        return self.combo.currentData() or self.file.filePath()

    def choose_file(self, path: str) -> None:
        """Choose the model file `path`, as the file picker does."""
        self.combo.setCurrentIndex(self.combo.findText(MODEL_FILE_ENTRY))
        self.file.setFilePath(path)

    def _restore(self, path: str) -> None:
        index = self.combo.findData(path) if path else 0
        if index >= 0:
            self.combo.setCurrentIndex(index)
        else:
            self.combo.setCurrentIndex(self.combo.findText(MODEL_FILE_ENTRY))
            self.file.setFilePath(path)

    def _chosen(self) -> None:
        """Read the newly chosen model's sidecar in the background and remember the choice."""
        self.file.setVisible(not self.combo.currentData())
        path = self.model_path()
        self._set_summary(None, "choose a model file" if not path else "reading the model…")
        if not path:
            return
        remember_model("" if path == str(DEFAULT_MODEL) else path)
        self._task = EngineTask(f"Natural Explain: read {Path(path).name}", lambda *_: read_summary(path),
                                on_success=lambda summary: self._read(path, summary, None),
                                on_failure=lambda exc: self._read(path, None, exc),
                                on_canceled=lambda: self._read(path, None, None))
        QgsApplication.taskManager().addTask(self._task)

    def _read(self, path: str, summary: ModelSummary | None, exc: Exception | None) -> None:
        """Show the summary, or why the model cannot be used; a choice changed since is left alone."""
        if path != self.model_path():
            return
        if exc is not None:
            report_failure(self.message_bar, exc)
        reason = exc or "reading it was canceled"
        self._set_summary(summary, summary.text() if summary else f"this model cannot be used: {reason}")

    def _set_summary(self, summary: ModelSummary | None, text: str) -> None:
        self.summary = summary
        self.label.setText(text)
        self.summaryChanged.emit(summary)
