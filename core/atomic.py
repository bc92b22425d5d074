"""Write every output under a temporary name and rename it into place.

A cancel, a crash or a full disk then never leaves a half-written file under the final name.
Each temporary name holds the writer's process id and a random token, so two runs never share
one, and a later write into the folder removes those whose process is gone (kill -9).
"""
import contextlib
import errno
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any, Iterator

from core.errors import NaturalExplainError

_PARTIAL = re.compile(r"^\..*\.(\d+)-[0-9a-f]+\.partial(\.[^.]*)?$")


def temporary_name(final: Path) -> Path:
    """A hidden sibling of `final`, unique to this call, that a file is written to before the rename."""
    return final.with_name(f".{final.stem}.{os.getpid()}-{secrets.token_hex(4)}.partial{final.suffix}")


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (one we may not signal exists too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_partials(folder: Path) -> None:
    """Delete the temporary files in `folder` whose writing process no longer exists."""
    with contextlib.suppress(OSError):
        for path in folder.iterdir():
            match = _PARTIAL.match(path.name)
            if match and path.is_file() and not _alive(int(match.group(1))):
                path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `final`; rename it to `final` only if the block succeeds.

    Raises:
        NaturalExplainError: when the disk is full or the folder cannot be written.
    """
    final = Path(final)
    tmp = temporary_name(final)
    remove_stale_partials(final.parent)
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
