"""Running the CLIs as a user does, and what a refused run must look like."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, module: str = "core") -> subprocess.CompletedProcess:
    """Run `python -m <module> ...` from the repo root as a user would."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit 2 with exactly one `error:` line holding every needle, and no traceback."""
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
