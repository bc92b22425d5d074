"""Pattern enhancement training: the score and proximity terms train the generators, the score term is bounded, the
endmembers are real, and a short run on real tiles works."""
import json
from pathlib import Path

import pytest
import rasterio
import torch
from rasterio.windows import Window

from core.models.generator import PatternGenerators
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import UnitSpace, to_model_input
from core.raster.bands import match_bands
from core.raster.grid import Grid
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_GENERATORS, DEFAULT_MODEL
from tests.helpers.cli import REPO
from tests.helpers.training import RASTER_WINDOW, assert_records_make_models_command, sidecar
from train.__main__ import main
from train.checkpoint import latest_checkpoint
from train.commands.cyclegan import _discriminators, generator_arch_args
from train.endmembers import endmembers
from train.reproduce import generator_arguments
from train.trainers.cyclegan import CycleGANSettings, CycleGANTrainer, am_loss, frozen_score, proximity_loss
from train.trainers.options import TrainerOptions

pytestmark = pytest.mark.slow  # trains

TILE = 32


@pytest.fixture(scope="module")
def classifier() -> LoadedModel:
    return load_model(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def real_tiles(scene: Path, scene_grid: Grid, tile_windows: dict[str, list[Window]], classifier: LoadedModel) -> torch.Tensor:
    """Standardised 32 px crops of real north-half tiles, two per class."""
    refs = match_bands(open_input(scene), classifier.card.bands)
    tiles = []
    for windows in tile_windows.values():
        for window in windows[:2]:
            raw, valid = read_window(refs, scene_grid, Window(window.col_off, window.row_off, TILE, TILE))
            tiles.append(torch.from_numpy(to_model_input(raw, valid, classifier.card)))
    return torch.stack(tiles)


@pytest.fixture(scope="module")
def palette(classifier: LoadedModel, real_tiles: torch.Tensor) -> dict[str, list[list[float]]]:
    """Eight endmembers of each class, from the real tiles (two per class, anthropogenic first)."""
    return {name: endmembers([(x, 0) for x in tiles], classifier.card, 8, seed=0)
            for name, tiles in (("anthropogenic", real_tiles[:2]), ("natural", real_tiles[2:]))}


def _trainer(classifier: LoadedModel, palette: dict[str, list[list[float]]], tmp_path: Path,
             lr: float = 2e-4, settings: CycleGANSettings = CycleGANSettings()) -> CycleGANTrainer:
    torch.manual_seed(0)
    bands = len(classifier.card.bands)
    options = TrainerOptions(epochs=1, batch_size=4, lr=lr, seed=0, device=torch.device("cpu"), workdir=tmp_path, resume=False)
    score = frozen_score(classifier.network, classifier.card.natural_indices, len(classifier.card.classes))
    generators = PatternGenerators(**generator_arch_args(classifier.card, palette, ngf=8, n_blocks=2))
    return CycleGANTrainer(generators, _discriminators(bands, 8), score, UnitSpace(classifier.card), classifier.card,
                           options, settings, {})


def _has_gradient(generator: torch.nn.Module) -> bool:
    grads = [p.grad for p in generator.parameters()]
    return all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0


def test_am_loss_trains_the_generator_and_never_the_classifier(classifier: LoadedModel, palette: dict[str, list[list[float]]],
                                                               real_tiles: torch.Tensor, tmp_path: Path) -> None:
    trainer = _trainer(classifier, palette, tmp_path)
    u = trainer.space.from_input(real_tiles)
    for maximize, generator in ((True, trainer.generators.maximizer), (False, trainer.generators.minimizer)):
        am_loss(trainer.score, trainer.space, generator(u), maximize, margin=4.0).backward()
        assert _has_gradient(generator)
    assert all(not p.requires_grad and p.grad is None for p in classifier.network.parameters())


def test_am_loss_stops_pushing_once_the_margin_is_reached(classifier: LoadedModel, palette: dict[str, list[list[float]]],
                                                          real_tiles: torch.Tensor, tmp_path: Path) -> None:
    trainer = _trainer(classifier, palette, tmp_path)
    u = trainer.space.from_input(real_tiles)
    with torch.no_grad():
        logits = trainer.score(real_tiles).flatten()
    natural = u[logits > 4.5]  # real tiles the classifier already calls natural beyond the margin
    assert len(natural) > 0
    loss = am_loss(trainer.score, trainer.space, trainer.generators.maximizer(natural), True, margin=4.0)
    loss.backward()
    assert loss.item() == 0.0
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in trainer.generators.maximizer.parameters())


def test_proximity_gradient_reaches_the_generator(classifier: LoadedModel, palette: dict[str, list[list[float]]],
                                                  real_tiles: torch.Tensor, tmp_path: Path) -> None:
    trainer = _trainer(classifier, palette, tmp_path)
    u = trainer.space.from_input(real_tiles)
    for generator in (trainer.generators.maximizer, trainer.generators.minimizer):
        loss = proximity_loss(trainer.space, generator(u), u)
        assert loss.item() > 0
        loss.backward()
        assert _has_gradient(generator)


def test_endmembers_are_real_spectra_inside_the_training_range(classifier: LoadedModel, palette: dict[str, list[list[float]]],
                                                               real_tiles: torch.Tensor) -> None:
    card, space = classifier.card, UnitSpace(classifier.card)
    spectra = torch.tensor(palette["natural"] + palette["anthropogenic"])
    assert spectra.shape == (16, len(card.bands))
    low, high = (space.from_input(((torch.tensor([r[i] for r in card.value_range]) - torch.tensor(card.mean))
                                   / torch.tensor(card.std))[None, :, None, None]).flatten() for i in (0, 1))
    assert (spectra >= low - 1e-6).all() and (spectra <= high + 1e-6).all()
    pixels = space.from_input(real_tiles).permute(0, 2, 3, 1).reshape(-1, len(card.bands))
    nearest = torch.cdist(spectra, pixels).min(dim=1).values
    assert nearest.max() < torch.cdist(pixels[:200], pixels[:200]).max()  # each centre sits among the real pixels


def test_few_steps_on_real_tiles_move_the_score_each_way(classifier: LoadedModel, palette: dict[str, list[list[float]]],
                                                        real_tiles: torch.Tensor, tmp_path: Path) -> None:
    # The score term alone, faster than in training: with proximity on, a fresh generator first shrinks its
    # mask for a few dozen steps before the score term opens it (epoch 1 of `make models`: 0.47 -> 0.86).
    alone = CycleGANSettings(lambda_proximity=0, lambda_colour=0, lambda_identity=0)
    trainer = _trainer(classifier, palette, tmp_path, lr=2e-3, settings=alone)
    u = trainer.space.from_input(real_tiles)

    def scores() -> tuple[float, float]:
        with torch.no_grad():
            g = trainer.generators
            return tuple(torch.sigmoid(trainer.score(trainer.space.to_input(gen(u)))).mean().item()
                         for gen in (g.maximizer, g.minimizer))

    high_before, low_before = scores()
    anthropogenic, natural = u[:2], u[2:]  # real_tiles holds two tiles per class, in CLASSES order
    for _ in range(12):
        trainer.train_step(anthropogenic, natural)
    high_after, low_after = scores()
    assert high_after > high_before + 0.05
    assert low_after < low_before - 0.05


@pytest.fixture(scope="module")
def ten_band_layout(tmp_path_factory: pytest.TempPathFactory, scene: Path, scene_grid: Grid,
                    raster_layout: dict[str, Path], classifier: LoadedModel) -> dict[str, Path]:
    """The raster layout's north-half window with the bundled classifier's ten bands, named."""
    grid = scene_grid.window(RASTER_WINDOW)
    raw, _ = read_window(match_bands(open_input(scene), classifier.card.bands), grid)
    path = tmp_path_factory.mktemp("ten_band") / "scene.tif"
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=raw.shape[0], dtype="uint16",
                   crs=grid.crs, transform=grid.transform, nodata=0)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(raw.round().astype("uint16"))
        for i, name in enumerate(classifier.card.bands, start=1):
            dst.set_band_description(i, name)
    return {"raster": path, "polygons": raster_layout["polygons"]}


def _train(layout: dict[str, Path], out: Path, epochs: int, *extra: str) -> int:
    return main(["cyclegan", "--classifier", str(DEFAULT_MODEL), "--raster", str(layout["raster"]),
                 "--polygons", str(layout["polygons"]), "--label-field", "landscape", "--patch-size", "32",
                 "--stride", "32", "--ngf", "4", "--n-blocks", "1", "--ndf", "4", "--batch-size", "16",
                 "--samples", "2", "--epochs", str(epochs), "--out", str(out), *extra])


def test_resume_continues_and_logs_every_epoch(ten_band_layout: dict[str, Path], tmp_path: Path) -> None:
    out, workdir = tmp_path / "gen", tmp_path / "gen.ckpt"
    assert _train(ten_band_layout, out, 1) == 0
    assert latest_checkpoint(workdir).name == "epoch_0001.pt"
    assert _train(ten_band_layout, out, 2, "--resume") == 0
    card = sidecar(out)
    assert [h["epoch"] for h in card["training"]["metrics"]["history"]] == [1, 2]
    assert card["trained_against"]["weights"] == "naturalness_s2.safetensors"
    assert card["training"]["command"].startswith("python -m train cyclegan --classifier")
    log = json.loads((workdir / "log.json").read_text())
    assert [h["epoch"] for h in log] == [1, 2] and {"score_real", "score_max", "score_min", "loss_am"} <= log[0].keys()
    outside = {kind: log[-1][f"outside_range_{kind}"] for kind in ("real", "max", "min")}
    assert all(0 <= share <= 1 for share in outside.values()) and outside["real"] < 0.05
    assert card["training"]["metrics"]["outside_range_max"] == outside["max"]
    assert outside["max"] <= outside["real"] + 0.01 and outside["min"] <= outside["real"] + 0.01
    assert {"colour_cast_max", "colour_cast_min", "checkerboard_real", "checkerboard_max"} <= card["training"]["metrics"].keys()
    assert len(card["arch_args"]["natural_endmembers"]) == len(card["arch_args"]["anthropogenic_endmembers"]) == 24
    assert sorted(p.name for p in (workdir / "samples").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]


def test_bad_input_is_one_line_and_exit_2(ten_band_layout: dict[str, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    code = main(["cyclegan", "--classifier", str(tmp_path / "missing.json"), "--raster", str(ten_band_layout["raster"]),
                 "--polygons", str(ten_band_layout["polygons"]), "--out", str(tmp_path / "gen")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: model sidecar") and err.count("\n") == 1


def test_bundled_generators_record_the_command_make_models_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert_records_make_models_command(DEFAULT_GENERATORS, "cyclegan", generator_arguments)
    card = load_model(DEFAULT_GENERATORS, expect="generators").card
    assert card.architecture == "repaint_pattern_generators" and len(card.arch_args["natural_endmembers"]) == 24
    assert DEFAULT_GENERATORS.with_suffix(".safetensors").stat().st_size < 3 * 2 ** 20
