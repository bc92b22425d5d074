"""The model choice says which models were trained with CAMAT, from their cards (train/camat.py)."""
import json
from pathlib import Path

from pytest_qgis.utils import wait_until

from core.resources import DEFAULT_MODEL
from natural_explain_plugin.dock.model_choice import CAMAT_MODEL, ModelChoice, bundled_models

SUMMARY_TIMEOUT_MS = 5000


def test_the_bundled_camat_model_is_offered_as_trained_with_camat(qgis_iface, forget_model_and_device) -> None:
    offered = {path.name: name for name, path in bundled_models().items()}
    assert offered[CAMAT_MODEL.name].endswith("trained with CAMAT")
    assert all("CAMAT" not in name for file, name in offered.items() if file != CAMAT_MODEL.name)


def test_the_summary_of_a_camat_model_shows_its_settings(qgis_iface, forget_model_and_device) -> None:
    choice = ModelChoice(qgis_iface.messageBar())
    choice.combo.setCurrentIndex(choice.combo.findData(str(CAMAT_MODEL)))
    assert wait_until(lambda: choice.summary is not None, timeout_milliseconds=SUMMARY_TIMEOUT_MS)
    camat = json.loads(CAMAT_MODEL.read_text())["training"]["camat"]
    assert f"Trained with CAMAT: the top {camat['share']:.0%} of its GradCAM evidence" in choice.label.text()
    choice.combo.setCurrentIndex(choice.combo.findData(str(DEFAULT_MODEL)))
    assert wait_until(lambda: choice.summary is not None and choice.summary.path == str(DEFAULT_MODEL),
                      timeout_milliseconds=SUMMARY_TIMEOUT_MS)
    assert "CAMAT" not in choice.label.text()


def test_a_hand_edited_camat_record_does_not_break_the_dock(qgis_iface, forget_model_and_device, tmp_path: Path) -> None:
    card = json.loads(CAMAT_MODEL.read_text())
    card["training"]["camat"] = {"share": "a lot"}
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(card))
    choice = ModelChoice(qgis_iface.messageBar())
    choice.choose_file(str(edited))
    assert wait_until(lambda: choice.summary is not None, timeout_milliseconds=SUMMARY_TIMEOUT_MS)
    assert "Trained with CAMAT (settings not recorded)." in choice.label.text()
