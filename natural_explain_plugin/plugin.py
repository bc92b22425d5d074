"""The plugin object QGIS holds: the Natural Explain dock, its actions, the Processing provider and the compare map."""
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import Qgis, QgsApplication, QgsMapLayer, QgsMapLayerType, QgsProject, QgsRasterLayer, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, Qt, QTranslator
from qgis.PyQt.QtWidgets import QAction, QFileDialog

from core.errors import NaturalExplainError

from .compare_view import CompareDock, has_enhanced_image
from .dependency_message import DependencyMessage
from .dock.input_check import not_a_file_message
from .engine_import import MissingPackage
from .explain_request import ExplainRequest, ExplainTask
from .help_about import open_help, show_about
from .i18n import tr
from .icons import plugin_icon
from .layer_arguments import raster_path
from .provider import NaturalExplainProvider
from .reporting import TITLE, report_failure, report_warnings
from .result_layers import add_result_group
from .run_folder import group_name, new_run_folder
from .run_queue import RunQueue
from .settings import output_folder, set_output_folder

if TYPE_CHECKING:
    from core.pipeline import ExplainResult

    from .dock.dock_widget import NaturalExplainDock

ACTION_TEXT = "Explain naturalness"  # also the start of each run's task name; translated where shown
FOLDER_ACTION_TEXT = "Output folder…"
DOCK_ACTION_TEXT = "Natural Explain panel"
STACK_ACTION_TEXT = "Stack a Sentinel-2 folder…"
TRAIN_ACTION_TEXT = "Train a model…"
HELP_ACTION_TEXT = "Help"
ABOUT_ACTION_TEXT = "About Natural Explain"
I18N_FOLDER = Path(__file__).resolve().parent / "i18n"
LOCALE_KEY = "locale/userLocale"


def translation_file(locale: str) -> Path | None:
    """The bundled .qm for a QGIS locale ('de_DE' tries natural_explain_de_DE.qm, then _de.qm); None if none."""
    for name in (locale, locale.split("_")[0]):
        path = I18N_FOLDER / f"natural_explain_{name}.qm"
        if name and path.is_file():
            return path
    return None


def install_translator() -> QTranslator | None:
    """Install a translator for the user's QGIS locale when the plugin bundles one; the caller keeps it."""
    path = translation_file(QgsSettings().value(LOCALE_KEY, "", type=str) or "")
    if path is None:
        return None
    translator = QTranslator()
    if not translator.load(str(path)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator


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
        self.stack_action: QAction | None = None
        self.train_action: QAction | None = None
        self.help_action: QAction | None = None
        self.about_action: QAction | None = None
        self.translator = install_translator() if iface is not None else None

    def initProcessing(self) -> None:  # noqa: N802 (QGIS calls it by this name)
        """Register the Processing provider (toolbox and qgis_process)."""
        self.provider = NaturalExplainProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 (QGIS calls it by this name)
        """Add the action where an analyst looks for it, and the Processing provider."""
        self.initProcessing()
        self.action = QAction(plugin_icon(), tr(ACTION_TEXT), self.iface.mainWindow())
        self.action.setToolTip(tr("Open the Natural Explain panel on the selected raster layer"))
        self.action.triggered.connect(self.open_dock)
        self.iface.addToolBarIcon(self.action)
        self.iface.addPluginToMenu(TITLE, self.action)
        self.iface.addCustomActionForLayerType(self.action, "", QgsMapLayerType.RasterLayer, True)
        self.folder_action = QAction(tr(FOLDER_ACTION_TEXT), self.iface.mainWindow())
        self.folder_action.triggered.connect(self.choose_output_folder)
        self.iface.addPluginToMenu(TITLE, self.folder_action)
        self.dock_action = QAction(plugin_icon(), tr(DOCK_ACTION_TEXT), self.iface.mainWindow())
        self.dock_action.setCheckable(True)
        self.dock_action.toggled.connect(self.show_dock)
        self.iface.addPluginToMenu(TITLE, self.dock_action)
        self.stack_action = QAction(tr(STACK_ACTION_TEXT), self.iface.mainWindow())
        self.stack_action.setToolTip(tr("stack a folder of Sentinel-2 band files at the highest resolution and "
                                        "explain it"))
        self.stack_action.triggered.connect(lambda: self.open_dock().ask_stack_folder())
        self.train_action = QAction(tr(TRAIN_ACTION_TEXT), self.iface.mainWindow())
        self.train_action.setToolTip(tr("train your own classifier on a raster and labelled polygons, on the panel's "
                                        "Train model page"))
        self.train_action.triggered.connect(lambda: self.open_dock().show_train_page())
        self.help_action = QAction(tr(HELP_ACTION_TEXT), self.iface.mainWindow())
        self.help_action.triggered.connect(open_help)
        self.about_action = QAction(tr(ABOUT_ACTION_TEXT), self.iface.mainWindow())
        self.about_action.triggered.connect(lambda: show_about(self.iface.mainWindow()))
        for action in (self.stack_action, self.train_action, self.help_action, self.about_action):
            self.iface.addPluginToMenu(TITLE, action)
        self.dependency_message.init_gui()

    def unload(self) -> None:
        """Undo everything initGui/initProcessing did and stop runs whose callbacks would outlive us."""
        self.dependency_message.unload()
        for task in self.tasks:
            task.cancel()
        if self.dock is not None:
            self.dock.train_page.cancel()  # the child process keeps its last checkpoint
        self.close_compare()
        if self.dock is not None:
            self.dock.release_canvas()
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        if self.action is not None:
            self.iface.removeCustomActionForLayerType(self.action)
            self.iface.removeToolBarIcon(self.action)
            for action in (self.action, self.folder_action, self.dock_action, self.stack_action, self.train_action,
                           self.help_action, self.about_action):
                self.iface.removePluginMenu(TITLE, action)
                action.deleteLater()
            self.action = self.folder_action = self.dock_action = None
            self.stack_action = self.train_action = self.help_action = self.about_action = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

    def choose_output_folder(self) -> None:
        """Let the user pick the folder that later runs save their results under."""
        chosen = QFileDialog.getExistingDirectory(self.iface.mainWindow(), tr("Natural Explain: save results under"),
                                                  str(output_folder()))
        if chosen:
            set_output_folder(chosen)
            self.iface.messageBar().pushMessage(TITLE, tr("results will be saved under {0}").format(chosen),
                                                level=Qgis.Info)

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
            refused = not_a_file_message(layer, None, None)
            if refused:
                raise NaturalExplainError(refused)
            request = ExplainRequest(raster_path(layer), new_run_folder(output_folder(), layer.name(), started),
                                     methods=tuple(methods), **choices)
        except NaturalExplainError as exc:
            report_failure(self.iface.messageBar(), exc)
            return None
        name, layer_id = layer.name(), layer.id()
        task = ExplainTask(
            f"{tr(ACTION_TEXT)}: {name}", request,
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
        self.iface.messageBar().pushMessage(TITLE, tr("maps of '{0}' saved in {1}").format(layer_name, folder),
                                            level=Qgis.Success)
        report_warnings(self.iface.messageBar(), result.warnings, result.run_json)

    def open_compare(self) -> CompareDock | None:
        """Show the newest run's results in a second map that moves with the main one, replacing an open one.

        None when the run's layers have all left the project (the user is told).
        """
        layers = self._result_layers()
        if not layers:
            self.iface.messageBar().pushMessage(TITLE, tr("the last run's maps were removed from the project; run "
                                                   "again to compare its results with the input"), level=Qgis.Warning)
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
            self.iface.messageBar().pushMessage(TITLE, tr("the run was canceled; no map was saved"), level=Qgis.Info)
            return
        report_failure(self.iface.messageBar(), exc)
        if isinstance(exc, MissingPackage):
            self.dependency_message.show_if_missing()  # the Install button the failure points to
