"""The user's choices that outlive a QGIS session: in QgsSettings, the output folder also per project.

Results go to a real folder the user owns, never to a temporary one, so they do not vanish
when QGIS closes. Each project remembers its own output folder (saved in the project file),
so the maps of two studies never mix; a project without one takes the folder chosen last.
The methods, model and device last chosen are offered again, so a repeated run is one click.
"""
from pathlib import Path

from qgis.core import QgsProject, QgsSettings

from core.device import DEVICE_CHOICES
from core.explain.registry import METHODS

PROJECT_SCOPE = "natural_explain"
PROJECT_OUTPUT_FOLDER_KEY = "output_folder"
OUTPUT_FOLDER_KEY = "natural_explain/output_folder"
DEFAULT_OUTPUT_FOLDER = Path.home() / "NaturalExplain"
METHODS_KEY = "natural_explain/methods"
DEFAULT_METHODS = ("gradcam",)  # one cheap explanation that works with any classifier
DEVICE_KEY = "natural_explain/device"
MODEL_KEY = "natural_explain/model"


def output_folder() -> Path:
    """The base folder that every run's own subfolder is made in: the project's, else the last chosen."""
    folder, found = QgsProject.instance().readEntry(PROJECT_SCOPE, PROJECT_OUTPUT_FOLDER_KEY, "")
    if found and folder:
        return Path(folder)
    return Path(QgsSettings().value(OUTPUT_FOLDER_KEY, str(DEFAULT_OUTPUT_FOLDER), type=str))


def set_output_folder(folder: str | Path) -> None:
    """Remember `folder` in the current project and as the folder for projects that have none yet."""
    QgsProject.instance().writeEntry(PROJECT_SCOPE, PROJECT_OUTPUT_FOLDER_KEY, str(folder))
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


def remembered_device() -> str:
    """The device chosen last time ('auto' before any choice or for a name no longer offered)."""
    device = QgsSettings().value(DEVICE_KEY, "auto", type=str)
    return device if device in DEVICE_CHOICES else "auto"


def remember_device(device: str) -> None:
    QgsSettings().setValue(DEVICE_KEY, device)


def remembered_model() -> str:
    """The model file chosen last time; '' stands for the bundled default."""
    return QgsSettings().value(MODEL_KEY, "", type=str)


def remember_model(path: str) -> None:
    QgsSettings().setValue(MODEL_KEY, path)


RUN_TIMES_KEY = "natural_explain/run_times"
RUN_TIMES_KEPT = 8


def remembered_run_times() -> list[dict]:
    """The machine's last runs, newest last: each {'estimate_s', 'measured_s', 'device'} (none before the first run)."""
    import json

    try:
        runs = json.loads(QgsSettings().value(RUN_TIMES_KEY, "[]", type=str))
    except ValueError:
        return []
    return [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []


def remember_run_time(estimate_s: float, measured_s: float, device: str) -> None:
    """Keep one finished run's estimated (uncalibrated) and measured seconds, for calibrating later estimates."""
    import json

    runs = [*remembered_run_times(), {"estimate_s": round(estimate_s, 2), "measured_s": round(measured_s, 2),
                                      "device": device}]
    QgsSettings().setValue(RUN_TIMES_KEY, json.dumps(runs[-RUN_TIMES_KEPT:]))
