"""Pick the model: a bundled one or a model file, with what its sidecar says shown at once.

The sidecar is plain JSON and reading it loads no torch (core.models.card), so the summary
is there the moment the user picks a model, even before the engine's packages are installed.
"""
import dataclasses
from pathlib import Path

from qgis.gui import QgsFileWidget, QgsMessageBar
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from core.errors import NaturalExplainError
from core.models.card import read_card, require_kind
from core.resources import DEFAULT_JEM, DEFAULT_MODEL

from ..i18n import tr
from ..reporting import report_failure
from ..settings import remember_model, remembered_model

MODEL_FILE_ENTRY = tr("Model file…")
MODEL_FILTER = tr("Natural Explain model (*.json *.safetensors)")


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
        """A few short lines for the dock, in words: bands, resolution, what the map measures, JEM or not."""
        others = [name for name in self.classes if name not in self.natural_classes]
        if self.natural_classes == ["natural"] and others == ["anthropogenic"]:
            measures = tr("Maps the probability that land is natural rather than anthropogenic.")
        else:
            measures = tr("Maps the probability of {0} (against {1}).").format(
                " + ".join(self.natural_classes), ", ".join(others) or "—")
        return "\n".join([
            tr("Sentinel-2, {0} bands at {1} m: {2}").format(len(self.bands), f"{self.resolution_m:g}",
                                                          ", ".join(self.bands)),
            measures,
            tr("JEM: also writes a confidence map (how typical the input is of its training imagery).")
            if self.is_jem else tr("Not a JEM: no confidence map."),
        ])


def read_summary(path: str) -> ModelSummary:
    """The summary of the model at `path` (.json or .safetensors).

    Raises:
        NaturalExplainError: for a missing or broken sidecar, or a model that is no classifier.
    """
    card, _ = read_card(path)
    require_kind(card, "classifier", path)
    return ModelSummary(path, list(card.bands), card.resolution_m, list(card.classes), list(card.natural_classes),
                        bool(card.jem))


def bundled_models() -> dict[str, Path]:
    """The bundled models the dock offers, by the name shown."""
    models = {tr("Bundled classifier ({0})").format(DEFAULT_MODEL.stem): DEFAULT_MODEL}
    if DEFAULT_JEM.is_file():
        models[tr("Bundled JEM, with confidence map ({0})").format(DEFAULT_JEM.stem)] = DEFAULT_JEM
    return models


class ModelChoice(QWidget):
    """A combo of the bundled models plus 'Model file…', a file picker for the latter, and the summary.

    `summary` is None while no model file is chosen or when it is broken; `summaryChanged` says when it changes.
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
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.combo, self.file, self.label):
            layout.addWidget(widget)
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
        """Read the newly chosen model's sidecar, show what it says or why it cannot be used, and remember the choice."""
        self.file.setVisible(not self.combo.currentData())
        path = self.model_path()
        if not path:
            self._set_summary(None, tr("choose a model file"))
            return
        remember_model("" if path == str(DEFAULT_MODEL) else path)
        try:
            summary = read_summary(path)
        except NaturalExplainError as exc:
            report_failure(self.message_bar, exc)
            self._set_summary(None, tr("this model cannot be used: {0}").format(exc))
            return
        self._set_summary(summary, summary.text())

    def _set_summary(self, summary: ModelSummary | None, text: str) -> None:
        self.summary = summary
        self.label.setText(text)
        self.summaryChanged.emit(summary)
