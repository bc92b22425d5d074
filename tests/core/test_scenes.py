"""Many scenes as one job: a folder per scene, a summary, and a failed scene that does not stop the others."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import NaturalExplainError
from core.resources import SAMPLE
from core.scenes import folder_names, scene_list

AOI = "442730,4166960,443930,4168160,EPSG:32618"  # 120 x 120 px of the sample


def test_a_list_file_names_scenes_relative_to_itself(tmp_path: Path) -> None:
    listing = tmp_path / "scenes.txt"
    listing.write_text(f"# my county\n{SAMPLE}\n\nsub/scene.tif\n")
    assert scene_list([str(listing)]) == [SAMPLE, tmp_path / "sub" / "scene.tif"]
    listing.write_text("# nothing\n\n")
    with pytest.raises(NaturalExplainError, match="lists no scene"):
        scene_list([str(listing)])


def test_folder_names_are_unique() -> None:
    assert folder_names([Path("a/T18SUJ.tif"), Path("b/T18SUJ.tif"), Path("c/band_folder")]) == \
        ["T18SUJ", "T18SUJ_2", "band_folder"]


def test_a_job_runs_every_scene_and_says_which_failed(tmp_path: Path) -> None:
    out = tmp_path / "job"
    run = subprocess.run([sys.executable, "-m", "core", "explain", str(SAMPLE), str(tmp_path / "missing.tif"),
                          "--out", str(out), "--aoi", AOI, "--quiet"], capture_output=True, text=True)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("error: 1 of 2 scenes failed (")
    summary = json.loads((out / "summary.json").read_text())
    assert [s["ok"] for s in summary["scenes"]] == [True, False] and summary["failed"] == 1
    assert (out / "virginia_s2" / "naturalness.tif").is_file() and (out / "virginia_s2" / "run.json").is_file()
    assert "missing.tif" in summary["scenes"][1]["error"]
