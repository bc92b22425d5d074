"""The fault suite's checks: a hostile or careless user gets one line, exit 2, and loses nothing.

Cases run the CLIs in-process (torch is imported once for the whole suite); only the kill -9 and
concurrency cases start real processes.
"""
import contextlib
import dataclasses
import io
from pathlib import Path

EXIT_USER_ERROR = 2


@dataclasses.dataclass
class Outcome:
    """What one command did: its exit status and what it printed."""

    code: int
    stdout: str
    stderr: str


def run_main(*args: str, module: str = "core") -> Outcome:
    """Run `python -m <module> ARGS` in this process and capture its exit status and output."""
    if module == "core":
        from core.__main__ import main
    else:
        from train.__main__ import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's own exit
            code = exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    return Outcome(code, out.getvalue(), err.getvalue())


def assert_refused(outcome: Outcome, *needles: str) -> str:
    """Exit 2, exactly one `error:` line that holds every needle, nothing else alarming; returns the line."""
    assert outcome.code == EXIT_USER_ERROR, (outcome.code, outcome.stderr)
    assert "Traceback" not in outcome.stderr and "Exception ignored" not in outcome.stderr, outcome.stderr
    lines = [line for line in outcome.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, outcome.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (hidden ones too) with its bytes, to prove a refused run changed nothing."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def partial_files(folder: Path) -> list[Path]:
    """Temporary files a run may leave only while it is alive."""
    return [p for p in folder.rglob("*") if ".partial" in p.name or p.name.startswith(".run-")] if folder.exists() else []
