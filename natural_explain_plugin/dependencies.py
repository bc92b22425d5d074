"""Which Python packages the engine needs, which of them QGIS's Python lacks, and where ours go.

The check runs when QGIS loads the plugin, so it must not import torch (seconds, and a
crash if torch is broken): `importlib.util.find_spec` finds a top-level module without
importing it. The versions come from one place, the repository's `requirements.txt`, which
the package step copies (filtered to these packages) into the plugin folder.

This module imports no QGIS class at module level, so the package step can use it too.
"""
import dataclasses
import importlib
import importlib.metadata
import re
import sys
from importlib.util import find_spec
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent
REQUIREMENTS_NAME = "requirements.txt"
# distribution name -> the top-level module the engine imports. rasterio, scipy and matplotlib
# are not pinned in requirements.txt: the developer set-up takes Debian's (one GDAL in the process).
ENGINE_MODULES = {
    "torch": "torch",
    "safetensors": "safetensors",
    "captum": "captum",
    "tqdm": "tqdm",  # the training child process (python -m train) prints its progress with it
    "rasterio": "rasterio",
    "scipy": "scipy",
    "matplotlib": "matplotlib",
    "scikit-learn": "sklearn",  # SSC phase 2 (core.ssc): the per-pixel MLP or random forest
    "imbalanced-learn": "imblearn",  # SSC phase 2: balancing the two classes' training pixels
}
FOLDER_NAME = "natural_explain_deps"


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One package the engine needs.

    `name` is the distribution pip installs, `module` what the engine imports, and `spec`
    what pip is asked for: the pin from requirements.txt, else the bare name.
    """

    name: str
    module: str
    spec: str


def normalized(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): `Foo_Bar` and `foo-bar` are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_file() -> Path:
    """requirements.txt inside the installed plugin folder, else the clone's at the repository root."""
    bundled = PLUGIN_DIR / REQUIREMENTS_NAME
    return bundled if bundled.is_file() else PLUGIN_DIR.parent / REQUIREMENTS_NAME


def read_specs(path: Path) -> dict[str, str]:
    """The requirement lines of `path` (comments and options dropped), by normalized name."""
    specs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        if match and not line.startswith("-"):
            specs[normalized(match.group(0))] = line
    return specs


def engine_requirements(path: Path | None = None) -> list[Requirement]:
    """Every package in ENGINE_MODULES, pinned as `path` (default: requirements_file()) pins it."""
    specs = read_specs(path or requirements_file())
    return [Requirement(name, module, specs.get(normalized(name), name)) for name, module in ENGINE_MODULES.items()]


def missing_requirements(requirements: list[Requirement] | None = None) -> list[Requirement]:
    """The requirements whose module QGIS's Python cannot find, without importing any of them."""
    return [r for r in requirements or engine_requirements() if find_spec(r.module) is None]


def installed_version(name: str) -> str | None:
    """The version of distribution `name` that QGIS's Python sees, None when it has none."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def dependency_folder() -> Path:
    """The plugin-managed folder in the QGIS profile that the installer fills.

    One subfolder per Python version, because compiled wheels only fit the Python they were
    built for: a QGIS upgrade that brings a new Python gets a clean folder, not broken imports.
    """
    from qgis.core import QgsApplication

    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return Path(QgsApplication.qgisSettingsDirPath()) / "python" / FOLDER_NAME / tag


def use_dependency_folder(folder: Path | None = None) -> bool:
    """Put the dependency folder first on sys.path when it exists; True if it is on sys.path.

    First, so the packages pip resolved together load together (a newer typing_extensions
    beside the torch that needs it). Being first, the folder would shadow QGIS's own copies
    for every plugin, so the installer puts there only what QGIS's Python lacks, plus a newer
    version of one of QGIS's packages only where a pinned requirement needs it (and says so
    before installing); QGIS's own numpy, scipy and matplotlib are still the ones that load.
    """
    folder = folder or dependency_folder()
    if not folder.is_dir():
        return False
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    importlib.invalidate_caches()  # packages just installed into a folder already on sys.path
    return True
