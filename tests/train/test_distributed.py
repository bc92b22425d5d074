"""torchrun: two CPU processes train a classifier, a JEM and the pattern generators with DDP (gloo), and one process
resumes each of their checkpoints; the ranks draw streams of their own and deal out shares that never overlap."""
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from core.models.model_file import load_model
from core.raster.bands import match_bands
from core.raster.grid import Grid
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_MODEL
from tests.helpers.training import RASTER_WINDOW, sidecar, write_geotiff
from train.__main__ import main
from train.checkpoint import latest_checkpoint, load_checkpoint
from train.distributed import World, order_generator, rank_batch, rank_generator, rank_rows, resumed_rng_state
from train.unpaired import UnpairedBatches

ROOT = Path(__file__).resolve().parents[2]


def torchrun(arguments: list[str]) -> str:
    """`torchrun --standalone --nproc_per_node=2 -m train ARGUMENTS` on the CPU, one thread each; its stdout + stderr."""
    command = [str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node=2", "-m", "train",
               *arguments, "--device", "cpu"]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout + run.stderr


def history_epochs(out: Path) -> list[int]:
    return [h["epoch"] for h in sidecar(out)["training"]["metrics"]["history"]]


def classifier_arguments(eurosat_rgb: Path, out: Path, epochs: int) -> list[str]:
    return ["classifier", "--eurosat", str(eurosat_rgb), "--natural-classes", "Natural", "--out", str(out),
            "--epochs", str(epochs), "--batch-size", "8", "--width", "8", "--device", "cpu"]


@pytest.mark.slow  # trains
def test_two_processes_train_and_one_resumes(eurosat_rgb: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    output = torchrun(classifier_arguments(eurosat_rgb, out, 1))
    assert output.count("epoch 1/1: train loss") == 1 and output.count("wrote ") == 1  # rank 0 only
    assert load_checkpoint(latest_checkpoint(tmp_path / "model.ckpt"))["epoch"] == 1
    assert main([*classifier_arguments(eurosat_rgb, out, 2), "--resume"]) == 0  # one process carries on
    assert history_epochs(out) == [1, 2]


def jem_arguments(layout: dict[str, Path], out: Path, epochs: int) -> list[str]:
    return ["jem", "--raster", str(layout["raster"]), "--polygons", str(layout["polygons"]), "--label-field",
            "landscape", "--bands", "B02,B03,B04,B08", "--patch-size", "32", "--stride", "32", "--width", "4",
            "--batch-size", "32", "--buffer-size", "40", "--sgld-steps", "3", "--warmup-steps", "5",
            "--epochs", str(epochs), "--out", str(out), "--device", "cpu"]


@pytest.mark.slow  # trains
def test_two_processes_train_a_jem_and_one_resumes_with_rank_zeros_buffer(raster_layout: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    out = tmp_path / "jem"
    output = torchrun(jem_arguments(raster_layout, out, 1))
    assert output.count("epoch 1/1: train loss") == 1 and output.count("wrote ") == 1  # rank 0 only
    assert load_model(out.with_suffix(".json")).card.jem["buffer_size"] == 40
    state = load_checkpoint(latest_checkpoint(tmp_path / "jem.ckpt"))
    assert state["epoch"] == 1 and state["buffer"].shape == (40, 4, 32, 32)  # one rank's buffer, not both
    assert main([*jem_arguments(raster_layout, out, 2), "--resume"]) == 0
    assert history_epochs(out) == [1, 2]


@pytest.fixture(scope="module")
def ten_band_raster(tmp_path_factory: pytest.TempPathFactory, scene: Path, scene_grid: Grid) -> Path:
    """The raster layout's window with the bundled classifier's ten bands, named, as `train cyclegan` takes it."""
    bands = load_model(DEFAULT_MODEL).card.bands
    grid = scene_grid.window(RASTER_WINDOW)
    raw, _ = read_window(match_bands(open_input(scene), bands), grid)
    return write_geotiff(tmp_path_factory.mktemp("ten_band") / "scene.tif", raw, grid, bands)


def cyclegan_arguments(raster: Path, polygons: Path, out: Path, epochs: int) -> list[str]:
    """Every DDP part at work: both generators, called again by the cycle terms, and both discriminators."""
    return ["cyclegan", "--classifier", str(DEFAULT_MODEL), "--raster", str(raster), "--polygons", str(polygons),
            "--label-field", "landscape", "--patch-size", "32", "--stride", "32", "--ngf", "4", "--n-blocks", "1",
            "--ndf", "4", "--endmembers", "8", "--lambda-adversarial", "1", "--lambda-cycle", "1", "--batch-size", "16",
            "--samples", "2", "--epochs", str(epochs), "--out", str(out), "--device", "cpu"]


@pytest.mark.slow  # trains
def test_two_processes_train_the_generators_and_one_resumes(ten_band_raster: Path, raster_layout: dict[str, Path],
                                                            tmp_path: Path) -> None:
    out, workdir = tmp_path / "gen", tmp_path / "gen.ckpt"
    output = torchrun(cyclegan_arguments(ten_band_raster, raster_layout["polygons"], out, 1))
    assert output.count("epoch 1/1: natural score") == 1 and output.count("wrote ") == 1  # rank 0 only
    assert load_model(out.with_suffix(".json"), expect="generators").card.trained_against
    assert load_checkpoint(latest_checkpoint(workdir))["epoch"] == 1
    assert main([*cyclegan_arguments(ten_band_raster, raster_layout["polygons"], out, 2), "--resume"]) == 0
    assert history_epochs(out) == [1, 2]
    assert sorted(p.name for p in (workdir / "samples").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]


def test_rank_zero_draws_as_one_process_and_each_rank_its_own_stream() -> None:
    draws = [torch.rand(8, generator=rank_generator(7, World(rank, 2))) for rank in range(2)]
    assert torch.equal(draws[0], torch.rand(8, generator=torch.Generator().manual_seed(7)))
    assert not torch.equal(draws[0], draws[1])


def test_a_resume_gives_rank_zero_the_checkpointed_stream_and_the_others_their_own() -> None:
    saved = torch.Generator().manual_seed(3).get_state()
    states = [resumed_rng_state(saved, 7, World(rank, 3), epoch=2) for rank in range(3)]
    assert torch.equal(states[0], saved)
    assert not torch.equal(states[1], saved) and not torch.equal(states[1], states[2])


class _Numbered:
    """Patches whose one value is their position: 10 anthropogenic (label 0), then 6 natural (label 1)."""

    labels = [0] * 10 + [1] * 6

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return torch.tensor([float(i)]), self.labels[i]


def test_ranks_deal_out_one_unpaired_epoch_without_overlap() -> None:
    def shares(rank: int) -> tuple[list[float], list[float]]:
        world = World(rank, 2)
        batches = UnpairedBatches(_Numbered(), [1], rank_batch(4, world) * world.size,  # type: ignore[arg-type]
                                  order_generator(world, torch.Generator(), seed=5, epoch=1))
        rows = [(rank_rows(a, world).flatten().tolist(), rank_rows(b, world).flatten().tolist()) for a, b in batches]
        assert len(rows) == 3 and all(len(a) == len(b) == 2 for a, b in rows)  # every rank runs as many DDP steps
        return [p for a, _ in rows for p in a], [p for _, b in rows for p in b]

    (a0, b0), (a1, b1) = shares(0), shares(1)
    # One epoch dealt out: 12 slots per class, every anthropogenic patch in at least one, each natural one in two.
    assert set(a0 + a1) == set(map(float, range(10))) and len(a0 + a1) == 12
    assert Counter(b0 + b1) == {float(p): 2 for p in range(10, 16)}
