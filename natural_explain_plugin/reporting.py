"""How a failed run is shown: a user's mistake as one sentence, a bug with its traceback.

Fixable problems must not bury their advice under a traceback; bugs must keep theirs.
"""
import traceback

from qgis.core import Qgis, QgsMessageLog
from qgis.gui import QgsMessageBar

from core.errors import NaturalExplainError

TITLE = "Natural Explain"


def report_failure(message_bar: QgsMessageBar, exc: Exception) -> None:
    """Show `exc` on the message bar; log the traceback of anything that is not a user error."""
    if isinstance(exc, NaturalExplainError):
        message_bar.pushMessage(TITLE, str(exc), level=Qgis.Warning)
        return
    QgsMessageLog.logMessage("".join(traceback.format_exception(exc)), TITLE, Qgis.Critical)
    message_bar.pushMessage(TITLE, f"the run failed unexpectedly ({type(exc).__name__}: {exc}); "
                                   "the traceback is in the Log Messages panel, tab Natural Explain",
                            level=Qgis.Critical)
