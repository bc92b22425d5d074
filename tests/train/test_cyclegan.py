"""Pattern enhancement training: the AM term trains the generators, and a short run on real tiles works."""
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
from core.resources import DEFAULT_MODEL
from train.__main__ import main
from train.checkpoint import latest_checkpoint
from train.commands.cyclegan import _discriminators
from train.trainers.cyclegan import CycleGANSettings, CycleGANTrainer, am_loss, frozen_score
from train.trainers.options import TrainerOptions

from tests.train.conftest import RASTER_WINDOW, sidecar

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


def _trainer(classifier: LoadedModel, tmp_path: Path) -> CycleGANTrainer:
    torch.manual_seed(0)
    bands = len(classifier.card.bands)
    options = TrainerOptions(epochs=1, batch_size=4, lr=2e-4, seed=0, device=torch.device("cpu"), workdir=tmp_path, resume=False)
    score = frozen_score(classifier.network, classifier.card.natural_indices, len(classifier.card.classes))
    return CycleGANTrainer(PatternGenerators(bands, ngf=8, n_blocks=2), _discriminators(bands, 8), score,
                           UnitSpace(classifier.card), classifier.card, options, CycleGANSettings(), {})


def test_am_loss_trains_the_generator_and_never_the_classifier(classifier: LoadedModel, real_tiles: torch.Tensor,
                                                               tmp_path: Path) -> None:
    trainer = _trainer(classifier, tmp_path)
    u = trainer.space.from_input(real_tiles)
    for maximize, generator in ((True, trainer.generators.maximizer), (False, trainer.generators.minimizer)):
        am_loss(trainer.score, trainer.space, generator(u), maximize).backward()
        grads = [p.grad for p in generator.parameters()]
        assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert all(not p.requires_grad and p.grad is None for p in classifier.network.parameters())


def test_few_steps_on_real_tiles_move_the_score_each_way(classifier: LoadedModel, real_tiles: torch.Tensor,
                                                        tmp_path: Path) -> None:
    trainer = _trainer(classifier, tmp_path)
    u = trainer.space.from_input(real_tiles)

    def scores() -> tuple[float, float]:
        with torch.no_grad():
            g = trainer.generators
            return tuple(torch.sigmoid(trainer.score(trainer.space.to_input(gen(u)))).mean().item()
                         for gen in (g.maximizer, g.minimizer))

    high_before, low_before = scores()
    anthropogenic, natural = u[:2], u[2:]  # real_tiles holds two tiles per class, in CLASSES order
    for _ in range(6):
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
    assert sorted(p.name for p in (workdir / "samples").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]


def test_bad_input_is_one_line_and_exit_2(ten_band_layout: dict[str, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    code = main(["cyclegan", "--classifier", str(tmp_path / "missing.json"), "--raster", str(ten_band_layout["raster"]),
                 "--polygons", str(ten_band_layout["polygons"]), "--out", str(tmp_path / "gen")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: model sidecar") and err.count("\n") == 1
