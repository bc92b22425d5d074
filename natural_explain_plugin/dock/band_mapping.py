"""Which input band feeds each model band: filled from band names, changeable, checked before Run.

The engine matches bands by name or description (core.raster.bands); the dock shows that
match so the user sees a missing or wrong band before the run, and can fix it by picking
the band instead of renaming files.
"""
from qgis.core import QgsRasterLayer
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QAbstractScrollArea,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import NaturalExplainError
from core.raster.bands import match_bands
from core.raster.sources import open_input

from ..i18n import tr

UNMAPPED = "—"
UNMAPPED_NUMBER = 0  # the combo's data for '—': band numbers start at 1


def auto_band_mapping(input_path: str, model_bands: list[str]) -> dict[str, int | None]:
    """Model band -> 1-based input band number matched by name or description; None where nothing matches.

    Raises:
        NaturalExplainError: when the input cannot be opened.
    """
    raster = open_input(input_path)
    mapping: dict[str, int | None] = {}
    for name in model_bands:
        try:
            (ref,) = match_bands(raster, [name])
        except NaturalExplainError:
            mapping[name] = None
        else:
            mapping[name] = raster.bands.index(ref) + 1
    return mapping


def mapping_problem(mapping: dict[str, int | None]) -> str | None:
    """One sentence on what stops a run (model bands left without an input band); None when complete."""
    missing = [name for name, number in mapping.items() if number is None]
    if not missing:
        return None
    return tr("no input band for {0}: pick one for each in the band table (Edit…), or choose a layer that has "
              "them").format(", ".join(missing))


def mapping_doubts(mapping: dict[str, int | None]) -> str | None:
    """One sentence when one input band feeds several model bands (allowed, but rarely meant)."""
    used: dict[int, list[str]] = {}
    for name, number in mapping.items():
        if number is not None:
            used.setdefault(number, []).append(name)
    shared = [tr("input band {0} feeds {1}").format(number, tr(" and ").join(names))
              for number, names in used.items() if len(names) > 1]
    return "; ".join(shared) or None


class BandMappingTable(QTableWidget):
    """One row per model band: its name, and a combo of the layer's bands (or '—')."""

    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels([tr("Model band"), tr("Input band")])
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.verticalHeader().hide()
        # Every row shown, no scroll area of its own inside the dock's.
        self.setSizeAdjustPolicy(QAbstractScrollArea.AdjustToContents)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.combos: dict[str, QComboBox] = {}

    def fill(self, model_bands: list[str], layer: QgsRasterLayer | None, mapping: dict[str, int | None]) -> None:
        """Show `model_bands`, each set to its band in `mapping`, offering every band of `layer`."""
        self.setRowCount(0)
        self.combos = {}
        for row, name in enumerate(model_bands):
            combo = QComboBox()
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
            combo.addItem(UNMAPPED, UNMAPPED_NUMBER)
            for number in range(1, (layer.bandCount() if layer else 0) + 1):
                combo.addItem(layer.bandName(number), number)
            combo.setCurrentIndex(max(combo.findData(mapping.get(name) or UNMAPPED_NUMBER), 0))
            combo.currentIndexChanged.connect(self.changed)
            self.insertRow(row)
            self.setItem(row, 0, QTableWidgetItem(name))
            self.setCellWidget(row, 1, combo)
            self.combos[name] = combo
        self.setFixedHeight(self.horizontalHeader().height() + sum(self.rowHeight(r) for r in range(self.rowCount()))
                            + 2 * self.frameWidth())
        self.changed.emit()

    def mapping(self) -> dict[str, int | None]:
        """Model band -> the chosen 1-based input band number, None where '—' is chosen."""
        return {name: combo.currentData() or None for name, combo in self.combos.items()}

    def set_band(self, model_band: str, number: int | None) -> None:
        """Choose input band `number` (None for '—') for `model_band`, as the user does."""
        combo = self.combos[model_band]
        combo.setCurrentIndex(combo.findData(number or UNMAPPED_NUMBER))


def matched_text(mapping: dict[str, int | None]) -> str:
    """'10/10 bands matched', the band mapping in one line."""
    return tr("{0}/{1} bands matched").format(sum(n is not None for n in mapping.values()), len(mapping))


class BandMappingPanel(QWidget):
    """The band mapping folded to one line ('10/10 bands matched') with Edit… to show the table.

    The table opens by itself when a model band has no input band, where the user must act.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = BandMappingTable()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.edit_button = QPushButton(tr("Edit…"))
        self.edit_button.setCheckable(True)
        self.edit_button.setToolTip(tr("show which input band feeds each model band, and change it"))
        self.edit_button.toggled.connect(self.table.setVisible)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table)
        self.table.hide()
        self.table.changed.connect(self._summarize)
        self._summarize()

    def _summarize(self) -> None:
        mapping = self.table.mapping()
        self.summary.setText(matched_text(mapping) if mapping else tr("no band table: choose a layer and a model"))
        self.edit_button.setEnabled(bool(mapping))
        if mapping_problem(mapping):
            self.edit_button.setChecked(True)
