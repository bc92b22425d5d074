"""Bad input gets one clear line on stderr, exit status 2, no traceback, and no output files."""
import json
import os
import shutil

import pytest
import rasterio

from tests.helpers.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.slow  # each case starts python -m core


def test_missing_input(tmp_path):
    assert_one_line_error(run_cli("explain", str(tmp_path / "nope.tif"), "--out", str(tmp_path / "o")), "does not exist")


def test_non_raster_input(tmp_path):
    fake = tmp_path / "notes.tif"
    fake.write_text("not a raster")
    assert_one_line_error(run_cli("explain", str(fake), "--out", str(tmp_path / "o")), "not a raster")


def test_raster_without_crs(tmp_path, sample_dir):
    with rasterio.open(sample_dir / "B02.tif") as src:
        data, profile = src.read(), src.profile
    profile.pop("crs")
    with rasterio.open(tmp_path / "nocrs.tif", "w", **profile) as dst:
        dst.write(data)
    assert_one_line_error(run_cli("explain", str(tmp_path / "nocrs.tif"), "--out", str(tmp_path / "o")), "no CRS")


def test_too_few_bands(tmp_path, sample_dir):
    result = run_cli("explain", str(sample_dir / "B02.tif"), "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "only 1 band", "--bands B02=1")
    assert not (tmp_path / "o").exists()


def test_aoi_outside_the_raster(tmp_path, sample_dir):
    result = run_cli("explain", str(sample_dir), "--out", str(tmp_path / "o"), "--aoi", "0,0,10,10,4326")
    assert_one_line_error(result, "outside the raster")
    assert not (tmp_path / "o").exists()


def test_malformed_aoi(tmp_path, sample_dir):
    assert_one_line_error(run_cli("explain", str(sample_dir), "--out", str(tmp_path / "o"), "--aoi", "1,2,3"), "--aoi")


def test_corrupt_model(tmp_path, sample_dir, default_model):
    for suffix in (".json", ".safetensors"):
        shutil.copy(default_model.with_suffix(suffix), tmp_path / f"m{suffix}")
    (tmp_path / "m.safetensors").write_bytes(b"\0" * 100)
    result = run_cli("explain", str(sample_dir), "--out", str(tmp_path / "o"), "--model", str(tmp_path / "m.json"))
    assert_one_line_error(result, "corrupt")


def test_model_whose_sidecar_does_not_match(tmp_path, sample_dir, default_model):
    shutil.copy(default_model.with_suffix(".safetensors"), tmp_path / "m.safetensors")
    sidecar = json.loads(default_model.read_text())
    sidecar["arch_args"]["width"] *= 2
    (tmp_path / "m.json").write_text(json.dumps(sidecar))
    result = run_cli("explain", str(sample_dir), "--out", str(tmp_path / "o"), "--model", str(tmp_path / "m.json"))
    assert_one_line_error(result, "do not fit")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere; covered by the read-only file-system case")
def test_unwritable_output_folder_as_user(tmp_path, sample_dir):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert_one_line_error(run_cli("explain", str(sample_dir), "--out", str(locked / "o")), "output folder")


def test_output_folder_that_cannot_be_created(tmp_path, sample_dir):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    assert_one_line_error(run_cli("explain", str(sample_dir), "--out", str(blocker / "o")), "output folder")


def test_output_folder_on_read_only_file_system(sample_dir):
    assert_one_line_error(run_cli("explain", str(sample_dir), "--out", "/proc/natural-explain"), "output folder")


def test_vectorize_unknown_format(tmp_path, sample_dir):
    assert_one_line_error(run_cli("vectorize", str(sample_dir / "B02.tif"), "--threshold", "1",
                                  "--out", str(tmp_path / "x.kml")), ".shp or .gpkg")


@pytest.fixture
def tiny_disk(tmp_path):
    """A 300 kB tmpfs: a real full disk (needs root, as CI runs; skipped elsewhere)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or os.system(f"mount -t tmpfs -o size=300k tmpfs {mount} 2>/dev/null") != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    os.system(f"umount {mount}")


def test_full_disk_leaves_no_final_file(tiny_disk, sample_dir):
    result = run_cli("explain", str(sample_dir), "--out", str(tiny_disk / "o"), "--quiet")
    assert_one_line_error(result, "free some space")
    assert list((tiny_disk / "o").iterdir()) == []
