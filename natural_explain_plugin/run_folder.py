"""Names for one run's results: its folder on disk and its group in the layer tree.

Both carry the layer name and the start time, so the user can match a group to its folder.
"""
import re
from datetime import datetime
from pathlib import Path

GROUP_PREFIX = "Natural Explain"


def safe_file_stem(name: str) -> str:
    """`name` with every character that some file system rejects replaced by '_'."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "layer"


def new_run_folder(base: Path, layer_name: str, started: datetime) -> Path:
    """A folder path `<base>/<layer>_<YYYYmmdd-HHMMSS>` that does not exist yet.

    Two runs in the same second get `_2`, `_3`, ... so one never overwrites the other.
    """
    stem = f"{safe_file_stem(layer_name)}_{started:%Y%m%d-%H%M%S}"
    folder, n = base / stem, 1
    while folder.exists():
        n += 1
        folder = base / f"{stem}_{n}"
    return folder


def group_name(layer_name: str, started: datetime) -> str:
    """The layer-tree group that holds one run's result layers."""
    return f"{GROUP_PREFIX} – {layer_name} – {started:%Y-%m-%d %H:%M:%S}"
