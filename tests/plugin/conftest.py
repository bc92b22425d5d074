"""Fixtures for the plugin tests: a loaded plugin, a clean project and real Sentinel-2 layers.

Every layer comes from the committed sample scene and every run uses a bundled model.
"""
import os
import subprocess
import sysconfig
from pathlib import Path
from typing import Callable, Iterator

import pytest
from osgeo import gdal
from qgis.core import (
    QgsProject,
    QgsRasterLayer,
    QgsSettings,
)

from core.models.card import read_card
from core.resources import DEFAULT_MODEL
from natural_explain_plugin import classFactory
from natural_explain_plugin.package import lay_out
from natural_explain_plugin.plugin import NaturalExplainPlugin
from natural_explain_plugin.settings import (
    DEVICE_KEY,
    METHODS_KEY,
    MODEL_KEY,
    OUTPUT_FOLDER_KEY,
    RUN_TIMES_KEY,
    set_output_folder,
)
from tests.helpers.plugin_runs import build_stack

QgisProcess = Callable[[list[str]], subprocess.CompletedProcess]


@pytest.fixture(autouse=True)
def forget_methods() -> Iterator[None]:
    """Every test starts with no remembered methods, as a fresh profile does."""
    QgsSettings().remove(METHODS_KEY)
    yield
    QgsSettings().remove(METHODS_KEY)


@pytest.fixture
def forget_model_and_device() -> Iterator[None]:
    """The test starts from the bundled model and `auto`, as a fresh profile does (pytestmark of the panel tests)."""
    for key in (DEVICE_KEY, MODEL_KEY, RUN_TIMES_KEY):
        QgsSettings().remove(key)
    yield
    for key in (DEVICE_KEY, MODEL_KEY, RUN_TIMES_KEY):
        QgsSettings().remove(key)


@pytest.fixture(scope="session")
def qgis_process(tmp_path_factory: pytest.TempPathFactory) -> QgisProcess:
    """Runs `qgis_process.bin ARGS` with the packaged plugin enabled in a fresh profile, as users call it."""
    base = tmp_path_factory.mktemp("qgis_process")
    plugins = base / "plugins"
    lay_out(plugins)
    env = {**os.environ, "QGIS_PLUGINPATH": str(plugins), "QGIS_CUSTOM_CONFIG_PATH": str(base / "profile"),
           "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": sysconfig.get_path("purelib")}

    def run(args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(["qgis_process.bin", *args], env=env, capture_output=True, text=True, timeout=300)

    enable = run(["plugins", "enable", "natural_explain_plugin"])
    assert enable.returncode == 0, enable.stdout + enable.stderr
    return run


@pytest.fixture(scope="session")
def model_bands() -> list[str]:
    return read_card(DEFAULT_MODEL)[0].bands


@pytest.fixture(scope="session")
def make_stack() -> Callable[[Path, list[str]], Path]:
    return build_stack


@pytest.fixture(scope="session")
def small_stack(tmp_path_factory: pytest.TempPathFactory, sample_stack: Path) -> Path:
    """A 128 x 128 pixel window from the middle of the sample stack, for methods too slow for the whole scene."""
    path = tmp_path_factory.mktemp("small") / "virginia_s2_small.vrt"
    gdal.Translate(str(path), str(sample_stack), format="VRT", srcWin=[336, 336, 128, 128])
    return path


@pytest.fixture(scope="session")
def sample_stack(tmp_path_factory: pytest.TempPathFactory, model_bands: list[str]) -> Path:
    """The real sample as ONE raster holding every band the default model needs."""
    return build_stack(tmp_path_factory.mktemp("stack") / "virginia_s2.vrt", model_bands)


@pytest.fixture
def project(qgis_new_project: QgsProject) -> Iterator[QgsProject]:
    """A clean project whose layers are removed afterwards, before QGIS exits."""
    yield qgis_new_project
    qgis_new_project.removeAllMapLayers()
    qgis_new_project.layerTreeRoot().removeAllChildren()


@pytest.fixture
def output_base(tmp_path: Path) -> Iterator[Path]:
    """The plugin's base output folder, pointed at a test folder and forgotten afterwards."""
    base = tmp_path / "NaturalExplain"
    set_output_folder(base)
    yield base
    QgsSettings().remove(OUTPUT_FOLDER_KEY)


@pytest.fixture
def plugin(qgis_iface, project: QgsProject) -> Iterator[NaturalExplainPlugin]:  # noqa: ANN001
    """The plugin as QGIS loads it; always unloaded, so no provider outlives a failed test."""
    loaded = classFactory(qgis_iface)
    loaded.initGui()
    yield loaded
    loaded.unload()


@pytest.fixture
def stack_layer(project: QgsProject, sample_stack: Path) -> QgsRasterLayer:
    layer = QgsRasterLayer(str(sample_stack), "virginia_s2", "gdal")
    assert layer.isValid()
    project.addMapLayer(layer)
    return layer
