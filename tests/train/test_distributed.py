"""torchrun: two CPU processes train one classifier with DDP (gloo); one process resumes their checkpoint."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.training import sidecar
from train.__main__ import main
from train.checkpoint import latest_checkpoint, load_checkpoint

pytestmark = pytest.mark.slow  # trains
ROOT = Path(__file__).resolve().parents[2]


def arguments(eurosat_rgb: Path, out: Path, epochs: int) -> list[str]:
    return ["classifier", "--eurosat", str(eurosat_rgb), "--natural-classes", "Natural", "--out", str(out),
            "--epochs", str(epochs), "--batch-size", "8", "--width", "8", "--device", "cpu"]


def test_two_processes_train_and_one_resumes(eurosat_rgb: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    torchrun = Path(sys.executable).with_name("torchrun")
    run = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "train",
                          *arguments(eurosat_rgb, out, 1)], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    output = run.stdout + run.stderr
    assert output.count("epoch 1/1: train loss") == 1 and output.count("wrote ") == 1  # rank 0 only
    assert load_checkpoint(latest_checkpoint(tmp_path / "model.ckpt"))["epoch"] == 1
    assert main([*arguments(eurosat_rgb, out, 2), "--resume"]) == 0  # one process carries on
    assert [h["epoch"] for h in sidecar(out)["training"]["metrics"]["history"]] == [1, 2]


def test_a_trainer_without_ddp_is_refused_under_torchrun(eurosat_rgb: Path, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "train", "jem", "--eurosat", str(eurosat_rgb), "--out",
                          str(tmp_path / "jem")], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "WORLD_SIZE": "2", "RANK": "0"})
    assert run.returncode == 2 and run.stderr.strip() == ("error: python -m train jem runs in one process: under "
                                                          "torchrun only classifier and segmenter train with "
                                                          "DistributedDataParallel")
