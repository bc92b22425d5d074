"""Each method's settings: declared once, typed and checked from METHOD.NAME=VALUE, used by the map, recorded."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rasterio.windows import Window

from core.errors import NaturalExplainError
from core.explain.registry import build_explainer, generators_setting, parse_method_settings
from core.models.model_file import load_model
from core.models.preprocess import to_model_input
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_MODEL, SAMPLE


def test_settings_are_typed_and_grouped_by_method() -> None:
    settings = parse_method_settings(["occlusion.window=8", "occlusion.stride=4", "ig.steps=64",
                                      "cyclegan.generators=models/mine_generators.json"])
    assert settings == {"occlusion": {"window": 8, "stride": 4}, "ig": {"steps": 64},
                        "cyclegan": {"generators": Path("models/mine_generators.json")}}
    assert generators_setting(settings) == Path("models/mine_generators.json")


@pytest.mark.parametrize("item, message", [
    ("occlusion.window", "a method option reads METHOD.NAME=VALUE"),
    ("window=8", "a method option reads METHOD.NAME=VALUE"),
    ("occlusions.window=8", "no method 'occlusions' in 'occlusions.window=8': choose from cyclegan,"),
    ("occlusion.size=8", "occlusion has no setting 'size' (its settings: window, stride)"),
    ("gradcam.layer=2", "gradcam has no setting 'layer' (its settings: none)"),
    ("occlusion.window=eight", "occlusion.window takes a whole number, not 'eight'"),
    ("ig.steps=0", "ig.steps must be at least 1, got 0"),
])
def test_a_wrong_setting_is_one_line_naming_it(item: str, message: str) -> None:
    with pytest.raises(NaturalExplainError) as caught:
        parse_method_settings([item])
    assert str(caught.value).startswith(message)


@pytest.mark.slow
def test_the_occlusion_window_changes_the_map_on_a_real_tile() -> None:
    loaded = load_model(DEFAULT_MODEL)
    raster = open_input(SAMPLE)
    raw, valid = read_window(match_bands(raster, loaded.card.bands), raster.grid.window(Window(0, 0, 64, 64)))
    x = torch.from_numpy(to_model_input(raw, valid, loaded.card))[None]
    coarse = build_explainer("occlusion", loaded).attribute(x)
    fine = build_explainer("occlusion", loaded, parse_method_settings(["occlusion.window=4", "occlusion.stride=4"]))
    assert fine.options.window == 4
    sharp = fine.attribute(x)
    assert sharp.shape == coarse.shape and not torch.allclose(sharp, coarse)
    # a 4 px window every 4 px leaves a 4 px checker of constant values; the 16/8 default does not
    assert (sharp[0, 0, :4, :4] == sharp[0, 0, 0, 0]).all()


@pytest.mark.slow
def test_explain_records_the_settings_and_the_cli_refuses_a_bad_one(tmp_path: Path) -> None:
    aoi = ["--aoi", "442730,4166960,443370,4167600,EPSG:32618"]  # 64 x 64 px
    run = subprocess.run([sys.executable, "-m", "core", "explain", str(SAMPLE), "--out", str(tmp_path), "--methods",
                          "occlusion", "--method-option", "occlusion.window=8", *aoi, "--quiet"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["parameters"]["method_settings"] == {"occlusion": {"window": 8, "stride": 8}}
    bad = subprocess.run([sys.executable, "-m", "core", "explain", str(SAMPLE), "--out", str(tmp_path / "b"),
                          "--method-option", "occlusion.size=8"], capture_output=True, text=True)
    assert bad.returncode == 2 and "occlusion has no setting 'size'" in bad.stderr and "Traceback" not in bad.stderr
