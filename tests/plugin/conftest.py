"""Fixtures for the plugin tests: a loaded plugin, a clean project and real Sentinel-2 layers.

Every layer comes from the committed sample scene and every run uses the bundled default model.
"""
from pathlib import Path
from typing import Callable, Iterator

import pytest
from osgeo import gdal
from qgis.core import QgsProject, QgsRasterLayer, QgsSettings

from core.models.model_file import read_card
from core.resources import DEFAULT_MODEL, SAMPLE
from natural_explain_plugin import classFactory
from natural_explain_plugin.plugin import NaturalExplainPlugin
from natural_explain_plugin.settings import OUTPUT_FOLDER_KEY, set_output_folder


def build_stack(path: Path, bands: list[str]) -> Path:
    """A multi-band VRT of the sample's `bands` on the 10 m grid, each band described by its name."""
    ref = gdal.Open(str(SAMPLE / "B02.tif"))
    x0, dx, _, y0, _, dy = ref.GetGeoTransform()
    bounds = (x0, y0 + dy * ref.RasterYSize, x0 + dx * ref.RasterXSize, y0)
    vrt = gdal.BuildVRT(str(path), [str(SAMPLE / f"{band}.tif") for band in bands], separate=True,
                        resolution="highest", outputBounds=bounds)
    for number, band in enumerate(bands, start=1):
        vrt.GetRasterBand(number).SetDescription(band)
    vrt.FlushCache()
    vrt = None  # closing the dataset writes the descriptions into the VRT
    return path


@pytest.fixture(scope="session")
def model_bands() -> list[str]:
    return read_card(DEFAULT_MODEL)[0].bands


@pytest.fixture(scope="session")
def make_stack() -> Callable[[Path, list[str]], Path]:
    return build_stack


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
