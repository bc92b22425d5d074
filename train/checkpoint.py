"""Per-epoch training checkpoints that can be resumed and never unpickle code.

A checkpoint is a plain dict of tensors, numbers, strings and lists, saved with torch.save
and read back with `torch.load(..., weights_only=True)` only (the house rule).
"""
import argparse
import pickle
import re
import sys
from pathlib import Path
from typing import Any

import torch

from core.atomic import atomic_path
from core.errors import NaturalExplainError

_NAME = "epoch_{epoch:04d}.pt"
_PATTERN = re.compile(r"epoch_(\d{4,})\.pt")


def checkpoint_path(workdir: Path, epoch: int) -> Path:
    """Where the checkpoint after `epoch` (1-based) lives."""
    return workdir / _NAME.format(epoch=epoch)


def save_checkpoint(workdir: Path, epoch: int, state: dict[str, Any]) -> Path:
    """Write the state after `epoch` atomically, so a crash never leaves a half checkpoint.

    Args:
        workdir: the checkpoint folder (created if needed).
        epoch: the number of finished epochs.
        state: plain data and tensors only.

    Returns:
        The checkpoint path.

    Raises:
        NaturalExplainError: when the folder cannot be written.
    """
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NaturalExplainError(f"cannot create the checkpoint folder {workdir} ({exc.strerror}): choose another --workdir") from exc
    path = checkpoint_path(workdir, epoch)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def latest_checkpoint(workdir: Path) -> Path | None:
    """The checkpoint with the highest epoch in `workdir`, or None."""
    if not workdir.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in workdir.iterdir() if (m := _PATTERN.fullmatch(p.name))]
    return max(found)[1] if found else None


def _checkpoints(workdir: Path) -> list[Path]:
    return sorted(p for p in workdir.iterdir() if _PATTERN.fullmatch(p.name)) if workdir.is_dir() else []


def check_workdir(workdir: Path, resume: bool, fresh: bool) -> None:
    """Before any work: refuse to start a new run over an earlier run's checkpoints unless told what to do with them.

    Args:
        workdir: the checkpoint folder.
        resume: --resume, which continues the earlier run (resume_state checks it is the same run).
        fresh: --fresh, which discards them (see discard_earlier_run).

    Raises:
        NaturalExplainError: when `workdir` holds checkpoints and neither --resume nor --fresh was given.
    """
    if not resume and not fresh and _checkpoints(workdir):
        raise NaturalExplainError(f"{workdir} holds checkpoints of an earlier run: add --resume to continue it "
                                  "or --fresh to discard them")


def discard_earlier_run(workdir: Path, resume: bool) -> None:
    """Just before a new (not resumed) run trains: remove the earlier run's checkpoints, saying so on stderr."""
    if resume:
        return
    found = _checkpoints(workdir)
    if found:
        clear_checkpoints(workdir)
        print(f"--fresh: discarded {len(found)} checkpoint(s) of an earlier run in {workdir}", file=sys.stderr)


def clear_checkpoints(workdir: Path) -> None:
    """Remove earlier checkpoints, so a fresh run never resumes from a stale one."""
    if workdir.is_dir():
        for path in workdir.iterdir():
            if _PATTERN.fullmatch(path.name):
                path.unlink()


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint without unpickling code.

    Raises:
        NaturalExplainError: when the file is corrupt or holds anything but plain data.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as exc:
        raise NaturalExplainError(f"checkpoint {path} cannot be read ({str(exc).splitlines()[0]}); "
                                  "delete it to start over without --resume") from exc


def run_fingerprint(args: argparse.Namespace, digest: str) -> dict[str, Any]:
    """What must not change between a run and its resume: every option but epochs, device and how to treat
    an earlier run (--resume, --fresh), and the data.

    Args:
        args: the parsed options, defaults resolved.
        digest: the data hash.

    Returns:
        Plain data to store in, and compare with, every checkpoint.
    """
    options = {k: str(v) for k, v in sorted(vars(args).items()) if k not in ("epochs", "resume", "fresh", "device", "command")}
    return {"options": options, "data_hash": digest}


def resume_state(workdir: Path, fingerprint: dict[str, Any]) -> dict[str, Any]:
    """The latest checkpoint's state, if it was made by this very run.

    Args:
        workdir: the checkpoint folder.
        fingerprint: the current run's fingerprint (see run_fingerprint).

    Returns:
        The checkpoint's state.

    Raises:
        NaturalExplainError: when there is no checkpoint, it cannot be read, or other data or options made it.
    """
    path = latest_checkpoint(workdir)
    if path is None:
        raise NaturalExplainError(f"--resume given but {workdir} holds no checkpoint; drop --resume to start afresh")
    state = load_checkpoint(path)
    if state.get("fingerprint") != fingerprint:
        raise NaturalExplainError(f"checkpoint {path} was made with other data or options; "
                                  "rerun with the same arguments, or drop --resume to start afresh")
    return state
