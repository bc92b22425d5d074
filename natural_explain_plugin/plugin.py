"""The plugin object QGIS holds: the Natural Explain dock, its actions, the Processing provider and the compare map."""
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import Qgis, QgsApplication, QgsMapLayer, QgsMapLayerType, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QAction, QFileDialog

from core.errors import NaturalExplainError

from .compare_view import CompareDock, has_enhanced_image
from .dependency_message import DependencyMessage
from .engine_import import MissingPackage
from .explain_request import ExplainRequest
from .icons import plugin_icon
from .layer_arguments import raster_path
from .provider import NaturalExplainProvider
from .reporting import TITLE, report_failure, report_warnings
from .result_layers import add_result_group
from .run_folder import group_name, new_run_folder
from .run_queue import RunQueue
from .settings import output_folder, set_output_folder
from .task import ExplainTask

if TYPE_CHECKING:
    from core.pipeline import ExplainResult

    from .dock.dock_widget import NaturalExplainDock

ACTION_TEXT = "Explain naturalness"
FOLDER_ACTION_TEXT = "Output folder…"
DOCK_ACTION_TEXT = "Natural Explain panel"


class NaturalExplainPlugin:
    """Adds the action to the toolbar, the Plugins menu and raster layers' context menu.

    The Plugins menu also lets the user choose the folder results are saved under.

    Under qgis_process there is no interface (`iface` is None) and only `initProcessing` runs.
    """

    def __init__(self, iface) -> None:  # noqa: ANN001 (QgisInterface, or None under qgis_process)
        self.iface = iface
        self.provider: NaturalExplainProvider | None = None
        self.dependency_message = DependencyMessage(iface)
        self.action: QAction | None = None
        self.folder_action: QAction | None = None
        self.dock_action: QAction | None = None
        self.dock: "NaturalExplainDock | None" = None
        self.compare: CompareDock | None = None
        self.result_ids: list[str] = []  # the newest run's result layers, which the compare map offers
        self.tasks = RunQueue()

    def initProcessing(self) -> None:  # noqa: N802 (QGIS calls it by this name)
        """Register the Processing provider (toolbox and qgis_process)."""
        self.provider = NaturalExplainProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 (QGIS calls it by this name)
        """Add the action where an analyst looks for it, and the Processing provider."""
        self.initProcessing()
        self.action = QAction(plugin_icon(), ACTION_TEXT, self.iface.mainWindow())
        self.action.setToolTip("Open the Natural Explain panel on the selected raster layer")
        self.action.triggered.connect(self.open_dock)
        self.iface.addToolBarIcon(self.action)
        self.iface.addPluginToMenu(TITLE, self.action)
        self.iface.addCustomActionForLayerType(self.action, "", QgsMapLayerType.RasterLayer, True)
        self.folder_action = QAction(FOLDER_ACTION_TEXT, self.iface.mainWindow())
        self.folder_action.triggered.connect(self.choose_output_folder)
        self.iface.addPluginToMenu(TITLE, self.folder_action)
        self.dock_action = QAction(plugin_icon(), DOCK_ACTION_TEXT, self.iface.mainWindow())
        self.dock_action.setCheckable(True)
        self.dock_action.toggled.connect(self.show_dock)
        self.iface.addPluginToMenu(TITLE, self.dock_action)
        self.dependency_message.init_gui()

    def unload(self) -> None:
        """Undo everything initGui/initProcessing did and stop runs whose callbacks would outlive us."""
        self.dependency_message.unload()
        for task in self.tasks:
            task.cancel()
        self.close_compare()
        if self.dock is not None:
            self.dock.release_canvas()
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        if self.action is not None:
            self.iface.removeCustomActionForLayerType(self.action)
            self.iface.removeToolBarIcon(self.action)
            for action in (self.action, self.folder_action, self.dock_action):
                self.iface.removePluginMenu(TITLE, action)
                action.deleteLater()
            self.action = self.folder_action = self.dock_action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

    def choose_output_folder(self) -> None:
        """Let the user pick the folder that later runs save their results under."""
        chosen = QFileDialog.getExistingDirectory(self.iface.mainWindow(), "Natural Explain: save results under",
                                                  str(output_folder()))
        if chosen:
            set_output_folder(chosen)
            self.iface.messageBar().pushMessage(TITLE, f"results will be saved under {chosen}", level=Qgis.Info)

    def open_dock(self) -> "NaturalExplainDock":
        """Show and focus the dock, on the raster layer selected in the Layers panel if there is one."""
        self.show_dock(True)
        layer = self.iface.activeLayer()
        if isinstance(layer, QgsRasterLayer):
            self.dock.set_input_layer(layer)
        self.dock.raise_()
        return self.dock

    def show_dock(self, visible: bool) -> None:  # noqa: FBT001 (a toggled signal's argument)
        """Show or hide the dock, building it the first time: it is never built if never opened."""
        if self.dock is None:
            if not visible:
                return
            from .dock.dock_widget import NaturalExplainDock  # reads rasters: not at QGIS start

            self.dock = NaturalExplainDock(self.iface.mapCanvas(), self.iface.messageBar(), self.start_explain,
                                           self.iface.mainWindow())
            self.dock.visibilityChanged.connect(self.dock_action.setChecked)
            self.dock.compare_button.clicked.connect(self.open_compare)
            self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
            self._offer_compare()
        self.dock.setVisible(visible)
        self.dock_action.setChecked(visible)

    def start_explain(self, layer: QgsRasterLayer, methods: list[str], **choices: Any) -> ExplainTask | None:
        """Queue a run of `methods` on `layer` into a new folder under the output folder.

        `choices` are further ExplainRequest fields (model, AOI, bands, device). None when it
        cannot start (the user is told why).
        """
        started = datetime.now()
        try:
            request = ExplainRequest(raster_path(layer), new_run_folder(output_folder(), layer.name(), started),
                                     methods=tuple(methods), **choices)
        except NaturalExplainError as exc:
            report_failure(self.iface.messageBar(), exc)
            return None
        name, layer_id = layer.name(), layer.id()
        task = ExplainTask(
            f"{ACTION_TEXT}: {name}", request,
            on_success=lambda result: self._show_results(name, layer_id, request, started, result),
            on_failure=lambda exc: self._discard_run(request.out_dir, exc),
            on_canceled=lambda: self._discard_run(request.out_dir, None))
        self.tasks.add(task)
        return task

    def _show_results(self, layer_name: str, layer_id: str, request: ExplainRequest, started: datetime,
                      result: "ExplainResult") -> None:
        """Add the styled result group and say where the files are.

        Enhanced images take the input layer's stretch; if the user removed that layer during
        the run, the input file as QGIS opens it stands in.
        """
        project = QgsProject.instance()
        input_layer = project.mapLayer(layer_id) or QgsRasterLayer(request.input_path, layer_name, "gdal")
        group = add_result_group(project, group_name(layer_name, started), result.outputs, input_layer,
                                 result.run_json)
        self.result_ids = [node.layerId() for node in group.findLayers()]
        self._offer_compare()
        folder = result.run_json.parent
        self.iface.messageBar().pushMessage(TITLE, f"maps of '{layer_name}' saved in {folder}", level=Qgis.Success)
        report_warnings(self.iface.messageBar(), result.warnings, result.run_json)

    def open_compare(self) -> CompareDock | None:
        """Show the newest run's results in a second map that moves with the main one, replacing an open one.

        None when the run's layers have all left the project (the user is told).
        """
        layers = self._result_layers()
        if not layers:
            self.iface.messageBar().pushMessage(TITLE, "the last run's maps were removed from the project; run "
                                                "again to compare its results with the input", level=Qgis.Warning)
            return None
        self.close_compare()
        self.compare = CompareDock(self.iface.mapCanvas(), layers, self.iface.mainWindow())
        self.compare.closed.connect(self.close_compare)
        self.iface.addDockWidget(Qt.RightDockWidgetArea, self.compare)
        self.compare.show()
        return self.compare

    def close_compare(self) -> None:
        """Close the compare map (its close button does too), undoing what it did to the project."""
        if self.compare is None:
            return
        compare, self.compare = self.compare, None
        compare.release()
        self.iface.removeDockWidget(compare)
        compare.deleteLater()

    def _result_layers(self) -> list[QgsMapLayer]:
        """The newest run's result layers that are still in the project."""
        project = QgsProject.instance()
        return [layer for layer in map(project.mapLayer, self.result_ids) if layer is not None]

    def _offer_compare(self) -> None:
        """Enable Compare with input once the newest run has left an enhanced image to compare."""
        if self.dock is not None:
            self.dock.compare_button.setEnabled(has_enhanced_image(self._result_layers()))

    def _discard_run(self, out_dir: Path, exc: Exception | None) -> None:
        """Remove the run's folder if the engine left it empty, and report why the run ended."""
        try:
            out_dir.rmdir()
        except OSError:
            pass
        if exc is None:
            self.iface.messageBar().pushMessage(TITLE, "the run was canceled; no map was saved", level=Qgis.Info)
            return
        report_failure(self.iface.messageBar(), exc)
        if isinstance(exc, MissingPackage):
            self.dependency_message.show_if_missing()  # the Install button the failure points to
