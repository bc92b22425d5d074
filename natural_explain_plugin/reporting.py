"""How the plugin speaks on the message bar: one sentence there, the details in the log panel.

Fixable problems must not bury their advice under a traceback; bugs must keep theirs. A run's
warnings (the input resampled, tiles skipped, imagery unlike the JEM's training data) are
sentences too, with what the run record says about them in the log.
"""
import json
import traceback
from pathlib import Path

from qgis.core import Qgis, QgsMessageLog
from qgis.gui import QgsMessageBar

from core.errors import NaturalExplainError

from .i18n import tr

TITLE = "Natural Explain"


def report_failure(message_bar: QgsMessageBar, exc: Exception) -> None:
    """Show `exc` on the message bar; log the traceback of anything that is not a user error.

    Runs, installs, exports and model files all end up here, so the words for a bug name none of them.
    """
    if isinstance(exc, NaturalExplainError):
        message_bar.pushMessage(TITLE, str(exc), level=Qgis.Warning)
        return
    QgsMessageLog.logMessage("".join(traceback.format_exception(exc)), TITLE, Qgis.Critical)
    message_bar.pushMessage(TITLE, tr("unexpected error ({0}: {1}), a bug: the traceback is in the Log Messages "
                                      "panel, tab {2}").format(type(exc).__name__, exc, TITLE), level=Qgis.Critical)


def report_warnings(message_bar: QgsMessageBar, warnings: list[str], run_json: Path) -> None:
    """Each warning as one sentence on the message bar; the log adds the run record and its verdict on the input."""
    if not warnings:
        return
    for warning in warnings:
        message_bar.pushMessage(TITLE, warning, level=Qgis.Warning)
    details = [*warnings, tr("run record: {0}").format(run_json)]
    record = json.loads(run_json.read_text(encoding="utf-8"))
    if record.get("verdict"):
        details.append(tr("the checks on the input: {0}").format(json.dumps(record["verdict"])))
    if record.get("ood"):
        details.append(tr("log p(x) of the input's patches against the training histogram: {0}").format(
            json.dumps(record["ood"])))
    QgsMessageLog.logMessage("\n".join(details), TITLE, Qgis.Warning)
