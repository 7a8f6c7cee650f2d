"""What every runner shares: statuses, the run request and outcome, the runner base and trivial runners.

Action runners of the demo server really run what an action describes.

A runner gets a `RunRequest` (the action, its runner type, the finalized parameters split the way
st2 splits them, and callbacks into the engine) and returns a `RunOutcome` (final status and result).
`cancel()` stops a run in progress; the runner then returns promptly with status `canceled`.
Workflow runners (orquesta) are driven by the engine itself, see `st2tui.demo.runners.workflow`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Statuses (st2common.constants.action).
REQUESTED = "requested"
SCHEDULED = "scheduled"
DELAYED = "delayed"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
TIMEOUT = "timeout"
ABANDONED = "abandoned"
CANCELING = "canceling"
CANCELED = "canceled"
PENDING = "pending"
PAUSING = "pausing"
PAUSED = "paused"
RESUMING = "resuming"

COMPLETED_STATES = (SUCCEEDED, FAILED, TIMEOUT, CANCELED, ABANDONED)
CANCELABLE_STATES = (REQUESTED, SCHEDULED, DELAYED, RUNNING, PAUSING, PAUSED, RESUMING)
WORKFLOW_RUNNERS = ("orquesta", "action-chain")


@dataclass
class RunRequest:
    execution_id: str
    action: dict[str, Any]
    runner: dict[str, Any]
    # Parameters declared by the runner type (defaults applied) and the action's own ones, as st2's
    # `get_finalized_params` splits them; values are the real ones (secrets unmasked).
    runner_params: dict[str, Any]
    action_params: dict[str, Any]
    script_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Called with (output_type, data) for every line the action prints, as it prints it.
    on_output: Callable[[str, str], None] = lambda output_type, data: None


@dataclass
class RunOutcome:
    status: str
    result: Any


class Runner:
    """Base class: one instance per run."""

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        self.canceled = False

    async def run(self) -> RunOutcome:
        raise RuntimeError(f"{type(self).__name__} does not run actions")

    async def cancel(self) -> None:
        self.canceled = True


class NoopRunner(Runner):
    """`noop`: does nothing and succeeds with the result real st2 returns."""

    async def run(self) -> RunOutcome:
        return RunOutcome(
            SUCCEEDED, {"failed": False, "succeeded": True, "return_code": 0, "stdout": "", "stderr": ""}
        )


class InquirerRunner(Runner):
    """`inquirer` (`core.ask`): the execution waits in `pending` with the inquiry as its result.

    The engine keeps it pending until `Engine.respond_inquiry` adds `response` and completes it.
    """

    async def run(self) -> RunOutcome:
        params = self.request.runner_params
        result = {
            "schema": params.get("schema") or {},
            "roles": params.get("roles") or [],
            "users": params.get("users") or [],
            "route": params.get("route") or "",
            "ttl": params.get("ttl", 1440),
        }
        return RunOutcome(PENDING, result)
