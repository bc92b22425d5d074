"""The one exception type for mistakes a user can fix.

The CLI and the plugin show its message as one line and nothing else; any other exception
is a bug and keeps its traceback.
"""


class NaturalExplainError(Exception):
    """A user-fixable problem; the message says what was wrong and how to fix it."""


class RunCanceled(Exception):
    """The user canceled a run; no final-named output was left behind."""
