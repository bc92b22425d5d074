"""Pick the model: automatic, a bundled one or a model file, with what its sidecar says shown at once.

"Automatic" (the default) lets core.models.choice.choose_model pick the richest bundled
classifier whose bands the current layer has (ten Sentinel-2 bands, RGB + NIR, or RGB), and
shows which and why; the run is then given no model, so the engine chooses the same way. The
sidecar is plain JSON and reading it loads no torch (core.models.card), so the summary is there
the moment the user picks a model, even before the engine's packages are installed. A model
trained with CAMAT (its card's `training.camat`, train/camat.py) says so, in the combo and the summary.
"""
import dataclasses
from pathlib import Path

from qgis.gui import QgsFileWidget, QgsMessageBar
from qgis.PyQt.QtCore import QSize, pyqtSignal
from qgis.PyQt.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from core.errors import NaturalExplainError
from core.models.card import ModelCard, read_card, require_kind
from core.resources import BUNDLED_CLASSIFIERS, DEFAULT_JEM, MODELS

from ..i18n import tr
from ..reporting import report_failure
from ..settings import remember_model, remembered_model

AUTOMATIC = "automatic"  # the combo's data for the automatic entry
AUTOMATIC_ENTRY = tr("Automatic (best bundled model for this layer's bands)")
MODEL_FILE_ENTRY = tr("Model file…")
MODEL_FILTER = tr("Natural Explain model (*.json *.safetensors)")
SUMMARY_HINT_WIDTH = 320  # px: a long 'why' wraps in the dock instead of widening it
# The bundled classifier trained with CAMAT: offered by name, never chosen by Automatic (train/reproduce.py).
CAMAT_MODEL = MODELS / "naturalness_camat_s2.json"
CAMAT_FILLS = {"mean": tr("band-mean"), "batch": tr("batch-mean"), "noise": tr("noise")}


class SummaryLabel(QLabel):
    """A word-wrapped label that never asks for more than SUMMARY_HINT_WIDTH: Qt's hint for long wrapped text
    is 80 characters wide, which would open the dock at over half a laptop screen."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        if hint.width() <= SUMMARY_HINT_WIDTH:
            return hint
        return QSize(SUMMARY_HINT_WIDTH, self.heightForWidth(SUMMARY_HINT_WIDTH))


@dataclasses.dataclass(frozen=True)
class ModelSummary:
    """What the dock needs from a sidecar: the bands to map, the resolution to cost, and whether it is a JEM."""

    path: str
    bands: list[str]
    resolution_m: float
    classes: list[str]
    natural_classes: list[str]
    is_jem: bool
    accuracy: float | None = None  # the held-out accuracy its card records
    command: str = ""  # the command that reproduces it, from its card
    automatic: bool = False  # chosen by choose_model for the current layer: the run names no model
    why: str = ""  # why choose_model took it
    fallback: bool = False  # Automatic found no bundled model by band names: this one is offered for mapping by hand
    camat: str = ""  # how CAMAT occluded its training batches, in words ('' when it was trained without)

    @property
    def name(self) -> str:
        return Path(self.path).with_suffix("").name

    def training_text(self) -> str:
        """The card's held-out accuracy and the command that reproduces the model ('' when the card has neither)."""
        lines = []
        if self.accuracy is not None:
            lines.append(tr("Held-out accuracy: {0}").format(f"{self.accuracy:.1%}"))
        if self.command:
            lines.append(tr("Reproduce with: {0}").format(self.command))
        return "\n".join(lines)

    def text(self) -> str:
        """A few short lines for the dock, in words: bands, resolution, what the map measures, JEM or not."""
        others = [name for name in self.classes if name not in self.natural_classes]
        if self.natural_classes == ["natural"] and others == ["anthropogenic"]:
            measures = tr("Maps the probability that land is natural rather than anthropogenic.")
        else:
            measures = tr("Maps the probability of {0} (against {1}).").format(
                " + ".join(self.natural_classes), ", ".join(others) or "—")
        chosen = [tr("Automatic: {0} ({1})").format(self.name, self.why)] if self.automatic else []
        return "\n".join([
            *chosen,
            tr("Sentinel-2, {0} bands at {1} m: {2}").format(len(self.bands), f"{self.resolution_m:g}",
                                                          ", ".join(self.bands)),
            measures,
            tr("JEM: also writes a confidence map (how typical the input is of its training imagery).")
            if self.is_jem else tr("Not a JEM: no confidence map."),
            *([self.camat] if self.camat else []),
        ])


def camat_text(card: ModelCard) -> str:
    """How the card says CAMAT trained the model, in one line; '' when it was trained without CAMAT.

    A hand-edited record that is not the trainer's (train/camat.py CAMATSettings) reads as trained with CAMAT,
    settings unknown, rather than failing the dock.
    """
    record = (card.training or {}).get("camat")
    if record is None:
        return ""
    try:
        return tr("Trained with CAMAT: the top {0} of its GradCAM evidence hidden ({1} fill) in {2} of the training "
                  "samples, after {3} plain epoch(s).").format(f"{float(record['share']):.0%}", CAMAT_FILLS[record["fill"]],
                                                             f"{float(record['probability']):.0%}", int(record["warmup"]))
    except (KeyError, TypeError, ValueError):
        return tr("Trained with CAMAT (settings not recorded).")


def read_summary(path: str) -> ModelSummary:
    """The summary of the model at `path` (.json or .safetensors).

    Raises:
        NaturalExplainError: for a missing or broken sidecar, or a model that is no classifier.
    """
    card, _ = read_card(path)
    require_kind(card, "classifier", path)
    accuracy = (card.training or {}).get("metrics", {}).get("val_accuracy")
    return ModelSummary(str(path), list(card.bands), card.resolution_m, list(card.classes),
                        list(card.natural_classes), bool(card.jem),
                        float(accuracy) if isinstance(accuracy, (int, float)) else None,
                        str((card.training or {}).get("command", "")), camat=camat_text(card))


def automatic_summary(raster: str | None, methods: list[str] | tuple[str, ...] = ()) -> ModelSummary:
    """The summary of the model choose_model picks for the raster at `raster` (the richest bundled one without it).

    When no bundled model finds its bands by name in the raster, the richest one the raster has
    enough bands for stands in, marked `fallback`, so the band table can map its bands by hand;
    `why` then says so, with choose_model's reason.
    """
    from core.models.choice import bundled_candidates, choose_model
    from core.raster.sources import open_input

    if raster is None:
        richest = bundled_candidates()[0]
        summary = read_summary(str(richest.path))
        return dataclasses.replace(summary, automatic=True, why=tr("for the layer you choose"))
    source = open_input(raster)
    try:
        choice = choose_model(source, None, None, list(methods))
    except NaturalExplainError as exc:
        candidates = bundled_candidates()
        fitting = [c for c in candidates if len(c.card.bands) <= len(source.bands)] or candidates[-1:]
        why = tr("no bundled model finds its bands by name in this layer, so {0} is offered: pick its bands in the "
                 "band table ({1})").format(fitting[0].name, exc)
        return dataclasses.replace(read_summary(str(fitting[0].path)), automatic=True, fallback=True, why=why)
    return dataclasses.replace(read_summary(str(choice.path)), automatic=True, why=choice.why)


def bundled_models() -> dict[str, Path]:
    """The bundled models the dock offers, by the name shown: every bundled classifier, the CAMAT one, then the JEM.

    A model whose card records CAMAT training is named so.
    """
    shown = {"naturalness_s2": tr("Bundled classifier, 10 Sentinel-2 bands ({0})"),
             "naturalness_s2_rgbn": tr("Bundled classifier, RGB + NIR ({0})"),
             "naturalness_s2_rgb": tr("Bundled classifier, RGB ({0})"),
             CAMAT_MODEL.stem: tr("Bundled classifier, 10 Sentinel-2 bands ({0})")}
    models = {}
    for path in (*BUNDLED_CLASSIFIERS, CAMAT_MODEL):
        if Path(path).is_file():
            name = shown.get(Path(path).stem, tr("Bundled classifier ({0})")).format(Path(path).stem)
            if camat_text(read_card(path)[0]):
                name = tr("{0}, trained with CAMAT").format(name)
            models[name] = Path(path)
    if DEFAULT_JEM.is_file():
        models[tr("Bundled JEM, with confidence map ({0})").format(DEFAULT_JEM.stem)] = DEFAULT_JEM
    return models


class ModelChoice(QWidget):
    """A combo of Automatic, the bundled models and 'Model file…', a file picker for the latter, and the summary.

    `summary` is None while no model file is chosen, when it is broken, or when Automatic finds no
    bundled model for the layer; `summaryChanged` says when it changes. Under Automatic the summary
    is the chosen model's, with `automatic` set, and `model_path()` is '' so the run names none.
    """

    summaryChanged = pyqtSignal(object)  # ModelSummary | None

    def __init__(self, message_bar: QgsMessageBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_bar = message_bar
        self.summary: ModelSummary | None = None
        self.raster: str | None = None  # the current layer's file, for Automatic
        self.methods: tuple[str, ...] = ()
        self.combo = QComboBox()
        self.combo.addItem(AUTOMATIC_ENTRY, AUTOMATIC)
        for name, path in bundled_models().items():
            self.combo.addItem(name, str(path))
        self.combo.addItem(MODEL_FILE_ENTRY, "")
        self.file = QgsFileWidget()
        self.file.setFilter(MODEL_FILTER)
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        self.label = SummaryLabel()
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.combo, self.file, self.label):
            layout.addWidget(widget)
        self._restore(remembered_model())
        self.combo.currentIndexChanged.connect(self._chosen)
        self.file.fileChanged.connect(self._chosen)
        self._chosen()

    def is_automatic(self) -> bool:
        return self.combo.currentData() == AUTOMATIC

    def model_path(self) -> str:
        """The chosen model file; '' under Automatic and while 'Model file…' has no file yet."""
        if self.is_automatic():
            return ""
        return self.combo.currentData() or self.file.filePath()

    def run_model(self) -> str | None:
        """What a run is given as its model: None under Automatic (the engine chooses), else the chosen file.

        Under Automatic with no bundled model found by band names, the one offered for mapping by hand is named.
        """
        if self.summary is None:
            return None
        return None if self.is_automatic() and not self.summary.fallback else self.summary.path

    def set_context(self, raster: str | None, methods: list[str] | tuple[str, ...] = ()) -> None:
        """The layer (its file) and methods Automatic chooses for; re-chooses when they change under Automatic."""
        if (raster, tuple(methods)) == (self.raster, self.methods):
            return
        self.raster, self.methods = raster, tuple(methods)
        if self.is_automatic():
            self._chosen()

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
        automatic = self.is_automatic()
        self.file.setVisible(not self.combo.currentData())
        if automatic:
            remember_model("")
            try:
                summary = automatic_summary(self.raster, self.methods)
            except NaturalExplainError as exc:
                self._set_summary(None, tr("no bundled model fits this layer: {0}; or choose a model above and pick "
                                           "its bands in the band table").format(exc))
                return
            self._set_summary(summary, summary.text())
            return
        path = self.model_path()
        if not path:
            self._set_summary(None, tr("choose a model file"))
            return
        remember_model(path)
        try:
            summary = read_summary(path)
        except NaturalExplainError as exc:
            report_failure(self.message_bar, exc)
            self._set_summary(None, tr("this model cannot be used: {0}").format(exc))
            return
        training = summary.training_text() if self.combo.currentData() == "" else ""
        self._set_summary(summary, "\n".join(filter(None, [summary.text(), training])))

    def _set_summary(self, summary: ModelSummary | None, text: str) -> None:
        self.summary = summary
        self.label.setText(text)
        self.summaryChanged.emit(summary)
