"""Import the engine only when a run starts, and name a package QGIS's Python lacks.

QGIS starts fast because torch loads late; the price is that a missing torch shows up at
run time, where it must read as advice, not as a traceback. Inside QGIS the advice is the
plugin's own Install button, never a terminal; under qgis_process there is no such button,
so the advice is the exact pip command that fills the same folder.
"""
import contextlib
from typing import Iterator

from core.errors import NaturalExplainError

from .button_labels import DIAGNOSTICS_ACTION_TEXT, INSTALL_TEXT
from .dependencies import ENGINE_MODULES, dependency_folder, engine_requirements, missing_requirements
from .help_text import prints_plain_text
from .i18n import tr
from .installer import headless_pip_command
from .reporting import TITLE


class MissingPackage(NaturalExplainError):
    """A package the engine imports is missing from QGIS's Python; `module` is its top-level module."""

    def __init__(self, module: str) -> None:
        super().__init__(f"the Python package '{module}' is missing from QGIS's Python: {install_advice(module)}")
        self.module = module


def install_advice(module: str) -> str:
    """Install (the pip command under qgis_process), for a package the plugin installs; else the diagnostics."""
    if module in ENGINE_MODULES.values():
        if prints_plain_text():  # qgis_process: no message bar, no Install button
            wanted = missing_requirements() or [r for r in engine_requirements() if r.module == module]
            command = headless_pip_command(wanted, dependency_folder())
            return tr("install the packages QGIS's Python lacks into the plugin's folder of this QGIS profile with: "
                      "{}, then run again").format(command)
        return f"click {INSTALL_TEXT} on the {TITLE} message to add it to your QGIS profile, then run again"
    return (f"click Plugins › {TITLE} › {DIAGNOSTICS_ACTION_TEXT} and paste the report into a bug report, "
            "because a package the plugin installs needs it")


@contextlib.contextmanager
def engine_packages() -> Iterator[None]:
    """Wrap the engine's imports: a missing third-party package becomes a user error naming it.

    Raises:
        MissingPackage: naming the missing package and how to get it.
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".")[0] == "core":
            raise  # a broken engine is a bug, not a missing install
        raise MissingPackage(exc.name.split(".")[0]) from exc
