"""The small dialog that asks which explanation methods a run adds to the naturalness map.

It lists the engine's method registry, so a method added to core appears here without a
change to the plugin, and it starts from the last choice, so a repeated run is one click.
"""
from qgis.PyQt.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from core.explain.registry import METHODS

from .reporting import TITLE
from .settings import remember_methods, remembered_methods

SLOW_NOTE = ("occlusion and ig run the model many times per tile: on a CPU they take 10 to 20 times as long "
             "as gradcam, about 10 to 15 minutes per megapixel.")


class MethodsDialog(QDialog):
    """One checkbox per registered method under an always-on naturalness box, then OK/Cancel."""

    def __init__(self, chosen: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{TITLE}: methods")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Maps to write:"))
        naturalness = QCheckBox("naturalness (always written)")
        naturalness.setChecked(True)
        naturalness.setEnabled(False)
        layout.addWidget(naturalness)
        self.boxes: dict[str, QCheckBox] = {}
        for name in METHODS:
            box = QCheckBox(name)
            box.setChecked(name in chosen)
            layout.addWidget(box)
            self.boxes[name] = box
        note = QLabel(SLOW_NOTE)
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def methods(self) -> list[str]:
        """The checked methods, in the registry's order."""
        return [name for name, box in self.boxes.items() if box.isChecked()]


def ask_methods(parent: QWidget | None = None) -> list[str] | None:
    """Ask for the run's methods, starting from the last choice; None when the user cancels.

    An accepted choice is remembered for the next run.
    """
    dialog = MethodsDialog(remembered_methods(), parent)
    if dialog.exec_() != QDialog.Accepted:
        return None
    remember_methods(dialog.methods())
    return dialog.methods()
