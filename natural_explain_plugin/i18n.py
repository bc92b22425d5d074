"""Every string the analyst reads goes through `tr`, so a translation (.qm) can replace it.

One context for the whole plugin keeps the .ts file simple for translators; `pylupdate5`
finds the strings because every call is spelled `tr("...")`. The translator for the
user's QGIS locale is installed by the plugin when it loads (plugin.py).
"""
from qgis.PyQt.QtCore import QCoreApplication

CONTEXT = "NaturalExplain"


def tr(text: str) -> str:
    """`text` in the user's language when a translation is installed, else as written."""
    return QCoreApplication.translate(CONTEXT, text)
