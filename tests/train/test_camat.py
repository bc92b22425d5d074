"""CAMAT: training batches occluded where the true class's GradCAM is highest (train/camat.py)."""
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from core.explain.captum_methods import GradCAMExplainer
from core.explain.metrics import top_fraction_mask
from core.models.card import read_card
from core.models.model_file import LoadedModel, load_model
from core.models.preprocess import to_model_input
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_MODEL, MODELS, SAMPLE
from tests.helpers.training import assert_records_make_models_command, sidecar
from train.__main__ import main
from train.camat import CAMATSettings, evidence_concentration, occlude
from train.reproduce import CAMAT_NAME, camat_arguments

PATCH = 32


@pytest.fixture(scope="module")
def bundled() -> LoadedModel:
    return load_model(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def patches(bundled: LoadedModel) -> tuple[torch.Tensor, torch.Tensor]:
    """16 real 32 px patches of the bundled sample, standardised by the bundled card, and the model's verdicts as labels."""
    raster = open_input(SAMPLE)
    raw, valid = read_window(match_bands(raster, bundled.card.bands), raster.grid)
    x = torch.from_numpy(to_model_input(raw, valid, bundled.card))
    tiles = torch.stack([x[:, r:r + PATCH, c:c + PATCH] for r in range(0, 4 * PATCH, PATCH)
                         for c in range(0, 4 * PATCH, PATCH)])
    with torch.no_grad():
        return tiles, bundled.network(tiles).argmax(dim=1)


def test_occluded_pixels_are_the_cams_top_ones(bundled: LoadedModel, patches: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = patches
    settings = CAMATSettings(share=0.2, fill="mean", probability=1.0)
    occluded, mask = occlude(bundled.network, x, y, settings, torch.Generator().manual_seed(0))
    cam = GradCAMExplainer(bundled).attribute(x, y).detach()
    for i in range(len(x)):
        hidden, kept = cam[i, 0][mask[i, 0]], cam[i, 0][~mask[i, 0]]
        assert hidden.min() >= kept.max()
    assert torch.equal(occluded[mask.expand_as(x)], torch.zeros(int(mask.sum()) * x.shape[1]))
    assert torch.equal(occluded[~mask.expand_as(x)], x[~mask.expand_as(x)])


@pytest.mark.parametrize("share", [0.1, 0.25])
def test_occluded_share_matches_the_setting(bundled: LoadedModel, patches: tuple[torch.Tensor, torch.Tensor],
                                            share: float) -> None:
    x, y = patches
    _, mask = occlude(bundled.network, x, y, CAMATSettings(share=share, probability=1.0), torch.Generator().manual_seed(0))
    assert mask.flatten(1).float().mean(dim=1).tolist() == pytest.approx([share] * len(x), abs=0.5 / PATCH ** 2)


def test_probability_chooses_the_occluded_samples(bundled: LoadedModel, patches: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = patches
    generator = torch.Generator().manual_seed(3)
    chosen = torch.rand(len(x), generator=torch.Generator().manual_seed(3)) < 0.5
    occluded, mask = occlude(bundled.network, x, y, CAMATSettings(probability=0.5), generator)
    assert torch.equal(mask.flatten(1).any(dim=1), chosen) and 0 < int(chosen.sum()) < len(x)
    assert torch.equal(occluded[~chosen], x[~chosen])


def test_noise_and_batch_fills_replace_the_hidden_pixels(bundled: LoadedModel,
                                                        patches: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = patches
    batch, mask = occlude(bundled.network, x, y, CAMATSettings(fill="batch", probability=1.0), torch.Generator().manual_seed(0))
    means = x.mean(dim=(0, 2, 3))
    assert torch.allclose(batch.permute(1, 0, 2, 3)[:, mask[:, 0]], means[:, None].expand(-1, int(mask.sum())))
    noise, mask = occlude(bundled.network, x, y, CAMATSettings(fill="noise", probability=1.0), torch.Generator().manual_seed(0))
    hidden = noise.permute(1, 0, 2, 3)[:, mask[:, 0]]
    assert abs(float(hidden.mean())) < 0.1 and abs(float(hidden.std()) - 1) < 0.1


def test_evidence_concentration_is_the_top_tenths_share(bundled: LoadedModel, patches: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = patches
    cam = GradCAMExplainer(bundled).attribute(x, y).detach()
    found = evidence_concentration(cam)
    ties = torch.rand(PATCH, PATCH, generator=torch.Generator().manual_seed(0))
    for i in range(len(x)):
        top = top_fraction_mask(cam[i, 0], ties, 10.0)
        assert float(found[i]) == pytest.approx(float(cam[i, 0][top].sum() / cam[i, 0].sum()), rel=1e-5)
    assert evidence_concentration(torch.ones(1, 1, 10, 10)).item() == pytest.approx(0.1)


def _train(eurosat_rgb: Path, out: Path, epochs: int, *extra: str) -> int:
    return main(["classifier", "--eurosat", str(eurosat_rgb), "--natural-classes", "Natural", "--out", str(out),
                 "--epochs", str(epochs), "--batch-size", "8", "--width", "8", *extra])


def _weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(out.with_suffix(".safetensors"))


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_warmup_epochs_train_as_plain_training(eurosat_rgb: Path, tmp_path: Path) -> None:
    plain, warming, occluding = tmp_path / "plain", tmp_path / "warming", tmp_path / "occluding"
    assert _train(eurosat_rgb, plain, 1) == 0
    assert _train(eurosat_rgb, warming, 2, "--camat", "--camat-warmup", "1", "--camat-probability", "1") == 0
    assert _train(eurosat_rgb, occluding, 1, "--camat", "--camat-warmup", "0", "--camat-probability", "1") == 0
    first = torch.load(tmp_path / "warming.ckpt" / "epoch_0001.pt", weights_only=True)["model"]
    assert _same(_weights(plain), first)
    assert not _same(_weights(plain), _weights(occluding))
    assert not _same(first, _weights(warming))


def test_camat_is_recorded_in_the_card_and_its_command(eurosat_rgb: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    assert _train(eurosat_rgb, out, 2, "--camat", "--camat-fill", "noise") == 0
    training = sidecar(out)["training"]
    assert training["camat"] == {"share": 0.2, "fill": "noise", "probability": 0.5, "warmup": 1}
    assert "--camat --camat-share 0.2 --camat-fill noise --camat-probability 0.5 --camat-warmup 1" in training["command"]
    history = training["metrics"]["history"]
    assert all(0.1 <= h["val_evidence_top10"] <= 1 for h in history)


def test_camat_run_resumes_exactly(eurosat_rgb: Path, tmp_path: Path) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    camat = ["--camat", "--camat-warmup", "1", "--camat-fill", "noise"]
    assert _train(eurosat_rgb, straight, 3, *camat) == 0
    assert _train(eurosat_rgb, resumed, 2, *camat) == 0
    assert _train(eurosat_rgb, resumed, 3, *camat, "--resume") == 0
    assert _same(_weights(straight), _weights(resumed))


@pytest.mark.parametrize("extra, message", [
    (["--camat-share", "0.3"], "--camat-share only apply with --camat"),
    (["--camat", "--camat-warmup", "2"], "--camat-warmup 2 leaves none of the 2 --epochs"),
])
def test_camat_mistakes_are_one_line(eurosat_rgb: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                     extra: list[str], message: str) -> None:
    assert _train(eurosat_rgb, tmp_path / "model", 2, *extra) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_jem_trains_with_camat(eurosat_rgb: Path, tmp_path: Path) -> None:
    out = tmp_path / "jem"
    assert main(["jem", "--eurosat", str(eurosat_rgb), "--natural-classes", "Natural", "--out", str(out),
                 "--epochs", "2", "--batch-size", "8", "--width", "8", "--sgld-steps", "2", "--buffer-size", "64",
                 "--warmup-steps", "2", "--camat", "--camat-warmup", "1"]) == 0
    training = sidecar(out)["training"]
    assert training["camat"]["warmup"] == 1 and "--camat " in training["command"]


def test_bundled_camat_model_is_made_by_make_models_and_as_accurate_as_the_plain_one() -> None:
    bundled = MODELS / f"{CAMAT_NAME}.json"
    assert_records_make_models_command(bundled, "classifier", camat_arguments)
    camat, plain = (read_card(path)[0].training["metrics"] for path in (bundled, DEFAULT_MODEL))
    assert camat["n_val"] == plain["n_val"] and camat["val_accuracy"] >= plain["val_accuracy"]
