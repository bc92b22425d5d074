"""`python -m train energy` and its crops, on the real scene: balanced by class, exact on resume, classifier untouched."""
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from core.errors import NaturalExplainError
from core.models.hybrid_jem import ENERGY_EMBEDDING
from core.models.model_file import load_model
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_MODEL, DEFAULT_SAMPLING_JEM
from tests.helpers.training import RASTER_WINDOW, run_train
from train.commands.energy import _standardised
from train.datasets.crops import CELL, BalancedCrops
from train.reproduce import JEM_NAME

CROP = 32


@pytest.fixture(scope="module")
def window(scene: Path, scene_grid) -> tuple[torch.Tensor, np.ndarray]:
    """The fixtures' 10 x 3 km farmland / marsh window of the scene, standardised as the bundled models take it."""
    card = load_model(DEFAULT_MODEL).card
    raw, valid = read_window(match_bands(open_input(scene), card.bands), scene_grid.window(RASTER_WINDOW))
    return _standardised(raw, valid, card), valid


def _verdict(batch: torch.Tensor) -> torch.Tensor:
    return torch.softmax(load_model(DEFAULT_MODEL).network(batch), dim=1)


def test_batches_take_the_classes_in_turn(window: tuple[torch.Tensor, np.ndarray]) -> None:
    """Half of a batch is crops the classifier calls anthropogenic, half natural, though the window is mostly one."""
    image, valid = window
    crops = BalancedCrops.sort(image, valid, CROP, _verdict, batch_rows=8)
    sizes = [len(pool) for pool in crops.pools]
    assert min(sizes) > 100
    batch, label = crops.batch(64, np.random.default_rng(0))
    assert batch.shape == (64, image.shape[0], CROP, CROP) and torch.isfinite(batch).all()
    assert torch.equal(label, torch.arange(64) % 2)
    with torch.no_grad():
        called = _verdict(batch).argmax(dim=1).numpy()
    # A crop moves up to CELL - 1 px off the cell the classifier judged, so a few near a class edge flip.
    assert (called == label.numpy()).mean() >= 0.8


def test_crops_never_reach_nodata(window: tuple[torch.Tensor, np.ndarray]) -> None:
    image, valid = window
    hole = valid.copy()
    hole[100:140, 200:260] = False
    crops = BalancedCrops.sort(image, hole, CROP, _verdict, batch_rows=8)
    for row, column in crops.cells * CELL:
        reach = hole[row:row + CROP + CELL - 1, column:column + CROP + CELL - 1]
        assert reach.all()
    assert len(crops.cells) < len(BalancedCrops.sort(image, valid, CROP, _verdict, batch_rows=8).cells)


def test_a_window_smaller_than_a_crop_is_refused(window: tuple[torch.Tensor, np.ndarray]) -> None:
    image, valid = window
    with pytest.raises(NaturalExplainError, match="smaller than one 32 px crop"):
        BalancedCrops.sort(image[:, :20, :20], valid[:20, :20], CROP, _verdict)


def test_a_model_that_is_not_a_jem_is_refused(tmp_path: Path, raster_layout: dict[str, Path], scene: Path) -> None:
    result = run_train("energy", "--raster", scene, "--polygons", raster_layout["polygons"], "--weights", DEFAULT_MODEL,
                       "--classifier", DEFAULT_MODEL, "--out", tmp_path / "gen", "--steps", "1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: --weights {DEFAULT_MODEL} is a {load_model(DEFAULT_MODEL).card.architecture}: give the jem_hybrid "
        "model that `train jem --architecture jem_hybrid` wrote, or a jem_wide_resnet JEM")
    assert not (tmp_path / "gen.json").exists()


def test_a_fresh_energy_option_with_an_energy_already_there_is_refused(tmp_path: Path, raster_layout: dict[str, Path],
                                                                         scene: Path) -> None:
    result = run_train("energy", "--raster", scene, "--polygons", raster_layout["polygons"], "--weights",
                       DEFAULT_SAMPLING_JEM, "--classifier", DEFAULT_MODEL, "--out", tmp_path / "gen", "--steps", "1",
                       "--energy-depth", "3")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: --energy-depth shapes a fresh energy, and --weights {DEFAULT_SAMPLING_JEM} has one: drop it, or give a "
        "jem_wide_resnet JEM")


def test_a_plain_jem_gets_a_fresh_class_told_energy_stored_at_half_precision(tmp_path: Path, scene: Path,
                                                                            raster_layout: dict[str, Path]) -> None:
    """The plain JEM's network is the classifier, bit for bit; the U-Net is told the class; only it is float16 on disk."""
    jem = DEFAULT_MODEL.with_name(f"{JEM_NAME}.json")
    result = run_train("energy", "--raster", scene, "--polygons", raster_layout["polygons"], "--weights", jem,
                       "--classifier", DEFAULT_MODEL, "--out", tmp_path / "fresh", "--steps", "1", "--batch-size", "4",
                       "--energy-width", "8", "--energy-depth", "3", "--class-told", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    plain, fresh = load_model(jem), load_model(tmp_path / "fresh.json")
    card = fresh.card
    assert card.architecture == "jem_hybrid" and card.classes == plain.card.classes
    assert {k: card.arch_args[k] for k in ("energy_width", "energy_depth", "energy_classes", "energy_embedding")} == {
        "energy_width": 8, "energy_depth": 3, "energy_classes": 2, "energy_embedding": ENERGY_EMBEDDING}
    assert card.jem["score"]["form"] == "denoiser" and card.jem["score"]["fit"]["class_dropout"] == 0.2
    assert card.jem["score"]["chain"] == {"sigma_max": 10.0, "guidance": 3.0}  # classifier-free, measured best
    assert not any(key.startswith("inpaint_") for key in card.jem)
    assert card.training["weights_from"]["weights_sha256"] == plain.weights_sha256
    ours = fresh.network.classifier.state_dict()
    assert all(torch.equal(ours[k], v) for k, v in plain.network.state_dict().items())
    with safe_open(str(tmp_path / "fresh.safetensors"), "pt") as stored:
        kinds = {name: stored.get_tensor(name).dtype for name in stored.keys()}
    assert {kinds[k] for k in kinds if k.startswith("energy.")} == {torch.float16}
    assert {kinds[k] for k in kinds if k.startswith("classifier.") and kinds[k].is_floating_point} == {torch.float32}


def _energy(tmp_path: Path, scene: Path, polygons: Path, out: str, steps: int, *more: str):
    return run_train("energy", "--raster", scene, "--polygons", polygons, "--weights", DEFAULT_SAMPLING_JEM,
                     "--classifier", DEFAULT_MODEL, "--out", tmp_path / out, "--steps", str(steps), "--batch-size", "4",
                     "--checkpoint-every", "1", "--device", "cpu", *more)


@pytest.mark.slow
def test_a_resumed_fit_is_the_uninterrupted_one_and_the_classifier_stays(tmp_path: Path, scene: Path,
                                                                          raster_layout: dict[str, Path]) -> None:
    polygons = raster_layout["polygons"]
    whole = _energy(tmp_path, scene, polygons, "whole", 2)
    assert whole.returncode == 0, whole.stderr
    assert _energy(tmp_path, scene, polygons, "part", 1).returncode == 0
    resumed = _energy(tmp_path, scene, polygons, "part", 2, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    base, a, b = (load_model(p) for p in (DEFAULT_SAMPLING_JEM, tmp_path / "whole.json", tmp_path / "part.json"))
    ours, theirs, start = a.network.state_dict(), b.network.state_dict(), base.network.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert all(torch.equal(ours[k], start[k]) for k in ours if k.startswith("classifier."))
    assert any(not torch.equal(ours[k], start[k]) for k in ours if k.startswith("energy."))
    score = a.card.jem["score"]
    assert score["form"] == "denoiser" and score["fit"]["steps"] == 2 and score["chain"]["sigma_max"] > 1
    assert a.card.training["weights_from"]["weights_sha256"] == base.weights_sha256

