"""A screenshot of the main window with the Natural Explain dock and a styled result layer, on an X display.

The plugin tests render offscreen; a screenshot must come from a real display, so under the
offscreen platform this test runs itself again under Xvfb (xcb platform) and checks the PNG
that run wrote. pytest-qgis's main window is a bare QMainWindow, so the test puts in it what
QGIS's has: the map canvas in the middle, the Layers panel on the left and the dock on the right.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_qgis.utils import wait_until
from qgis.core import QgsLayerTreeModel, QgsProject
from qgis.gui import QgsLayerTreeMapCanvasBridge, QgsLayerTreeView
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QGuiApplication, QImage
from qgis.PyQt.QtWidgets import QDockWidget

from natural_explain_plugin.dock.aoi_choice import AoiSource
from natural_explain_plugin.input_stretch import TRUE_COLOUR
from natural_explain_plugin.package import REPO
from tests.helpers.plugin_runs import result_groups, run_to_end
from tests.helpers.plugin_styles import percentiles_2_98, show_in_colour

pytestmark = pytest.mark.slow  # a whole run in the main window

SCREENSHOT_ENV = "NATURAL_EXPLAIN_SCREENSHOT"
WINDOW_SIZE = (1500, 1050)
XVFB_TIMEOUT_S = 300


def layers_panel(project: QgsProject) -> QDockWidget:
    """The Layers panel: the project's layer tree with each layer's legend (the colour ramps)."""
    view = QgsLayerTreeView()
    model = QgsLayerTreeModel(project.layerTreeRoot(), view)  # the view keeps its model alive
    model.setFlag(QgsLayerTreeModel.ShowLegendAsTree)
    view.setModel(model)
    panel = QDockWidget("Layers")
    panel.setWidget(view)
    return panel


def take_screenshot(plugin, qgis_iface, project: QgsProject, stack_layer, png: Path) -> None:  # noqa: ANN001
    """Run naturalness + gradcam from the dock on the middle of the sample (the map view as AOI), then grab
    the window, zoomed out so the maps show over the true-colour input, to `png`."""
    show_in_colour(stack_layer, list(TRUE_COLOUR), [percentiles_2_98(Path(stack_layer.source()), number)
                                                    for number in (3, 2, 1)])  # B04, B03, B02
    window, canvas = qgis_iface.mainWindow(), qgis_iface.mapCanvas()
    window.setCentralWidget(canvas)
    panel = layers_panel(project)
    window.addDockWidget(Qt.LeftDockWidgetArea, panel)
    bridge = QgsLayerTreeMapCanvasBridge(project.layerTreeRoot(), canvas)
    canvas.setDestinationCrs(stack_layer.crs())
    qgis_iface.setActiveLayer(stack_layer)
    dock = plugin.open_dock()
    window.addDockWidget(Qt.RightDockWidgetArea, dock)  # the stub iface's addDockWidget does nothing
    window.resize(*WINDOW_SIZE)
    window.show()
    assert wait_until(lambda: dock.model.summary is not None, timeout_milliseconds=60_000)
    dock.methods.set_methods(["gradcam"])
    dock.aoi.set_source(AoiSource.CANVAS_EXTENT)
    canvas.setExtent(stack_layer.extent().buffered(-stack_layer.extent().width() / 4))
    assert run_to_end(dock.run()) == "completed", qgis_iface.messageBar().messages
    (group,) = result_groups(project)
    group.findLayers()[1].setItemVisibilityChecked(False)  # show the naturalness map over the input
    canvas.setExtent(stack_layer.extent())
    canvas.refresh()
    canvas.waitWhileRendering()
    panel.widget().expandAll()
    QGuiApplication.processEvents()
    assert dock.isVisible() and bridge.rootGroup() is project.layerTreeRoot()
    assert window.grab().save(str(png))


def test_main_window_shows_the_dock_and_a_styled_result_layer(plugin, qgis_iface, project, stack_layer,
                                                             output_base, tmp_path) -> None:
    if QGuiApplication.platformName() == "xcb":
        take_screenshot(plugin, qgis_iface, project, stack_layer, Path(os.environ[SCREENSHOT_ENV]))
        return
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("Xvfb is not installed (apt install xvfb): there is no X display to take the screenshot on")
    png = Path(os.environ.get(SCREENSHOT_ENV, tmp_path / "natural_explain_dock.png"))
    done = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1600x1200x24", sys.executable, "-m", "pytest", "-q", "-p",
         "no:cacheprovider", f"{Path(__file__).relative_to(REPO)}::test_main_window_shows_the_dock_and_a_styled_result_layer"],
        cwd=REPO, env={**os.environ, "QT_QPA_PLATFORM": "xcb", SCREENSHOT_ENV: str(png)},
        capture_output=True, text=True, timeout=XVFB_TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    image = QImage(str(png))
    assert (image.width(), image.height()) == WINDOW_SIZE
    colours = {image.pixel(x, y) for x in range(0, image.width(), 25) for y in range(0, image.height(), 25)}
    assert len(colours) > 50  # a rendered map and widgets, not a blank window
