"""Dask-distributed maps: the same GeoTIFFs as one process, a worker killed mid-run, clear errors; the same
out-of-distribution report as one process.

Runs on the bundled sample with 128 px tiles over a 400 x 400 px AOI (5 blocks of tile rows),
so each run takes seconds on two CPU cores.
"""
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import rasterio
from distributed import Client, LocalCluster

from core.aoi import AOI
from core.dask_tiles import row_blocks
from core.errors import NaturalExplainError
from core.ood import ood_report
from core.pipeline import explain
from core.resources import DEFAULT_JEM, SAMPLE
from core.tiling import tile_grid
from tests.helpers.cli import run_cli

# 400 x 400 px of the sample (x 442730-446730, y 4166960-4170960 in EPSG:32618: the sample's south-west).
AREA = AOI.from_bounds(442730, 4166960, 446730, 4170960, "EPSG:32618")
OPTIONS = {"aoi": AREA, "tile_size": 128, "device": "cpu"}


def read(path: Path) -> tuple[np.ma.MaskedArray, rasterio.Affine, str]:
    with rasterio.open(path) as ds:
        return ds.read(masked=True), ds.transform, ds.crs.to_string()


def assert_same_maps(first: Path, second: Path, names: list[str], tolerance: float = 1e-6) -> None:
    for name in names:
        a, ta, ca = read(first / f"{name}.tif")
        b, tb, cb = read(second / f"{name}.tif")
        assert (ta, ca) == (tb, cb) and a.shape == b.shape
        assert (a.mask == b.mask).all()
        assert float(np.abs(a - b).max()) <= tolerance, name


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JEM's naturalness and confidence maps, and its run record, from one process."""
    out = tmp_path_factory.mktemp("single")
    explain(SAMPLE, out, model=DEFAULT_JEM, **OPTIONS)
    return out


def test_blocks_are_whole_tile_rows_in_order() -> None:
    tiles = tile_grid(300, 200, 128, 32)
    blocks = row_blocks(tiles)
    assert [t for block in blocks for t in block] == tiles
    assert all(len({t.row for t in block}) == 1 for block in blocks) and len(blocks) == len({t.row for t in tiles})


@pytest.mark.slow
def test_local_2_writes_the_single_process_maps_and_record_as_cogs(single: Path, tmp_path: Path) -> None:
    result = explain(SAMPLE, tmp_path, model=DEFAULT_JEM, dask="local:2", cog=True, **OPTIONS)
    assert_same_maps(single, tmp_path, ["naturalness"])
    with rasterio.open(tmp_path / "naturalness.tif") as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG" and ds.descriptions == ("naturalness",)
    assert_same_maps(single, tmp_path, ["confidence"], tolerance=1e-4)  # log p(x), tens of nats
    ours, theirs = json.loads(result.run_json.read_text()), json.loads((single / "run.json").read_text())
    assert ours["tiles"] == theirs["tiles"] and ours["value_range"] == theirs["value_range"]
    assert ours["ood"]["patches"] == theirs["ood"]["patches"]
    assert ours["ood"]["kl_divergence"] == pytest.approx(theirs["ood"]["kl_divergence"], abs=1e-3)
    assert ours["warnings"] == theirs["warnings"] and ours["verdict"]["fired"] == theirs["verdict"]["fired"]
    assert ours["input_statistics"]["pixels"] == theirs["input_statistics"]["pixels"]


@pytest.mark.slow
def test_ood_on_local_2_gives_the_single_process_verdict_and_kl(tmp_path: Path) -> None:
    single = ood_report(SAMPLE, tmp_path / "single", model=DEFAULT_JEM, aoi=AREA, device="cpu")
    result = run_cli("ood", str(SAMPLE), "--out", str(tmp_path / "dask"), "--aoi", "442730,4166960,446730,4170960",
                     "--device", "cpu", "--dask", "local:2", "--quiet")
    assert result.returncode == 0, result.stderr
    ours, theirs = json.loads((tmp_path / "dask" / "ood.json").read_text()), json.loads(single.json_path.read_text())
    assert ours["out_of_distribution"] == theirs["out_of_distribution"] == single.out_of_distribution
    assert ours["ood"]["kl_divergence"] == pytest.approx(single.kl_divergence, abs=1e-6)
    assert ours["ood"]["patches"] == single.patches
    assert ours["input_histogram"]["counts"] == theirs["input_histogram"]["counts"]
    assert ours["fired"] == theirs["fired"] and ours["value_range"] == theirs["value_range"]
    assert [r["statistic"] for r in ours["reasons"]] == pytest.approx([r["statistic"] for r in theirs["reasons"]],
                                                                      abs=1e-4)
    assert ours["input_statistics"]["pixels"] == theirs["input_statistics"]["pixels"]


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_replaced_and_the_maps_are_complete(single: Path, tmp_path: Path) -> None:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        before = client.run(os.getpid)
        killed = threading.Event()

        def kill_once(percent: float) -> None:  # after the first block: the others are queued or running
            if not killed.is_set():
                killed.set()
                os.kill(next(iter(before.values())), signal.SIGKILL)

        explain(SAMPLE, tmp_path, model=DEFAULT_JEM, dask=cluster.scheduler_address, progress=kill_once, **OPTIONS)
        assert killed.is_set() and set(client.run(os.getpid).values()) != set(before.values())
    assert_same_maps(single, tmp_path, ["naturalness"])
    assert_same_maps(single, tmp_path, ["confidence"], tolerance=1e-4)


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(NaturalExplainError, match=r"^no Dask scheduler answers at tcp://127\.0\.0\.1:9 "):
        explain(SAMPLE, tmp_path / "out", dask="tcp://127.0.0.1:9", **OPTIONS)
    assert not (tmp_path / "out" / "naturalness.tif").exists()


@pytest.mark.slow
def test_a_block_that_fails_to_read_is_one_line_and_leaves_no_map(sample_copy: Path, tmp_path: Path) -> None:
    band = sample_copy / "B04.tif"
    with rasterio.open(band) as ds:
        start = int(ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1))
    data = band.read_bytes()
    band.write_bytes(data[:start + int(0.7 * (len(data) - start))])  # the header opens, the last blocks do not read
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "core", "explain", str(sample_copy), "--out", str(out), "--dask",
                          "local:2", "--quiet"], capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("error: ") and "B04.tif" in run.stderr
    assert not (out / "naturalness.tif").exists() and not (out / "run.json").exists()


def test_the_cli_refuses_a_malformed_cluster(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "core", "explain", str(SAMPLE), "--out", str(tmp_path),
                          "--dask", "local:0"], capture_output=True, text=True)
    assert run.returncode == 2 and "local:N (N worker processes on this machine, N >= 1)" in run.stderr
    assert len(run.stderr.strip().splitlines()) <= 2  # usage + one error line, no traceback
