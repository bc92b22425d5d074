"""The bundled default model is what `make models` (train/reproduce.py) makes, and it sees nature."""
import shlex
from pathlib import Path

import pytest

from core.models.model_file import load_model
from core.resources import DEFAULT_MODEL
from train.__main__ import build_parsers
from train.reproduce import reproduce_arguments

from tests.train.conftest import REPO


def test_bundled_model_records_the_command_make_models_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    card = load_model(DEFAULT_MODEL).card
    recorded = shlex.split(card.training["command"])
    assert recorded[:4] == ["python", "-m", "train", "classifier"]
    parser, _ = build_parsers()
    made = vars(parser.parse_args(reproduce_arguments(DEFAULT_MODEL.parent.relative_to(REPO))))
    was = vars(parser.parse_args(recorded[3:]))
    assert {k: v for k, v in made.items() if v is not None} == {k: was[k] for k, v in made.items() if v is not None}


def test_bundled_model_is_small_and_validated_on_spatial_blocks() -> None:
    card = load_model(DEFAULT_MODEL).card
    metrics = card.training["metrics"]
    assert Path(DEFAULT_MODEL).with_suffix(".safetensors").stat().st_size < 5 * 2 ** 20
    assert metrics["split"] == "spatial-blocks" and metrics["n_val"] > 100
    assert metrics["val_accuracy"] > 0.9 and min(metrics["val_f1"].values()) > 0.9
    assert card.natural_classes == ["natural"] and card.resolution_m == 10.0
