"""Install missing packages with pip, in a QgsTask, into the plugin's folder of the QGIS profile.

Broken installs are the top complaint about the neighbouring plugins: numpy upgraded under
GDAL, a wheel for the wrong Python, a CPU torch on a GPU machine. So pip runs with the Python
QGIS runs, holds numpy at the version QGIS has, installs into a folder of its own (never into
QGIS's site-packages), and takes torch from the CUDA or CPU index that `nvidia-smi` calls for.
"""
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from qgis.core import Qgis, QgsMessageLog

from core.errors import NaturalExplainError, RunCanceled

from .dependencies import Requirement, installed_version, normalized
from .reporting import TITLE
from .task import EngineTask
from .torch_build import driver_cuda_version, torch_index_url

POLL_S = 0.2
COLLECTED_PERCENT = 80.0  # pip reports no total: collecting approaches this, installing is INSTALLING_PERCENT
INSTALLING_PERCENT = 90.0


def qgis_python(executable: str = sys.executable, exec_prefix: str = sys.exec_prefix,
                version: tuple[int, int] = sys.version_info[:2]) -> Path:
    """The Python interpreter QGIS runs, as a program that `-m pip` can be given to.

    Inside QGIS, sys.executable cannot be trusted: on Windows it is qgis-bin.exe (OSGeo4W and
    the standalone installer) and on macOS the app binary, so `sys.executable -m pip` would
    start a second QGIS; on Linux the embedded interpreter looks `python3` up on PATH, which
    can be another Python altogether (a pyenv shim, a conda env) whose pip would install for
    the wrong Python. The interpreter QGIS embeds lives in sys.exec_prefix: bin/python3.X
    there on Linux and macOS, python.exe on Windows (Scripts/python.exe in a venv).

    Raises:
        NaturalExplainError: when no interpreter is found.
    """
    prefix, (major, minor), current = Path(exec_prefix), version, Path(executable)
    candidates = [prefix / "bin" / f"python{major}.{minor}", prefix / "python.exe", prefix / "Scripts" / "python.exe"]
    if current.name.lower().startswith("python"):
        candidates.append(current)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise NaturalExplainError(f"could not find the Python that QGIS runs (looked in {prefix}): install the packages "
                              "with that Python's pip by hand; Copy diagnostics in the plugin's menu lists them")


def index_options(requirements: list[Requirement], system: str | None = None) -> list[str]:
    """pip's index options for torch's CUDA or CPU build; none when torch is not being installed."""
    if "torch" not in {normalized(r.name) for r in requirements}:
        return []
    url = torch_index_url(system or platform.system(), driver_cuda_version())
    return [] if url is None else ["--extra-index-url", url]


def pip_command(python: Path, specs: list[str], target: Path, constraints: Path, index_args: list[str]) -> list[str]:
    """The pip command line that installs `specs` into `target`, held to `constraints`.

    `--upgrade` lets a repair replace what an earlier install left in `target`; no prompts and
    no progress bars, since nobody can answer a prompt from a task and the output goes to a log.
    """
    return [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
            "--upgrade", "--target", str(target), "--constraint", str(constraints), *index_args, *specs]


def numpy_constraint() -> str:
    """The constraints file's text: numpy at exactly the version QGIS's GDAL and friends were built for."""
    version = installed_version("numpy")
    return "" if version is None else f"numpy=={version}\n"


def pip_progress(line: str, percent: float) -> float:
    """The task's progress after pip printed `line`.

    pip reports no total, so each package it collects closes a fifth of the gap to
    COLLECTED_PERCENT, and installing jumps to INSTALLING_PERCENT.
    """
    line = line.strip()
    if line.startswith(("Collecting ", "Downloading ", "Processing ")):
        return percent + (COLLECTED_PERCENT - percent) / 5
    if line.startswith("Installing collected packages"):
        return INSTALLING_PERCENT
    return percent


def run_pip(command: list[str], on_line: Callable[[str], None], is_canceled: Callable[[], bool]) -> tuple[int, str]:
    """Run `command`, handing each output line to `on_line`; returns the exit status and the output.

    A reader thread drains the output, so a download that prints nothing for minutes never
    keeps the loop from seeing Cancel.

    Raises:
        RunCanceled: pip was stopped because `is_canceled()` became true.
    """
    lines: list[str] = []

    def read(stream) -> None:  # noqa: ANN001 (a text pipe)
        for line in stream:
            lines.append(line.rstrip())
            on_line(lines[-1])

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines reach the log as pip prints them
    no_window = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console flashing up on Windows
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                          env=env, creationflags=no_window) as process:
        reader = threading.Thread(target=read, args=(process.stdout,), daemon=True)
        reader.start()
        while process.poll() is None:
            if is_canceled():
                process.kill()
                reader.join()
                raise RunCanceled("the install was canceled")
            time.sleep(POLL_S)
        reader.join()
    return process.returncode, "\n".join(lines)


def prune_copies(target: Path) -> list[str]:
    """Remove from `target` each distribution QGIS's Python already has at the same version.

    pip's --target ignores what is installed, so it fetches again the dependencies QGIS has
    (numpy above all, held at QGIS's version by the constraint). A second copy first on
    sys.path would be the one that loads; with the same version nothing is lost by removing it.

    Returns:
        The names of the distributions removed.
    """
    target = target.resolve()
    elsewhere: dict[str, str] = {}
    for dist in importlib.metadata.distributions(path=[p for p in sys.path if p and Path(p).resolve() != target]):
        elsewhere.setdefault(normalized(dist.metadata["Name"]), dist.version)  # the first on sys.path is what loads
    removed = []
    for dist in importlib.metadata.distributions(path=[str(target)]):
        name = dist.metadata["Name"]
        if elsewhere.get(normalized(name)) == dist.version:
            remove_distribution(dist, target)
            removed.append(name)
    return removed


def remove_distribution(dist: importlib.metadata.Distribution, target: Path) -> None:
    """Delete the files `dist` recorded inside `target`, then the folders that leaves empty."""
    folders = set()
    for file in dist.files or []:
        path = Path(dist.locate_file(file)).resolve()
        if path.is_relative_to(target) and path != target:
            path.unlink(missing_ok=True)
            folders.update(p for p in path.parents if p.is_relative_to(target) and p != target)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        shutil.rmtree(folder / "__pycache__", ignore_errors=True)
        try:
            folder.rmdir()
        except OSError:
            pass  # still holds another distribution's files


def log(message: str, level: Qgis.MessageLevel = Qgis.Info) -> None:
    """Write to the Log Messages panel, tab Natural Explain (safe from the worker thread)."""
    QgsMessageLog.logMessage(message, TITLE, level)


def install(requirements: list[Requirement], target: Path, index_args: list[str],
            progress: Callable[[float], None], is_canceled: Callable[[], bool]) -> list[str]:
    """Run pip for `requirements` into `target`, log everything, and prune copies of QGIS's own packages.

    Returns:
        The names of the copies pruned.

    Raises:
        NaturalExplainError: pip is missing or failed (the one sentence; its output is in the log).
        RunCanceled: the user canceled.
    """
    python = qgis_python()
    target.mkdir(parents=True, exist_ok=True)
    percent = 0.0

    def on_line(line: str) -> None:
        nonlocal percent
        log(line)
        percent = pip_progress(line, percent)
        progress(percent)

    with tempfile.TemporaryDirectory() as scratch:
        constraints = Path(scratch) / "constraints.txt"
        constraints.write_text(numpy_constraint(), encoding="utf-8")
        command = pip_command(python, [r.spec for r in requirements], target, constraints, index_args)
        log(f"running: {' '.join(command)}\nconstraints: {constraints.read_text(encoding='utf-8').strip() or 'none'}")
        try:
            returncode, output = run_pip(command, on_line, is_canceled)
        except OSError as exc:
            raise NaturalExplainError(f"could not start QGIS's Python at {python} ({exc})") from exc
    if returncode != 0:
        log(f"pip failed with exit status {returncode}", Qgis.Critical)
        if "No module named pip" in output:
            raise NaturalExplainError(f"QGIS's Python ({python}) has no pip: install pip for it (on Debian or Ubuntu: "
                                      "sudo apt install python3-pip), then click Install again")
        raise NaturalExplainError(f"pip could not install {', '.join(r.name for r in requirements)}: its output is in "
                                  "the Log Messages panel, tab Natural Explain")
    pruned = prune_copies(target)
    if pruned:
        log(f"removed the copies of packages QGIS already has at the same version: {', '.join(pruned)}")
    progress(100.0)
    return pruned


class InstallTask(EngineTask):
    """Runs pip in the worker thread and reports in the GUI thread, like every engine task.

    Cancel stops pip within POLL_S. pip downloads and unpacks into a scratch folder and only
    moves the packages into `target` at the end, so a cancel before that leaves `target` as it was.
    `index_args` None means: torch from the index `nvidia-smi` calls for, the rest from pip's own settings.
    """

    def __init__(self, requirements: list[Requirement], target: Path,
                 on_success: Callable[[list[Requirement]], None], on_failure: Callable[[Exception], None],
                 on_canceled: Callable[[], None], index_args: list[str] | None = None) -> None:
        super().__init__(f"Natural Explain: installing {', '.join(r.name for r in requirements)}", self._install,
                         on_success=lambda _: on_success(requirements), on_failure=on_failure, on_canceled=on_canceled)
        self.requirements = requirements
        self.target = target
        self.index_args = index_args

    def _install(self, progress: Callable[[float], None], is_canceled: Callable[[], bool]) -> list[str]:
        """Worker thread: choose the torch build, run pip, prune."""
        index_args = index_options(self.requirements) if self.index_args is None else self.index_args
        return install(self.requirements, self.target, index_args, progress, is_canceled)
