"""Make the engine importable in both layouts the plugin lives in.

In a clone, `core/` sits beside the plugin folder on the repository root, which is on
sys.path. In the installed zip, `core/` sits inside the plugin folder, which QGIS does not
put on sys.path; there the plugin folder goes first, so the bundled engine wins over any
other package that happens to be called `core`.
"""
import sys
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent


def ensure_core_importable() -> None:
    """Put the plugin folder on sys.path when it holds a bundled `core/`."""
    if (PLUGIN_DIR / "core").is_dir() and str(PLUGIN_DIR) not in sys.path:
        sys.path.insert(0, str(PLUGIN_DIR))
