"""The QgsTask that runs one naturalness map off the GUI thread, with progress and Cancel."""
from typing import TYPE_CHECKING, Callable

from qgis.core import QgsTask

from core.errors import RunCanceled

from .explain_request import ExplainRequest, run_explain

if TYPE_CHECKING:
    from core.pipeline import ExplainResult


class ExplainTask(QgsTask):
    """Runs the engine in `run()` (worker thread) and reports in `finished()` (GUI thread).

    The callbacks run on the GUI thread, where adding layers and touching widgets is safe.
    """

    def __init__(self, description: str, request: ExplainRequest,
                 on_success: Callable[["ExplainResult"], None],
                 on_failure: Callable[[Exception], None],
                 on_canceled: Callable[[], None]) -> None:
        super().__init__(description, QgsTask.CanCancel)
        self.request = request
        self._on_success = on_success
        self._on_failure = on_failure
        self._on_canceled = on_canceled
        self.result: "ExplainResult | None" = None
        self.error: Exception | None = None

    def run(self) -> bool:
        """Worker thread: the engine polls `isCanceled` per batch, so Cancel stops it within a batch."""
        try:
            self.result = run_explain(self.request, self.setProgress, self.isCanceled)
        except RunCanceled:
            return False
        except Exception as exc:  # handed to the GUI thread, which logs bugs with their traceback
            self.error = exc
            return False
        return True

    def finished(self, succeeded: bool) -> None:  # noqa: FBT001 (QgsTask's signature)
        """GUI thread: hand the outcome to exactly one callback."""
        if succeeded:
            self._on_success(self.result)
        elif self.error is not None:
            self._on_failure(self.error)
        else:
            self._on_canceled()
