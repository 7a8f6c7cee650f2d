"""The `orquesta` runner: glue between the engine and `st2tui.demo.orquesta`.

Each task runs as a child execution, shaped as st2's workflow engine creates it
(`context.orquesta`, `context.parent`, top-level `workflow_execution`/`task_execution`, the parent's
`children`). The engine tells the driver about its workflow's status: while `pausing`/`paused` no
new task starts, on `canceling` none starts at all. A re-run with `tasks` starts from those tasks
with the original run's final context, kept in the `workflows` table.

A driver in *replay* mode revives a paused workflow after a restart: tasks that already have a
child execution are answered from it (completed ones at once, a pending inquiry once answered)
and the workflow carries on from there.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from typing import Any, Protocol

from ..orquesta import TaskOutcome, WorkflowDefinitionError, WorkflowSpec, run_workflow
from ..util import new_id
from .base import CANCELED, CANCELING, COMPLETED_STATES, FAILED, PAUSED, PAUSING, RUNNING


class WorkflowEngine(Protocol):
    """What the driver asks of the execution engine (`st2tui.demo.engine.Engine` implements it).

    A protocol, so that the engine, which creates drivers, is the only one of the two importing the other.
    """

    output: Any  # the engine's output store: `add(execution_id, action_ref, runner, type, data)`

    async def run_action(
        self, action_ref: str, parameters: dict[str, Any] | None, **options: Any
    ) -> dict[str, Any]: ...
    def wait_done(self, execution_id: str) -> asyncio.Future[dict[str, Any]]: ...
    def get_execution(self, execution_id: str) -> dict[str, Any] | None: ...
    def status_of(self, execution_id: str) -> str | None: ...
    def request_resume(self, execution_id: str, requester: str) -> dict[str, Any]: ...
    def kv_value(self, scope: str, name: str, user: str) -> str | None: ...
    def set_context(self, execution_id: str, context: dict[str, Any]) -> None: ...
    def workflow_definition(self, action_ref: str) -> str: ...
    def finish_workflow(self, execution_id: str, status: str, result: dict[str, Any]) -> dict[str, Any]: ...
    def save_workflow_state(self, execution_id: str, state: dict[str, Any]) -> None: ...
    def workflow_state(self, execution_id: str) -> dict[str, Any] | None: ...
    def children_docs(self, execution_id: str) -> list[dict[str, Any]]: ...


RUNNER_NAME = "orquesta"


def datastore_key(key: str) -> tuple[str, str]:
    """`st2kv("system.a")` / `st2kv("user.a")` (scope defaults to system) -> (scope, name)."""
    for prefix, scope in (("st2kv.system.", "st2kv.system"), ("st2kv.user.", "st2kv.user")):
        if key.startswith(prefix):
            return scope, key[len(prefix) :]
    for prefix, scope in (("system.", "st2kv.system"), ("user.", "st2kv.user")):
        if key.startswith(prefix):
            return scope, key[len(prefix) :]
    return "st2kv.system", key


class WorkflowDriver:
    """Runs one orquesta workflow execution; implements orquesta's `TaskRunner`."""

    def __init__(
        self, engine: WorkflowEngine, doc: dict[str, Any], inputs: dict[str, Any], *, replay: bool = False
    ) -> None:
        self.engine = engine
        self.execution_id = doc["id"]
        self.action_ref = doc["action"]["ref"]
        self.context = dict(doc.get("context") or {})
        self.user = self.context.get("user")
        self.pack = doc["action"].get("pack")
        self.inputs = inputs
        self.replay = replay
        self.workflow_execution_id = self.context.get("workflow_execution") or new_id()
        self._runnable = asyncio.Event()
        self._canceled = False
        self._replayed: dict[tuple[str, int | None], deque[str]] = defaultdict(deque)
        # Inbound contexts of the tasks of the run being re-run, kept for the next re-run.
        self._prior_task_contexts: dict[str, dict] = {}
        self.on_status(doc["status"])
        self.expression_functions = {"st2kv": self._st2kv}

    # -- engine -> driver ------------------------------------------------------------------------

    def on_status(self, status: str) -> None:
        if status in (CANCELING, *COMPLETED_STATES):
            self._canceled = True
            self._runnable.set()
        elif status == RUNNING:
            self._runnable.set()
        elif status in (PAUSING, PAUSED):
            self._runnable.clear()

    # -- TaskRunner -----------------------------------------------------------------------------

    async def checkpoint(self, task_name: str) -> None:
        while not self._canceled and not self._runnable.is_set():
            await self._runnable.wait()
        if self._canceled:
            raise asyncio.CancelledError

    async def run_task(
        self, task_name: str, action_ref: str, params: dict, item_index: int | None
    ) -> TaskOutcome:
        replayed = self._replayed.get((task_name, item_index))
        if replayed:
            return await self._replayed_outcome(replayed.popleft())
        task_execution_id = new_id()
        orquesta_ctx: dict[str, Any] = {
            "workflow_execution_id": self.workflow_execution_id,
            "task_execution_id": task_execution_id,
            "task_name": task_name,
            "task_id": task_name,
            "task_route": 0,
        }
        if item_index is not None:
            orquesta_ctx["item_id"] = item_index
        context = {
            "pack": action_ref.split(".")[0],
            "user": self.user,
            "parent": {"execution_id": self.execution_id, "user": self.user, "pack": self.pack},
            "orquesta": orquesta_ctx,
        }
        child = await self.engine.run_action(
            action_ref,
            params,
            user=self.user or "",
            context=context,
            parent=self.execution_id,
            workflow_execution=self.workflow_execution_id,
            task_execution=task_execution_id,
        )
        self._progress(f'Action execution "{child["id"]}" requested for task "{task_name}", route "0".')
        done = await self.engine.wait_done(child["id"])
        return TaskOutcome(done["status"], done.get("result"))

    async def _replayed_outcome(self, child_id: str) -> TaskOutcome:
        child = self.engine.get_execution(child_id)
        assert child is not None
        if child["status"] == PAUSED:
            self.engine.request_resume(child_id, self.user or "")
        done = await self.engine.wait_done(child_id)
        return TaskOutcome(done["status"], done.get("result"))

    def _st2kv(self, key: str, decrypt: bool = False) -> str:
        if not isinstance(key, str):
            raise TypeError("Given key is not typeof string.")
        scope, name = datastore_key(key)
        value = self.engine.kv_value(scope, name, self.user or "")
        if value is None:
            raise LookupError(f'The key "{key}" does not exist in the StackStorm datastore.')
        return value

    # -- the run --------------------------------------------------------------------------------

    def _progress(self, message: str) -> None:
        self.engine.output.add(self.execution_id, self.action_ref, RUNNER_NAME, "output", f"{message}\n")

    def _st2_context(self) -> dict[str, Any]:
        return {
            "action_execution_id": self.execution_id,
            "user": self.user,
            "pack": self.pack,
            "action": self.action_ref,
            "runner": RUNNER_NAME,
            "workflow_execution_id": self.workflow_execution_id,
        }

    async def run(self) -> None:
        if self.replay:
            self._load_replay()
        elif self.context.get("workflow_execution") != self.workflow_execution_id:
            self.context["workflow_execution"] = self.workflow_execution_id
            self.engine.set_context(self.execution_id, self.context)
            self._progress(f'Workflow execution "{self.workflow_execution_id}" is created.')
        try:
            spec = WorkflowSpec.from_yaml(self.engine.workflow_definition(self.action_ref))
            start_tasks, initial_context, start_contexts = self._start_point()
            outcome = await run_workflow(
                spec,
                self.inputs,
                self,
                start_tasks=start_tasks,
                initial_context=initial_context,
                start_contexts=start_contexts,
            )
        except (WorkflowDefinitionError, OSError, LookupError) as error:
            self._progress(f'The workflow execution is completed with status "{FAILED}".')
            self.engine.finish_workflow(
                self.execution_id, FAILED, {"errors": [{"message": str(error)}], "output": None}
            )
            return
        status = outcome.status
        if self.engine.status_of(self.execution_id) == CANCELING:
            status = CANCELED
        result: dict[str, Any] = {"output": outcome.output}
        if status == FAILED:
            result["errors"] = outcome.errors
        self.engine.save_workflow_state(
            self.execution_id,
            {
                "workflow_execution": self.workflow_execution_id,
                "action": self.action_ref,
                "status": status,
                "context": outcome.context,
                "task_statuses": outcome.task_statuses,
                "task_contexts": {**self._prior_task_contexts, **outcome.task_contexts},
            },
        )
        self._progress(f'The workflow execution is completed with status "{status}".')
        self.engine.finish_workflow(self.execution_id, status, result)

    def _start_point(self) -> tuple[list[str] | None, dict[str, Any], dict[str, dict] | None]:
        """Where the run starts: the top, or (re-run with `tasks`) those tasks in their original contexts."""
        rerun = self.context.get("re-run") or {}
        tasks = rerun.get("tasks") or None
        if not tasks or self.replay:
            return None, {"st2": self._st2_context()}, None
        state = self.engine.workflow_state(rerun.get("ref", ""))
        if state is None:
            raise LookupError(
                f'Unable to re-run workflow execution "{rerun.get("ref")}": its workflow state is not available.'
            )
        context = dict(state.get("context") or {})
        context["st2"] = self._st2_context()
        self._prior_task_contexts = dict(state.get("task_contexts") or {})
        return list(tasks), context, self._prior_task_contexts

    def _load_replay(self) -> None:
        for child in self.engine.children_docs(self.execution_id):
            orquesta_ctx = (child.get("context") or {}).get("orquesta") or {}
            name = orquesta_ctx.get("task_name")
            if not name:
                continue
            self._replayed[(name, orquesta_ctx.get("item_id"))].append(child["id"])
