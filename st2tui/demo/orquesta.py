"""A self-contained engine for a subset of the Orquesta workflow language (``version: 1.0``).

StackStorm's ``orquesta`` package does not import on current Python, so the embedded demo server
runs workflows with this module. It is pure: actions run through a ``TaskRunner`` supplied by the
caller, and nothing here touches HTTP or a database.

Semantics follow the Orquesta documentation:

* Tasks with no inbound transition start the workflow; branches run concurrently.
* When a task completes, its ``next`` transitions are evaluated in order; each one whose ``when``
  holds publishes its variables (later entries see earlier ones) and starts its ``do`` tasks.
  Without ``do`` the transition means ``continue``.
* Each branch carries its own context; a ``join`` task merges the contexts of its inbound branches
  and the final context merges every branch that ended, in publish order (deep merge of dicts).
* A failed task is *remediated* when a satisfied transition leads anywhere but ``continue``
  (``noop`` included); otherwise the workflow fails. No new task starts once the workflow has
  failed, except tasks listed next to ``fail`` in the same transition; running tasks finish.
* Engine commands in ``do``: ``continue``, ``noop`` and ``fail``.
* Output is rendered from the final context whatever the status; errors are reported only for a
  failed workflow, shaped like Orquesta's (``{"type": "error", "message": ..., "task_id": ...}``).
* A task without ``action`` succeeds at once with a null result (Orquesta allows it).
* ``with`` items (``<% ctx(xs) %>``, ``x in ...``, ``a, b in <% zip(...) %>``, ``concurrency``)
  give a result list in item order; ``delay`` and ``retry`` (``count``, ``when``, ``delay``) are
  supported, the ``retry`` engine command is not. Shorthand ``action: ref k=v`` and
  ``publish: k=v`` forms are parsed like Orquesta's inline parameters.

Cancellation: when the runner raises ``asyncio.CancelledError`` from ``checkpoint`` or ``run_task``,
that task is recorded as ``canceled``, no new task starts, tasks already running are awaited and
``run_workflow`` *returns* an outcome with status ``canceled``. A task outcome with status
``canceled`` has the same effect. Cancelling the asyncio task that awaits ``run_workflow`` cancels
every branch and propagates ``CancelledError`` to the caller.

Runner extras: a runner may expose ``expression_functions`` (a mapping of name to callable), e.g.
``st2kv``; those functions become available to every expression of the workflow.

Over 800 lines because it is one interpreter of one language: the spec's parsing and the run loop
share the workflow's model (expressions are evaluated in `expressions`).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from st2tui.demo.expressions import ExpressionError, has_expressions, render, validate

__all__ = [
    "ExpressionError",
    "TaskOutcome",
    "TaskRunner",
    "WorkflowDefinitionError",
    "WorkflowOutcome",
    "WorkflowSpec",
    "render",
    "run_workflow",
]

ENGINE_COMMANDS = frozenset({"continue", "fail", "noop"})
# Reserved by Orquesta for engine commands; "retry" is not supported by this engine.
RESERVED_TASK_NAMES = ENGINE_COMMANDS | {"retry"}

_TOP_LEVEL_KEYS = {"version", "description", "input", "vars", "tasks", "output", "name", "tags"}
_TASK_KEYS = {"action", "input", "next", "with", "join", "delay", "retry"}
_TRANSITION_KEYS = {"when", "publish", "do"}
_NAME = re.compile(r"^\w+$")
_ITEMS = re.compile(r"^\s*(?:(?P<keys>\w+(?:\s*,\s*\w+)*)\s+in\s+)?(?P<expr><%.*%>|{{.*}})\s*$", re.DOTALL)
# Inline parameters "key=value": expressions, quoted strings, brackets, then any bare token.
_INLINE_PARAM = re.compile(
    r"(\w+)=(<%.*?%>|{{.*?}}|\"[^\"]*\"|'[^']*'|\[[^\]]*\]|[^\s,;]+)",
    re.DOTALL,
)
_EXECUTION_FAILED = "Execution failed. See result for details."


class WorkflowDefinitionError(ValueError):
    """The workflow definition is invalid; the message names every problem found."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class TransitionSpec:
    when: Any  # None means "always"
    publish: tuple[tuple[str, Any], ...]
    do: tuple[str, ...]


@dataclass(frozen=True)
class ItemsSpec:
    expression: str
    keys: tuple[str, ...] | None
    concurrency: Any


@dataclass(frozen=True)
class RetrySpec:
    count: Any
    when: Any = None
    delay: Any = 0


@dataclass(frozen=True)
class TaskSpec:
    name: str
    action: str | None
    input: dict[str, Any]
    next: tuple[TransitionSpec, ...] = ()
    items: ItemsSpec | None = None
    join: int | str | None = None
    delay: Any = None
    retry: RetrySpec | None = None


@dataclass(frozen=True)
class InputSpec:
    name: str
    default: Any = None
    has_default: bool = False


@dataclass
class WorkflowSpec:
    version: str
    tasks: dict[str, TaskSpec]
    description: str = ""
    inputs: list[InputSpec] = field(default_factory=list)
    vars: list[tuple[str, Any]] = field(default_factory=list)
    output: list[tuple[str, Any]] = field(default_factory=list)

    @classmethod
    def from_yaml(cls, text: str) -> WorkflowSpec:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise WorkflowDefinitionError(f"Invalid workflow YAML: {error}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> WorkflowSpec:
        return _SpecParser().parse(data)

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs]

    @property
    def input_defaults(self) -> dict[str, Any]:
        """Declared defaults, unrendered (they may be expressions over earlier inputs)."""
        return {spec.name: spec.default for spec in self.inputs if spec.has_default}

    @property
    def task_names(self) -> list[str]:
        return list(self.tasks)

    @property
    def start_tasks(self) -> list[str]:
        """Tasks no transition leads to, in definition order."""
        targets = {target for task in self.tasks.values() for tr in task.next for target in tr.do}
        return [name for name in self.tasks if name not in targets]

    def inbound_tasks(self, name: str) -> list[str]:
        return [task.name for task in self.tasks.values() if any(name in tr.do for tr in task.next)]

    def join_requirement(self, name: str) -> int:
        join = self.tasks[name].join
        return len(self.inbound_tasks(name)) if join == "all" else int(join)


def _parse_inline_params(text: str) -> dict[str, Any]:
    """Parse Orquesta's ``key=value`` shorthand (values delimited by spaces, commas or semicolons)."""
    params: dict[str, Any] = {}
    for key, raw in _INLINE_PARAM.findall(text):
        quoted = len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'"
        value: Any = raw[1:-1] if quoted else raw
        if has_expressions(value):
            params[key] = value
            continue
        if not quoted or (value.startswith("{") and value.endswith("}")):
            candidate = value.lower() if value.lower() in ("true", "false") else value
            try:
                value = json.loads(candidate)
            except ValueError:
                pass
        params[key] = value
    return params


class _SpecParser:
    """Builds a WorkflowSpec, collecting every problem before raising one error."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def parse(self, data: Any) -> WorkflowSpec:
        if not isinstance(data, dict):
            raise WorkflowDefinitionError("The workflow definition must be a YAML mapping.")
        unknown = sorted(str(key) for key in data if key not in _TOP_LEVEL_KEYS)
        if unknown:
            self.problems.append(f"Unknown workflow attribute(s): {', '.join(unknown)}.")
        version = data.get("version")
        if version is None:
            self.problems.append('The workflow attribute "version" is required (use 1.0).')
        elif str(version) not in ("1.0", "1"):
            self.problems.append(f'Unsupported workflow version "{version}"; only 1.0 is supported.')

        inputs = [
            InputSpec(name, default, has_default)
            for name, default, has_default in self._named_values(data.get("input"), "input")
        ]
        variables = [(name, value) for name, value, _ in self._named_values(data.get("vars"), "vars")]
        output = []
        for name, value, has_value in self._named_values(data.get("output"), "output"):
            if has_value:
                output.append((name, value))
            elif _NAME.match(name):
                output.append((name, f"<% ctx().{name} %>"))  # a bare name outputs that variable
            else:
                self.problems.append(f'Output "{name}" needs a value (only plain names may stand alone).')
        tasks = self._tasks(data.get("tasks"))
        spec = WorkflowSpec(
            version="1.0",
            description=str(data.get("description") or ""),
            inputs=inputs,
            vars=variables,
            output=output,
            tasks=tasks,
        )
        if tasks:
            self._check_graph(spec)
        self._check_expressions(spec)
        if self.problems:
            raise WorkflowDefinitionError(self.problems)
        return spec

    def _named_values(self, value: Any, section: str) -> list[tuple[str, Any, bool]]:
        """Read ``[name, {name: value}, ...]`` (a plain mapping is accepted too)."""
        if value is None:
            return []
        if isinstance(value, dict):
            return [(str(name), item, True) for name, item in value.items()]
        if not isinstance(value, list):
            self.problems.append(f'The workflow "{section}" must be a list of names or {{name: value}}.')
            return []
        entries = []
        for entry in value:
            if isinstance(entry, str):
                entries.append((entry, None, False))
            elif isinstance(entry, dict) and len(entry) == 1:
                (name, item), *_ = entry.items()
                entries.append((str(name), item, True))
            else:
                self.problems.append(
                    f'Invalid entry in workflow "{section}": {entry!r} (expected a name or {{name: value}}).'
                )
        return entries

    def _tasks(self, value: Any) -> dict[str, TaskSpec]:
        if not isinstance(value, dict) or not value:
            self.problems.append('The workflow attribute "tasks" must be a non-empty mapping of tasks.')
            return {}
        tasks = {}
        for name, body in value.items():
            name = str(name)
            if not _NAME.match(name):
                self.problems.append(f'Invalid task name "{name}" (letters, digits and _ only).')
            elif name in RESERVED_TASK_NAMES:
                self.problems.append(f'The task name "{name}" is reserved with special function.')
            task = self._task(name, {} if body is None else body)
            if task is not None:
                tasks[name] = task
        return tasks

    def _task(self, name: str, body: Any) -> TaskSpec | None:
        if not isinstance(body, dict):
            self.problems.append(f'Task "{name}" must be a mapping.')
            return None
        unknown = sorted(str(key) for key in body if key not in _TASK_KEYS)
        if unknown:
            self.problems.append(f'Task "{name}" has unknown attribute(s): {", ".join(unknown)}.')

        action = body.get("action")
        params: dict[str, Any] = {}
        raw_input = body.get("input")
        if isinstance(raw_input, dict):
            params.update({str(key): value for key, value in raw_input.items()})
        elif isinstance(raw_input, str):
            params.update(_parse_inline_params(raw_input))
        elif raw_input is not None:
            self.problems.append(f'Task "{name}": "input" must be a mapping.')
        if action is not None:
            if not isinstance(action, str) or not action.strip():
                self.problems.append(f'Task "{name}": "action" must be a non-empty string.')
                action = None
            else:
                action = action.strip()
                inline = _parse_inline_params(action)
                if inline:
                    # "core.echo message=<% ctx().x %>": the shorthand wins over "input".
                    action = action.split(None, 1)[0]
                    params.update(inline)

        items = self._items(name, body.get("with"))
        if items is not None and action is None:
            self.problems.append(f'Task "{name}": the action property is required for with items task.')

        join = body.get("join")
        if join is not None and join != "all" and not (isinstance(join, int) and join > 0):
            self.problems.append(f'Task "{name}": "join" must be "all" or a positive integer.')

        return TaskSpec(
            name=name,
            action=action,
            input=params,
            next=self._transitions(name, body.get("next")),
            items=items,
            join=join,
            delay=body.get("delay"),
            retry=self._retry(name, body.get("retry")),
        )

    def _items(self, name: str, value: Any) -> ItemsSpec | None:
        if value is None:
            return None
        concurrency = None
        if isinstance(value, dict):
            concurrency = value.get("concurrency")
            unknown = sorted(str(key) for key in value if key not in ("items", "concurrency"))
            if unknown:
                self.problems.append(f'Task "{name}": "with" has unknown attribute(s): {", ".join(unknown)}.')
            value = value.get("items")
        match = _ITEMS.match(value) if isinstance(value, str) else None
        if match is None:
            self.problems.append(
                f'Task "{name}": "with" items must look like "<% ctx(xs) %>" or "x in <% ctx(xs) %>".'
            )
            return None
        keys = match.group("keys")
        return ItemsSpec(
            expression=match.group("expr"),
            keys=tuple(key.strip() for key in keys.split(",")) if keys else None,
            concurrency=concurrency,
        )

    def _retry(self, name: str, value: Any) -> RetrySpec | None:
        if value is None:
            return None
        if not isinstance(value, dict) or "count" not in value:
            self.problems.append(f'Task "{name}": "retry" must be a mapping with at least "count".')
            return None
        unknown = sorted(str(key) for key in value if key not in ("when", "count", "delay"))
        if unknown:
            self.problems.append(f'Task "{name}": "retry" has unknown attribute(s): {", ".join(unknown)}.')
        return RetrySpec(count=value["count"], when=value.get("when"), delay=value.get("delay") or 0)

    def _transitions(self, name: str, value: Any) -> tuple[TransitionSpec, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problems.append(f'Task "{name}": "next" must be a list of transitions.')
            return ()
        transitions = []
        for index, entry in enumerate(value):
            where = f'Task "{name}" next[{index}]'
            if not isinstance(entry, dict):
                self.problems.append(f"{where} must be a mapping with when/publish/do.")
                continue
            unknown = sorted(str(key) for key in entry if key not in _TRANSITION_KEYS)
            if unknown:
                self.problems.append(f"{where} has unknown attribute(s): {', '.join(unknown)}.")
            transitions.append(
                TransitionSpec(
                    when=entry.get("when"),
                    publish=self._publish(where, entry.get("publish")),
                    do=self._do(where, entry.get("do")),
                )
            )
        return tuple(transitions)

    def _publish(self, where: str, value: Any) -> tuple[tuple[str, Any], ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(_parse_inline_params(value).items())
        if isinstance(value, dict):
            return tuple((str(key), item) for key, item in value.items())
        if isinstance(value, list) and all(isinstance(item, dict) and len(item) == 1 for item in value):
            return tuple((str(key), item) for entry in value for key, item in entry.items())
        self.problems.append(f'{where}: "publish" must be a list of {{name: value}} or "name=value" text.')
        return ()

    def _do(self, where: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ("continue",)
        if isinstance(value, str):
            targets = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            targets = [item.strip() for item in value]
        else:
            self.problems.append(f'{where}: "do" must be a task name, a list of names or "a, b".')
            return ()
        return tuple(targets) or ("continue",)

    def _check_graph(self, spec: WorkflowSpec) -> None:
        for task in spec.tasks.values():
            for transition in task.next:
                for target in transition.do:
                    if target == "retry":
                        self.problems.append(
                            f'Task "{task.name}": the "retry" command is not supported; use the task "retry" attribute.'
                        )
                    elif target not in spec.tasks and target not in ENGINE_COMMANDS:
                        self.problems.append(f'Task "{task.name}" transitions to undefined task "{target}".')
        if not spec.start_tasks:
            self.problems.append(
                "Unable to identify any tasks to start the workflow. If the workflow has a loop, "
                "add a task that serves as an entry point into the loop."
            )

    def _check_expressions(self, spec: WorkflowSpec) -> None:
        checks: list[tuple[str, Any]] = [(f"input.{i.name}", i.default) for i in spec.inputs]
        checks += [(f"vars.{name}", value) for name, value in spec.vars]
        checks += [(f"output.{name}", value) for name, value in spec.output]
        for task in spec.tasks.values():
            prefix = f"tasks.{task.name}"
            checks += [(f"{prefix}.action", task.action), (f"{prefix}.input", task.input)]
            checks += [(f"{prefix}.delay", task.delay)]
            if task.items is not None:
                checks += [(f"{prefix}.with", task.items.expression)]
                checks += [(f"{prefix}.with.concurrency", task.items.concurrency)]
            if task.retry is not None:
                checks += [(f"{prefix}.retry", [task.retry.when, task.retry.count, task.retry.delay])]
            for index, transition in enumerate(task.next):
                checks += [(f"{prefix}.next[{index}].when", transition.when)]
                checks += [(f"{prefix}.next[{index}].publish.{k}", v) for k, v in transition.publish]
        for path, value in checks:
            try:
                validate(value)
            except ExpressionError as error:
                self.problems.append(f"{path}: {error}")


# ----------------------------------------------------------------------------------------------
# Execution


@dataclass
class TaskOutcome:
    status: str  # "succeeded" | "failed" | "canceled" (also "timeout"/"abandoned": treated as failed)
    result: Any = None


@dataclass
class WorkflowOutcome:
    status: str  # "succeeded" | "failed" | "canceled"
    output: dict | None
    errors: list[dict]
    context: dict
    task_statuses: dict[str, str]
    # The context each task started with (its first run), so a re-run can start a task where it started.
    task_contexts: dict[str, dict] = field(default_factory=dict)


class TaskRunner(Protocol):
    async def run_task(
        self, task_name: str, action_ref: str, params: dict, item_index: int | None
    ) -> TaskOutcome: ...

    async def checkpoint(self, task_name: str) -> None:
        """Called before each task (each item of a with-items task) starts; may block or cancel."""
        ...


Ref = tuple[int, ...]  # indexes into the conductor's context layers, ascending


class _TaskAborted(Exception):
    """The task could not run (render error, runner error); the error is already logged."""


class _JoinRound:
    def __init__(self) -> None:
        self.arrivals: dict[str, Ref] = {}
        self.fired = False


def _normalize_status(status: str) -> str:
    if status == "succeeded":
        return "succeeded"
    if status in ("canceled", "canceling"):
        return "canceled"
    return "failed"


def _deep_merge(left: dict, right: Mapping) -> dict:
    merged = dict(left)
    for key, value in right.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Conductor:
    def __init__(self, spec: WorkflowSpec, runner: TaskRunner) -> None:
        self._spec = spec
        self._runner = runner
        self._extra_functions: dict[str, Callable[..., Any]] = dict(
            getattr(runner, "expression_functions", None) or {}
        )
        self._layers: list[dict] = []
        self._errors: list[dict] = []
        self._status = "running"
        self._task_statuses: dict[str, str] = {}
        self._task_contexts: dict[str, dict] = {}
        self._task_records: dict[str, dict] = {}
        self._terminal_refs: list[Ref] = []
        self._joins: dict[str, _JoinRound] = {}
        self._branches: set[asyncio.Task] = set()

    # -- bookkeeping --------------------------------------------------------------------------

    def _log_error(self, message: str, **details: Any) -> None:
        entry = {"type": "error", "message": message}
        entry.update({key: value for key, value in details.items() if value is not None})
        if entry not in self._errors:
            self._errors.append(entry)

    def _fail(self) -> None:
        if self._status == "running":
            self._status = "failed"

    def _cancel(self) -> None:
        if self._status == "running":
            self._status = "canceled"

    def _materialize(self, ref: Ref) -> dict:
        context: dict = {}
        for index in ref:
            context = _deep_merge(context, self._layers[index])
        return context

    def _push_layer(self, ref: Ref, values: dict) -> Ref:
        if not values:
            return ref
        self._layers.append(values)
        return (*ref, len(self._layers) - 1)

    def _functions(self, task_name: str | None = None, **current: Any) -> dict[str, Callable[..., Any]]:
        """Expression functions; ``current`` (status/result) describes the task being evaluated."""

        def task_status(name: str | None = None) -> str:
            return self._task_statuses.get(name or task_name or "", "null")

        def task(name: str | None = None) -> dict:
            record = self._task_records.get(name or task_name or "")
            if record is None:
                raise LookupError(f'Unable to find task execution for "{name or task_name}".')
            return copy.deepcopy(record)

        functions: dict[str, Callable[..., Any]] = {**self._extra_functions, "task_status": task_status}
        if task_name is not None:
            status = current.get("status")
            functions.update(
                task=task,
                result=lambda: current.get("result"),
                succeeded=lambda: status == "succeeded",
                failed=lambda: status == "failed",
                completed=lambda: status in ("succeeded", "failed", "canceled"),
            )
        return functions

    def _render(self, value: Any, context: dict, task_name: str, **functions: Callable[..., Any]) -> Any:
        """Render task-level values; an expression error fails the workflow and aborts the task."""
        try:
            return render(value, context, **self._functions(task_name, status=None), **functions)
        except ExpressionError as error:
            self._log_error(f"{error.error_type}: {error}", task_id=task_name, route=0)
            self._fail()
            raise _TaskAborted from None

    # -- start and finish ---------------------------------------------------------------------

    def _initial_context(
        self, inputs: Mapping[str, Any], start_tasks: list[str] | None, initial_context: Mapping | None
    ) -> dict | None:
        base = copy.deepcopy(dict(initial_context or {}))
        if start_tasks and initial_context is not None:
            return base  # re-run: the given context already holds inputs, vars and publishes
        rolling = base
        for spec in self._spec.inputs:
            if spec.name in inputs:
                rolling[spec.name] = copy.deepcopy(inputs[spec.name])
            else:
                rolling[spec.name] = self._render_init(spec.default, rolling)
        for name, value in self._spec.vars:
            rolling[name] = self._render_init(value, rolling)
        return None if self._errors else rolling

    def _render_init(self, value: Any, context: dict) -> Any:
        try:
            return render(value, context, **self._functions())
        except ExpressionError as error:
            self._log_error(f"{error.error_type}: {error}")
            return None

    def _final_context(self) -> dict:
        layers = sorted({index for ref in self._terminal_refs for index in ref} | {0})
        return self._materialize(tuple(layers))

    def _finish(self) -> WorkflowOutcome:
        if self._status != "canceled":
            for name, join in self._joins.items():
                if join.arrivals and not join.fired:
                    self._log_error(
                        f'UnreachableJoinError: The join task|route "{name}|0" is partially satisfied '
                        "but unreachable.",
                        task_id=name,
                        route=0,
                    )
                    self._fail()
        context = self._final_context()
        output: dict = {}
        rolling = dict(context)
        for name, value in self._spec.output:
            try:
                output[name] = rolling[name] = render(value, rolling, **self._functions())
            except ExpressionError as error:
                self._log_error(f"{error.error_type}: {error}")
                self._fail()
        status = "succeeded" if self._status == "running" else self._status
        return WorkflowOutcome(
            status=status,
            output=output or None,
            errors=list(self._errors) if status == "failed" else [],
            context=context,
            task_statuses=dict(self._task_statuses),
            task_contexts=self._task_contexts,
        )

    async def run(
        self,
        inputs: Mapping[str, Any],
        start_tasks: list[str] | None,
        initial_context: Mapping | None,
        start_contexts: Mapping[str, Mapping] | None = None,
    ) -> WorkflowOutcome:
        unknown = [name for name in start_tasks or [] if name not in self._spec.tasks]
        if unknown:
            raise WorkflowDefinitionError(
                [f'Unable to re-run task "{name}": it is not defined in the workflow.' for name in unknown]
            )
        base = self._initial_context(inputs or {}, start_tasks, initial_context)
        if base is None:
            return WorkflowOutcome("failed", None, list(self._errors), {}, {})
        self._layers.append(base)
        for name in start_tasks or self._spec.start_tasks:
            ref: Ref = (0,)
            if start_tasks and start_contexts and name in start_contexts:
                # Re-run: the task starts from the context it had, layered over the final one.
                self._layers.append(copy.deepcopy(dict(start_contexts[name])))
                ref = (0, len(self._layers) - 1)
            self._spawn(name, ref, run_on_fail=False)
        try:
            while self._branches:
                done, _ = await asyncio.wait(self._branches, return_when=asyncio.FIRST_COMPLETED)
                for branch in done:
                    self._branches.discard(branch)
                    if not branch.cancelled() and branch.exception() is not None:
                        raise branch.exception()
        except BaseException:
            for branch in self._branches:
                branch.cancel()
            await asyncio.gather(*self._branches, return_exceptions=True)
            raise
        return self._finish()

    # -- tasks --------------------------------------------------------------------------------

    def _spawn(self, name: str, ref: Ref, *, run_on_fail: bool) -> None:
        branch = asyncio.create_task(self._run_instance(name, ref, run_on_fail))
        self._branches.add(branch)

    def _may_start(self, run_on_fail: bool) -> bool:
        return self._status == "running" or (self._status == "failed" and run_on_fail)

    def _record(self, name: str, status: str, result: Any) -> None:
        self._task_statuses[name] = status
        self._task_records[name] = {
            "task_id": name,
            "task_name": name,
            "route": 0,
            "status": status,
            "result": result,
        }

    async def _run_instance(self, name: str, ref: Ref, run_on_fail: bool) -> None:
        task = self._spec.tasks[name]
        context = self._materialize(ref)
        self._task_contexts.setdefault(name, copy.deepcopy(context))
        try:
            retry = self._retry_plan(task, context)
            while True:
                if task.delay is not None:
                    await asyncio.sleep(self._integer(task.delay, context, name, "task delay"))
                outcome = await self._execute(task, context, run_on_fail)
                if outcome is None:
                    break
                status, result = outcome
                self._record(name, status, result)
                if status == "canceled":
                    self._cancel()
                    break
                if not self._should_retry(task, context, retry, status, result):
                    self._complete(task, ref, context, status, result)
                    return
                retry["tally"] += 1
                await asyncio.sleep(retry["delay"])
        except _TaskAborted:
            pass
        except asyncio.CancelledError:
            self._task_statuses[name] = "canceled"
            self._cancel()
            self._terminal_refs.append(ref)
            raise
        # The branch stopped before its transitions (canceled, aborted, not started): it ends here.
        self._terminal_refs.append(ref)

    def _integer(self, value: Any, context: dict, task_name: str, what: str) -> int:
        rendered = self._render(value, context, task_name)
        if not isinstance(rendered, int) or isinstance(rendered, bool):
            self._log_error(
                f"TypeError: The value of {what} is not type of integer.", task_id=task_name, route=0
            )
            self._fail()
            raise _TaskAborted
        return rendered

    def _retry_plan(self, task: TaskSpec, context: dict) -> dict | None:
        if task.retry is None:
            return None
        return {
            "count": self._integer(task.retry.count, context, task.name, "retry count"),
            "delay": self._integer(task.retry.delay, context, task.name, "retry delay"),
            "tally": 0,
        }

    def _should_retry(
        self, task: TaskSpec, context: dict, retry: dict | None, status: str, result: Any
    ) -> bool:
        if retry is None or retry["tally"] >= retry["count"] or self._status != "running":
            return False
        if task.retry.when is None:
            return status == "failed"
        functions = self._functions(task.name, status=status, result=result)
        try:
            return bool(render(task.retry.when, context, **functions))
        except ExpressionError as error:
            self._log_error(f"{error.error_type}: {error}", task_id=task.name, route=0)
            self._fail()
            return False

    async def _call_runner(self, name: str, action: str, params: dict, item_index: int | None) -> TaskOutcome:
        try:
            outcome = await self._runner.run_task(name, action, copy.deepcopy(params), item_index)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # An infrastructure error is not a task failure a workflow can remediate.
            self._log_error(f"{type(error).__name__}: {error}", task_id=name, route=0)
            self._task_statuses[name] = "failed"
            self._fail()
            raise _TaskAborted from None
        return TaskOutcome(_normalize_status(outcome.status), copy.deepcopy(outcome.result))

    async def _checkpoint(self, name: str) -> None:
        try:
            await self._runner.checkpoint(name)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._log_error(f"{type(error).__name__}: {error}", task_id=name, route=0)
            self._fail()
            raise _TaskAborted from None

    def _render_action(
        self, task: TaskSpec, context: dict, **functions: Callable[..., Any]
    ) -> tuple[str, dict]:
        action = self._render(task.action, context, task.name, **functions)
        params = self._render(task.input, context, task.name, **functions)
        if not isinstance(action, str) or not action:
            self._log_error(
                f'TypeError: The action of task "{task.name}" rendered to {action!r}, not an action reference.',
                task_id=task.name,
                route=0,
            )
            self._fail()
            raise _TaskAborted
        return action, params

    async def _execute(self, task: TaskSpec, context: dict, run_on_fail: bool) -> tuple[str, Any] | None:
        """Run the task's action (or items); None when the workflow stopped before it started."""
        if task.items is not None:
            return await self._execute_items(task, context, run_on_fail)
        if task.action is None:
            await self._checkpoint(task.name)
            return ("succeeded", None) if self._may_start(run_on_fail) else None
        action, params = self._render_action(task, context)
        await self._checkpoint(task.name)
        if not self._may_start(run_on_fail):
            return None
        outcome = await self._call_runner(task.name, action, params, None)
        if outcome.status == "failed":
            self._log_error(_EXECUTION_FAILED, task_id=task.name, result=outcome.result)
        return outcome.status, outcome.result

    def _item_value(self, task: TaskSpec, item: Any) -> Any:
        keys = task.items.keys
        if keys and isinstance(item, (list, tuple)):
            return dict(zip(keys, item, strict=False))
        if keys and len(keys) == 1:
            return {keys[0]: item}
        return item

    async def _execute_items(
        self, task: TaskSpec, context: dict, run_on_fail: bool
    ) -> tuple[str, Any] | None:
        items = self._render(task.items.expression, context, task.name)
        if not isinstance(items, (list, tuple)):
            self._log_error(
                f'TypeError: The value of "{task.items.expression}" is not type of list.',
                task_id=task.name,
                route=0,
            )
            self._fail()
            raise _TaskAborted
        concurrency = None
        if task.items.concurrency is not None:
            concurrency = max(1, self._integer(task.items.concurrency, context, task.name, "concurrency"))

        rendered = []
        for item in items:
            value = self._item_value(task, item)

            def current_item(key: str | None = None, _value: Any = value) -> Any:
                if key is None:
                    return _value
                if not isinstance(_value, Mapping):
                    raise TypeError("Item is not type of collections.abc.Mapping.")
                if key not in _value:
                    raise KeyError(f'Item does not have key "{key}".')
                return _value[key]

            rendered.append(self._render_action(task, context, item=current_item))

        limit = asyncio.Semaphore(concurrency or max(1, len(rendered)))
        statuses: list[str | None] = [None] * len(rendered)
        results: list[Any] = [None] * len(rendered)

        async def run_item(index: int, action: str, params: dict) -> None:
            async with limit:
                if not self._may_start(run_on_fail):
                    return
                try:
                    await self._checkpoint(task.name)
                    if not self._may_start(run_on_fail):
                        return
                    outcome = await self._call_runner(task.name, action, params, index)
                except asyncio.CancelledError:
                    self._cancel()  # queued items must not start any more
                    raise
                statuses[index], results[index] = outcome.status, outcome.result
                if outcome.status == "failed":
                    self._log_error(_EXECUTION_FAILED, task_id=task.name, result=outcome.result)

        gathered = await asyncio.gather(
            *(run_item(index, action, params) for index, (action, params) in enumerate(rendered)),
            return_exceptions=True,
        )
        for problem in gathered:
            if isinstance(problem, asyncio.CancelledError):
                raise problem
        for problem in gathered:
            if isinstance(problem, BaseException):
                raise problem
        if "canceled" in statuses or (None in statuses and self._status == "canceled"):
            return "canceled", results
        if "failed" in statuses or None in statuses:
            return "failed", results
        return "succeeded", results

    # -- transitions ----------------------------------------------------------------------------

    def _complete(self, task: TaskSpec, ref: Ref, context: dict, status: str, result: Any) -> None:
        functions = self._functions(task.name, status=status, result=result)
        remediated = False
        has_fail = False
        followed = False
        launches: list[tuple[str, Ref]] = []
        for index, transition in enumerate(task.next):
            try:
                satisfied = transition.when is None or bool(render(transition.when, context, **functions))
            except ExpressionError as error:
                for target in transition.do:
                    self._log_transition_error(error, task.name, target, index)
                self._fail()
                continue
            if not satisfied:
                continue
            rolling = dict(context)
            published: dict[str, Any] = {}
            try:
                for name, value in transition.publish:
                    published[name] = rolling[name] = render(value, rolling, **functions)
            except ExpressionError as error:
                for target in transition.do:
                    self._log_transition_error(error, task.name, target, index)
                self._fail()
                continue
            followed = True
            out_ref = self._push_layer(ref, published)
            for target in transition.do:
                if target in ENGINE_COMMANDS:
                    self._terminal_refs.append(out_ref)
                    remediated = remediated or target != "continue"
                    has_fail = has_fail or target == "fail"
                else:
                    remediated = True
                    launches.append((target, out_ref))
        if not followed:
            self._terminal_refs.append(ref)

        if status == "failed" and not remediated:
            self._fail()
        if has_fail:
            self._log_error(_EXECUTION_FAILED, task_id="fail")
            self._fail()
        if not self._may_start(run_on_fail=has_fail):
            return
        for target, out_ref in launches:
            if self._spec.tasks[target].join is None:
                self._spawn(target, out_ref, run_on_fail=has_fail)
            else:
                self._arrive(target, task.name, out_ref, run_on_fail=has_fail)

    def _log_transition_error(self, error: ExpressionError, task_name: str, target: str, index: int) -> None:
        self._log_error(
            f"{error.error_type}: {error}",
            task_id=task_name,
            route=0,
            task_transition_id=f"{target}__t{index}",
        )

    def _arrive(self, target: str, source: str, ref: Ref, *, run_on_fail: bool) -> None:
        """Record a branch reaching a join; start the join task once its requirement is met."""
        join = self._joins.get(target)
        if join is None or (join.fired and source in join.arrivals):
            # A branch coming round again (a loop) starts a new round of the barrier.
            join = self._joins[target] = _JoinRound()
        earlier = join.arrivals.get(source, ())
        join.arrivals[source] = tuple(sorted(set(earlier) | set(ref)))
        if not join.fired and len(join.arrivals) >= self._spec.join_requirement(target):
            join.fired = True
            merged = tuple(sorted({index for arrived in join.arrivals.values() for index in arrived}))
            self._spawn(target, merged, run_on_fail=run_on_fail)


async def run_workflow(
    spec: WorkflowSpec,
    inputs: dict,
    runner: TaskRunner,
    *,
    start_tasks: list[str] | None = None,
    initial_context: dict | None = None,
    start_contexts: dict[str, dict] | None = None,
) -> WorkflowOutcome:
    """Run ``spec`` to completion and describe how it ended.

    ``inputs`` are the workflow action's parameters; undeclared names are ignored and missing ones
    take their (rendered) defaults. ``initial_context`` alone is a parent context under inputs and
    vars; with ``start_tasks`` it is the complete context to re-run those tasks from (inputs and vars
    are not rendered again); ``start_contexts`` then gives, per start task, the context that task
    started with in the original run (``WorkflowOutcome.task_contexts``), layered over it, as
    Orquesta re-runs a task from its own inbound context. Unknown ``start_tasks`` raise
    WorkflowDefinitionError.
    """
    return await _Conductor(spec, runner).run(inputs, start_tasks, initial_context, start_contexts)
