"""A plain-text report of the set-up a run depends on, for the clipboard and a bug report.

"It does not work" after an install says nothing; this answers the first questions in one
paste: which QGIS and Python, which torch and CUDA, the device a run would use, which numpy,
and where each package is loaded from. torch is imported only here, when the user asks for
the report, never when QGIS loads the plugin.
"""
import platform
import sys
from importlib.util import find_spec

from qgis.core import Qgis
from qgis.PyQt.QtWidgets import QApplication

from core.errors import NaturalExplainError

from .dependencies import dependency_folder, engine_requirements, installed_version
from .installer import qgis_python
from .torch_build import driver_cuda_version, torch_index_url


def module_path(module: str) -> str:
    """Where `module` would be imported from, without importing it."""
    spec = find_spec(module)
    if spec is None:
        return "not found"
    return (spec.submodule_search_locations or [spec.origin])[0] or "unknown"


def python_line() -> str:
    """The Python version, the interpreter the installer runs pip with, and sys.executable."""
    try:
        python = str(qgis_python())
    except NaturalExplainError:
        python = "not found"
    return f"Python: {sys.version.split()[0]} at {python} (sys.executable: {sys.executable})"


def torch_lines() -> list[str]:
    """torch's version and CUDA build, and the device `auto` picks; or why torch does not import.

    Any exception is reported, not raised: a torch that fails to load (a missing CUDA library,
    a numpy clash) is what this report is for.
    """
    if find_spec("torch") is None:
        return ["torch: missing"]
    try:
        import torch

        from core.device import resolve_device

        device = resolve_device("auto")
    except Exception as exc:  # noqa: BLE001 (reported, see the docstring)
        return [f"torch: fails to import ({type(exc).__name__}: {exc})"]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    return [f"torch: {torch.__version__} (CUDA build: {torch.version.cuda or 'none'}, "
            f"CUDA available: {'yes' if torch.cuda.is_available() else 'no'})",
            f"device (auto): {device} ({name})"]


def report() -> str:
    """The diagnostics report, one fact per line."""
    from osgeo import gdal

    cuda = driver_cuda_version()
    folder = dependency_folder()
    lines = [
        "Natural Explain diagnostics",
        f"QGIS: {Qgis.QGIS_VERSION}",
        python_line(),
        f"platform: {platform.platform()}",
        f"numpy: {installed_version('numpy')} at {module_path('numpy')}",
        f"GDAL: {gdal.__version__}",
        *torch_lines(),
        f"NVIDIA driver: {'CUDA %d.%d' % cuda if cuda else 'none (nvidia-smi absent or failing)'}",
        f"torch build the installer picks: {torch_index_url(platform.system(), cuda) or 'PyPI default'}",
        f"dependency folder: {folder} ({'on' if str(folder) in sys.path else 'not on'} sys.path)",
        "packages:",
    ]
    for requirement in engine_requirements():
        lines.append(f"  {requirement.name} {installed_version(requirement.name) or 'MISSING'} "
                     f"(wanted: {requirement.spec}) at {module_path(requirement.module)}")
    return "\n".join(lines)


def copy_report() -> str:
    """Put the report on the clipboard, ready to paste into a bug report; returns it."""
    text = report()
    QApplication.clipboard().setText(text)
    return text
