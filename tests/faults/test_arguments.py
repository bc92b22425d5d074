"""Every option of every command refuses a bad number or name with one line naming it, and writes nothing.

Issue 12, F3 (numbers and names checked where argparse reads them), F4 (inpaint's --out checked
before the fill), F11 (evaluate refuses an area smaller than one tile). Almost every case fails
while the arguments are parsed, so the whole table takes seconds; the few that need the model
(an unknown band name, a 1-pixel area, an output path that is a folder) stop before any work.
"""
from pathlib import Path

import pytest

from core.resources import SAMPLE
from tests.helpers.faults import assert_refused, run_main

REFERENCE = Path(__file__).resolve().parents[2] / "resources" / "labels" / "virginia_s2_water_wetland.geojson"

# Each command with its required arguments, writing below tmp_path / "out"; a case appends `--OPTION=VALUE`
# (the `=` form, so a value like -inf or an empty string reaches the option), which overrides an earlier one.
CORE_BASES = {
    "explain": lambda t: ["explain", SAMPLE, "--out", t / "out"],
    "evaluate": lambda t: ["evaluate", SAMPLE, "--labels", REFERENCE, "--label-field", "class", "--reference-class",
                         "wetland", "--out", t / "out"],
    "inpaint": lambda t: ["inpaint", SAMPLE, "--mask", REFERENCE, "--out", t / "out" / "filled.tif"],
    "ood": lambda t: ["ood", SAMPLE, "--out", t / "out"],
    "quicklook": lambda t: ["quicklook", SAMPLE, t / "run", "--out", t / "out" / "quicklook.png"],
    "sample": lambda t: ["sample", "--class", "natural", "--out", t / "out" / "samples.png"],
}
TRAIN_BASES = {
    "classifier": lambda t: ["classifier", "--eurosat", t / "data", "--out", t / "out" / "model"],
    "jem": lambda t: ["jem", "--eurosat", t / "data", "--out", t / "out" / "model"],
    "cyclegan": lambda t: ["cyclegan", "--classifier", t / "c.json", "--raster", t / "r.tif", "--polygons",
                           t / "p.gpkg", "--out", t / "out" / "model"],
}

NUMBER_JUNK = ["abc", "", "nan", "inf", "-inf", "1e400", "²", "٣"]  # not a finite number in ASCII digits

CORE_CASES = [
    # explain: the cases first
    ("explain", "--tile-size", "-5"), ("explain", "--tile-size", "0"), ("explain", "--tile-size", "7"),
    ("explain", "--tile-size", "100000"), ("explain", "--tile-size", "1.5"), ("explain", "--tile-size", "²"),
    ("explain", "--tile-size", "٣٢"), ("explain", "--tile-size", ""), ("explain", "--tile-size", "1_000"),
    ("explain", "--batch-size", "-1"), ("explain", "--batch-size", "0"), ("explain", "--batch-size", "x"),
    ("explain", "--batch-size", "99999999999999999999"),
    ("explain", "--overlap", "-1"), ("explain", "--overlap", "1e9"), ("explain", "--overlap", "inf"),
    ("explain", "--overlap", "2.5"),
    ("explain", "--aoi", "-inf,-inf,inf,inf"), ("explain", "--aoi", ""), ("explain", "--aoi", "1,2,3"),
    ("explain", "--aoi", "3,0,1,1"), ("explain", "--aoi", "0,3,1,1"), ("explain", "--aoi", "5,5,5,6"),
    ("explain", "--aoi", "nan,0,1,1"), ("explain", "--aoi", "1e999,0,2e999,1"), ("explain", "--aoi", "a,b,c,d"),
    ("explain", "--aoi", "1,2,3,4,5,6"), ("explain", "--aoi", "0,0,1,1,notacrs"), ("explain", "--aoi", "0,0,1,1,99999"),
    ("explain", "--aoi", "١,0,2,1"),
    ("explain", "--bands", "B02=²"), ("explain", "--bands", "B02=0"), ("explain", "--bands", "B02=-1"),
    ("explain", "--bands", ""), ("explain", "--bands", "B02"), ("explain", "--bands", "=1"),
    ("explain", "--bands", "B02=1,B02=2"), ("explain", "--bands", "B02=1,B2=2"), ("explain", "--bands", "B02=٣"),
    ("explain", "--bands", "B02=1.5"),
    ("explain", "--methods", "nosuch"), ("explain", "--methods", "gradcam,nosuch"),
    ("explain", "--device", "tpu"), ("explain", "--model", ""), ("explain", "--out", ""), ("explain", "--aoi-vector", ""),
    # evaluate
    ("evaluate", "--q", "0"), ("evaluate", "--q", "-1"), ("evaluate", "--q", "101"), ("evaluate", "--q", "nan"),
    ("evaluate", "--q", "inf"), ("evaluate", "--q", "ten"),
    ("evaluate", "--tiles", "0"), ("evaluate", "--tiles", "-3"), ("evaluate", "--tiles", "1000000"),
    ("evaluate", "--tiles", "2.5"),
    ("evaluate", "--draws", "0"), ("evaluate", "--draws", "1000"), ("evaluate", "--draws", "x"),
    ("evaluate", "--tile-size", "0"), ("evaluate", "--tile-size", "7"), ("evaluate", "--tile-size", "5000"),
    ("evaluate", "--seed", "-1"), ("evaluate", "--seed", "4294967296"), ("evaluate", "--seed", "1.5"),
    ("evaluate", "--fill", "zero"), ("evaluate", "--label-field", ""), ("evaluate", "--reference-class", " "),
    ("evaluate", "--methods", "nosuch"), ("evaluate", "--labels", ""), ("evaluate", "--aoi", ""),
    ("evaluate", "--bands", "B02"),
    # inpaint: the issue's --noise nan first
    ("inpaint", "--noise", "nan"), ("inpaint", "--noise", "-0.1"), ("inpaint", "--noise", "inf"),
    ("inpaint", "--noise", "x"), ("inpaint", "--step-size", "-1"), ("inpaint", "--step-size", "nan"),
    ("inpaint", "--step-size", "1e400"), ("inpaint", "--steps", "0"), ("inpaint", "--steps", "-1"),
    ("inpaint", "--steps", "100000000"), ("inpaint", "--steps", "1.5"), ("inpaint", "--seed", "-5"),
    ("inpaint", "--mask", ""), ("inpaint", "--out", ""), ("inpaint", "--bands", "B02=0"),
    ("inpaint", "--device", "gpu"),
    # ood
    ("ood", "--out", ""), ("ood", "--aoi", "1,1,1,1"), ("ood", "--aoi", "inf,0,1,1"), ("ood", "--bands", "B02=1,B2=2"),
    ("ood", "--device", "gpu"), ("ood", "--aoi-vector", ""), ("ood", "--model", ""),
    # quicklook
    ("quicklook", "--out", ""),
    # sample
    ("sample", "--n", "1"), ("sample", "--n", "0"), ("sample", "--n", "-1"), ("sample", "--n", "100000"),
    ("sample", "--n", "x"), ("sample", "--steps", "-1"), ("sample", "--steps", "nan"), ("sample", "--seed", "-1"),
    ("sample", "--class", ""), ("sample", "--reference", ""), ("sample", "--out", ""), ("sample", "--device", "tpu"),
]

TRAIN_CASES = [
    ("classifier", "--epochs", "0"), ("classifier", "--epochs", "-1"), ("classifier", "--epochs", "nan"),
    ("classifier", "--epochs", "1.5"), ("classifier", "--epochs", ""), ("classifier", "--epochs", "٣"),
    ("classifier", "--batch-size", "0"), ("classifier", "--batch-size", "-8"),
    ("classifier", "--lr", "0"), ("classifier", "--lr", "-1"), ("classifier", "--lr", "nan"),
    ("classifier", "--lr", "inf"), ("classifier", "--lr", "1e400"),
    ("classifier", "--seed", "-1"), ("classifier", "--seed", "x"),
    ("classifier", "--block-size-m", "0"), ("classifier", "--block-size-m", "inf"),
    ("classifier", "--val-fraction", "0"), ("classifier", "--val-fraction", "1"), ("classifier", "--val-fraction", "1.5"),
    ("classifier", "--val-fraction", "nan"), ("classifier", "--val-fraction", "-0.2"),
    ("classifier", "--patch-size", "0"), ("classifier", "--stride", "-1"), ("classifier", "--width", "0"),
    ("classifier", "--resolution-m", "0"), ("classifier", "--resolution-m", "nan"),
    ("classifier", "--scale", "-1"), ("classifier", "--scale", "inf"),
    ("classifier", "--clip", "1,0"), ("classifier", "--clip", "nan,1"), ("classifier", "--clip", "0"),
    ("classifier", "--clip", "0,1,2"), ("classifier", "--clip", "a,b"), ("classifier", "--clip", "-inf,inf"),
    ("classifier", "--bands", "B02,B02"), ("classifier", "--bands", "B02=0"), ("classifier", "--bands", "B02=²"),
    ("classifier", "--bands", ""), ("classifier", "--natural-classes", ""), ("classifier", "--out", ""),
    ("classifier", "--workdir", ""), ("classifier", "--device", "tpu"),
    ("jem", "--sgld-steps", "0"), ("jem", "--sgld-step-size", "0"), ("jem", "--sgld-step-size", "nan"),
    ("jem", "--sgld-noise", "-1"), ("jem", "--buffer-size", "0"), ("jem", "--reinit-freq", "0"),
    ("jem", "--reinit-freq", "1.5"), ("jem", "--data-noise", "inf"), ("jem", "--warmup-steps", "0"),
    ("jem", "--energy-reg", "-1"), ("jem", "--energy-reg", "nan"), ("jem", "--lr", "0"),
    ("cyclegan", "--lambda-am", "-1"), ("cyclegan", "--lambda-proximity", "nan"), ("cyclegan", "--lambda-cycle", "inf"),
    ("cyclegan", "--am-margin", "0"), ("cyclegan", "--warmup-steps", "-1"), ("cyclegan", "--pool-size", "-1"),
    ("cyclegan", "--decay-start", "1"), ("cyclegan", "--decay-start", "-0.1"), ("cyclegan", "--samples", "0"),
    ("cyclegan", "--ngf", "0"), ("cyclegan", "--n-blocks", "-1"), ("cyclegan", "--ndf", "x"),
    ("cyclegan", "--endmembers", "0"), ("cyclegan", "--bands", "B02=0"), ("cyclegan", "--patch-size", "1e3"),
    ("cyclegan", "--kid-model", ""),
]


def _case_id(case: tuple[str, str, str]) -> str:
    command, option, value = case
    return f"{command} {option}={value!r}"


@pytest.mark.parametrize("case", CORE_CASES, ids=_case_id)
def test_core_option_is_refused_in_one_line(case: tuple[str, str, str], tmp_path: Path) -> None:
    command, option, value = case
    outcome = run_main(*CORE_BASES[command](tmp_path), f"{option}={value}")
    line = assert_refused(outcome, option)
    assert "usage:" not in outcome.stderr, outcome.stderr
    assert not (tmp_path / "out").exists(), line


@pytest.mark.parametrize("case", TRAIN_CASES, ids=_case_id)
def test_train_option_is_refused_in_one_line(case: tuple[str, str, str], tmp_path: Path) -> None:
    command, option, value = case
    outcome = run_main(*TRAIN_BASES[command](tmp_path), f"{option}={value}", module="train")
    line = assert_refused(outcome, option)
    assert "usage:" not in outcome.stderr, outcome.stderr
    assert not (tmp_path / "out").exists(), line


def test_messages_say_what_is_allowed_and_what_was_given(tmp_path: Path) -> None:
    line = assert_refused(run_main(*CORE_BASES["explain"](tmp_path), "--tile-size=-5"))
    assert line.startswith("error: argument --tile-size: must be a whole number from 8 to 4096, got -5"), line
    line = assert_refused(run_main(*CORE_BASES["inpaint"](tmp_path), "--noise=nan"))
    assert "must be a number of at least 0, got nan" in line, line
    line = assert_refused(run_main(*CORE_BASES["explain"](tmp_path), "--aoi=-inf,-inf,inf,inf"))
    assert "finite" in line and "-inf,-inf,inf,inf" in line, line


def test_resume_and_fresh_together_are_refused(tmp_path: Path) -> None:
    assert_refused(run_main(*TRAIN_BASES["classifier"](tmp_path), "--resume", "--fresh", module="train"),
                   "--fresh", "--resume")


def test_unknown_band_name_names_the_models_bands(tmp_path: Path) -> None:
    outcome = run_main(*CORE_BASES["explain"](tmp_path), "--bands", "FOO=1", "--device", "cpu", "--quiet")
    line = assert_refused(outcome, "--bands", "FOO=1", "B02, B03, B04")
    assert not (tmp_path / "out").exists(), line


def test_aoi_and_aoi_vector_together_are_refused(tmp_path: Path) -> None:
    outcome = run_main(*CORE_BASES["explain"](tmp_path), "--aoi", "442800,4167000,443800,4168000",
                       "--aoi-vector", REFERENCE, "--quiet")
    assert_refused(outcome, "--aoi", "--aoi-vector")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("aoi", ["442800,4167000,442805,4167005", "442800,4167000,442870,4168000"],
                         ids=["1-pixel", "7-pixels-wide"])
def test_evaluate_refuses_an_area_smaller_than_one_tile(aoi: str, tmp_path: Path) -> None:
    """F11: a 1-pixel area used to score AUC and IoU of 1.0."""
    outcome = run_main(*CORE_BASES["evaluate"](tmp_path), "--aoi", aoi, "--tile-size", "8", "--tiles", "1",
                       "--methods", "gradcam", "--no-randomization", "--device", "cpu", "--quiet")
    assert_refused(outcome, "smaller than one", "--tile-size")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["inpaint", "sample", "quicklook"])
def test_out_that_is_a_folder_is_refused_before_any_work(command: str, tmp_path: Path) -> None:
    """F4: inpaint --out into an existing folder failed only after the whole fill had run."""
    args = CORE_BASES[command](tmp_path)
    out = args[args.index("--out") + 1]
    out.mkdir(parents=True)
    outcome = run_main(*args, "--device", "cpu", "--quiet") if command != "quicklook" else run_main(*args)
    assert_refused(outcome, "--out", "folder")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("command", ["inpaint", "sample", "quicklook"])
def test_out_below_a_file_is_refused_before_any_work(command: str, tmp_path: Path) -> None:
    """F4: an --out whose folder cannot be created (a file stands in the way, which stops root too)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    args = CORE_BASES[command](tmp_path)
    args[args.index("--out") + 1] = blocker / "out" / "x.png"
    assert_refused(run_main(*args), "cannot create", str(blocker))
    assert blocker.read_text() == "a file where a folder should be"


@pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root may write into a read-only folder")
def test_inpaint_out_in_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    args = CORE_BASES["inpaint"](tmp_path)
    args[args.index("--out") + 1] = locked / "filled.tif"
    assert_refused(run_main(*args, "--device", "cpu", "--quiet"), "cannot write", str(locked))
