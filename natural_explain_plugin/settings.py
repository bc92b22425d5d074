"""The user's choices that outlive a QGIS session, kept in QgsSettings.

Results go to a real folder the user owns, never to a temporary one, so they do not vanish
when QGIS closes. The methods last chosen are offered again, so a repeated run is one click.
"""
from pathlib import Path

from qgis.core import QgsSettings

from core.explain.registry import METHODS

OUTPUT_FOLDER_KEY = "natural_explain/output_folder"
DEFAULT_OUTPUT_FOLDER = Path.home() / "NaturalExplain"
METHODS_KEY = "natural_explain/methods"
DEFAULT_METHODS = ("gradcam",)  # one cheap explanation that works with any classifier


def output_folder() -> Path:
    """The base folder that every run's own subfolder is made in."""
    return Path(QgsSettings().value(OUTPUT_FOLDER_KEY, str(DEFAULT_OUTPUT_FOLDER), type=str))


def set_output_folder(folder: str | Path) -> None:
    """Remember `folder` as the base output folder for later runs and sessions."""
    QgsSettings().setValue(OUTPUT_FOLDER_KEY, str(folder))


def remembered_methods() -> list[str]:
    """The methods chosen last time, DEFAULT_METHODS before any choice.

    Names the registry no longer knows (a setting from an older version) are dropped.
    """
    settings = QgsSettings()
    if not settings.contains(METHODS_KEY):
        return list(DEFAULT_METHODS)
    return [name for name in settings.value(METHODS_KEY, "", type=str).split(",") if name in METHODS]


def remember_methods(methods: list[str]) -> None:
    """Keep `methods` (possibly none) as the choice the next run starts from."""
    QgsSettings().setValue(METHODS_KEY, ",".join(methods))
