"""Nothing the user had is lost: outputs never replace inputs or other layers, runs never mix, kills leave no trace.

Issue 12's F5-F8 and the kill -9 windows, on the real sample: the output folder after a refused,
failed, killed or concurrent run holds either the old run or the new one, whole.
"""
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import ogr, osr
from rasterio.windows import Window

from core.atomic import atomic_path, temporary_name
from core.errors import NaturalExplainError
from core.run_outputs import COMMIT_MARKER, LOCK_NAME, RunOutputs, acquire_lock, release_lock
from tests.helpers.cli import REPO
from tests.helpers.faults import assert_refused, partial_files, run_main, snapshot
from tests.helpers.rasters import write_stack

# 1 km of the sample (EPSG:32618), part natural, part fields: a run takes a second or two.
AOI = "445730,4172960,446730,4173960"
SMALL = Window(0, 0, 100, 100)


def explain_args(source: Path, out: Path, *extra: str) -> list[str]:
    return ["explain", str(source), "--out", str(out), "--aoi", AOI, "--quiet", *extra]


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory, sample_dir) -> Path:
    """A finished run's folder, copied by each test that needs one to protect."""
    out = tmp_path_factory.mktemp("earlier") / "run"
    assert run_main(*explain_args(sample_dir, out, "--methods", "gradcam")).code == 0
    return out


@pytest.fixture
def old_run(tmp_path, earlier_run) -> Path:
    import shutil

    return Path(shutil.copytree(earlier_run, tmp_path / "run"))


# F6: an output that resolves to an input file is refused before anything is written.
@pytest.mark.parametrize("name, methods", [("naturalness", ""), ("attribution_gradcam", "gradcam"),
                                           ("enhanced_max", "cyclegan"), ("enhanced_min", "cyclegan")])
def test_an_output_never_replaces_its_input(tmp_path, unchanged, name, methods):
    source = write_stack(tmp_path / f"{name}.tif", SMALL)
    unchanged(tmp_path)
    line = assert_refused(run_main("explain", source, "--out", tmp_path, "--methods", methods, "--quiet"),
                          "would overwrite the input")
    assert name in line
    unchanged(tmp_path)


def test_an_output_folder_reached_through_a_link_is_still_the_input_folder(tmp_path, unchanged):
    (tmp_path / "data").mkdir()
    source = write_stack(tmp_path / "data" / "naturalness.tif", SMALL)
    (tmp_path / "link").symlink_to(tmp_path / "data")
    unchanged(tmp_path / "data")
    assert_refused(run_main("explain", source, "--out", tmp_path / "link", "--quiet"), "would overwrite the input")
    unchanged(tmp_path / "data")


def test_the_run_record_names_the_input_not_an_output(tmp_path, sample_dir):
    source = write_stack(tmp_path / "scene.tif", SMALL)
    before = source.read_bytes()
    assert run_main("explain", source, "--out", tmp_path, "--quiet").code == 0
    record = json.loads((tmp_path / "run.json").read_text())
    assert source.read_bytes() == before and record["input"]["path"] == str(source.resolve())


# F8: one run at a time per folder; the second says so in one line and leaves the first's files alone.
@pytest.mark.slow
def test_a_locked_folder_is_refused_in_one_line(old_run, sample_dir, unchanged):
    held = acquire_lock(old_run / LOCK_NAME)
    unchanged(old_run)
    try:
        assert_refused(run_main(*explain_args(sample_dir, old_run)), "another run is writing", str(old_run))
        unchanged(old_run)
    finally:
        release_lock(held, old_run / LOCK_NAME)
    assert not (old_run / LOCK_NAME).exists()  # no lock file is left in the user's folder


def test_temporary_names_are_unique_per_write(tmp_path):
    final = tmp_path / "naturalness.tif"
    names = {temporary_name(final) for _ in range(50)}
    assert len(names) == 50 and all(n.suffix == ".tif" and str(os.getpid()) in n.name for n in names)


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("same_input", [True, False])
def test_concurrent_runs_into_one_folder_never_mix(tmp_path, sample_dir, same_input):
    out = tmp_path / "o"
    sources = [sample_dir, sample_dir if same_input else write_stack(tmp_path / "stack.tif")]
    runs = [_start(explain_args(source, out)) for source in sources]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    codes = [code for code, _ in results]
    assert 0 in codes and set(codes) <= {0, 2}, results
    for code, stderr in results:
        if code == 2:
            assert "another run is writing" in stderr and "Traceback" not in stderr, stderr
    record = json.loads((out / "run.json").read_text())
    with rasterio.open(out / "naturalness.tif") as ds:  # the record describes exactly the file beside it
        assert (ds.width, ds.height) == (record["grid"]["width"], record["grid"]["height"])
        assert np.isfinite(ds.read(1, masked=True)).all()
    assert not partial_files(out)


# F7: a run that fails or is canceled leaves the earlier run whole.
def test_a_failing_run_leaves_the_earlier_run_whole(old_run, sample_dir, unchanged, monkeypatch):
    from core.explain import captum_methods

    def broken(*_args, **_kwargs):
        raise NaturalExplainError("the method failed half-way")

    unchanged(old_run)
    monkeypatch.setattr(captum_methods.GradCAMExplainer, "maps", broken, raising=True)
    assert_refused(run_main(*explain_args(sample_dir, old_run, "--methods", "gradcam")), "half-way")
    unchanged(old_run)


def test_a_new_run_never_sits_beside_an_old_record(old_run, sample_dir):
    assert run_main(*explain_args(sample_dir, old_run)).code == 0
    record = json.loads((old_run / "run.json").read_text())
    assert list(record["outputs"]) == ["naturalness"] and record["parameters"]["methods"] == []
    assert not partial_files(old_run)


# kill -9 windows: while the maps are written, and between the moves and run.json.
def _visible(folder: Path) -> dict[str, bytes]:
    return {name: data for name, data in snapshot(folder).items() if not name.startswith(".")}


@pytest.mark.slow
def test_kill_during_the_write_leaves_the_earlier_run_and_the_next_run_cleans_up(old_run, sample_dir):
    before = _visible(old_run)
    run = _start(["explain", str(sample_dir), "--out", str(old_run), "--methods", "gradcam", "--quiet"])
    deadline = 240
    while deadline and not list(old_run.glob(".run-*/*.partial.tif")):
        deadline -= 1
        try:
            run.wait(timeout=0.25)
            break
        except subprocess.TimeoutExpired:
            pass
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert list(old_run.glob(".run-*/*.partial.tif")), "the kill came too late to test the window"
    assert _visible(old_run) == before
    assert json.loads((old_run / "run.json").read_text())["parameters"]["methods"] == ["gradcam"]
    assert run_main(*explain_args(sample_dir, old_run)).code == 0
    assert not partial_files(old_run)


COMMIT_KILLED = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from core import run_outputs
    out = Path(sys.argv[1])
    with run_outputs.RunOutputs(out, ["naturalness.tif", "attribution_gradcam.tif"], []) as outputs:
        for name in ("naturalness.tif", "attribution_gradcam.tif", "run.json"):
            outputs.staged(name).write_text("killed run " + name)
        moves = []
        real_replace = os.replace
        def replace_then_die(src, dst):
            real_replace(src, dst)
            moves.append(dst)
            if len(moves) == 1:
                os.kill(os.getpid(), signal.SIGKILL)
        run_outputs.os.replace = replace_then_die
        outputs.commit()
""")


def test_kill_between_the_moves_and_the_record_is_finished_by_the_next_run(old_run):
    killed = subprocess.run([sys.executable, "-c", COMMIT_KILLED, str(old_run)], cwd=REPO, capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert not (old_run / "run.json").exists()  # no record describes the half-moved set
    staging = next(old_run.glob(".run-*"))
    assert (staging / COMMIT_MARKER).exists()
    with RunOutputs(old_run, ["naturalness.tif"], []):
        pass
    for name in ("naturalness.tif", "attribution_gradcam.tif", "run.json"):
        assert (old_run / name).read_text() == f"killed run {name}"
    assert not partial_files(old_run)


def test_stale_partials_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".naturalness.{dead.pid}-0badc0de.partial.tif"
    live = tmp_path / f".naturalness.{os.getpid()}-0badc0de.partial.tif"
    for path in (stale, live):
        path.write_bytes(b"half")
    with atomic_path(tmp_path / "other.json") as tmp:
        tmp.write_text("{}")
    assert not stale.exists() and live.exists()


# F5: vectorize adds or replaces only its own layer, and only when told to.
def _gpkg_with_roads(path: Path) -> None:
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32618)
    layer = source.CreateLayer("roads", srs, ogr.wkbLineString)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("LINESTRING (443000 4173000, 444000 4174000)"))
    layer.CreateFeature(feature)
    source = None


def _layers(path: Path) -> dict[str, int]:
    source = ogr.Open(str(path))
    return {source.GetLayer(i).GetName(): source.GetLayer(i).GetFeatureCount() for i in range(source.GetLayerCount())}


def test_vectorize_keeps_the_geopackage_s_other_layers(tmp_path, earlier_run):
    gpkg = tmp_path / "project.gpkg"
    _gpkg_with_roads(gpkg)
    assert run_main("vectorize", earlier_run / "naturalness.tif", "--threshold", "0.5", "--out", gpkg).code == 0
    layers = _layers(gpkg)
    assert layers["roads"] == 1 and layers["naturalness"] > 0


@pytest.mark.parametrize("extra, layer", [([], "naturalness"), (["--layer", "woods"], "woods")])
def test_vectorize_refuses_a_same_named_layer_without_overwrite(tmp_path, earlier_run, unchanged, extra, layer):
    gpkg = tmp_path / "project.gpkg"
    _gpkg_with_roads(gpkg)
    args = ["vectorize", earlier_run / "naturalness.tif", "--out", gpkg, *extra]
    assert run_main(*args, "--threshold", "0.5").code == 0
    unchanged(tmp_path)
    assert_refused(run_main(*args, "--threshold", "0.9"), "already has a layer", layer, "--overwrite")
    unchanged(tmp_path)
    assert run_main(*args, "--threshold", "0.9", "--overwrite").code == 0
    assert _layers(gpkg)["roads"] == 1
    source = ogr.Open(str(gpkg))  # OGR needs the source alive while its layer is read
    thresholds = {feature.GetField("above") for feature in source.GetLayerByName(layer)}
    assert thresholds == {0.9}


def test_vectorize_refuses_an_existing_shapefile_without_overwrite(tmp_path, earlier_run, unchanged):
    shp = tmp_path / "natural.shp"
    args = ["vectorize", earlier_run / "naturalness.tif", "--out", shp, "--threshold", "0.5"]
    assert run_main(*args).code == 0
    unchanged(tmp_path)
    assert_refused(run_main(*args), "exists", "--overwrite")
    unchanged(tmp_path)
    assert run_main(*args, "--overwrite").code == 0


@pytest.mark.parametrize("content", [b"", b"not a geopackage", b"SQLite format 3\0" + b"\0" * 100])
def test_vectorize_refuses_a_target_that_is_no_geopackage(tmp_path, earlier_run, unchanged, content):
    target = tmp_path / "notes.gpkg"
    target.write_bytes(content)
    unchanged(tmp_path)
    assert_refused(run_main("vectorize", earlier_run / "naturalness.tif", "--threshold", "0.5", "--out", target,
                            "--overwrite"), "notes.gpkg")
    unchanged(tmp_path)


@pytest.mark.parametrize("threshold", ["nan", "inf", "-inf"])
def test_vectorize_refuses_a_threshold_that_is_no_number(tmp_path, earlier_run, threshold):
    assert_refused(run_main("vectorize", earlier_run / "naturalness.tif", "--threshold", threshold,
                            "--out", tmp_path / "n.gpkg"), "threshold")
    assert not list(tmp_path.iterdir())


def test_vectorize_refuses_an_empty_layer_name(tmp_path, earlier_run):
    assert_refused(run_main("vectorize", earlier_run / "naturalness.tif", "--threshold", "0.5",
                            "--out", tmp_path / "n.gpkg", "--layer", " "), "layer")


def test_vectorize_refuses_a_raster_too_big_for_memory_with_the_numbers(tmp_path, earlier_run, monkeypatch):
    from core.raster import vectorize

    monkeypatch.setattr(vectorize, "available_memory", lambda: 1024)
    assert_refused(run_main("vectorize", earlier_run / "naturalness.tif", "--threshold", "0.5",
                            "--out", tmp_path / "n.gpkg"), "GiB", "--aoi")
    assert not list(tmp_path.iterdir())


# A full disk: a small tmpfs, mounted only when running as root.
@pytest.fixture
def full_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)]).returncode:
        pytest.skip("this machine cannot mount a tmpfs")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def _fill(folder: Path, leave: int) -> None:
    stat = os.statvfs(folder)
    (folder / "ballast").write_bytes(b"\0" * max(stat.f_bavail * stat.f_frsize - leave, 0))


def test_explain_on_a_full_disk_says_so_and_keeps_the_earlier_run(full_disk, earlier_run, sample_dir, unchanged):
    import shutil

    out = full_disk / "run"
    shutil.copytree(earlier_run, out)
    _fill(full_disk, 16 * 1024)
    unchanged(out)
    assert_refused(run_main(*explain_args(sample_dir, out, "--methods", "gradcam")), "free some space")
    unchanged(out)


def test_vectorize_on_a_full_disk_says_so_and_keeps_the_geopackage(full_disk, earlier_run, unchanged):
    gpkg = full_disk / "project.gpkg"
    _gpkg_with_roads(gpkg)
    _fill(full_disk, 4 * 1024)
    unchanged(full_disk)
    assert_refused(run_main("vectorize", earlier_run / "naturalness.tif", "--threshold", "0.2", "--out", gpkg),
                   "free some space")
    unchanged(full_disk)


@pytest.mark.parametrize("target", ["input", "mask"])
def test_inpaint_never_writes_over_its_input_or_its_mask(tmp_path, unchanged, target):
    source = write_stack(tmp_path / "scene.tif", SMALL)
    with rasterio.open(source) as ds:
        profile = dict(ds.profile, count=1, dtype="uint8", nodata=None)
    with rasterio.open(tmp_path / "mask.tif", "w", **profile) as dst:
        dst.write(np.zeros((1, SMALL.height, SMALL.width), dtype="uint8"))
    out = source if target == "input" else tmp_path / "mask.tif"
    unchanged(tmp_path)
    assert_refused(run_main("inpaint", source, "--mask", tmp_path / "mask.tif", "--out", out, "--quiet"),
                   "would overwrite the input")
    unchanged(tmp_path)
