"""Without --model, explain and evaluate pick the richest bundled classifier whose bands the input has.

Every raster here is cut from the real bundled Sentinel-2 sample: a 4-band blue/green/red/NIR
GeoTIFF, a 3-band one, an RGB GeoTIFF that says its bands only in its colour interpretation, and
rasters with too few bands for any model.
"""
import json
import re
from pathlib import Path

import pytest
import rasterio
from rasterio.enums import ColorInterp
from rasterio.windows import Window

from core.errors import NaturalExplainError
from core.models.choice import choose_model
from core.pipeline import explain, resolution_note
from core.raster.bands import match_bands, parse_band_mapping
from core.raster.read import read_window
from core.raster.sources import open_input
from core.raster.write import NODATA
from core.resources import DEFAULT_MODEL, RGB_MODEL, RGBN_MODEL, SAMPLE
from tests.helpers.cli import run_cli
from tests.helpers.rasters import MODEL_BANDS, grid_of, write_stack

pytestmark = pytest.mark.slow  # runs explain on rasters of every band set

# 128 x 128 px (1.28 km) of farmland, woods and marsh in the sample: a run takes under a second.
WINDOW = Window(300, 300, 128, 128)
RGBN = ["B02", "B03", "B04", "B08"]
RGB = ["B02", "B03", "B04"]


def write_bands(path: Path, names: list[str], descriptions: list[str | None] | None = None,
                colours: list[ColorInterp] | None = None, **profile) -> Path:
    """The sample's `names` bands on its 10 m grid (the window) as one uint16 GeoTIFF.

    Args:
        path: where to write.
        names: the sample bands to stack, in file order.
        descriptions: each band's description (None: none).
        colours: each band's colour interpretation (None: GDAL's default, gray then undefined).
        profile: extra creation options (e.g. photometric="RGB").
    """
    raster = open_input(SAMPLE)
    grid = raster.grid.window(WINDOW)
    raw, _ = read_window(match_bands(raster, names), grid)
    with rasterio.open(path, "w", driver="GTiff", width=grid.width, height=grid.height, count=len(names),
                       dtype="uint16", crs=grid.crs, transform=grid.transform, nodata=0, **profile) as dst:
        dst.write(raw.round().astype("uint16"))
        for i, text in enumerate(descriptions or [], start=1):
            if text:
                dst.set_band_description(i, text)
        if colours:
            dst.colorinterp = colours
    return path


def assert_map_on_input_grid(out: Path, source: Path) -> None:
    assert grid_of(out / "naturalness.tif") == grid_of(source)
    with rasterio.open(out / "naturalness.tif") as ds:
        data = ds.read(1)
    valid = data[data != NODATA]
    assert valid.size > 0.9 * data.size and valid.min() >= 0 and valid.max() <= 1


def recorded_model(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())["model"]


def band_numbers_in(text: str) -> list[int]:
    """Every NAME=NUMBER band number a message suggests."""
    return [int(n) for n in re.findall(r"\b[A-Z][A-Z0-9]*=(\d+)", text)]


@pytest.fixture(scope="module")
def rasters(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("choice")
    return {
        "rgbn": write_bands(root / "rgbn.tif", RGBN, RGBN),
        "rgb": write_bands(root / "rgb.tif", RGB, RGB),
        "ten": write_stack(root / "ten.tif", WINDOW),
        # an orthophoto's way: red, green, blue in that order, named only by the colour interpretation
        "colour_rgb": write_bands(root / "colour_rgb.tif", ["B04", "B03", "B02"], photometric="RGB"),
        # NAIP's way: R, G, B by colour interpretation and a fourth band GDAL calls undefined
        "colour_rgb_undefined": write_bands(root / "colour_rgbu.tif", ["B04", "B03", "B02", "B08"],
                                            colours=[ColorInterp.red, ColorInterp.green, ColorInterp.blue,
                                                     ColorInterp.undefined]),
        # colour words as descriptions, in no particular order
        "words": write_bands(root / "words.tif", ["B08", "B04", "B03", "B02"], ["NIR", "Red", "Green", "Blue"]),
        "two": write_bands(root / "two.tif", ["B02", "B03"], ["B02", "B03"]),
        "two_unnamed": write_bands(root / "two_unnamed.tif", ["B02", "B03"]),
        "four_unnamed": write_bands(root / "four_unnamed.tif", RGBN),
    }


def test_rgbn_geotiff_gets_the_rgbn_model_with_no_options(rasters, tmp_path):
    result = run_cli("explain", str(rasters["rgbn"]), "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("model:"))
    assert line.startswith("model: naturalness_s2_rgbn (the input has B02, B03, B04, B08; naturalness_s2 also needs "
                           "B05, B06, B07, B8A, B11, B12"), line
    assert_map_on_input_grid(tmp_path / "o", rasters["rgbn"])
    model = recorded_model(tmp_path / "o")
    assert model["chosen_automatically"] is True and model["bands"] == RGBN
    assert Path(model["path"]).name == "naturalness_s2_rgbn.safetensors" and "B05" in model["why"]


@pytest.mark.parametrize("name,expected,bands", [("rgb", RGB_MODEL, RGB), ("ten", DEFAULT_MODEL, MODEL_BANDS),
                                                 ("colour_rgb", RGB_MODEL, RGB), ("words", RGBN_MODEL, RGBN)])
def test_explain_picks_the_richest_model_the_input_has_bands_for(rasters, tmp_path, name, expected, bands):
    said = []
    result = explain(rasters[name], tmp_path / "o", device="cpu", report=said.append)
    assert result.model.automatic and result.model.path == expected
    assert said[0] == f"model: {expected.stem} ({result.model.why})"
    assert_map_on_input_grid(tmp_path / "o", rasters[name])
    model = recorded_model(tmp_path / "o")
    assert model["bands"] == bands and model["chosen_automatically"] is True and model["why"] == result.model.why


def test_colour_interpretation_names_red_green_blue_but_not_an_undefined_fourth_band(rasters, tmp_path):
    """GDAL has no near-infrared colour interpretation before 3.10: band 4 stays unnamed until mapped."""
    raster = open_input(rasters["colour_rgb_undefined"])
    assert [b.name for b in raster.bands] == ["B04", "B03", "B02", None]
    assert choose_model(raster).path == RGB_MODEL
    assert choose_model(raster, mapping=parse_band_mapping("B08=4")).path == RGBN_MODEL
    result = run_cli("explain", str(rasters["colour_rgb_undefined"]), "--out", str(tmp_path / "o"), "--quiet",
                     "--bands", "B08=4")
    assert result.returncode == 0, result.stderr
    assert recorded_model(tmp_path / "o")["bands"] == RGBN


def test_a_named_model_is_used_and_recorded_as_named(rasters, tmp_path):
    result = explain(rasters["ten"], tmp_path / "o", device="cpu", model=RGB_MODEL, report=pytest.fail)
    assert not result.model.automatic
    assert recorded_model(tmp_path / "o")["chosen_automatically"] is False


def test_two_band_raster_error_names_what_is_missing_and_the_models_that_would_fit(rasters, tmp_path):
    result = run_cli("explain", str(rasters["two"]), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "cannot find band(s) B04 " in line and "it has only 2 bands (B02, B03)" in line
    for model, bands in [("naturalness_s2_rgb", RGB), ("naturalness_s2_rgbn", RGBN), ("naturalness_s2", MODEL_BANDS)]:
        assert f"{model} needs {', '.join(bands)}" in line
    assert band_numbers_in(line) and max(band_numbers_in(line)) <= 2, line
    assert "python -m train classifier --raster ... --polygons ... --bands B02,B03)" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name,count", [("two_unnamed", 2), ("four_unnamed", 4)])
def test_unnamed_bands_error_suggests_only_band_numbers_the_input_has(rasters, name, count):
    with pytest.raises(NaturalExplainError, match="cannot find band") as caught:
        choose_model(open_input(rasters[name]))
    assert band_numbers_in(str(caught.value)) and max(band_numbers_in(str(caught.value))) <= count
    if count == 4:  # four unnamed bands: the example maps the RGB+NIR model's bands in its order
        assert "--bands B02=1,B03=2,B04=3,B08=4" in str(caught.value)


def test_named_model_with_too_many_bands_says_in_one_sentence_what_to_change(rasters, tmp_path):
    result = run_cli("explain", str(rasters["rgbn"]), "--out", str(tmp_path / "o"), "--model", str(DEFAULT_MODEL))
    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "it has only 4 bands (B02, B03, B04, B08) and the model needs 10" in line
    assert "leave out the model to use the bundled naturalness_s2_rgbn" in line
    assert not band_numbers_in(line) or max(band_numbers_in(line)) <= 4, line


def test_generator_methods_keep_to_the_classifier_their_generators_learned_from(rasters):
    raster = open_input(rasters["rgbn"])
    with pytest.raises(NaturalExplainError, match="for cyclegan: their pattern generators were trained against "
                       "naturalness_s2 .* leave out cyclegan to use naturalness_s2_rgbn"):
        choose_model(raster, methods=["cyclegan", "gradcam"])
    assert choose_model(open_input(rasters["ten"]), methods=["cyclegan"]).path == DEFAULT_MODEL


def test_evaluate_chooses_the_same_way(rasters, tmp_path):
    from core.evaluate import evaluate
    from core.resources import RESOURCES

    said = []
    result = evaluate(rasters["rgbn"], tmp_path / "e", labels=RESOURCES / "labels" / "virginia_s2_water_wetland.geojson",
                      label_field="class", reference_class="open_water", methods=["gradcam"], tiles=1, tile_size=64,
                      randomization=False, device="cpu", report=said.append)
    assert result.model.path == RGBN_MODEL and said == [result.model.line()]
    record = json.loads(result.json_path.read_text())["model"]
    assert record["chosen_automatically"] is True and Path(record["path"]).name == "naturalness_s2_rgbn.safetensors"


def test_far_resolution_is_explained_before_the_run():
    note = resolution_note(0.5, 10.0)
    assert "sees a 10 m version of the image" in note and "python -m train classifier" in note
    assert resolution_note(10.0, 10.0) is None and resolution_note(15.0, 10.0) is None


def test_far_resolution_note_is_reported_before_the_run_and_recorded(tmp_path):
    """A 10 m crop written as if its pixels were 2.5 m (an aerial-like input) is resampled; the run says so first."""
    from rasterio.transform import Affine

    source = write_bands(tmp_path / "rgb.tif", RGB, RGB)
    with rasterio.open(source) as ds:
        profile, data = ds.profile, ds.read()
    t = profile["transform"]
    profile.update(transform=Affine(2.5, 0, t.c, 0, -2.5, t.f))
    with rasterio.open(tmp_path / "fine.tif", "w", **profile) as dst:
        dst.write(data)
        for i, name in enumerate(RGB, start=1):
            dst.set_band_description(i, name)
    said = []
    explain(tmp_path / "fine.tif", tmp_path / "o", device="cpu", report=said.append)
    assert said[0].startswith("model: naturalness_s2_rgb") and "sees a 10 m version" in said[1]
    assert "sees a 10 m version" in json.loads((tmp_path / "o" / "run.json").read_text())["grid"]["resolution_note"]
