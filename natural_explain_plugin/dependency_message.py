"""On load, one message when QGIS's Python lacks a package the engine needs, with Install and Diagnostics.

The neighbouring plugins fail at run time with a traceback, or send the user to a terminal;
here the user reads one sentence and clicks Install. pip then works out, in a background task,
what QGIS's Python lacks (installer.py); a second message says how much that downloads, what
it adds and any package of QGIS's a pinned version must shadow, before Download and install
fetches it in another task and makes the packages importable at once, without a restart.
Diagnostics is also in the Plugins menu, for the set-ups that import fine but misbehave (a CPU
torch on a GPU).
"""
from pathlib import Path

from qgis.core import Qgis, QgsApplication
from qgis.gui import QgsMessageBarItem
from qgis.PyQt import sip
from qgis.PyQt.QtWidgets import QAction, QPushButton

from .button_labels import DIAGNOSTICS_ACTION_TEXT, DIAGNOSTICS_TEXT, INSTALL_TEXT
from .dependencies import Requirement, dependency_folder, missing_requirements, use_dependency_folder
from .diagnostics import copy_report
from .i18n import tr
from .installer import InstallPlan, InstallTask, PlanTask
from .reporting import TITLE, report_failure


def names(requirements: list[Requirement]) -> str:
    """The distribution names, for a sentence."""
    return ", ".join(r.name for r in requirements)


class DependencyMessage:
    """The missing-packages message, its install task and the Diagnostics action.

    `iface` is None under qgis_process, where only the Processing provider loads and nothing is shown.
    """

    def __init__(self, iface) -> None:  # noqa: ANN001 (QgisInterface, or None under qgis_process)
        self.iface = iface
        self.item: QgsMessageBarItem | None = None
        self.task: PlanTask | InstallTask | None = None
        self.action: QAction | None = None

    def init_gui(self) -> None:
        """Add Copy diagnostics to the Plugins menu, and show the message if a package is missing."""
        self.action = QAction(DIAGNOSTICS_ACTION_TEXT, self.iface.mainWindow())
        self.action.setToolTip("Copy QGIS, Python, torch, CUDA and package versions and paths to the clipboard")
        self.action.triggered.connect(self.copy_diagnostics)
        self.iface.addPluginToMenu(TITLE, self.action)
        self.show_if_missing()

    def show_if_missing(self) -> QgsMessageBarItem | None:
        """Push the one message with Install and Diagnostics buttons; None when nothing is missing."""
        missing = missing_requirements()
        if not missing:
            return None
        self._dismiss()  # shown again after a failed run: one Install message, not two
        self.item = QgsMessageBarItem(TITLE, f"QGIS's Python lacks {names(missing)}: click {INSTALL_TEXT} to add them "
                                             "to your QGIS profile", Qgis.Warning)
        for text, slot in ((INSTALL_TEXT, lambda: self.plan(missing)), (DIAGNOSTICS_TEXT, self.copy_diagnostics)):
            button = QPushButton(text, self.item)
            button.clicked.connect(slot)
            self.item.layout().addWidget(button)
        self.iface.messageBar().pushItem(self.item)
        return self.item

    def plan(self, requirements: list[Requirement]) -> PlanTask | InstallTask:
        """Queue pip's dry run for `requirements`; its plan comes back as the confirmation message."""
        self._dismiss()
        if self.task is None:
            target = dependency_folder()
            self.task = PlanTask(requirements, target, on_success=lambda plan: self._confirm(requirements, plan),
                                 on_failure=lambda exc: self._ended(exc), on_canceled=lambda: self._ended(None))
            QgsApplication.taskManager().addTask(self.task)
            self.iface.messageBar().pushMessage(
                TITLE, tr("finding out what QGIS's Python lacks (pip, in the task bar); nothing is downloaded yet"),
                level=Qgis.Info)
        return self.task

    def _confirm(self, requirements: list[Requirement], install_plan: InstallPlan) -> QgsMessageBarItem | None:
        """Show the download size, the packages and any shadowed QGIS package, with Download and install."""
        self.task = None
        if not install_plan.packages:  # the folder has them already: just make them importable
            self.install(requirements, install_plan)
            return None
        self.item = QgsMessageBarItem(TITLE, install_plan.describe(dependency_folder()), Qgis.Info)
        button = QPushButton(tr("Download and install"), self.item)
        button.clicked.connect(lambda: self.install(requirements, install_plan))
        self.item.layout().addWidget(button)
        self.iface.messageBar().pushItem(self.item)
        return self.item

    def install(self, requirements: list[Requirement], install_plan: InstallPlan | None = None) -> InstallTask:
        """Queue pip for the plan (planned again when None) into the dependency folder; the task shows progress."""
        self._dismiss()
        if self.task is None:
            bar, target = self.iface.messageBar(), dependency_folder()
            self.task = InstallTask(requirements, target, on_success=lambda done: self._installed(done, target),
                                    on_failure=lambda exc: self._ended(exc),
                                    on_canceled=lambda: self._ended(None), install_plan=install_plan)
            QgsApplication.taskManager().addTask(self.task)
            bar.pushMessage(TITLE, f"installing {names(requirements)} into {target}: progress and Cancel are in "
                                   "the task bar, pip's output in the Log Messages panel", level=Qgis.Info)
        return self.task

    def copy_diagnostics(self) -> None:
        """Copy the diagnostics report to the clipboard and say so."""
        copy_report()
        self.iface.messageBar().pushMessage(TITLE, "diagnostics copied to the clipboard", level=Qgis.Info)

    def unload(self) -> None:
        """Stop an install whose callbacks would outlive the plugin, and remove the message and the action."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self._dismiss()
        if self.action is not None:
            self.iface.removePluginMenu(TITLE, self.action)
            self.action.deleteLater()
            self.action = None

    def _installed(self, requirements: list[Requirement], target: Path) -> None:
        """Make the new packages importable now, and check that they are."""
        self.task = None
        use_dependency_folder(target)
        still = missing_requirements(requirements)
        if still:
            self.iface.messageBar().pushMessage(
                TITLE, f"pip finished but {names(still)} still cannot be found: click Plugins › {TITLE} › "
                       f"{DIAGNOSTICS_ACTION_TEXT} and paste the report into a bug report", level=Qgis.Critical)
            return
        self.iface.messageBar().pushMessage(TITLE, f"installed {names(requirements)}: ready to run",
                                            level=Qgis.Success)

    def _ended(self, exc: Exception | None) -> None:
        """Report a failed or canceled install; the message comes back so the user can try again."""
        self.task = None
        if exc is None:
            self.iface.messageBar().pushMessage(TITLE, "the install was canceled", level=Qgis.Info)
        else:
            report_failure(self.iface.messageBar(), exc)
        self.show_if_missing()

    def _dismiss(self) -> None:
        """Take the message off the bar, if it is still there."""
        if self.item is not None and not sip.isdeleted(self.item):  # the user may have closed it
            self.iface.messageBar().popWidget(self.item)
            self.item = None
