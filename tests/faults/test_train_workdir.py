"""Issue 12, F12: rerunning `python -m train` over an earlier run's checkpoints never discards them silently.

Without --resume or --fresh the run is refused before any work and the checkpoints are kept;
--fresh discards them and says so; --resume continues them. The training cases use the small
EuroSAT RGB layout and the tiny network tests/train/test_resume.py trains (a few seconds each).
"""
from pathlib import Path

import pytest

from tests.helpers.faults import Outcome, assert_refused, run_main
from tests.helpers.training import sidecar
from train.checkpoint import checkpoint_path, latest_checkpoint, load_checkpoint

pytestmark = pytest.mark.slow  # trains

REFUSAL = "holds checkpoints of an earlier run: add --resume to continue it or --fresh to discard them"
TRAIN_BASES = {
    "classifier": lambda t: ["classifier", "--eurosat", t / "data", "--natural-classes", "Natural"],
    "jem": lambda t: ["jem", "--eurosat", t / "data", "--natural-classes", "Natural"],
    "cyclegan": lambda t: ["cyclegan", "--classifier", t / "c.json", "--raster", t / "r.tif", "--polygons", t / "p.gpkg"],
}


def _train(data: Path, out: Path, epochs: int, *extra: str) -> Outcome:
    return run_main("classifier", "--eurosat", data, "--natural-classes", "Natural", "--out", out,
                    "--epochs", str(epochs), "--batch-size", "8", "--width", "8", *extra, module="train")


def _epochs(out: Path) -> list[int]:
    return [h["epoch"] for h in sidecar(out)["training"]["metrics"]["history"]]


@pytest.mark.parametrize("command", sorted(TRAIN_BASES))
@pytest.mark.parametrize("workdir_option", [False, True], ids=["default-workdir", "--workdir"])
def test_rerun_over_checkpoints_is_refused_before_any_work(command: str, workdir_option: bool, tmp_path: Path,
                                                           unchanged) -> None:
    """The data does not even exist: the refusal comes first, and the earlier run's files are untouched."""
    out = tmp_path / "model"
    workdir = tmp_path / ("chosen" if workdir_option else "model.ckpt")
    workdir.mkdir()
    checkpoint_path(workdir, 1).write_bytes(b"an earlier run's checkpoint")
    (workdir / "log.json").write_text("[]")
    unchanged(workdir)
    extra = ["--workdir", workdir] if workdir_option else []
    outcome = run_main(*TRAIN_BASES[command](tmp_path), "--out", out, *extra, module="train")
    line = assert_refused(outcome, str(workdir), REFUSAL)
    assert line == f"error: {workdir} {REFUSAL}"
    unchanged(workdir)
    assert not out.with_suffix(".json").exists()


def test_a_workdir_without_checkpoints_is_no_earlier_run(tmp_path: Path) -> None:
    """Only epoch_NNNN.pt files count: a log or a sample grid alone does not stop a run (it fails later, on the data)."""
    (tmp_path / "model.ckpt").mkdir()
    (tmp_path / "model.ckpt" / "log.json").write_text("[]")
    outcome = run_main(*TRAIN_BASES["classifier"](tmp_path), "--out", tmp_path / "model", module="train")
    assert outcome.code == 2 and "earlier run" not in outcome.stderr, outcome.stderr


def test_rerun_without_resume_keeps_the_checkpoints(eurosat_rgb: Path, tmp_path: Path, unchanged) -> None:  # noqa: F811
    out, workdir = tmp_path / "model", tmp_path / "model.ckpt"
    assert _train(eurosat_rgb, out, 1).code == 0
    unchanged(workdir)
    unchanged(tmp_path)
    assert_refused(_train(eurosat_rgb, out, 2), str(workdir), "--resume", "--fresh")
    unchanged(workdir)
    unchanged(tmp_path)
    assert load_checkpoint(latest_checkpoint(workdir))["epoch"] == 1


def test_fresh_discards_them_and_says_so_then_resume_continues(eurosat_rgb: Path, tmp_path: Path) -> None:  # noqa: F811
    out, workdir = tmp_path / "model", tmp_path / "model.ckpt"
    assert _train(eurosat_rgb, out, 2).code == 0
    assert latest_checkpoint(workdir).name == "epoch_0002.pt"
    fresh = _train(eurosat_rgb, out, 1, "--fresh")
    assert fresh.code == 0, fresh.stderr
    assert f"--fresh: discarded 2 checkpoint(s) of an earlier run in {workdir}" in fresh.stderr
    assert "error:" not in fresh.stderr
    assert sorted(p.name for p in workdir.glob("epoch_*.pt")) == ["epoch_0001.pt"] and _epochs(out) == [1]
    resumed = _train(eurosat_rgb, out, 2, "--resume")  # --fresh is no part of the run's fingerprint
    assert resumed.code == 0, resumed.stderr
    assert _epochs(out) == [1, 2] and latest_checkpoint(workdir).name == "epoch_0002.pt"


def test_fresh_without_an_earlier_run_just_trains(eurosat_rgb: Path, tmp_path: Path) -> None:  # noqa: F811
    outcome = _train(eurosat_rgb, tmp_path / "model", 1, "--fresh")
    assert outcome.code == 0, outcome.stderr
    assert "discarded" not in outcome.stderr and _epochs(tmp_path / "model") == [1]
