"""Runs queue one after another: each run already uses every core (or the whole GPU).

Two runs at once would only fight over the same cores and finish later than one after the
other. A run queued behind another waits in QGIS's task manager on hold, so it shows in the
task list and its Cancel works at once; it starts when the run before it ends.
"""
from typing import Iterator

from qgis.core import QgsApplication, QgsTask

from .explain_request import ExplainTask


class RunQueue:
    """The plugin's runs in the order they were asked for; the oldest one runs, the others wait."""

    def __init__(self) -> None:
        self._tasks: list[ExplainTask] = []

    def __iter__(self) -> Iterator[ExplainTask]:
        return iter(list(self._tasks))

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, task: ExplainTask) -> None:
        """Hand `task` to the task manager, on hold while an earlier run is still under way."""
        if self._tasks:
            task.hold()
        self._tasks.append(task)
        task.taskCompleted.connect(lambda: self._ended(task))
        task.taskTerminated.connect(lambda: self._ended(task))
        QgsApplication.taskManager().addTask(task)

    def _ended(self, task: ExplainTask) -> None:
        """Forget `task` and let the oldest waiting run start."""
        if task in self._tasks:
            self._tasks.remove(task)
        waiting = [t for t in self._tasks if t.status() == QgsTask.OnHold]
        if waiting and len(waiting) == len(self._tasks):
            waiting[0].unhold()
