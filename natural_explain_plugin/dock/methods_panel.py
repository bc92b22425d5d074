"""The maps a run writes, one checkbox each with its estimated cost for the chosen AOI.

Methods come from the engine's registry, so a method added to core appears here without a
change to the plugin. The confidence map is not a method: the engine writes it for every
JEM model, so its box only says whether this run will have one.
"""
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QCheckBox, QGridLayout, QLabel, QWidget

from core.explain.registry import METHODS

from .cost_estimate import duration_text, large_aoi_warning, method_seconds

NATURALNESS = "naturalness"
CONFIDENCE = "confidence"
WARNING_STYLE = "color: #b35900"


class MethodsPanel(QWidget):
    """Always-on naturalness, one box per registered method, and the JEM-only confidence box."""

    changed = pyqtSignal()

    def __init__(self, chosen: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        self.costs: dict[str, QLabel] = {}
        for row, name in enumerate([NATURALNESS, *METHODS, CONFIDENCE]):
            box, cost = QCheckBox(name), QLabel()
            box.setChecked(name in chosen or name == NATURALNESS)
            box.setEnabled(name in METHODS)
            box.toggled.connect(self.changed)
            layout.addWidget(box, row, 0)
            layout.addWidget(cost, row, 1)
            self.boxes[name], self.costs[name] = box, cost
        self.boxes[NATURALNESS].setToolTip("always written: 0 anthropogenic to 1 natural")
        self.set_jem(False)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        layout.addWidget(self.warning, len(self.boxes), 0, 1, 2)

    def methods(self) -> list[str]:
        """The checked registry methods, in the registry's order."""
        return [name for name in METHODS if self.boxes[name].isChecked()]

    def set_methods(self, methods: list[str]) -> None:
        """Check exactly `methods`, as the user does."""
        for name in METHODS:
            self.boxes[name].setChecked(name in methods)

    def set_jem(self, is_jem: bool) -> None:  # noqa: FBT001
        """Tick the confidence box when the model is a JEM, which is when the engine writes that map."""
        box = self.boxes[CONFIDENCE]
        box.setChecked(is_jem)
        box.setToolTip("written for every JEM model: how typical each tile is of the training data (log p(x))"
                       if is_jem else "only a JEM model writes a confidence map; this model is none")

    def show_costs(self, mpx: float | None, device: str) -> None:
        """Each map's estimated CPU time for `mpx` megapixels, and a warning when the whole run is long.

        `mpx` None (the AOI is not set yet) clears the estimates.
        """
        for name, label in self.costs.items():
            seconds = None if mpx is None or name == CONFIDENCE else method_seconds(name, mpx)
            label.setText("" if mpx is None else "with naturalness" if name == CONFIDENCE
                          else "not measured" if seconds is None else duration_text(seconds))
        self.warning.setText((large_aoi_warning(self.methods(), mpx, device) if mpx is not None else None) or "")
        self.warning.setVisible(bool(self.warning.text()))
