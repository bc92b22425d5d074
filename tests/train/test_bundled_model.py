"""The bundled default model is what `make models` (train/reproduce.py) makes, and it sees nature."""
from pathlib import Path

import pytest

from core.models.model_file import load_model
from core.resources import DEFAULT_MODEL
from train.reproduce import reproduce_arguments

from tests.train.conftest import REPO, assert_records_make_models_command


def test_bundled_model_records_the_command_make_models_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert_records_make_models_command(DEFAULT_MODEL, "classifier", reproduce_arguments)


def test_bundled_model_is_small_and_validated_on_spatial_blocks() -> None:
    card = load_model(DEFAULT_MODEL).card
    metrics = card.training["metrics"]
    assert Path(DEFAULT_MODEL).with_suffix(".safetensors").stat().st_size < 5 * 2 ** 20
    assert metrics["split"] == "spatial-blocks" and metrics["n_val"] > 100
    assert metrics["val_accuracy"] > 0.9 and min(metrics["val_f1"].values()) > 0.9
    assert card.natural_classes == ["natural"] and card.resolution_m == 10.0
