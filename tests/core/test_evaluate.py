"""python -m core evaluate on the real sample: faithfulness ranks, controls, ROAD, draws, randomisation, bad input."""
import json
import math
import shlex
import shutil

import pytest
import rasterio
from matplotlib.image import imread

from core.errors import RunCanceled
from core.evaluate import BRIGHTNESS, RANDOM, evaluate
from core.explain.controls import CONTROLS
from core.resources import DEFAULT_GENERATORS, RESOURCES
from tests.helpers.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.slow  # evaluates every method on sampled tiles of the sample

CAPTUM_METHODS = ["gradcam", "occlusion", "deeplift", "ig"]
HAS_GENERATORS = DEFAULT_GENERATORS.exists()
GENERATOR_METHODS = ["cyclegan", "counterfactual"]
METHODS = CAPTUM_METHODS + (GENERATOR_METHODS if HAS_GENERATORS else [])
REFERENCE = RESOURCES / "labels" / "virginia_s2_water_wetland.geojson"
LABELS = dict(labels=REFERENCE, label_field="class", reference_class="wetland")


@pytest.fixture(scope="module")
def sample_evaluation(tmp_path_factory, sample_dir):
    """Every method on six 64 px tiles of the sample, against the derived wetland reference.

    Without the randomisation check, which would recompute occlusion and ig once per layer; `draws_evaluation` runs it.
    """
    return evaluate(sample_dir, tmp_path_factory.mktemp("evaluation"), methods=METHODS, tiles=6, tile_size=64,
                    device="cpu", randomization=False, **LABELS)


@pytest.fixture(scope="module")
def draws_evaluation(tmp_path_factory, sample_dir):
    """GradCAM and (when bundled) the counterfactual on two draws of two 32 px tiles, with the randomisation check."""
    methods = ["gradcam"] + (["counterfactual"] if HAS_GENERATORS else [])
    return evaluate(sample_dir, tmp_path_factory.mktemp("draws"), methods=methods, tiles=2, tile_size=32, draws=2,
                    device="cpu", **LABELS)


def _deletion_rank(result, method: str) -> list[str]:
    return [row.method for row in result.rows if row.method in (method, RANDOM)]


@pytest.mark.parametrize("method", CAPTUM_METHODS + (["counterfactual"] if HAS_GENERATORS else []))
def test_random_baseline_deletes_slower_than_each_verdict_explaining_method(sample_evaluation, method):
    assert _deletion_rank(sample_evaluation, method) == [method, RANDOM]


@pytest.mark.skipif(not HAS_GENERATORS, reason="the bundled cyclegan generators are not there yet")
def test_random_control_comes_after_every_method(sample_evaluation):
    """The issue's check, here: on these tiles even the class-agnostic |max - min| beats random (0.981 vs 0.990
    when measured). It does not on every draw (8 tiles of 128 px, seed 0: 0.973 vs 0.965), which is why
    `counterfactual` exists; that one is checked method by method above."""
    assert [r.method for r in sample_evaluation.rows if r.method != BRIGHTNESS][-1] == RANDOM


def test_table_has_one_row_per_method_and_control_ranked_by_deletion(sample_evaluation):
    rows = sample_evaluation.rows
    assert sorted(r.method for r in rows) == sorted(METHODS + list(CONTROLS))
    assert [r.deletion_auc for r in rows] == sorted(r.deletion_auc for r in rows)
    table = sample_evaluation.markdown_path.read_text()
    assert ("| method | deletion AUC ↓ | insertion AUC ↑ | ROAD AUC ↓ | IoU@top-10% | s per megapixel | "
            "beats random (del/ins/ROAD) | beats brightness (del/ins/ROAD) | beats gradcam (del) |") in table
    assert all(f"| {r.method} |" in table for r in rows)
    assert all(r.iou is not None and 0 <= r.iou <= 1 and r.s_per_megapixel >= 0 for r in rows)
    assert all(math.isfinite(r.road_auc) and r.randomization_rho is None for r in rows)


def test_outputs_are_written_whole_with_the_figure(sample_evaluation):
    record = json.loads(sample_evaluation.json_path.read_text())
    assert record["reference"]["class"] == "wetland" and record["reference"]["tiles_with_class"] > 0
    assert len(record["tiles"]) == 6 and set(record["curves"]) == set(METHODS + list(CONTROLS))
    assert all(len(c["road"]) == len(record["parameters"]["road"]["percentages"]) for c in record["curves"].values())
    assert record["randomization"] is None and record["parameters"]["randomization"] is None
    height, width, _ = imread(sample_evaluation.figure_path).shape
    assert width > 500 and height > 300
    assert not list(sample_evaluation.json_path.parent.glob(".*partial*"))


def _quick(sample_dir, out, seed=0, **kwargs):
    return evaluate(sample_dir, out, methods=["gradcam"], tiles=3, tile_size=32, device="cpu", seed=seed,
                    **{**LABELS, **kwargs})


def test_same_seed_gives_same_tiles_and_random_baseline(tmp_path, sample_dir):
    runs = [json.loads(_quick(sample_dir, tmp_path / name, seed=seed).json_path.read_text())
            for name, seed in (("a", 0), ("b", 0), ("c", 1))]
    same = [[t["bounds"] for t in r["tiles"]] for r in runs]
    assert same[0] == same[1] != same[2]
    assert runs[0]["curves"][RANDOM] == runs[1]["curves"][RANDOM]


def test_cancel_leaves_no_output(tmp_path, sample_dir):
    calls = []
    with pytest.raises(RunCanceled):
        _quick(sample_dir, tmp_path / "o", is_canceled=lambda: calls.append(1) or len(calls) > 2)
    assert not any((tmp_path / "o").glob("evaluation*")) and not (tmp_path / "o" / "comparison.png").exists()


def _cli(sample, out, *extra):
    """The CLI on one small tile; later options in `extra` override these."""
    return run_cli("evaluate", str(sample), "--labels", str(REFERENCE), "--out", str(out), "--tiles", "1",
                   "--tile-size", "32", "--methods", "gradcam", "--label-field", "class", "--reference-class", "wetland",
                   *extra)


def test_draws_give_mean_and_spread_and_keep_every_draw(draws_evaluation):
    record = json.loads(draws_evaluation.json_path.read_text())
    assert record["parameters"]["seeds"] == [0, 1] and len(record["draws"]) == len(draws_evaluation.draws) == 2
    assert [t["draw"] for t in record["tiles"]] == [0, 0, 1, 1]
    gradcam = next(r for r in record["rows"] if r["method"] == "gradcam")
    assert gradcam["sd"]["deletion_auc"] >= 0 and 0 <= gradcam["wins"]["road_auc vs brightness"] <= 2
    per_draw = [next(r for r in d["rows"] if r["method"] == "gradcam")["deletion_auc"] for d in record["draws"]]
    assert gradcam["deletion_auc"] == pytest.approx(sum(per_draw) / 2, abs=1e-4)
    table = draws_evaluation.markdown_path.read_text()
    assert "mean ± standard deviation over the draws" in table
    assert all(f"| {r.method} | {r.deletion_auc:.3f} ± " in table for r in draws_evaluation.rows)


def test_road_and_both_controls_are_finite_in_the_json_and_the_table(draws_evaluation):
    record = json.loads(draws_evaluation.json_path.read_text())
    rows = {r["method"]: r for r in record["rows"]}
    assert set(CONTROLS) <= set(rows)
    assert all(math.isfinite(r[m]) for r in rows.values() for m in ("deletion_auc", "insertion_auc", "road_auc"))
    assert all(math.isfinite(v) for t in record["tiles"] for v in t["road_auc"].values())
    table = draws_evaluation.markdown_path.read_text()
    assert f"| {BRIGHTNESS} |" in table and f"| {RANDOM} |" in table and "| nan" not in table and "nan |" not in table


def test_randomising_the_classifier_breaks_gradcam_but_not_an_untouched_copy(draws_evaluation):
    record = json.loads(draws_evaluation.json_path.read_text())
    randomization = record["randomization"]
    assert randomization["layers"][:2] == ["none", "head"] and randomization["layers"][-1] == "features.0"
    gradcam = randomization["rank_correlation"]["gradcam"]
    assert gradcam[0] > 0.99 and gradcam[-1] < 0.5
    rows = {r.method: r for r in draws_evaluation.rows}
    assert rows["gradcam"].randomization_rho == pytest.approx(gradcam[-1], abs=1e-3)
    assert rows[RANDOM].randomization_rho is None and "rank corr. randomised ↓" in draws_evaluation.markdown_path.read_text()


@pytest.mark.skipif(not HAS_GENERATORS, reason="the bundled cyclegan generators are not there yet")
def test_counterfactual_maps_do_not_follow_a_randomised_classifier(draws_evaluation):
    """The generators were trained against the real classifier and run without it: for a fixed explained class
    their map is the same whatever the classifier's weights. The check reports it; it is not hidden."""
    assert min(json.loads(draws_evaluation.json_path.read_text())["randomization"]["rank_correlation"]["counterfactual"]) > 0.99


def test_label_field_missing_is_one_line(tmp_path, sample_dir):
    assert_one_line_error(_cli(sample_dir, tmp_path / "o", "--label-field", "landcover"), "no field 'landcover'", "class")


def test_reference_class_absent_is_one_line(tmp_path, sample_dir):
    result = _cli(sample_dir, tmp_path / "o", "--reference-class", "glacier")
    assert_one_line_error(result, "'glacier'", "open_water", "wetland")


def test_unknown_method_is_one_line(tmp_path, sample_dir):
    result = _cli(sample_dir, tmp_path / "o", "--methods", "lime")
    assert_one_line_error(result, "unknown method(s) lime")


def test_aoi_without_a_nodata_free_tile_is_one_line(tmp_path, sample_dir):
    sample = shutil.copytree(sample_dir, tmp_path / "sample")
    with rasterio.open(sample / "B03.tif", "r+") as ds:
        data = ds.read(1)
        data[0:100, 0:100] = 0
        ds.write(data, 1)
    result = _cli(sample, tmp_path / "o", "--aoi", "442730,4173960,443730,4174960")  # the hole: rows and cols 0..100
    assert_one_line_error(result, "no 32 px tile inside the AOI")
    assert not any((tmp_path / "o").glob("evaluation*"))


def test_draws_below_one_is_one_line(tmp_path, sample_dir):
    assert_one_line_error(_cli(sample_dir, tmp_path / "o", "--draws", "0"), "argument --draws: must be a whole number from 1 to 100, got 0")


def test_cli_prints_the_table_of_two_draws_without_the_randomisation(tmp_path, sample_dir):
    result = _cli(sample_dir, tmp_path / "o", "--draws", "2", "--no-randomization")
    assert result.returncode == 0, result.stderr
    assert "| gradcam |" in result.stdout and f"| {BRIGHTNESS} |" in result.stdout and " ± " in result.stdout
    assert "rank corr." not in result.stdout
    record = json.loads((tmp_path / "o" / "evaluation.json").read_text())
    assert record["randomization"] is None and record["parameters"]["draws"] == 2


def test_the_readme_table_command_runs_as_written_on_fewer_tiles(tmp_path):
    """The README's evaluation command, shrunk to two draws of one 32 px tile, gives the table it describes."""
    readme = (RESOURCES.parent / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.startswith(".venv/bin/python -m core evaluate resources/sample"))
    args = shlex.split(line)[3:]
    for option, small in (("--tiles", "1"), ("--tile-size", "32"), ("--draws", "2"), ("--out", str(tmp_path / "o"))):
        args[args.index(option) + 1] = small
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    for name in ("gradcam", "deeplift", "counterfactual", "cyclegan", RANDOM, BRIGHTNESS):
        assert f"| {name} |" in result.stdout
    assert "ROAD" in result.stdout and "rank corr." in result.stdout and " ± " in result.stdout
