"""Install missing packages with pip, in a QgsTask, into the plugin's folder of the QGIS profile.

Broken installs are the top complaint about the neighbouring plugins: numpy upgraded under
GDAL, a wheel for the wrong Python, a CPU torch on a GPU machine. So pip runs with the Python
QGIS runs, holds numpy at the version QGIS has, installs into a folder of its own (never into
QGIS's site-packages), and takes torch from the CUDA or CPU index that `nvidia-smi` calls for.

The folder comes first on sys.path for every plugin, so it must hold only what QGIS lacks:
`pip install --target` alone ignores what QGIS has and would put, say, captum's matplotlib
ahead of Debian's. So pip first resolves against QGIS's own packages (`--dry-run --report`,
pip 22.2 or later), and only what that plan installs is fetched, with `--no-deps`. A package
QGIS has appears in the plan only when a pinned version needs another version of it; the
confirmation message says so, and the download size, before anything is fetched.
"""
import dataclasses
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

from qgis.core import Qgis, QgsMessageLog

from core.errors import NaturalExplainError, RunCanceled

from .dependencies import Requirement, installed_version, normalized
from .i18n import tr
from .reporting import TITLE
from .task import EngineTask
from .torch_build import driver_cuda_version, torch_index_url

POLL_S = 0.2
PLANNED_PERCENT = 10.0  # the resolver's dry run; downloading and installing share the rest
COLLECTED_PERCENT = 80.0  # pip reports no total: collecting approaches this, installing is INSTALLING_PERCENT
INSTALLING_PERCENT = 90.0
SIZE_TIMEOUT_S = 10
# When the index does not say how large a file is: the download measured for issue 13's install
# (torch 2.13.0, safetensors and captum with what they pulled in, into Debian 12's QGIS 3.22).
MEASURED_DOWNLOAD_MB = 985


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


def pip_command(python: Path, specs: list[str], target: Path, constraints: Path | None,
                index_args: list[str]) -> list[str]:
    """The pip command line that installs `specs` into `target`: with `constraints`, resolved; without, `--no-deps`.

    The installer passes no constraints: its specs are pip's own plan, every dependency named
    and pinned, so pip must not resolve again (that would fetch QGIS's packages a second time).
    `--upgrade` lets a repair replace what an earlier install left in `target`; no prompts and
    no progress bars, since nobody can answer a prompt from a task and the output goes to a log.
    """
    resolve = ["--no-deps"] if constraints is None else ["--constraint", str(constraints)]
    return [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
            "--upgrade", "--target", str(target), *resolve, *index_args, *specs]


def plan_command(python: Path, specs: list[str], constraints: Path, index_args: list[str]) -> list[str]:
    """The pip command that resolves `specs` against what `python` already has, installing nothing.

    Without `--target`, pip counts QGIS's own packages (and, through PYTHONPATH, the plugin's
    folder) as installed, so the report lists only what is missing or must change version.
    The report goes to stdout; `--quiet` keeps pip's other words off it.
    """
    return [str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-", "--disable-pip-version-check",
            "--no-input", "--progress-bar", "off", "--constraint", str(constraints), *index_args, *specs]


def headless_pip_command(requirements: list[Requirement], target: Path, python: Path | None = None,
                         index_args: list[str] | None = None) -> str:
    """The pip command line, for a terminal, that installs `requirements` into `target` (what Install does there).

    Quoted for the shell of this system; for qgis_process, which has no Install button.
    """
    try:
        python = python or qgis_python()
    except NaturalExplainError:
        python = Path("python3")
    index_args = index_options(requirements) if index_args is None else index_args
    command = [str(python), "-m", "pip", "install", "--upgrade", "--target", str(target), *index_args,
               *(r.spec for r in requirements)]
    return subprocess.list2cmdline(command) if os.name == "nt" else shlex.join(command)


@dataclasses.dataclass(frozen=True)
class PlannedPackage:
    """One distribution pip's plan installs: its version, where it comes from, its size, what it shadows.

    `size` is in bytes, None when the index does not say; `shadows` is the version QGIS's Python
    has of it (pip planned another because a pinned requirement needs it), None when QGIS has none.
    """

    name: str
    version: str
    url: str
    size: int | None = None
    shadows: str | None = None

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"


@dataclasses.dataclass(frozen=True)
class InstallPlan:
    """What Install will fetch, as pip resolved it against QGIS's own packages, and the index options it used."""

    packages: tuple[PlannedPackage, ...]
    index_args: tuple[str, ...] = ()

    @property
    def specs(self) -> list[str]:
        return [p.spec for p in self.packages]

    @property
    def shadowing(self) -> list[PlannedPackage]:
        """The packages that will load instead of QGIS's own copy, because a pinned version needs them."""
        return [p for p in self.packages if p.shadows is not None]

    def download_mb(self) -> tuple[int, bool]:
        """The download in MB (rounded up), and whether it is measured from these files (else MEASURED_DOWNLOAD_MB)."""
        sizes = [p.size for p in self.packages]
        if not sizes or any(size is None for size in sizes):
            return MEASURED_DOWNLOAD_MB, False
        return -(-sum(sizes) // 1_000_000), True

    def describe(self, target: Path) -> str:
        """The sentence shown before the download starts: size, packages, folder, and any shadowed QGIS package."""
        megabytes, measured = self.download_mb()
        size = (tr("{} MB").format(megabytes) if measured
                else tr("about {} MB (the index gives no sizes; measured for a first install)").format(megabytes))
        text = tr("Install will download {} and add {} to {}; QGIS's own packages stay as they are").format(
            size, ", ".join(f"{p.name} {p.version}" for p in self.packages), target)
        shadowing = self.shadowing
        if shadowing:
            text += tr(", except {}: a pinned version needs them, so these copies load instead of QGIS's for every "
                       "plugin").format(", ".join(f"{p.name} {p.version} (QGIS has {p.shadows})" for p in shadowing))
        return text


def plan_from_report(report: dict[str, Any], has_version: Callable[[str], str | None] = installed_version,
                     size_of: Callable[[str], int | None] | None = None,
                     index_args: tuple[str, ...] = ()) -> InstallPlan:
    """The install plan in pip's `--report` (format version 1): each distribution it would install.

    `has_version(name)` is the version QGIS's Python has (None: none), `size_of(url)` a file's size.
    """
    size_of = size_of or download_size
    packages = []
    for item in report.get("install", []):
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        url = item.get("download_info", {}).get("url", "")
        packages.append(PlannedPackage(name, version, url, size_of(url) if url else None, has_version(name)))
    return InstallPlan(tuple(packages), tuple(index_args))


def download_size(url: str) -> int | None:
    """The size in bytes of the file at `url`: a local file's, or the Content-Length a HEAD request answers."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        path = Path(urllib.request.url2pathname(parsed.path))
        return path.stat().st_size if path.is_file() else None
    if parsed.scheme not in ("http", "https"):
        return None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=SIZE_TIMEOUT_S) as answer:
            length = answer.headers.get("Content-Length")
    except (OSError, ValueError):
        return None
    return int(length) if length and length.isdigit() else None


def plan(requirements: list[Requirement], target: Path, index_args: list[str],
         is_canceled: Callable[[], bool]) -> InstallPlan:
    """Ask pip what installing `requirements` beside QGIS's own packages and `target`'s would fetch.

    Raises:
        NaturalExplainError: pip is missing, too old for --report, or could not resolve (its words in the log).
        RunCanceled: the user canceled.
    """
    python = qgis_python()
    with tempfile.TemporaryDirectory() as scratch:
        constraints = Path(scratch) / "constraints.txt"
        constraints.write_text(numpy_constraint(), encoding="utf-8")
        command = plan_command(python, [r.spec for r in requirements], constraints, index_args)
        log(f"resolving against QGIS's packages: {' '.join(command)}\n"
            f"constraints: {constraints.read_text(encoding='utf-8').strip() or 'none'}")
        paths = [str(target), *filter(None, [os.environ.get("PYTHONPATH")])]
        try:
            returncode, report, errors = run_quiet(command, {"PYTHONPATH": os.pathsep.join(paths)}, is_canceled)
        except OSError as exc:
            raise NaturalExplainError(f"could not start QGIS's Python at {python} ({exc})") from exc
    if errors.strip():
        log(errors.strip(), Qgis.Warning if returncode == 0 else Qgis.Critical)
    if returncode != 0:
        raise pip_failure(python, errors, [r.name for r in requirements])
    try:
        return plan_from_report(json.loads(report), index_args=tuple(index_args))
    except (ValueError, KeyError) as exc:
        raise NaturalExplainError(f"QGIS's pip gave no install report ({exc}): it must be pip 22.2 or later; "
                                  f"upgrade it with {python} -m pip install --upgrade pip") from exc


def run_quiet(command: list[str], env: dict[str, str], is_canceled: Callable[[], bool]) -> tuple[int, str, str]:
    """Run `command` with `env` added; its exit status, stdout and stderr. Cancel kills it within POLL_S.

    Raises:
        RunCanceled: `is_canceled()` became true.
    """
    no_window = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                          env={**os.environ, **env}, creationflags=no_window) as process:
        outputs: list[str] = []
        reader = threading.Thread(target=lambda: outputs.extend(process.communicate()), daemon=True)
        reader.start()
        while reader.is_alive():
            if is_canceled():
                process.kill()
                reader.join()
                raise RunCanceled("the install was canceled")
            reader.join(POLL_S)
    return process.returncode, outputs[0], outputs[1]


def pip_failure(python: Path, output: str, names: list[str]) -> NaturalExplainError:
    """The one sentence for a failed pip; its output is already in the log."""
    if "No module named pip" in output:
        return NaturalExplainError(f"QGIS's Python ({python}) has no pip: install pip for it (on Debian or Ubuntu: "
                                   "sudo apt install python3-pip), then click Install again")
    return NaturalExplainError(f"pip could not install {', '.join(names)}: its output is in the Log Messages panel, "
                               "tab Natural Explain")


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


def install(install_plan: InstallPlan, target: Path, progress: Callable[[float], None],
            is_canceled: Callable[[], bool]) -> list[str]:
    """Fetch exactly the plan's packages into `target` (`--no-deps`: pip's plan already holds every dependency).

    Returns:
        The names of the copies of QGIS's own packages pruned (none, unless pip added one anyway).

    Raises:
        NaturalExplainError: pip is missing or failed (the one sentence; its output is in the log).
        RunCanceled: the user canceled.
    """
    python = qgis_python()
    target.mkdir(parents=True, exist_ok=True)
    percent = PLANNED_PERCENT

    def on_line(line: str) -> None:
        nonlocal percent
        log(line)
        percent = pip_progress(line, percent)
        progress(percent)

    if not install_plan.packages:
        log("pip's plan installs nothing: QGIS's Python and the plugin's folder have every package")
        progress(100.0)
        return []
    command = pip_command(python, install_plan.specs, target, None, list(install_plan.index_args))
    log(f"running: {' '.join(command)}")
    try:
        returncode, output = run_pip(command, on_line, is_canceled)
    except OSError as exc:
        raise NaturalExplainError(f"could not start QGIS's Python at {python} ({exc})") from exc
    if returncode != 0:
        log(f"pip failed with exit status {returncode}", Qgis.Critical)
        raise pip_failure(python, output, [p.name for p in install_plan.packages])
    pruned = prune_copies(target)
    if pruned:
        log(f"removed the copies of packages QGIS already has at the same version: {', '.join(pruned)}")
    progress(100.0)
    return pruned


class PlanTask(EngineTask):
    """Asks pip, in the worker thread, what Install would fetch; `on_success` gets the InstallPlan.

    `index_args` None means: torch from the index `nvidia-smi` calls for, the rest from pip's own settings.
    """

    def __init__(self, requirements: list[Requirement], target: Path, on_success: Callable[[InstallPlan], None],
                 on_failure: Callable[[Exception], None], on_canceled: Callable[[], None],
                 index_args: list[str] | None = None) -> None:
        description = tr("Natural Explain: what installing {} needs").format(", ".join(r.name for r in requirements))
        super().__init__(description, self._plan, on_success=on_success, on_failure=on_failure,
                         on_canceled=on_canceled)
        self.requirements = requirements
        self.target = target
        self.index_args = index_args

    def _plan(self, progress: Callable[[float], None], is_canceled: Callable[[], bool]) -> InstallPlan:
        index_args = index_options(self.requirements) if self.index_args is None else self.index_args
        result = plan(self.requirements, self.target, index_args, is_canceled)
        progress(100.0)
        return result


class InstallTask(EngineTask):
    """Runs pip in the worker thread and reports in the GUI thread, like every engine task.

    Installs `install_plan` (what the user saw before confirming), or, without one, plans first.
    Cancel stops pip within POLL_S. pip downloads and unpacks into a scratch folder and only
    moves the packages into `target` at the end, so a cancel before that leaves `target` as it was.
    `index_args` None means: torch from the index `nvidia-smi` calls for, the rest from pip's own settings.
    """

    def __init__(self, requirements: list[Requirement], target: Path,
                 on_success: Callable[[list[Requirement]], None], on_failure: Callable[[Exception], None],
                 on_canceled: Callable[[], None], index_args: list[str] | None = None,
                 install_plan: InstallPlan | None = None) -> None:
        super().__init__(f"Natural Explain: installing {', '.join(r.name for r in requirements)}", self._install,
                         on_success=lambda _: on_success(requirements), on_failure=on_failure, on_canceled=on_canceled)
        self.requirements = requirements
        self.target = target
        self.index_args = index_args
        self.install_plan = install_plan

    def _install(self, progress: Callable[[float], None], is_canceled: Callable[[], bool]) -> list[str]:
        """Worker thread: plan (unless planned already), log what will be fetched, run pip, prune."""
        if self.install_plan is None:
            index_args = index_options(self.requirements) if self.index_args is None else self.index_args
            self.install_plan = plan(self.requirements, self.target, index_args, is_canceled)
        log(self.install_plan.describe(self.target))
        progress(PLANNED_PERCENT)
        return install(self.install_plan, self.target, progress, is_canceled)
