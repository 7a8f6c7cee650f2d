"""Action runners of the demo server: they really run what an action describes.

A runner gets a `RunRequest` (the action, its runner type, the finalized parameters split the way
st2 splits them, and callbacks into the engine) and returns a `RunOutcome` (final status and result).
`cancel()` stops a run in progress; the runner then returns promptly with status `canceled`.
Workflow runners (orquesta) are driven by the engine itself, see `st2tui.demo.runners.workflow`.
"""

from __future__ import annotations

from .base import (
    ABANDONED,
    CANCELABLE_STATES,
    CANCELED,
    CANCELING,
    COMPLETED_STATES,
    DELAYED,
    FAILED,
    PAUSED,
    PAUSING,
    PENDING,
    REQUESTED,
    RESUMING,
    RUNNING,
    SCHEDULED,
    SUCCEEDED,
    TIMEOUT,
    WORKFLOW_RUNNERS,
    InquirerRunner,
    NoopRunner,
    Runner,
    RunOutcome,
    RunRequest,
)
from .python import PythonRunner
from .shell import LocalShellCommandRunner, LocalShellScriptRunner

__all__ = [
    "ABANDONED",
    "CANCELABLE_STATES",
    "CANCELED",
    "CANCELING",
    "COMPLETED_STATES",
    "DELAYED",
    "FAILED",
    "PAUSED",
    "PAUSING",
    "PENDING",
    "REQUESTED",
    "RESUMING",
    "RUNNING",
    "SCHEDULED",
    "SUCCEEDED",
    "TIMEOUT",
    "WORKFLOW_RUNNERS",
    "InquirerRunner",
    "NoopRunner",
    "RunOutcome",
    "RunRequest",
    "Runner",
    "runner_class",
]


def runner_class(runner_name: str) -> type[Runner] | None:
    """The runner class for a runner type name, or None when the demo cannot run it."""
    classes: dict[str, type[Runner]] = {
        "local-shell-cmd": LocalShellCommandRunner,
        "local-shell-script": LocalShellScriptRunner,
        "python-script": PythonRunner,
        "noop": NoopRunner,
        "inquirer": InquirerRunner,
    }
    return classes.get(runner_name)
