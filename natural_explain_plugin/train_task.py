"""Run `python -m train classifier` as a child process: in a QgsTask for the panel, inline for Processing.

The child's output is read line by line (see train_request); progress comes from its epoch
bars, each finished epoch's accuracy goes to the log (Log Messages, tab Natural Explain, and
the caller's `on_log`), and its one-line `error:` becomes a NaturalExplainError. Cancel sends
the child SIGTERM, which train takes as Ctrl+C (it keeps the last checkpoint and exits with
130); not SIGINT, which a child of a non-interactive background job (QGIS started by a script's
`&`, CI) inherits ignored. On Windows, where a console-less child cannot be sent Ctrl+C, it is
terminated, which leaves the checkpoints of the finished epochs just the same. Either way the next run with Resume carries on.
"""
import dataclasses
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

from qgis.core import Qgis, QgsMessageLog
from qgis.PyQt.QtCore import pyqtSignal

from core.errors import NaturalExplainError, RunCanceled

from .dependencies import dependency_folder
from .i18n import tr
from .reporting import TITLE
from .task import EngineTask
from .train_request import (
    POLL_S,
    STOP_WAIT_S,
    TrainProgress,
    TrainRequest,
    checkpoint_epochs,
    child_environment,
    interrupt_flags,
    train_command,
)

LogLine = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """A finished training run: the model's sidecar, its last held-out accuracy, the epoch lines, the seconds."""

    model_json: Path
    accuracy: float | None
    epochs: list[str]
    seconds: float


def log(message: str, level: Qgis.MessageLevel = Qgis.Info) -> None:
    QgsMessageLog.logMessage(message, TITLE, level)


def _stop(process: subprocess.Popen) -> None:
    """Ask the child to stop as Ctrl+C would (SIGTERM; TerminateProcess on Windows); kill it after STOP_WAIT_S."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_training(request: TrainRequest, progress: Callable[[float], None], is_canceled: Callable[[], bool],
                 on_log: LogLine | None = None, python: Path | None = None) -> TrainResult:
    """Run the child for `request` to its end, reporting progress and each epoch.

    Raises:
        NaturalExplainError: the child's one-line error, or that it could not start or crashed.
        RunCanceled: `is_canceled()` became true; the finished epochs' checkpoints are kept.
    """
    command = train_command(request, python)
    try:
        deps = dependency_folder()
    except Exception:  # noqa: BLE001 (no QGIS settings folder: a bare test set-up)
        deps = None
    log(tr("training: {0}").format(subprocess.list2cmdline(command)))
    state = TrainProgress()

    def read(stream) -> None:  # noqa: ANN001 (a text pipe, universal newlines: tqdm's \r ends a line too)
        for line in stream:
            shown = state.read(line)
            progress(state.percent)
            if shown:
                log(shown, Qgis.Warning if shown.startswith("error:") else Qgis.Info)
                if on_log is not None:
                    on_log(shown)

    started = time.perf_counter()
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   encoding="utf-8", errors="replace", env=child_environment(deps),
                                   creationflags=interrupt_flags())
    except OSError as exc:
        raise NaturalExplainError(tr("could not start QGIS's Python at {0} ({1})").format(command[0], exc)) from exc
    with process:
        reader = threading.Thread(target=read, args=(process.stdout,), daemon=True)
        reader.start()
        canceled = False
        while process.poll() is None:
            if is_canceled():
                canceled = True
                _stop(process)
                break
            time.sleep(POLL_S)
        reader.join(10)
    if canceled or process.returncode == 130:
        kept = checkpoint_epochs(request.checkpoint_folder)
        log(tr("training canceled; {0} finished epoch(s) kept in {1}").format(kept, request.checkpoint_folder))
        raise RunCanceled(tr("training canceled"))
    if state.error is not None:
        raise NaturalExplainError(state.error)
    if process.returncode != 0 or state.model_json is None:
        tail = " | ".join(state.lines[-3:])
        raise NaturalExplainError(tr("training stopped with exit status {0} ({1}): its output is in the Log Messages "
                                     "panel, tab Natural Explain").format(process.returncode, tail or tr("no output")))
    return TrainResult(state.model_json, state.last_accuracy, list(state.epochs), time.perf_counter() - started)


class TrainTask(EngineTask):
    """One training run in the background, with progress, each epoch in the log and Cancel.

    `logged` carries each epoch line (and the result or error line) to the GUI thread, where
    the panel shows it; the worker thread never touches a widget.
    """

    logged = pyqtSignal(str)

    def __init__(self, description: str, request: TrainRequest, on_success: Callable[[TrainResult], None],
                 on_failure: Callable[[Exception], None], on_canceled: Callable[[], None],
                 python: Path | None = None) -> None:
        super().__init__(description,
                         lambda progress, is_canceled: run_training(request, progress, is_canceled,
                                                                    self.logged.emit, python),
                         on_success, on_failure, on_canceled)
        self.request = request
