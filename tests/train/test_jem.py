"""JEM training on real tiles: the card carries the training log p(x) histogram, --resume continues with the
replay buffer exactly, divergence and bad input end in one line, and the bundled JEM classifies like the classifier."""
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from core.jem.histogram import training_histogram
from core.jem.init import CoarseGaussian
from core.models.hybrid_jem import ENERGY_EMBEDDING
from core.models.model_file import load_model
from core.resources import DEFAULT_JEM, DEFAULT_MODEL, DEFAULT_SAMPLING_JEM
from tests.helpers.cli import REPO
from tests.helpers.training import assert_records_make_models_command, assert_same_command, run_train, sidecar
from train.__main__ import main
from train.checkpoint import checkpoint_path, load_checkpoint
from train.inpainting_term import MAX_REACH_PX, inpainting_card_entry
from train.replay_buffer import ReplayBuffer
from train.reproduce import energy_arguments, jem_arguments, jem_base_arguments
from train.score_term import SIGMA_MAX, SIGMA_MIN

pytestmark = pytest.mark.slow  # trains

SGLD = {"steps": 3, "step_size": 1.0, "noise": 0.01}


def _train(layout: dict[str, Path], out: Path, epochs: int, *extra: str) -> int:
    return main(["jem", "--raster", str(layout["raster"]), "--polygons", str(layout["polygons"]), "--label-field",
                 "landscape", "--bands", "B02,B03,B04,B08", "--patch-size", "32", "--stride", "32", "--width", "4",
                 "--batch-size", "32", "--buffer-size", "40", "--sgld-steps", str(SGLD["steps"]),
                 "--warmup-steps", "5", "--epochs", str(epochs), "--out", str(out), *extra])


def test_replay_buffer_restarts_a_share_of_distinct_chains_and_takes_them_back() -> None:
    generator = torch.Generator().manual_seed(0)
    buffer = ReplayBuffer(200, (2, 4, 4), 0.25, generator)
    starts, slots = buffer.draw(100, generator)
    assert len(set(slots.tolist())) == 100 and starts.dtype == torch.float32
    restarted = (starts != buffer.samples[slots].float()).flatten(1).any(dim=1).float().mean()
    assert 0.1 < restarted < 0.4
    buffer.store(slots, torch.full_like(starts, 0.5))
    assert (buffer.samples[slots] == 0.5).all() and (buffer.samples != 0.5).sum() > 0


def test_short_run_writes_a_card_with_the_training_histogram(raster_layout: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "jem"
    assert _train(raster_layout, out, 1) == 0
    card = load_model(out.with_suffix(".json")).card
    metrics = card.training["metrics"]
    histogram = training_histogram(card)
    assert sum(histogram.counts) == metrics["n_train"] and len(histogram.edges) == len(histogram.counts) + 1
    p = histogram.percentiles
    assert histogram.edges[0] < p["p1"] <= p["p5"] <= p["p50"] <= p["p95"] <= p["p99"] < histogram.edges[-1]
    assert {k: v for k, v in card.jem.items() if k not in ("logpx", "init")} == {
        "patch_size": 32, "sgld": SGLD, "buffer_size": 40, "reinit_freq": 0.05, "data_noise": 0.03, "energy_reg": 1.0}
    assert card.jem["init"] == {"kind": "uniform"}
    assert card.training["command"].startswith("python -m train jem --raster")
    assert "--buffer-size 40" in card.training["command"] and metrics["split"] == "spatial-blocks"
    assert 0 <= metrics["val_accuracy"] <= 1 and set(metrics["val_f1"]) == {"anthropogenic", "natural"}
    log = json.loads((tmp_path / "jem.ckpt" / "log.json").read_text())
    assert [h["epoch"] for h in log] == [1] and {"val_accuracy", "val_f1", "val_logpx_p50"} <= log[0].keys()


def test_informative_starts_draw_each_class_with_its_own_coarse_colours(raster_layout: dict[str, Path],
                                                                         tmp_path: Path) -> None:
    out = tmp_path / "jem"
    assert _train(raster_layout, out, 1, "--init", "data") == 0
    card = load_model(out.with_suffix(".json")).card
    assert list(card.jem["init"]["classes"]) == card.classes
    starts = CoarseGaussian.from_json(card.jem["init"])
    generator = torch.Generator().manual_seed(0)
    means = [torch.nn.functional.avg_pool2d(starts.draw(400, generator, k), starts.pool).flatten(1).mean(0)
             for k in range(len(card.classes))]
    assert starts.shape == (4, 32, 32) and all(len(m) == starts.mean.shape[1] for m in means)
    for k, mean in enumerate(means):
        assert (mean - starts.mean[k]).abs().max() < 0.01
    assert (starts.mean[0] - starts.mean[1]).abs().max() > 0.02


def test_resume_carries_the_buffer_and_matches_an_uninterrupted_run(raster_layout: dict[str, Path], tmp_path: Path) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert _train(raster_layout, straight, 2) == 0
    assert _train(raster_layout, resumed, 1) == 0
    first = load_checkpoint(checkpoint_path(tmp_path / "resumed.ckpt", 1))["buffer"]
    assert first.shape == (40, 4, 32, 32) and first.dtype == torch.float16
    assert _train(raster_layout, resumed, 2, "--resume") == 0
    a, b = load_file(straight.with_suffix(".safetensors")), load_file(resumed.with_suffix(".safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert sidecar(straight)["jem"] == sidecar(resumed)["jem"]
    assert "buffer" not in load_checkpoint(checkpoint_path(tmp_path / "resumed.ckpt", 1))
    assert not torch.equal(load_checkpoint(checkpoint_path(tmp_path / "resumed.ckpt", 2))["buffer"], first)


def test_divergence_stops_with_one_line_and_exit_2(raster_layout: dict[str, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    code = _train(raster_layout, tmp_path / "jem", 1, "--lr", "1e6")
    err = capsys.readouterr().err.rsplit("\r", 1)[-1]  # after the progress bar's last redraw
    assert code == 2 and err.startswith("error: training diverged: |loss| > 1e8 at epoch 1 step ")
    assert err.count("\n") == 1 and "lower --lr" in err
    assert not (tmp_path / "jem.json").exists()


def test_fine_tuning_starts_from_the_weights_and_their_scaling_and_records_the_inpainting_term(
        raster_layout: dict[str, Path], tmp_path: Path) -> None:
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    assert _train(raster_layout, base, 1, "--scale", "0.0002") == 0
    assert _train(raster_layout, tuned, 1, "--weights", str(base.with_suffix(".json")), "--inpaint-weight", "1") == 0
    first, second = load_model(base.with_suffix(".json")), load_model(tuned.with_suffix(".json"))
    assert (second.card.scale, second.card.mean, second.card.std) == (0.0002, first.card.mean, first.card.std)
    jem = second.card.jem
    assert jem["inpaint_weight"] == 1.0 and len(jem["inpaint_ring_gains"]) == MAX_REACH_PX
    assert inpainting_card_entry(jem["inpaint_ring_gains"]).items() <= jem.items()  # the reach is the gains'
    assert "inpaint_ring_gains" not in first.card.jem
    assert second.card.training["weights_from"] == {"path": str(base.with_suffix(".json")),
                                                    "weights_sha256": first.weights_sha256,
                                                    "command": first.card.training["command"]}
    assert "--inpaint-weight 1" in second.card.training["command"]


def test_the_generative_stage_trains_the_energy_alone_and_records_its_noise_ladder(
        raster_layout: dict[str, Path], tmp_path: Path) -> None:
    """A jem_wide_resnet's weights become a jem_hybrid's classifier, frozen; the score term trains the U-Net energy."""
    base, hybrid = tmp_path / "base", tmp_path / "hybrid"
    assert _train(raster_layout, base, 1, "--architecture", "jem_wide_resnet") == 0
    assert _train(raster_layout, hybrid, 1, "--architecture", "jem_hybrid", "--energy-width", "8", "--freeze-classifier",
                  "--weights", str(base.with_suffix(".json")), "--sgld-steps", "0", "--score-weight", "1",
                  "--score-form", "denoiser", "--energy-reg", "0") == 0
    first, second = load_model(base.with_suffix(".json")), load_model(hybrid.with_suffix(".json"))
    for name, weight in first.network.state_dict().items():
        assert torch.equal(second.network.classifier.state_dict()[name], weight), name
    torch.manual_seed(0)  # the energy's seeded start
    fresh = type(second.network)(**second.card.arch_args)
    assert not torch.equal(fresh.energy.head.weight, second.network.energy.head.weight)
    assert second.card.arch_args == {**first.card.arch_args, "energy_width": 8, "energy_depth": 2, "energy_pixels": 1024,
                                      "energy_embedding": ENERGY_EMBEDDING}
    assert second.card.jem["score"] == {"weight": 1.0, "sigma_max": SIGMA_MAX, "sigma_min": SIGMA_MIN, "form": "denoiser"}
    log = json.loads((tmp_path / "hybrid.ckpt" / "log.json").read_text())
    assert log[-1]["val_accuracy"] == json.loads((tmp_path / "base.ckpt" / "log.json").read_text())[-1]["val_accuracy"]
    assert "buffer" not in load_checkpoint(checkpoint_path(tmp_path / "hybrid.ckpt", 1))


@pytest.mark.parametrize("extra, message", [
    (["--weights", str(DEFAULT_MODEL)], f"error: --weights {DEFAULT_MODEL} has network shape (--width, --blocks)"),
    (["--buffer-size", "2000000"], "error: a replay buffer of 2000000 patches of 4x32x32 takes"),
    (["--buffer-size", "8"], "error: --buffer-size 8 is smaller than --batch-size 32"),
    (["--sgld-steps", "0"], "error: --sgld-steps 0 drops JEM's SGLD term, leaving a plain classifier: give --score-weight"),
    (["--sgld-steps", "0", "--score-weight", "1"], "error: --score-weight fits an energy told the noise level, which "
                                                   "only --architecture jem_hybrid has"),
    (["--freeze-classifier"], "error: --freeze-classifier keeps the classifier of --weights: it needs --architecture "
                              "jem_hybrid and --weights"),
])
def test_bad_input_is_one_line_and_exit_2(raster_layout: dict[str, Path], tmp_path: Path, extra: list[str],
                                          message: str) -> None:
    done = run_train("jem", "--raster", raster_layout["raster"], "--polygons", raster_layout["polygons"],
                     "--label-field", "landscape", "--bands", "B02,B03,B04,B08", "--out", tmp_path / "jem", *extra)
    assert done.returncode == 2 and done.stderr.startswith(message) and done.stderr.count("\n") == 1


def test_bundled_jem_classifies_like_the_bundled_classifier() -> None:
    jem, plain = load_model(DEFAULT_JEM).card, load_model(DEFAULT_MODEL).card
    ours, theirs = jem.training["metrics"], plain.training["metrics"]
    assert abs(ours["val_accuracy"] - theirs["val_accuracy"]) <= 0.05
    assert (ours["n_train"], ours["n_val"], ours["split"]) == (theirs["n_train"], theirs["n_val"], theirs["split"])
    assert (jem.bands, jem.mean, jem.std, jem.classes) == (plain.bands, plain.mean, plain.std, plain.classes)
    assert sum(training_histogram(jem).counts) == ours["n_train"]
    assert DEFAULT_JEM.with_suffix(".safetensors").stat().st_size < 3 * 2 ** 20


def test_bundled_jem_records_the_two_commands_make_models_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its own, and in weights_from the first run's, whose weights it started from (paths aside: where files went)."""
    monkeypatch.chdir(REPO)
    locations = ("out", "workdir", "weights")
    assert_records_make_models_command(DEFAULT_JEM, "jem", jem_arguments, locations)
    assert_same_command(load_model(DEFAULT_JEM).card.training["weights_from"]["command"], "jem", jem_base_arguments(),
                        locations)


def test_bundled_generative_jem_is_the_bundled_jem_plus_its_energy_as_make_models_trains_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its classifier is the bundled JEM's, weight for weight; it records the `train energy` command make models runs,
    and the bundled JEM's as where its weights came from; a few MB (its energy at half precision)."""
    monkeypatch.chdir(REPO)
    jem, generative = load_model(DEFAULT_JEM), load_model(DEFAULT_SAMPLING_JEM)
    for name, weight in jem.network.state_dict().items():
        assert torch.equal(generative.network.classifier.state_dict()[name], weight), name
    assert generative.card.training["metrics"]["val_accuracy"] == jem.card.training["metrics"]["val_accuracy"]
    locations = ("out", "workdir", "weights")
    assert_records_make_models_command(DEFAULT_SAMPLING_JEM, "energy", energy_arguments, locations)
    assert_same_command(generative.card.training["weights_from"]["command"], "jem",
                        jem_arguments(DEFAULT_JEM.parent.relative_to(REPO)), locations)
    assert generative.card.training["weights_from"]["weights_sha256"] == jem.weights_sha256
    assert DEFAULT_SAMPLING_JEM.with_suffix(".safetensors").stat().st_size < 6 * 2 ** 20
