"""Class-conditional JEM sampling writes its grid and record, each class's samples lean to that class, the generative
JEM's have real fine detail; KID by hand."""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rasterio.windows import Window

from core.jem.kid import kid, polynomial_kernel
from core.resources import DEFAULT_JEM, DEFAULT_MODEL, DEFAULT_SAMPLING_JEM
from core.sample import sample
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.rasters import write_stack

pytestmark = pytest.mark.slow  # Langevin sampling

# 4 samples down a 30-level ladder (core sample's default is 100) from the bundled generative JEM.
N, LEVELS = 4, 30
# Held-out farmland, woods and marsh of the sample's south: ~200 reference patches, both classes.
REFERENCE_WINDOW = Window(0, 560, 400, 160)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return write_stack(tmp_path_factory.mktemp("reference") / "south.tif", window=REFERENCE_WINDOW)


@pytest.fixture(scope="module")
def natural(tmp_path_factory, reference):
    """Natural samples through the CLI, as a user draws them: the bundled generative JEM, annealed."""
    out = tmp_path_factory.mktemp("natural") / "grid.png"
    result = run_cli("sample", "--class", "natural", "--n", str(N), "--steps", str(LEVELS), "--out", str(out),
                     "--reference", str(reference), "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    return out, json.loads(out.with_suffix(".json").read_text())


@pytest.fixture(scope="module")
def anthropogenic(tmp_path_factory, reference):
    out = tmp_path_factory.mktemp("anthropogenic") / "grid.png"
    result = sample(out, class_name="anthropogenic", n=N, model=DEFAULT_SAMPLING_JEM, steps=LEVELS, reference=reference,
                    device="cpu")
    return out, json.loads(result.json.read_text())


def test_writes_png_grid_and_record(natural):
    out, record = natural
    with Image.open(out) as image:
        assert image.format == "PNG" and min(image.size) >= 2 * record["patch_size"]
    assert record["class"] == "natural" and record["n"] == N and record["init"] == "annealed"
    assert record["annealed"]["levels"] == LEVELS and Path(record["model"]["path"]).stem == DEFAULT_SAMPLING_JEM.stem
    assert set(record["kid"]) >= {"samples", "uniform_noise", "real_other_class", "real_same_class"}
    assert set(record["fine_detail"]) >= {"samples", "real_other_class"}
    assert all(np.isfinite(record["kid"][k]) for k in ("samples", "uniform_noise", "real_other_class"))


def test_samples_of_each_class_lean_to_it(natural, anthropogenic):
    """Judged by the independent classifier, natural samples are more natural than anthropogenic ones."""
    p_natural_of_natural = natural[1]["mean_probability"]["independent_classifier"]
    p_natural_of_anthropogenic = 1.0 - anthropogenic[1]["mean_probability"]["independent_classifier"]
    assert p_natural_of_natural > p_natural_of_anthropogenic
    assert natural[1]["mean_probability"]["jem"] > 0.5 and anthropogenic[1]["mean_probability"]["jem"] > 0.5


def test_kid_yardsticks_order(natural):
    """Real patches of the class are closer to the held-out class than uniform noise is."""
    kids = natural[1]["kid"]
    assert kids["real_same_class"] < kids["uniform_noise"]


def test_samples_are_closer_to_their_class_than_the_other_real_class_is(natural, anthropogenic):
    """The issue's bar: each class's samples have a KID below the class gap (real patches of the other class)."""
    for _, record in (natural, anthropogenic):
        assert record["kid"]["samples"] < record["kid"]["real_other_class"]


def test_the_annealed_chain_from_pure_noise_has_far_less_grain_than_the_classs_starts(natural, reference, tmp_path):
    """Fine detail relative to real patches of the class: 30 levels from pure noise come far closer to real texture
    than the class's Gaussian starts (bench/measure_samples.py, 100 levels and 16 patches: natural 1.16 against 8.06)."""
    starts = sample(tmp_path / "starts.png", class_name="natural", n=N, model=DEFAULT_SAMPLING_JEM, steps=0,
                    init="data", reference=reference, device="cpu")
    ours, theirs = natural[1]["fine_detail"]["samples"], starts.fine_detail["samples"]
    assert 1 < theirs and abs(ours - 1) < 0.5 * abs(theirs - 1)


def test_guidance_steers_the_chain_to_the_class(anthropogenic, reference, tmp_path):
    """Without guidance the chain draws from log p(x) alone and the class is left to chance (bench/measure_samples.py,
    16 patches: the independent classifier's mean probability of the class 0.34 against 0.95 with the card's 3)."""
    free = sample(tmp_path / "free.png", class_name="anthropogenic", n=N, model=DEFAULT_SAMPLING_JEM, steps=LEVELS,
                  reference=reference, device="cpu", guidance=0.0)
    assert anthropogenic[1]["guidance"] == 3 and json.loads(free.json.read_text())["guidance"] == 0
    assert anthropogenic[1]["mean_probability"]["independent_classifier"] > free.reference_probability + 0.2


def test_the_chain_starts_where_told_and_the_record_says_so(anthropogenic, reference, tmp_path):
    """--start-sigma overrides the card's top of the ladder (10); from 80 the chain still draws the class."""
    out = tmp_path / "top.png"
    result = run_cli("sample", "--class", "anthropogenic", "--n", str(N), "--steps", str(LEVELS), "--start-sigma", "80",
                     "--out", str(out), "--reference", str(reference), "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    record = json.loads(out.with_suffix(".json").read_text())
    assert anthropogenic[1]["annealed"]["sigma_max"] == 10 and record["annealed"]["sigma_max"] == 80
    assert record["mean_probability"]["independent_classifier"] > 0.5
    assert record["kid"]["samples"] < record["kid"]["real_other_class"]


@pytest.mark.parametrize("extra, message, fix", [
    (["--init", "data", "--model", str(DEFAULT_JEM)], "--start-sigma sets where the annealed chain starts",
     "drop --start-sigma"),
    (["--model", str(DEFAULT_SAMPLING_JEM), "--start-sigma", "0.01"], "--start-sigma 0.01 must be above the bottom",
     "0.02"),
])
def test_a_start_level_the_chain_cannot_take_is_refused(tmp_path, extra, message, fix):
    result = run_cli("sample", "--class", "natural", "--start-sigma", "2", *extra, "--out", str(tmp_path / "g.png"))
    assert_one_line_error(result, message, fix)
    assert not (tmp_path / "g.png").exists()


def test_a_jem_without_the_score_term_cannot_run_the_annealed_chain(tmp_path):
    result = run_cli("sample", "--class", "natural", "--init", "annealed", "--model", str(DEFAULT_JEM),
                     "--out", str(tmp_path / "g.png"))
    assert_one_line_error(result, "cannot run the annealed chain", "--init data")
    assert not (tmp_path / "g.png").exists()


def test_guidance_on_an_sgld_chain_is_refused(tmp_path):
    result = run_cli("sample", "--class", "natural", "--init", "data", "--guidance", "2", "--model", str(DEFAULT_JEM),
                     "--out", str(tmp_path / "g.png"))
    assert_one_line_error(result, "--guidance steers the annealed chain", "drop --guidance")
    assert not (tmp_path / "g.png").exists()


def test_zero_steps_show_the_chains_starts(reference, tmp_path):
    """--steps 0 is allowed: it shows where the chains begin, what the chain adds is the difference."""
    result = sample(tmp_path / "starts.png", class_name="natural", n=N, model=DEFAULT_JEM, steps=0,
                    reference=reference, device="cpu")
    assert json.loads(result.json.read_text())["sgld"]["steps"] == 0 and result.png.stat().st_size > 0


def test_unknown_class_is_refused(tmp_path):
    result = run_cli("sample", "--class", "forest", "--out", str(tmp_path / "g.png"))
    assert_one_line_error(result, "unknown class 'forest'", "natural")
    assert not (tmp_path / "g.png").exists()


def test_plain_classifier_is_refused(tmp_path):
    result = run_cli("sample", "--class", "natural", "--model", str(DEFAULT_MODEL), "--out", str(tmp_path / "g.png"))
    assert_one_line_error(result, "not a JEM")


def test_kid_matches_hand_computation():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 0.0]])
    k = lambda a, b: (np.dot(a, b) / 2 + 1) ** 3  # noqa: E731
    within_x = (k(x[0], x[1]) + k(x[1], x[0])) / 2
    within_y = sum(k(a, b) for i, a in enumerate(y) for j, b in enumerate(y) if i != j) / 6
    across = sum(k(a, b) for a in x for b in y) / 6
    assert kid(x, y) == pytest.approx(within_x + within_y - 2 * across)
    assert polynomial_kernel(x, y)[0, 1] == pytest.approx(k(x[0], y[1]))


def test_kid_is_near_zero_for_one_distribution_and_large_for_two():
    rng = np.random.default_rng(0)
    a, b, shifted = rng.normal(size=(200, 8)), rng.normal(size=(200, 8)), rng.normal(2.0, 1.0, size=(200, 8))
    assert abs(kid(a, b)) < 0.05 < kid(a, shifted)
