"""The methods dialog lists the engine's registry, remembers the choice, and Cancel starts nothing."""
from qgis.core import QgsSettings
from qgis.PyQt.QtWidgets import QCheckBox, QLabel

from core.explain.registry import METHODS
from natural_explain_plugin.methods_dialog import MethodsDialog, ask_methods
from natural_explain_plugin.settings import METHODS_KEY, remembered_methods


def test_dialog_lists_exactly_the_registry_methods_under_an_always_on_naturalness() -> None:
    dialog = MethodsDialog([])
    assert list(dialog.boxes) == list(METHODS)
    boxes = dialog.findChildren(QCheckBox)
    (naturalness,) = [box for box in boxes if box not in dialog.boxes.values()]
    assert naturalness.isChecked() and not naturalness.isEnabled()
    assert len(boxes) == len(METHODS) + 1
    notes = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "occlusion and ig" in notes and "minutes" in notes


def test_first_run_offers_gradcam() -> None:
    assert remembered_methods() == ["gradcam"]
    assert MethodsDialog(remembered_methods()).methods() == ["gradcam"]


def test_accepted_choice_is_remembered_and_offered_next_time(dialog_answer) -> None:
    dialog_answer.methods = ["deeplift", "ig"]
    assert ask_methods() == ["deeplift", "ig"]
    assert QgsSettings().value(METHODS_KEY) == "deeplift,ig"

    dialog_answer.methods = None  # the user just presses OK
    assert ask_methods() == ["deeplift", "ig"]
    assert dialog_answer.shown == [["gradcam"], ["deeplift", "ig"]]


def test_choosing_no_method_is_remembered_as_naturalness_only(dialog_answer) -> None:
    dialog_answer.methods = []
    assert ask_methods() == []
    assert remembered_methods() == []


def test_cancel_in_the_dialog_starts_no_run_and_keeps_the_old_choice(plugin, qgis_iface, stack_layer,
                                                                     dialog_answer) -> None:
    dialog_answer.accept = False
    dialog_answer.methods = ["occlusion"]
    qgis_iface.setActiveLayer(stack_layer)
    assert plugin.explain_active_layer() is None
    assert not plugin.tasks
    assert remembered_methods() == ["gradcam"]


def test_a_remembered_method_the_registry_no_longer_knows_is_dropped() -> None:
    QgsSettings().setValue(METHODS_KEY, "gradcam,retired_method")
    assert remembered_methods() == ["gradcam"]
