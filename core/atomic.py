"""Write every output under a temporary name and rename it into place.

A cancel, a crash or a full disk then never leaves a half-written file under the final name.
"""
import contextlib
import errno
import json
import os
from pathlib import Path
from typing import Any, Iterator

from core.errors import NaturalExplainError


def temporary_name(final: Path) -> Path:
    """The hidden sibling a file is written to before it is renamed to `final`."""
    return final.with_name(f".{final.stem}.partial{final.suffix}")


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `final`; rename it to `final` only if the block succeeds.

    Raises:
        NaturalExplainError: when the disk is full or the folder cannot be written.
    """
    final = Path(final)
    tmp = temporary_name(final)
    try:
        yield tmp
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise NaturalExplainError(f"the disk is full while writing {final}: free some space and run again") from exc
        if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
            raise NaturalExplainError(f"cannot write {final}: choose an output folder you may write to") from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: str | os.PathLike, payload: Any) -> None:
    """Write `payload` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
