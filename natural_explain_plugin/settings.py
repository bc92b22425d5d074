"""The user's choices that outlive a QGIS session, kept in QgsSettings.

Results go to a real folder the user owns, never to a temporary one, so they do not vanish
when QGIS closes.
"""
from pathlib import Path

from qgis.core import QgsSettings

OUTPUT_FOLDER_KEY = "natural_explain/output_folder"
DEFAULT_OUTPUT_FOLDER = Path.home() / "NaturalExplain"


def output_folder() -> Path:
    """The base folder that every run's own subfolder is made in."""
    return Path(QgsSettings().value(OUTPUT_FOLDER_KEY, str(DEFAULT_OUTPUT_FOLDER), type=str))


def set_output_folder(folder: str | Path) -> None:
    """Remember `folder` as the base output folder for later runs and sessions."""
    QgsSettings().setValue(OUTPUT_FOLDER_KEY, str(folder))
