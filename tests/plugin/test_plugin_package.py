"""The plugin zip installs as one folder holding the plugin, the engine, its resources and metadata."""
import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from qgis.PyQt.QtSvg import QSvgRenderer

from natural_explain_plugin.dependencies import engine_requirements
from natural_explain_plugin.package import PLUGIN_NAME, REPO, build_zip, lay_out, main

REQUIRED_METADATA = ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
                     "repository", "tracker", "homepage", "tags", "changelog", "icon")
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def zip_names(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    archive = build_zip(tmp_path_factory.mktemp("dist"))
    assert archive.name == f"{PLUGIN_NAME}.zip"
    with zipfile.ZipFile(archive) as zf:
        return zf.namelist()


def test_zip_has_one_top_folder_with_plugin_engine_resources_and_metadata(zip_names) -> None:
    assert {name.split("/")[0] for name in zip_names} == {PLUGIN_NAME}
    for member in ("__init__.py", "plugin.py", "algorithms/naturalness_map.py", "algorithms/explain.py", "metadata.txt",
                   "requirements.txt", "core/pipeline.py", "core/resources.py", "resources/styles/naturalness.qml",
                   "resources/styles/attribution.qml", "resources/icons/natural_explain.svg",
                   "resources/models/naturalness_s2.json", "resources/models/naturalness_s2.safetensors",
                   "train/__main__.py", "train/commands/classifier.py", "train/label_checks.py", "train_request.py",
                   "train_task.py", "algorithms/train_classifier.py", "dock/train_page.py"):
        assert f"{PLUGIN_NAME}/{member}" in zip_names


@pytest.mark.slow
def test_installed_plugin_runs_train_as_a_child_from_its_own_folder(tmp_path) -> None:
    """The Train model page's child process finds `train` and `core` inside the installed plugin folder."""
    folder = lay_out(tmp_path)
    code = ("from natural_explain_plugin.train_request import child_environment, code_folder; import json; "
            "print(json.dumps([str(code_folder()), child_environment(None, {})['PYTHONPATH']]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    import json

    code_dir, pythonpath = json.loads(done.stdout)
    assert Path(code_dir) == folder and pythonpath == str(folder), done.stderr
    child = subprocess.run([sys.executable, "-m", "train", "classifier", "--help"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120, env={**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}"
                                                        f"{os.environ.get('PYTHONPATH', '')}"})
    assert child.returncode == 0 and "--natural-classes" in child.stdout, child.stderr


def test_zip_leaves_out_sample_labels_caches_and_build_tool(zip_names) -> None:
    assert not [n for n in zip_names if "/resources/sample/" in n or "/resources/labels/" in n]
    assert not [n for n in zip_names if "__pycache__" in n or n.endswith(".pyc") or "/." in n]
    assert f"{PLUGIN_NAME}/package.py" not in zip_names


def test_installed_plugin_uses_its_bundled_engine_and_resources(tmp_path) -> None:
    """Outside the clone, `core` and the default model must come from inside the plugin folder."""
    folder = lay_out(tmp_path)
    code = ("from natural_explain_plugin.bundled_core import ensure_core_importable; "
            "ensure_core_importable(); import core.resources as r; print(r.__file__); print(r.DEFAULT_MODEL.is_file())")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    module_file, model_found = done.stdout.split()
    assert Path(module_file).is_relative_to(folder) and model_found == "True", done.stderr


def test_metadata_declares_what_qgis_needs(tmp_path) -> None:
    folder = lay_out(tmp_path)
    parser = configparser.ConfigParser()
    parser.read(folder / "metadata.txt", encoding="utf-8")
    general = parser["general"]
    assert [key for key in REQUIRED_METADATA if not general.get(key)] == []
    assert general["version"] == "0.2.0" and general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert general["changelog"].split()[0] == general["version"]  # the newest entry first
    assert (folder / general["icon"]).is_file()


def test_icon_is_our_svg_and_in_the_zip(zip_names) -> None:
    parser = configparser.ConfigParser()
    parser.read(REPO / "metadata.txt", encoding="utf-8")
    icon = parser["general"]["icon"]
    assert icon.endswith(".svg") and f"{PLUGIN_NAME}/{icon}" in zip_names
    root = ElementTree.parse(REPO / icon).getroot()
    assert root.tag == f"{SVG_NAMESPACE}svg" and root.findtext(f"{SVG_NAMESPACE}title") == "Natural Explain"
    assert QSvgRenderer(str(REPO / icon)).isValid()


def test_zip_carries_the_pins_the_install_button_uses(tmp_path) -> None:
    """The installed plugin reads its own requirements.txt, made from the repository's: the same pins."""
    folder = lay_out(tmp_path)
    code = ("from natural_explain_plugin.dependencies import engine_requirements, requirements_file; "
            "print(requirements_file()); print(' '.join(r.spec for r in engine_requirements()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    used, specs = done.stdout.splitlines()
    assert Path(used) == folder / "requirements.txt", done.stderr
    assert specs.split() == [r.spec for r in engine_requirements()] and "torch==2.13.0" in specs.split()


def test_command_line_builds_zip_and_unzipped_folder(tmp_path) -> None:
    assert main(["--out", str(tmp_path / "dist"), "--dir", str(tmp_path / "plugins")]) == 0
    assert (tmp_path / "dist" / f"{PLUGIN_NAME}.zip").is_file()
    assert (tmp_path / "plugins" / PLUGIN_NAME / "metadata.txt").is_file()
