"""The plugin's icon, shared by the toolbar action and the Processing provider."""
from qgis.PyQt.QtGui import QIcon

from core.resources import RESOURCES

ICON_PATH = RESOURCES / "icons" / "natural_explain.svg"


def plugin_icon() -> QIcon:
    """The Natural Explain icon."""
    return QIcon(str(ICON_PATH))
