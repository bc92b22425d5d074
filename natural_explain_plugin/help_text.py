"""What Processing shows about an algorithm besides its parameters: its help, its group and its help page.

The toolbox renders an algorithm's shortHelpString as HTML, so `attribution_<method>.tif` would
lose `<method>` as an unknown tag, while `qgis_process help` prints the same string as text,
where `&lt;method&gt;` would be noise. Every algorithm's help therefore goes through
`help_string`, which escapes for the one and not for the other.
"""
import html
from pathlib import Path

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QUrl

from .i18n import tr

HELP_PAGE = Path(__file__).resolve().parent / "help" / "processing.html"
QGIS_PROCESS_PLATFORM = "qgis_process"  # what QgsApplication.platform() says inside qgis_process


def prints_plain_text() -> bool:
    """True inside qgis_process, whose `help` prints an algorithm's help string as it is."""
    return QgsApplication.platform() == QGIS_PROCESS_PLATFORM


def help_string(text: str) -> str:
    """`text` as Processing should be handed it: HTML-escaped for the toolbox, unchanged for qgis_process.

    Placeholders such as `<name>` then read the same in both; `&` is escaped too, so the toolbox
    never takes a literal `&amp;` for an entity.
    """
    return text if prints_plain_text() else html.escape(text, quote=False)


def help_url(algorithm_name: str) -> str:
    """The bundled Processing help page (installed with the plugin, so it opens offline), at the algorithm's section."""
    url = QUrl.fromLocalFile(str(HELP_PAGE))
    url.setFragment(algorithm_name)
    return url.toString()


def group_name(group_id: str) -> str:
    """The toolbox group an algorithm is listed under, by its stable id."""
    return {
        "maps": tr("Maps and explanations"),
        "checks": tr("Checks"),
        "imagery": tr("Imagery"),
    }[group_id]
