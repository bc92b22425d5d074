"""Checkpoints after every epoch; --resume continues the run exactly where it stopped."""
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from core.errors import NaturalExplainError
from tests.helpers.training import sidecar
from train.__main__ import main
from train.checkpoint import latest_checkpoint, load_checkpoint

pytestmark = pytest.mark.slow  # trains


def _train(eurosat_rgb: Path, out: Path, epochs: int, *extra: str) -> int:
    return main(["classifier", "--eurosat", str(eurosat_rgb), "--natural-classes", "Natural", "--out", str(out),
                 "--epochs", str(epochs), "--batch-size", "8", "--width", "8", *extra])


def test_resume_continues_the_epoch_count(eurosat_rgb: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    assert _train(eurosat_rgb, out, 1) == 0
    assert load_checkpoint(latest_checkpoint(tmp_path / "model.ckpt"))["epoch"] == 1
    assert _train(eurosat_rgb, out, 2, "--resume") == 0
    history = sidecar(out)["training"]["metrics"]["history"]
    assert [h["epoch"] for h in history] == [1, 2]
    assert latest_checkpoint(tmp_path / "model.ckpt").name == "epoch_0002.pt"


def test_resumed_run_matches_an_uninterrupted_one(eurosat_rgb: Path, tmp_path: Path) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert _train(eurosat_rgb, straight, 2) == 0
    assert _train(eurosat_rgb, resumed, 1) == 0
    assert _train(eurosat_rgb, resumed, 2, "--resume") == 0
    a, b = load_file(straight.with_suffix(".safetensors")), load_file(resumed.with_suffix(".safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_with_other_options_is_refused(eurosat_rgb: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "model"
    assert _train(eurosat_rgb, out, 1) == 0
    assert _train(eurosat_rgb, out, 2, "--resume", "--lr", "0.1") == 2
    assert "other data or options" in capsys.readouterr().err


def test_checkpoints_never_unpickle_code(tmp_path: Path) -> None:
    path = tmp_path / "epoch_0001.pt"
    with open(path, "wb") as f:
        pickle.dump({"epoch": 1, "payload": NaturalExplainError("not plain data")}, f, protocol=2)
    with pytest.raises(NaturalExplainError, match="cannot be read"):
        load_checkpoint(path)
