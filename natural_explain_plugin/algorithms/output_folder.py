"""Write a Processing output through a hidden sibling folder, so OUTPUT appears whole or not at all.

The engine writes a run folder; the algorithm wants one file at a path the user chose. The
sibling folder sits on the same file system as OUTPUT, so the final move is an atomic rename.
"""
import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from core.atomic import write_json
from core.errors import NaturalExplainError


@contextlib.contextmanager
def hidden_run_folder(output: Path) -> Iterator[Path]:
    """Yield a new hidden folder beside `output`; it is removed afterwards, whatever happened.

    Raises:
        NaturalExplainError: when the folder of `output` cannot be written.
    """
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f".{output.stem}.", suffix=".run", dir=output.parent))
    except OSError as exc:
        raise NaturalExplainError(f"cannot write to {output.parent} ({exc.strerror}): choose an output folder you may write to") from exc
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_json_path(output: Path) -> Path:
    """Where the run record of `output` goes: `<stem>.run.json` beside it."""
    return output.with_name(f"{output.stem}.run.json")


def publish(raster: Path, run_json: Path, output: Path) -> None:
    """Rename the engine's map onto `output`, and write its run record beside it naming `output` alone.

    The record must not point into the hidden folder, which is gone once the algorithm ends;
    the engine names each map by its file's stem (naturalness, confidence).
    """
    record = json.loads(run_json.read_text())
    record["outputs"] = {raster.stem: str(output.resolve())}
    os.replace(raster, output)
    write_json(run_json_path(output), record)
