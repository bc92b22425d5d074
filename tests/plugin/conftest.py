"""Fixtures for the plugin tests: a loaded plugin, a clean project and real Sentinel-2 layers.

Every layer comes from the committed sample scene and every run uses a bundled model.
"""
import os
import subprocess
import sysconfig
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest
import rasterio
from osgeo import gdal
from pytest_qgis.utils import wait_until
from qgis.core import (
    QgsContrastEnhancement,
    QgsLayerTreeGroup,
    QgsMultiBandColorRenderer,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsSettings,
    QgsSingleBandPseudoColorRenderer,
    QgsTask,
)

from core.models.card import read_card
from core.resources import DEFAULT_MODEL, SAMPLE
from natural_explain_plugin import classFactory
from natural_explain_plugin.package import lay_out
from natural_explain_plugin.plugin import NaturalExplainPlugin
from natural_explain_plugin.run_folder import GROUP_PREFIX
from natural_explain_plugin.settings import METHODS_KEY, OUTPUT_FOLDER_KEY, set_output_folder

QgisProcess = Callable[[list[str]], subprocess.CompletedProcess]
RUN_TIMEOUT_MS = 120_000


def result_groups(project: QgsProject) -> list[QgsLayerTreeGroup]:
    """The layer-tree groups that runs added."""
    return [g for g in project.layerTreeRoot().findGroups() if g.name().startswith(GROUP_PREFIX)]


def run_to_end(task: QgsTask) -> str:
    """Wait for the task's end and say how it ended ('completed' or 'terminated').

    Signals, not task.status(): the task manager deletes a finished task, so it cannot be asked.
    """
    ended = []
    task.taskCompleted.connect(lambda: ended.append("completed"))
    task.taskTerminated.connect(lambda: ended.append("terminated"))
    assert wait_until(lambda: bool(ended), timeout_milliseconds=RUN_TIMEOUT_MS)
    return ended[0]


def feedback_that_cancels_mid_run() -> tuple[QgsProcessingFeedback, list[float]]:
    """Processing feedback that presses Cancel at the first progress report, and where it did."""
    feedback = QgsProcessingFeedback()
    canceled_at: list[float] = []

    def cancel_on_first_progress(percent: float) -> None:
        if not canceled_at and 0 < percent < 100:
            canceled_at.append(percent)
            feedback.cancel()

    feedback.progressChanged.connect(cancel_on_first_progress)
    return feedback, canceled_at


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


def centre_aoi(raster: Path, half_width_m: float) -> str:
    """A square AOI around the raster's centre, as a Processing extent string in the raster's CRS."""
    ds = gdal.Open(str(raster))
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    cx, cy = x0 + dx * ds.RasterXSize / 2, y0 + dy * ds.RasterYSize / 2
    epsg = ds.GetSpatialRef().GetAuthorityCode(None)
    return f"{cx - half_width_m},{cx + half_width_m},{cy - half_width_m},{cy + half_width_m} [EPSG:{epsg}]"


MAGMA_ENDS = ("#000004", "#fcfdbf")
RDYLBU_ENDS = ("#d73027", "#4575b4")


def percentiles_2_98(raster: Path, band: int) -> tuple[float, float]:
    """The band's 2nd and 98th percentiles over its valid pixels, read independently of QGIS."""
    with rasterio.open(raster) as src:
        values = src.read(band, masked=True)
    low, high = np.percentile(values.compressed(), [2, 98])
    return float(low), float(high)


def assert_ramp(layer: QgsRasterLayer, ends: tuple[str, str], low: float, high: float, tolerance: float = 0.0) -> None:
    """The layer shows its band with a ramp from colour ends[0] at `low` to ends[1] at `high`."""
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
    ramp = renderer.shader().rasterShaderFunction()
    items = ramp.colorRampItemList()
    assert (items[0].color.name(), items[-1].color.name()) == ends
    assert (items[0].value, items[-1].value) == pytest.approx((low, high), rel=1e-6, abs=tolerance)
    low, high = items[0].value, items[-1].value
    assert (ramp.minimumValue(), ramp.maximumValue()) == pytest.approx((low, high))
    assert (renderer.classificationMin(), renderer.classificationMax()) == pytest.approx((low, high))


def assert_attribution_style(layer: QgsRasterLayer) -> None:
    """The layer shows its band with the magma ramp spread over the band's own 2-98 % cut, low to high."""
    items = layer.renderer().shader().rasterShaderFunction().colorRampItemList()
    assert (items[0].label, items[-1].label) == ("low importance", "high importance")
    low, high = percentiles_2_98(Path(layer.source()), 1)
    assert_ramp(layer, MAGMA_ENDS, low, high, tolerance=0.03 * (high - low))  # QGIS cuts a histogram of a sample


Limits = list[tuple[float, float]]


def show_bands(layer: QgsRasterLayer, numbers: tuple[int, int, int], limits: Limits) -> None:
    """Show `layer`'s bands `numbers` as red, green, blue, each stretched to its (min, max), as a user would."""
    renderer = QgsMultiBandColorRenderer(layer.dataProvider(), *numbers)
    for set_contrast, (low, high) in zip((renderer.setRedContrastEnhancement, renderer.setGreenContrastEnhancement,
                                          renderer.setBlueContrastEnhancement), limits):
        contrast = QgsContrastEnhancement(layer.dataProvider().dataType(1))
        contrast.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        contrast.setMinimumValue(low)
        contrast.setMaximumValue(high)
        set_contrast(contrast)
    layer.setRenderer(renderer)


def show_in_colour(layer: QgsRasterLayer, bands: list[str], limits: Limits) -> None:
    """Show `layer` as a user might: `bands` (by name) as red, green, blue, each stretched to its (min, max)."""
    numbers = {layer.bandName(n).split(": ")[-1]: n for n in range(1, layer.bandCount() + 1)}
    show_bands(layer, tuple(numbers[band] for band in bands), limits)


def shown_in_colour(layer: QgsRasterLayer) -> tuple[list[str], Limits]:
    """The band names a multiband colour layer shows as red, green, blue, and each one's (min, max)."""
    renderer = layer.renderer()
    assert isinstance(renderer, QgsMultiBandColorRenderer)
    bands = [layer.bandName(n).split(": ")[-1] for n in (renderer.redBand(), renderer.greenBand(), renderer.blueBand())]
    contrasts = (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
                 renderer.blueContrastEnhancement())
    return bands, [(c.minimumValue(), c.maximumValue()) for c in contrasts]


@pytest.fixture(autouse=True)
def forget_methods() -> Iterator[None]:
    """Every test starts with no remembered methods, as a fresh profile does."""
    QgsSettings().remove(METHODS_KEY)
    yield
    QgsSettings().remove(METHODS_KEY)


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
