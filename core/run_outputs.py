"""A run's outputs appear in its folder together or not at all, and never over its inputs.

Every file of a run is written into a hidden per-run staging folder inside the output
folder (same file system, so the final moves are renames). A lock on the output folder
keeps a second run out while one is writing. Committing removes the old run.json first, so
a record never sits beside files of another run, moves the maps in and the new run.json last.
A run killed during those renames leaves a commit marker; the next run into the folder
finishes the moves before it starts, and removes the staging folders of runs that died earlier.
"""
import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Iterable

from core.errors import NaturalExplainError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

LOCK_NAME = ".natural-explain.lock"
STAGING_PREFIX = ".run-"
COMMIT_MARKER = ".commit"
RECORD_NAME = "run.json"


def writable_dir(out_dir: Path) -> None:
    """Create `out_dir` if needed and check it can be written.

    Raises:
        NaturalExplainError: when it cannot.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NaturalExplainError(f"cannot create the output folder {out_dir} ({exc.strerror}): choose another folder") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise NaturalExplainError(f"cannot write to the output folder {out_dir}: choose a folder you may write to")


def writable_file(path: Path, inputs: Iterable[Path] = ()) -> None:
    """Fail before any work when the file `path` cannot be written or would replace one of `inputs`.

    Creates its folder when missing, as the commands that write folders do.

    Raises:
        NaturalExplainError: for a folder given as the file, an unwritable folder or an input file.
    """
    if path.is_dir():
        raise NaturalExplainError(f"--out {path} is a folder: give the path of the file to write")
    writable_dir(path.parent)
    refuse_overwriting_inputs([path], inputs)


def refuse_overwriting_inputs(outputs: Iterable[Path], inputs: Iterable[Path]) -> None:
    """Refuse a run whose output would replace one of its own input files.

    Raises:
        NaturalExplainError: naming the clashing file.
    """
    protected = {Path(p).resolve() for p in inputs}
    for output in outputs:
        if output.resolve() in protected:
            raise NaturalExplainError(f"the output {output} would overwrite the input file of the same name: "
                                      "choose another --out folder")


def _move_in(staging: Path, out_dir: Path) -> None:
    """Finish a commit: drop the old record, rename every staged file in (the record last), drop the staging folder.

    The commit marker holds the record's name (run.json, ood.json, evaluation.json).
    """
    record = (staging / COMMIT_MARKER).read_text().strip() or RECORD_NAME
    staged = sorted(p for p in staging.iterdir() if p.name != COMMIT_MARKER)
    if any(p.name == record for p in staged):
        (out_dir / record).unlink(missing_ok=True)
    for path in sorted(staged, key=lambda p: p.name == record):
        os.replace(path, out_dir / path.name)
    shutil.rmtree(staging)


def recover(out_dir: Path) -> None:
    """Complete the commits of runs killed mid-move and delete the staging folders of runs that died before.

    Only called while holding the folder's lock, so no staging folder here belongs to a live run.
    """
    for staging in sorted(out_dir.glob(f"{STAGING_PREFIX}*")):
        if not staging.is_dir():
            continue
        if (staging / COMMIT_MARKER).exists():
            _move_in(staging, out_dir)
        else:
            shutil.rmtree(staging, ignore_errors=True)


def _try_lock(fd: int) -> bool:
    """Take the lock on the open file `fd` without waiting; False when another process holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def acquire_lock(path: Path) -> int | None:
    """Lock file `path` for this process; returns its descriptor, or None when another run holds it.

    The file is removed on release, so a run that opened it just before must check, once it holds
    the lock, that the name still points at the file it locked.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if _try_lock(fd) and os.fstat(fd).st_ino == os.stat(path).st_ino:
            return fd
    except FileNotFoundError:
        pass
    os.close(fd)
    return None


def release_lock(fd: int, path: Path) -> None:
    """Remove the lock file while still holding it (no lock file is left in the user's folder), then let go."""
    with contextlib.suppress(OSError):
        path.unlink()
    os.close(fd)


class RunOutputs:
    """The output folder of one run: lock, staging paths, and an all-or-nothing commit.

    Use as a context manager; write each output, and last the run's record (`record`, which
    describes the others), to `staged(name)`, then call `commit()`.
    Leaving the block without a commit (error, cancel) removes everything staged.
    """

    def __init__(self, out_dir: Path, names: Iterable[str], inputs: Iterable[Path], record: str = RECORD_NAME) -> None:
        self.out_dir = Path(out_dir)
        self.record = record
        self.names = [*names, record]
        refuse_overwriting_inputs((self.out_dir / name for name in self.names), inputs)
        self.staging = self.out_dir / f"{STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self._lock_path = self.out_dir / LOCK_NAME
        self._lock_fd: int | None = None

    def __enter__(self) -> "RunOutputs":
        writable_dir(self.out_dir)
        self._lock_fd = acquire_lock(self._lock_path)
        if self._lock_fd is None:
            raise NaturalExplainError(f"another run is writing to {self.out_dir}: wait for it to finish "
                                      "or choose another output folder")
        try:
            recover(self.out_dir)
            self.staging.mkdir()
        except BaseException:
            release_lock(self._lock_fd, self._lock_path)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not (self.staging / COMMIT_MARKER).exists():  # a started commit is left for the next run to finish
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(self.staging)
        release_lock(self._lock_fd, self._lock_path)

    def staged(self, name: str) -> Path:
        """Where the output `name` is written during the run."""
        return self.staging / name

    def final(self, name: str) -> Path:
        """Where the output `name` lies once the run is committed."""
        return self.out_dir / name

    def commit(self) -> None:
        """Move every staged file into the output folder, the run record last."""
        (self.staging / COMMIT_MARKER).write_text(self.record)
        try:
            _move_in(self.staging, self.out_dir)
        except OSError as exc:
            raise NaturalExplainError(f"cannot move the outputs into {self.out_dir} ({exc.strerror}): close them in "
                                      "other programs; the next run into that folder finishes the move") from exc
