"""The QgsTask that runs engine work off the GUI thread, with progress and Cancel; each request's own task
lives beside its request (explain_request, train_task)."""
import time
from typing import Any, Callable

from qgis.core import QgsTask

from core.errors import RunCanceled

Progress = Callable[[float], None]
IsCanceled = Callable[[], bool]


class EngineTask(QgsTask):
    """Runs `work(progress, is_canceled)` in `run()` (worker thread) and reports in `finished()` (GUI thread).

    The callbacks run on the GUI thread, where adding layers and touching widgets is safe.
    Every task keeps itself referenced until it has reported: the task manager owns only the
    C++ side, so a task nobody else holds (the dock's Export button drops the one it starts)
    would lose its Python run() and finished() to garbage collection and never report.
    """

    _unfinished: set["EngineTask"] = set()

    def __init__(self, description: str, work: Callable[[Progress, IsCanceled], Any],
                 on_success: Callable[[Any], None],
                 on_failure: Callable[[Exception], None],
                 on_canceled: Callable[[], None]) -> None:
        super().__init__(description, QgsTask.CanCancel)
        self._work = work
        self._on_success = on_success
        self._on_failure = on_failure
        self._on_canceled = on_canceled
        self.result: Any = None
        self.error: Exception | None = None
        self.started_at: float | None = None  # time.perf_counter() when run() began (after any wait in the queue)
        self.ended_at: float | None = None
        EngineTask._unfinished.add(self)

    def run(self) -> bool:
        """Worker thread: the engine polls `isCanceled` per batch, so Cancel stops it within a batch."""
        self.started_at = time.perf_counter()
        try:
            self.result = self._work(self.setProgress, self.isCanceled)
        except RunCanceled:
            return False
        except Exception as exc:  # handed to the GUI thread, which logs bugs with their traceback
            self.error = exc
            return False
        return True

    def elapsed_s(self) -> float | None:
        """Seconds since run() began, up to the end of finished(); None while it has not begun."""
        if self.started_at is None:
            return None
        return (self.ended_at or time.perf_counter()) - self.started_at

    def finished(self, succeeded: bool) -> None:  # noqa: FBT001 (QgsTask's signature)
        """GUI thread: hand the outcome to exactly one callback."""
        EngineTask._unfinished.discard(self)
        try:
            if succeeded:
                self._on_success(self.result)
            elif self.error is not None:
                self._on_failure(self.error)
            else:
                self._on_canceled()
        finally:
            self.ended_at = time.perf_counter()
