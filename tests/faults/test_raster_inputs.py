"""Damaged rasters, ±inf pixels and undecodable metadata: one line naming the file, or a correct run.

Issue 12, F1 (a truncated or fuzzed GeoTIFF whose header still opens gave a RasterioIOError
traceback in every command that reads rasters), F9 (±inf pixels were scored as data: +inf
scored 0.99998) and F10 (a byte that is not UTF-8 in the GDAL metadata printed rasterio's
"Exception ignored ... UnicodeDecodeError" before the right error).

Every raster here is cut from the real bundled Sentinel-2 sample (a 64 x 64 px stack, or the
band folder itself), so each case runs in about a second.
"""
import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from core.raster.bands import match_bands
from core.raster.grid import model_grid
from core.raster.read import BandReader, read_band_masked, read_checked
from core.raster.sources import open_input
from tests.helpers.cli import REPO
from tests.helpers.faults import Outcome, assert_refused, partial_files, run_main
from tests.helpers.rasters import MODEL_BANDS, write_stack

LABELS = REPO / "resources" / "labels"
WETLAND = LABELS / "virginia_s2_water_wetland.geojson"
TRAIN_LABELS = LABELS / "virginia_s2_train.geojson"
BY_NUMBER = ",".join(f"{name}={i}" for i, name in enumerate(MODEL_BANDS, start=1))
WINDOW = Window(300, 300, 64, 64)  # the stacks' 64 x 64 px of the sample (some wetland, some fields)
BIG_WINDOW = Window(300, 300, 160, 160)  # enough 32 px patches for ood's histogram
FOLDER_AOI = "446400,4170640,446720,4170960"  # 32 x 32 px of the band folder
OOD_AOI = "446080,4170320,447360,4171600"


# ---------------------------------------------------------------------------------------------------------------
# Building damaged rasters


def data_start(path: Path) -> int:
    """Byte offset of the first block: everything before it is header (IFD, offsets, GDAL metadata)."""
    with rasterio.open(path) as ds:
        return int(ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1))  # GDAL writes the first block first


def truncated(src: Path, dst: Path, keep: float) -> Path:
    """`src` cut `keep` of the way through its pixel data: the header still opens, the data does not."""
    data = src.read_bytes()
    start = data_start(src)
    dst.write_bytes(data[:start + int(keep * (len(data) - start))])
    return dst


def fuzzed(src: Path, dst: Path, seed: int, region: str, count: int) -> Path:
    """`src` with `count` bytes of its header or its pixel data overwritten by numpy default_rng(seed)."""
    data = bytearray(src.read_bytes())
    start = data_start(src)
    lo, hi = (0, start) if region == "header" else (start, len(data))
    rng = np.random.default_rng(seed)
    for pos in rng.integers(lo, hi, count):
        data[pos] = int(rng.integers(0, 256))
    dst.write_bytes(bytes(data))
    return dst


def patched(src: Path, dst: Path, find: bytes, offset: int) -> Path:
    """`src` with the byte `offset` into the first `find` replaced by 0xff (not UTF-8)."""
    data = bytearray(src.read_bytes())
    at = data.find(find)
    assert at >= 0, find
    data[at + offset] = 0xFF
    dst.write_bytes(bytes(data))
    return dst


def with_values(src: Path, dst: Path, pixels: dict[tuple[int, int], float], bands=None) -> Path:
    """A float32 copy of the stack `src` (no nodata value) with `pixels` (row, col) set in `bands` (all when None)."""
    with rasterio.open(src) as ds:
        profile, data, names = ds.profile, ds.read().astype("float32"), ds.descriptions
    profile.update(dtype="float32", nodata=None, predictor=1)
    for (row, col), value in pixels.items():
        data[bands if bands is not None else slice(None), row, col] = value
    with rasterio.open(dst, "w", **profile) as out:
        out.write(data)
        for i, name in enumerate(names, start=1):
            out.set_band_description(i, name)
    return dst


@pytest.fixture(scope="module")
def rasters(tmp_path_factory) -> dict[str, Path]:
    """The good inputs cases damage: stacks (deflate and uncompressed), a mask raster and an explain run."""
    root = tmp_path_factory.mktemp("rasters")
    stack = write_stack(root / "stack.tif", WINDOW)
    plain = root / "plain.tif"
    with rasterio.open(stack) as ds:
        profile, data, names = ds.profile, ds.read(), ds.descriptions
    profile.pop("compress")
    with rasterio.open(plain, "w", **profile) as out:
        out.write(data)
        for i, name in enumerate(names, start=1):
            out.set_band_description(i, name)
    mask = root / "mask.tif"
    with rasterio.open(stack) as ds:
        mask_profile = dict(ds.profile, count=1, dtype="uint8", nodata=None)
    fill = np.zeros((WINDOW.height, WINDOW.width), dtype="uint8")
    fill[20:28, 20:28] = 1
    with rasterio.open(mask, "w", **mask_profile) as out:
        out.write(fill, 1)
    run = root / "run"
    outcome = run_main("explain", stack, "--out", run, "--quiet")
    assert outcome.code == 0, outcome.stderr
    return {"stack": stack, "plain": plain, "mask": mask, "run": run, "big": write_stack(root / "big.tif", BIG_WINDOW),
            "labels": _half_and_half_labels(stack, root / "labels.gpkg")}


def _half_and_half_labels(raster: Path, path: Path) -> Path:
    """Polygons of both classes over `raster` (west half anthropogenic, east half natural), so training
    gets past the label checks to the pixels the damaged cases break."""
    from osgeo import ogr, osr

    with rasterio.open(raster) as ds:
        left, bottom, right, top = ds.bounds
        wkt = ds.crs.to_wkt()
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    layer = source.CreateLayer("labels", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("label", ogr.OFTString))
    middle = (left + right) / 2
    for label, (x0, x1) in (("anthropogenic", (left, middle)), ("natural", (middle, right))):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("label", label)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(
            f"POLYGON (({x0} {bottom}, {x1} {bottom}, {x1} {top}, {x0} {top}, {x0} {bottom}))"))
        layer.CreateFeature(feature)
    source = None
    return path


# ---------------------------------------------------------------------------------------------------------------
# Running commands and checking what they left


@contextlib.contextmanager
def unraisable_recorded():
    """Record what reaches sys.unraisablehook (pytest's own hook would turn it into a warning, unseen)."""
    seen, previous = [], sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        yield seen
    finally:
        sys.unraisablehook = previous


def run(*args, module: str = "core") -> Outcome:
    """run_main, failing when rasterio printed "Exception ignored" (F10) through the unraisable hook."""
    with unraisable_recorded() as seen:
        outcome = run_main(*args, module=module)
    assert not seen, [(u.exc_type, u.object) for u in seen]
    assert "Traceback" not in outcome.stderr and "Exception ignored" not in outcome.stderr, outcome.stderr
    return outcome


def assert_no_output(out: Path) -> None:
    """A refused run leaves no file in its output folder, not even a partial one."""
    assert not partial_files(out)
    left = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert not left, left


def command_args(command: str, raster: Path, t: Path, rasters: dict[str, Path]) -> tuple[list, str, Path]:
    """(arguments, module, output folder) of `command` reading `raster` (a stack, or a band folder)."""
    out = t / "out"
    folder = raster.is_dir()
    aoi = ["--aoi", FOLDER_AOI] if folder else []
    if command in ("inpaint", "inpaint-mask", "sample", "classifier", "quicklook"):
        out.mkdir(parents=True, exist_ok=True)
    if command == "explain":
        return ["explain", raster, "--out", out, "--quiet", *aoi], "core", out
    if command == "ood":
        return ["ood", raster, "--out", out, "--quiet", *(["--aoi", OOD_AOI] if folder else [])], "core", out
    if command == "inpaint":
        return (["inpaint", raster, "--mask", WETLAND, "--out", out / "filled.tif", "--steps", "1", "--quiet"],
                "core", out)
    if command == "inpaint-mask":  # the damaged raster is the mask; the input is the good stack
        return (["inpaint", rasters["stack"], "--mask", raster, "--out", out / "filled.tif", "--steps", "1",
                 "--quiet"], "core", out)
    if command == "evaluate":
        return (["evaluate", raster, "--labels", WETLAND, "--label-field", "class", "--reference-class", "wetland",
                 "--out", out, "--tiles", "1", "--tile-size", "32", "--methods", "gradcam", "--no-randomization",
                 "--device", "cpu", "--quiet", *aoi], "core", out)
    if command == "quicklook":
        return ["quicklook", raster, rasters["run"], "--out", out / "quicklook.png"], "core", out
    if command == "sample":
        return (["sample", "--class", "natural", "--n", "2", "--steps", "1", "--reference", raster, "--out",
                 out / "samples.png", "--device", "cpu", "--quiet"], "core", out)
    if command == "classifier":
        return (["classifier", "--raster", raster, "--polygons", TRAIN_LABELS if folder else rasters["labels"],
                 "--label-field", "label", "--bands",
                 "B02,B03,B04,B08", "--patch-size", "16", "--epochs", "1", "--out", out / "model"], "train", out)
    raise AssertionError(command)


def assert_read_refused(outcome: Outcome, damaged: Path, out: Path) -> str:
    """F1: one line naming the damaged file and the window, and no output."""
    line = assert_refused(outcome, str(damaged), "damaged or truncated", "at window rows", "cols")
    assert_no_output(out)
    return line


def assert_refused_or_ran(outcome: Outcome, damaged: Path, out: Path, written: str = "naturalness.tif") -> None:
    """A fuzzed file is refused in one line naming it (and leaves nothing), or it is a raster and runs."""
    if outcome.code == 0:
        assert (out / written).is_file()
    else:
        assert_refused(outcome, str(damaged))
        assert_no_output(out)


# ---------------------------------------------------------------------------------------------------------------
# F1: truncated files whose header still opens


@pytest.mark.parametrize("keep", [0.0, 0.02, 0.3, 0.7, 0.97])
def test_explain_refuses_a_truncated_stack(keep: float, rasters, tmp_path: Path) -> None:
    damaged = truncated(rasters["stack"], tmp_path / "damaged.tif", keep)
    args, module, out = command_args("explain", damaged, tmp_path, rasters)
    assert_read_refused(run(*args, module=module), damaged, out)


@pytest.mark.parametrize("command", ["ood", "inpaint", "inpaint-mask", "evaluate", "quicklook", "sample",
                                     "classifier"])
@pytest.mark.parametrize("keep", [0.1, 0.6])
def test_every_command_refuses_a_truncated_stack(command: str, keep: float, rasters, tmp_path: Path) -> None:
    source = rasters["mask"] if command == "inpaint-mask" else rasters["stack"]
    damaged = truncated(source, tmp_path / "damaged.tif", keep)
    args, module, out = command_args(command, damaged, tmp_path, rasters)
    assert_read_refused(run(*args, module=module), damaged, out)


@pytest.mark.parametrize("command", ["explain", "ood", "inpaint", "evaluate", "quicklook", "sample", "classifier"])
def test_every_command_refuses_a_band_folder_with_a_truncated_band(command: str, sample_copy: Path, rasters,
                                                                    tmp_path: Path) -> None:
    """The Sentinel-2 layout: one band file of the folder cut short (20 m B11 for some, 10 m B04 for others)."""
    name = "B11.tif" if command in ("explain", "ood") else "B04.tif"
    damaged = sample_copy / name
    truncated(damaged, damaged, 0.05)
    args, module, out = command_args(command, sample_copy, tmp_path, rasters)
    assert_read_refused(run(*args, module=module), damaged, out)


def test_the_refusal_names_the_band_and_gdals_reason(rasters, tmp_path: Path) -> None:
    damaged = truncated(rasters["stack"], tmp_path / "damaged.tif", 0.3)
    line = assert_read_refused(run("explain", damaged, "--out", tmp_path / "out", "--quiet"), damaged,
                               tmp_path / "out")
    assert line == (f"error: cannot read {damaged} at window rows 0-63, cols 0-63: the file is damaged or truncated "
                    "(band 1: TIFFReadEncodedStrip() failed)")


def test_read_checked_turns_a_damaged_block_into_one_line(rasters, tmp_path: Path) -> None:
    from core.errors import NaturalExplainError

    damaged = truncated(rasters["stack"], tmp_path / "damaged.tif", 0.5)
    with rasterio.open(damaged) as ds:
        assert read_checked(ds, 1, Window(0, 0, 64, 2)).shape == (2, 64)  # the first blocks are whole
        with pytest.raises(NaturalExplainError, match=r"cannot read .*damaged.tif at window rows 40-63, cols 8-15"):
            read_checked(ds, 3, Window(8, 40, 8, 24))
        with pytest.raises(NaturalExplainError, match="rows 0-63, cols 0-63"):
            read_band_masked(ds, 1)


# ---------------------------------------------------------------------------------------------------------------
# F1: fuzzed bytes (fixed seeds) in the pixel data and in the header


@pytest.mark.parametrize("seed", range(6))
def test_fuzzed_compressed_pixels_are_refused_or_run(seed: int, rasters, tmp_path: Path) -> None:
    damaged = fuzzed(rasters["stack"], tmp_path / "damaged.tif", seed, "data", 8)
    args, module, out = command_args("explain", damaged, tmp_path, rasters)
    assert_refused_or_ran(run(*args, module=module), damaged, out)


@pytest.mark.parametrize("seed", range(4))
def test_fuzzed_uncompressed_pixels_are_only_odd_values(seed: int, rasters, tmp_path: Path) -> None:
    """Without compression a changed byte is a changed value, not a damaged block: the run completes."""
    damaged = fuzzed(rasters["plain"], tmp_path / "damaged.tif", seed, "data", 64)
    args, module, out = command_args("explain", damaged, tmp_path, rasters)
    outcome = run(*args, module=module)
    assert outcome.code == 0, outcome.stderr
    assert (out / "naturalness.tif").is_file()


@pytest.mark.parametrize("seed", range(12))
def test_fuzzed_headers_are_refused_or_run(seed: int, rasters, tmp_path: Path) -> None:
    """Bytes of the IFD, the block offsets and the GDAL metadata; --bands, so a lost band name does not stop it early."""
    damaged = fuzzed(rasters["stack"], tmp_path / "damaged.tif", seed, "header", 4)
    args, module, out = command_args("explain", damaged, tmp_path, rasters)
    assert_refused_or_ran(run(*args, "--bands", BY_NUMBER, module=module), damaged, out)


@pytest.mark.parametrize("command", ["ood", "inpaint", "quicklook", "classifier"])
def test_fuzzed_pixels_in_other_commands_are_refused_or_run(command: str, rasters, tmp_path: Path) -> None:
    damaged = fuzzed(rasters["stack"], tmp_path / "damaged.tif", 1, "data", 8)
    args, module, out = command_args(command, damaged, tmp_path, rasters)
    outcome = run(*args, module=module)
    assert outcome.code != 0 or command == "ood" or any(out.iterdir())
    if outcome.code != 0:
        assert_refused(outcome, str(damaged))
        assert_no_output(out)


# ---------------------------------------------------------------------------------------------------------------
# F9: ±inf (and NaN) pixels are nodata


INF_PIXELS = {(10, 10): None, (40, 50): None}


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan], ids=["+inf", "-inf", "nan"])
def test_explain_maps_non_finite_pixels_as_nodata(value: float, rasters, tmp_path: Path) -> None:
    source = with_values(rasters["stack"], tmp_path / "values.tif", dict.fromkeys(INF_PIXELS, value))
    outcome = run("explain", source, "--out", tmp_path / "out", "--quiet")
    assert outcome.code == 0, outcome.stderr
    with rasterio.open(tmp_path / "out" / "naturalness.tif") as ds:
        scores = ds.read(1)
        for row, col in INF_PIXELS:
            assert scores[row, col] == ds.nodata, (row, col, scores[row, col])
        assert (scores != ds.nodata).sum() == scores.size - len(INF_PIXELS)
    # Needs the lead's wiring of BandReader.nonfinite_pixels into explain's warnings (core/pipeline.py):
    if np.isinf(value):
        assert "2 pixels were ±inf and were treated as nodata" in outcome.stderr, outcome.stderr
    else:
        assert "±inf" not in outcome.stderr


def test_inf_in_one_band_only_is_nodata_too(rasters, tmp_path: Path) -> None:
    source = with_values(rasters["stack"], tmp_path / "values.tif", {(5, 60): np.inf}, bands=7)
    outcome = run("explain", source, "--out", tmp_path / "out", "--quiet")
    assert outcome.code == 0, outcome.stderr
    with rasterio.open(tmp_path / "out" / "naturalness.tif") as ds:
        assert ds.read(1)[5, 60] == ds.nodata


def test_a_raster_of_only_inf_gives_an_empty_map(rasters, tmp_path: Path) -> None:
    source = with_values(rasters["stack"], tmp_path / "values.tif",
                         {(r, c): np.inf for r in range(WINDOW.height) for c in range(WINDOW.width)})
    outcome = run("explain", source, "--out", tmp_path / "out", "--quiet")
    assert outcome.code == 0, outcome.stderr
    with rasterio.open(tmp_path / "out" / "naturalness.tif") as ds:
        assert (ds.read(1) == ds.nodata).all()


def test_ood_warns_about_inf_pixels(rasters, tmp_path: Path) -> None:
    source = with_values(rasters["big"], tmp_path / "values.tif", {(3, 3): np.inf, (100, 7): -np.inf})
    outcome = run("ood", source, "--out", tmp_path / "out", "--quiet")
    assert outcome.code == 0, outcome.stderr
    assert "2 pixels were ±inf and were treated as nodata" in outcome.stderr


@pytest.mark.slow
def test_inpaint_fills_inf_pixels_and_says_so(rasters, tmp_path: Path) -> None:
    source = with_values(rasters["stack"], tmp_path / "values.tif", {(10, 10): np.inf, (40, 50): -np.inf})
    (tmp_path / "out").mkdir()
    outcome = run("inpaint", source, "--mask", WETLAND, "--out", tmp_path / "out" / "filled.tif", "--steps", "1",
                  "--quiet")
    assert outcome.code == 0, outcome.stderr
    assert "2 pixels were ±inf and were treated as nodata" in outcome.stderr
    with rasterio.open(tmp_path / "out" / "filled.tif") as ds:
        filled = ds.read()
    assert np.isfinite(filled).all()


@pytest.mark.parametrize("command", ["quicklook", pytest.param("evaluate", marks=pytest.mark.slow)])
def test_other_commands_read_inf_pixels_as_nodata(command: str, rasters, tmp_path: Path) -> None:
    source = with_values(rasters["stack"], tmp_path / "values.tif", {(10, 10): np.inf, (40, 50): -np.inf})
    args, module, out = command_args(command, source, tmp_path, rasters)
    outcome = run(*args, module=module)
    assert outcome.code == 0, outcome.stderr


def test_band_reader_counts_each_inf_pixel_once(rasters, tmp_path: Path) -> None:
    """Overlapping tiles and every band read the same pixel again: it counts once."""
    source = with_values(rasters["stack"], tmp_path / "values.tif", {(10, 10): np.inf, (40, 50): -np.inf,
                                                                     (60, 60): np.nan})
    raster = open_input(source)
    with BandReader(match_bands(raster, MODEL_BANDS)) as reader:
        raw, valid = reader.read(raster.grid)
        assert reader.nonfinite_pixels == 2
        assert not valid[10, 10] and not valid[40, 50] and not valid[60, 60] and valid.sum() == valid.size - 3
        assert np.isfinite(raw[:, valid]).all()
        reader.read(raster.grid.window(Window(0, 0, 32, 32)))
        reader.read(model_grid(raster.grid, 20.0))  # GDAL's resampling read
        assert reader.nonfinite_pixels == 2


def test_band_reader_resampled_inf_is_nodata(rasters, tmp_path: Path) -> None:
    source = with_values(rasters["stack"], tmp_path / "values.tif", {(10, 10): np.inf})
    raster = open_input(source)
    with BandReader(match_bands(raster, MODEL_BANDS)) as reader:
        raw, valid = reader.read(model_grid(raster.grid, 20.0))
        assert reader.nonfinite_pixels == 1
    assert not valid[5, 5] and np.isfinite(raw[:, valid]).all()


def test_integer_rasters_count_no_inf(rasters) -> None:
    raster = open_input(rasters["stack"])
    with BandReader(match_bands(raster, MODEL_BANDS)) as reader:
        _, valid = reader.read(raster.grid)
        assert reader.nonfinite_pixels == 0 and valid.all()


# ---------------------------------------------------------------------------------------------------------------
# F10: bytes that are not UTF-8 in the GDAL metadata


@pytest.fixture
def broken_xml(rasters, tmp_path: Path) -> Path:
    """The GDAL_METADATA tag (42112) with 0xff inside its XML ('<It\xffm'): GDAL warns with that byte in its message."""
    return patched(rasters["stack"], tmp_path / "broken_xml.tif", b"<Item", 3)


@pytest.fixture
def broken_description(rasters, tmp_path: Path) -> Path:
    """Band 1's description 'B02' with 0xff for its '0': valid XML, a name that is not UTF-8."""
    return patched(rasters["stack"], tmp_path / "broken_description.tif", b">B02<", 2)


def test_broken_metadata_xml_gives_only_the_right_error(broken_xml: Path, tmp_path: Path) -> None:
    line = assert_refused(run("explain", broken_xml, "--out", tmp_path / "out", "--quiet"), str(broken_xml),
                          "cannot find band")
    assert "--bands" in line
    assert_no_output(tmp_path / "out")


def test_broken_metadata_xml_runs_with_band_numbers(broken_xml: Path, tmp_path: Path) -> None:
    outcome = run("explain", broken_xml, "--out", tmp_path / "out", "--quiet", "--bands", BY_NUMBER)
    assert outcome.code == 0, outcome.stderr
    assert (tmp_path / "out" / "naturalness.tif").is_file()


def test_undecodable_band_description_is_shown_not_raised(broken_description: Path, tmp_path: Path) -> None:
    line = assert_refused(run("explain", broken_description, "--out", tmp_path / "out", "--quiet"),
                          str(broken_description), "cannot find band(s) B02 ", "B\\xff2", "B03")
    assert "B05" not in line.split("cannot find band(s)")[1].split(" in ")[0]
    outcome = run("explain", broken_description, "--out", tmp_path / "out", "--quiet", "--bands", BY_NUMBER)
    assert outcome.code == 0, outcome.stderr


@pytest.mark.parametrize("command", ["ood", "inpaint", "evaluate", "quicklook", "sample", "classifier"])
def test_broken_metadata_xml_in_other_commands(command: str, broken_xml: Path, rasters, tmp_path: Path) -> None:
    """Every command opens the file through core.raster.sources: the same right error, no rasterio noise."""
    args, module, out = command_args(command, broken_xml, tmp_path, rasters)
    outcome = run(*args, module=module)
    assert_refused(outcome, str(broken_xml), "cannot find band")
    assert_no_output(out)


@pytest.mark.slow
def test_broken_metadata_xml_prints_no_exception_ignored_in_a_real_process(broken_xml: Path, tmp_path: Path) -> None:
    """Outside pytest's hooks, as a user runs it."""
    done = subprocess.run([sys.executable, "-m", "core", "explain", str(broken_xml), "--out", str(tmp_path / "out"),
                           "--quiet"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().startswith("error:") and len(done.stderr.strip().splitlines()) == 1, done.stderr


# ---------------------------------------------------------------------------------------------------------------
# vectorize (needs the lead's wiring in core/raster/vectorize.py: open through core.raster.sources.open_raster
# and read through core.raster.read.read_band_masked)


def test_vectorize_refuses_a_truncated_map(rasters, tmp_path: Path) -> None:
    source = rasters["run"] / "naturalness.tif"
    damaged = tmp_path / "naturalness.tif"
    data = source.read_bytes()
    damaged.write_bytes(data[:data_start(source) + 40])
    out = tmp_path / "out"
    out.mkdir()
    outcome = run("vectorize", damaged, "--threshold", "0.5", "--out", out / "regions.gpkg")
    assert_read_refused(outcome, damaged, out)


def test_vectorize_leaves_inf_scores_out(rasters, tmp_path: Path) -> None:
    source = tmp_path / "naturalness.tif"
    shutil.copy(rasters["run"] / "naturalness.tif", source)
    with rasterio.open(source, "r+") as ds:
        scores = ds.read(1)
        scores[:] = 0.0
        scores[5, 5] = np.inf
        ds.write(scores, 1)
    outcome = run("vectorize", source, "--threshold", "0.5", "--out", tmp_path / "regions.gpkg")
    assert outcome.code == 0, outcome.stderr
    assert "0 polygon" in outcome.stdout or "no pixel" in (outcome.stdout + outcome.stderr)


def test_vectorize_broken_metadata_xml(rasters, tmp_path: Path) -> None:
    source = patched(rasters["run"] / "naturalness.tif", tmp_path / "naturalness.tif", b"<Item", 3)
    outcome = run("vectorize", source, "--threshold", "0.5", "--out", tmp_path / "regions.gpkg")
    assert outcome.code == 0, outcome.stderr
