"""The embedded server's Orquesta-subset workflow engine, driven by a fake task runner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from st2tui.demo.orquesta import (
    ExpressionError,
    TaskOutcome,
    WorkflowDefinitionError,
    WorkflowSpec,
    render,
    run_workflow,
)

Behavior = Callable[[dict, "int | None"], "TaskOutcome | Awaitable[TaskOutcome]"]


class FakeRunner:
    """Records every call; `core.echo` echoes its message, other actions succeed unless overridden."""

    def __init__(self, behaviors: dict[str, Behavior] | None = None) -> None:
        self.behaviors = behaviors or {}
        self.calls: list[tuple[str, str, dict, int | None]] = []
        self.checkpoints: list[str] = []

    def ran(self) -> list[str]:
        return [call[0] for call in self.calls]

    async def checkpoint(self, task_name: str) -> None:
        self.checkpoints.append(task_name)

    async def run_task(
        self, task_name: str, action_ref: str, params: dict, item_index: int | None
    ) -> TaskOutcome:
        self.calls.append((task_name, action_ref, params, item_index))
        behavior = self.behaviors.get(task_name)
        if behavior is not None:
            outcome = behavior(params, item_index)
            return await outcome if asyncio.iscoroutine(outcome) else outcome
        if action_ref == "core.echo":
            return TaskOutcome("succeeded", {"stdout": params.get("message"), "stderr": "", "return_code": 0})
        return TaskOutcome("succeeded", {"task": task_name})


def failing(result: Any = None) -> Behavior:
    return lambda params, index: TaskOutcome("failed", result)


async def run(yaml_text: str, runner: FakeRunner, inputs: dict | None = None, **kwargs: Any):
    spec = WorkflowSpec.from_yaml(yaml_text)
    return await asyncio.wait_for(run_workflow(spec, inputs or {}, runner, **kwargs), timeout=5)


# The upstream example (st2 contrib/examples orquesta-sequential.yaml) uses the shorthand forms.
SEQUENTIAL_SHORTHAND = """
version: 1.0
description: A basic sequential workflow.
input:
  - name
vars:
  - greeting: null
output:
  - greeting: <% ctx().greeting %>
tasks:
  task1:
    action: core.echo message=<% ctx().name %>
    next:
      - when: <% succeeded() %>
        publish: greeting=<% result().stdout %>
        do: task2
  task2:
    action: core.echo
    input:
      message: "All your base are belong to us!"
    next:
      - when: <% succeeded() %>
        publish:
          - greeting: <% ctx("greeting") %>, <% result().stdout %>
        do:
          - task3
  task3:
    action: core.echo message=<% ctx('greeting') %>
    next:
      - when: <% succeeded() %>
        publish: greeting=<% result().stdout %>
"""

SEQUENTIAL_LONG_FORM = """
version: 1.0
input:
  - name
vars:
  - greeting: null
output:
  - greeting: <% ctx().greeting %>
tasks:
  task1:
    action: core.echo
    input:
      message: <% ctx().name %>
    next:
      - when: <% succeeded() %>
        publish:
          - greeting: <% result().stdout %>
        do: task2
  task2:
    action: core.echo
    input:
      message: "All your base are belong to us!"
    next:
      - when: <% succeeded() %>
        publish:
          - greeting: <% ctx("greeting") %>, <% result().stdout %>
        do:
          - task3
  task3:
    action: core.echo
    input:
      message: <% ctx('greeting') %>
    next:
      - when: <% succeeded() %>
        publish:
          - greeting: <% result().stdout %>
"""


@pytest.mark.parametrize(
    "definition", [SEQUENTIAL_SHORTHAND, SEQUENTIAL_LONG_FORM], ids=["shorthand", "long"]
)
async def test_sequential_workflow_publishes_between_tasks_and_renders_output(definition: str) -> None:
    runner = FakeRunner()
    outcome = await run(definition, runner, {"name": "Stanley"})

    assert outcome.status == "succeeded"
    assert runner.calls == [
        ("task1", "core.echo", {"message": "Stanley"}, None),
        ("task2", "core.echo", {"message": "All your base are belong to us!"}, None),
        ("task3", "core.echo", {"message": "Stanley, All your base are belong to us!"}, None),
    ]
    assert outcome.output == {"greeting": "Stanley, All your base are belong to us!"}
    assert outcome.errors == []
    assert outcome.task_statuses == {"task1": "succeeded", "task2": "succeeded", "task3": "succeeded"}
    assert outcome.context == {"name": "Stanley", "greeting": "Stanley, All your base are belong to us!"}
    assert runner.checkpoints == ["task1", "task2", "task3"]


@pytest.mark.contract
async def test_sequential_output_matches_the_recorded_st2_execution(contract) -> None:
    recorded = json.loads((contract / "examples" / "execution-workflow.json").read_text())
    assert recorded["action"]["entry_point"].endswith("orquesta-sequential.yaml")

    outcome = await run(SEQUENTIAL_SHORTHAND, FakeRunner(), recorded["parameters"])

    assert {"output": outcome.output} == recorded["result"]


BRANCHING = """
version: 1.0
vars:
  - path: null
output:
  - path: <% ctx().path %>
tasks:
  check:
    action: core.local
    next:
      - when: <% succeeded() %>
        publish: path=happy
        do: celebrate
      - when: <% failed() %>
        publish:
          - path: <% result().stderr %>
        do: recover
  celebrate:
    action: core.noop
  recover:
    action: core.noop
"""


async def test_success_takes_the_succeeded_branch() -> None:
    runner = FakeRunner()
    outcome = await run(BRANCHING, runner)

    assert runner.ran() == ["check", "celebrate"]
    assert outcome.status == "succeeded"
    assert outcome.output == {"path": "happy"}


async def test_a_failure_handled_by_a_transition_is_remediated() -> None:
    runner = FakeRunner({"check": failing({"stderr": "disk full"})})
    outcome = await run(BRANCHING, runner)

    assert runner.ran() == ["check", "recover"]
    assert outcome.status == "succeeded"
    assert outcome.output == {"path": "disk full"}
    assert outcome.errors == []
    assert outcome.task_statuses == {"check": "failed", "recover": "succeeded"}


# Upstream orquesta-output-on-error.yaml: output is still rendered when the workflow fails.
OUTPUT_ON_ERROR = """
version: 1.0
vars:
  - progress: 0
output:
  - progress: <% ctx().progress %>
tasks:
  task1:
    action: core.noop
    next:
      - when: <% succeeded() %>
        publish:
          - progress: 25
        do:
          - task2
  task2:
    action: core.local cmd="exit 1"
    next:
      - when: <% succeeded() %>
        publish:
          - progress: 50
        do:
          - task3
  task3:
    action: core.noop
"""


async def test_unhandled_task_failure_fails_the_workflow_with_an_error_naming_the_task() -> None:
    failure = {"return_code": 1, "stderr": "", "stdout": ""}
    runner = FakeRunner({"task2": failing(failure)})
    outcome = await run(OUTPUT_ON_ERROR, runner)

    assert runner.calls[1] == ("task2", "core.local", {"cmd": "exit 1"}, None)
    assert runner.ran() == ["task1", "task2"]
    assert outcome.status == "failed"
    assert outcome.errors == [
        {
            "type": "error",
            "message": "Execution failed. See result for details.",
            "task_id": "task2",
            "result": failure,
        }
    ]
    assert outcome.output == {"progress": 25}
    assert outcome.task_statuses == {"task1": "succeeded", "task2": "failed"}


# Upstream orquesta-fail-manually.yaml: log the failure, then fail the workflow explicitly.
FAIL_MANUALLY = """
version: 1.0
tasks:
  task1:
    action: core.local cmd="exit 1"
    next:
      - when: <% failed() %>
        publish:
          - task_name: <% task().task_name %>
          - task_exit_code: <% task().result.stdout %>
        do:
          - log
          - fail
  log:
    action: core.echo
    input:
      message: "<% ctx().task_name %> failed with exit code: <% ctx().task_exit_code %>"
"""


async def test_do_fail_runs_the_tasks_listed_with_it_then_fails_the_workflow() -> None:
    runner = FakeRunner({"task1": failing({"stdout": "1"})})
    outcome = await run(FAIL_MANUALLY, runner)

    assert runner.calls[1] == ("log", "core.echo", {"message": "task1 failed with exit code: 1"}, None)
    assert outcome.status == "failed"
    assert outcome.errors == [
        {
            "type": "error",
            "message": "Execution failed. See result for details.",
            "task_id": "task1",
            "result": {"stdout": "1"},
        },
        {"type": "error", "message": "Execution failed. See result for details.", "task_id": "fail"},
    ]
    assert outcome.task_statuses == {"task1": "failed", "log": "succeeded"}


async def test_do_fail_on_a_succeeded_task_fails_the_workflow() -> None:
    definition = """
    version: 1.0
    vars:
      - body: null
    output:
      - body: <% ctx(body) %>
    tasks:
      task1:
        action: core.http
        next:
          - when: <% succeeded() and result().status_code = 200 %>
            publish: body=<% result().body %>
          - when: <% succeeded() and result().status_code != 200 %>
            publish: body=<% result().body %>
            do: fail
    """
    runner = FakeRunner(
        {"task1": lambda params, index: TaskOutcome("succeeded", {"status_code": 503, "body": "busy"})}
    )
    outcome = await run(definition, runner)

    assert outcome.status == "failed"
    assert outcome.output == {"body": "busy"}
    assert outcome.errors == [
        {"type": "error", "message": "Execution failed. See result for details.", "task_id": "fail"}
    ]


ERROR_HANDLING = """
version: 1.0
vars:
  - stderr: null
output:
  - stderr: <% ctx(stderr) %>
tasks:
  task1:
    action: core.local
    next:
      - when: <% failed() %>
        publish: stderr=<% result().stderr %>
        do: {command}
"""


async def test_noop_remediates_a_failure_and_continue_does_not() -> None:
    broken = {"task1": failing({"stderr": "oops"})}

    remediated = await run(ERROR_HANDLING.format(command="noop"), FakeRunner(broken))
    cascaded = await run(ERROR_HANDLING.format(command="continue"), FakeRunner(broken))

    assert (remediated.status, remediated.output) == ("succeeded", {"stderr": "oops"})
    assert (cascaded.status, cascaded.output) == ("failed", {"stderr": "oops"})
    assert cascaded.errors[0]["task_id"] == "task1"


async def test_parallel_branches_run_concurrently() -> None:
    definition = """
    version: 1.0
    tasks:
      setup:
        next:
          - do: left, right
      left:
        action: core.noop
      right:
        action: core.noop
    """
    started = {"left": asyncio.Event(), "right": asyncio.Event()}

    def waits_for(other: str) -> Behavior:
        async def behave(params: dict, index: int | None) -> TaskOutcome:
            started[{"left": "right", "right": "left"}[other]].set()
            await started[other].wait()  # would deadlock if the branches ran one after the other
            return TaskOutcome("succeeded", None)

        return behave

    runner = FakeRunner({"left": waits_for("right"), "right": waits_for("left")})
    outcome = await run(definition, runner)

    assert outcome.status == "succeeded"
    assert sorted(runner.ran()) == ["left", "right"]
    assert outcome.task_statuses == {"setup": "succeeded", "left": "succeeded", "right": "succeeded"}


JOIN = """
version: 1.0
vars:
  - msg1: foobar
  - msg2: fubar
output:
  - messages:
      - <% ctx().msg1 %>
      - <% ctx().msg2 %>
tasks:
  task1:
    action: core.noop
    next:
      - when: <% succeeded() %>
        do: task2, task4
  task2:
    action: core.echo message="Fee fi"
    next:
      - when: <% succeeded() %>
        publish: msg1=<% result().stdout %>
        do: task3
  task3:
    action: core.noop
    next:
      - when: <% succeeded() %>
        do: task10
  task4:
    action: core.echo message="fo fum"
    next:
      - when: <% succeeded() %>
        publish: msg2=<% result().stdout %>
        do: task10
  task10:
    join: all
    action: core.echo
    input:
      message: <% ctx().msg1 %> <% ctx().msg2 %>
"""


async def test_join_all_waits_for_every_branch_and_merges_their_contexts() -> None:
    runner = FakeRunner()
    outcome = await run(JOIN, runner)

    assert runner.ran().count("task10") == 1
    assert runner.ran()[-1] == "task10"
    assert runner.calls[-1][2] == {"message": "Fee fi fo fum"}
    assert outcome.status == "succeeded"
    assert outcome.output == {"messages": ["Fee fi", "fo fum"]}


JOIN_COUNT = """
version: 1.0
tasks:
  start:
    next:
      - do: a, b, c
  a:
    action: core.noop
    next:
      - when: <% succeeded() %>
        do: barrier
      - when: <% failed() %>
        do: noop
  b:
    action: core.noop
    next:
      - when: <% succeeded() %>
        do: barrier
      - when: <% failed() %>
        do: noop
  c:
    action: core.noop
    next:
      - when: <% succeeded() %>
        do: barrier
      - when: <% failed() %>
        do: noop
  barrier:
    join: 2
    action: core.noop
"""


async def test_join_count_starts_the_barrier_once_when_enough_branches_arrive() -> None:
    runner = FakeRunner({"c": failing()})
    outcome = await run(JOIN_COUNT, runner)

    assert runner.ran().count("barrier") == 1
    assert outcome.status == "succeeded"


async def test_a_join_that_can_no_longer_be_satisfied_fails_the_workflow() -> None:
    runner = FakeRunner({"b": failing(), "c": failing()})
    outcome = await run(JOIN_COUNT, runner)

    assert "barrier" not in runner.ran()
    assert outcome.status == "failed"
    assert outcome.errors[-1] == {
        "type": "error",
        "message": 'UnreachableJoinError: The join task|route "barrier|0" is partially satisfied but unreachable.',
        "task_id": "barrier",
        "route": 0,
    }


WITH_ITEMS = """
version: 1.0
input:
  - hosts
output:
  - uptimes: <% ctx().uptimes %>
tasks:
  probe:
    with: {items}
    action: core.remote
    input:
      hosts: <% item({key}) %>
      cmd: uptime
    next:
      - when: <% succeeded() %>
        publish:
          - uptimes: <% result() %>
"""


async def test_with_items_runs_each_item_and_keeps_results_in_item_order() -> None:
    hosts = ["web1", "web2", "web3"]
    finished = {host: asyncio.Event() for host in hosts}

    async def uptime(params: dict, index: int | None) -> TaskOutcome:
        host = params["hosts"]
        if index < len(hosts) - 1:  # finish in reverse order
            await finished[hosts[index + 1]].wait()
        finished[host].set()
        return TaskOutcome("succeeded", f"{host} up")

    runner = FakeRunner({"probe": uptime})
    outcome = await run(WITH_ITEMS.format(items="<% ctx(hosts) %>", key=""), runner, {"hosts": hosts})

    assert outcome.status == "succeeded"
    assert outcome.output == {"uptimes": ["web1 up", "web2 up", "web3 up"]}
    assert sorted((call[3], call[2]["hosts"]) for call in runner.calls) == [
        (0, "web1"),
        (1, "web2"),
        (2, "web3"),
    ]
    assert runner.checkpoints == ["probe"] * 3


async def test_with_items_named_item_and_concurrency_limit() -> None:
    active = 0
    peak = 0

    async def uptime(params: dict, index: int | None) -> TaskOutcome:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0)
        active -= 1
        return TaskOutcome("succeeded", params["hosts"])

    definition = WITH_ITEMS.format(
        items="\n      items: host in <% ctx(hosts) %>\n      concurrency: 2", key="host"
    )
    runner = FakeRunner({"probe": uptime})
    outcome = await run(definition, runner, {"hosts": ["a", "b", "c", "d", "e"]})

    assert outcome.output == {"uptimes": ["a", "b", "c", "d", "e"]}
    assert peak == 2


async def test_with_items_zipped_lists_and_a_failed_item_fails_the_task() -> None:
    definition = """
    version: 1.0
    input:
      - hosts
      - commands
    tasks:
      run:
        with: host, cmd in <% zip(ctx(hosts), ctx(commands)) %>
        action: core.remote hosts=<% item(host) %> cmd=<% item(cmd) %>
    """

    def second_fails(params: dict, index: int | None) -> TaskOutcome:
        return TaskOutcome("failed" if index == 1 else "succeeded", params["cmd"])

    runner = FakeRunner({"run": second_fails})
    outcome = await run(definition, runner, {"hosts": ["h1", "h2"], "commands": ["ls", "df"]})

    assert sorted((call[2]["hosts"], call[2]["cmd"]) for call in runner.calls) == [("h1", "ls"), ("h2", "df")]
    assert outcome.status == "failed"
    assert outcome.task_statuses == {"run": "failed"}
    assert outcome.errors == [
        {
            "type": "error",
            "message": "Execution failed. See result for details.",
            "task_id": "run",
            "result": "df",
        }
    ]


async def test_with_items_over_a_non_list_fails_with_a_clear_error() -> None:
    outcome = await run(WITH_ITEMS.format(items="<% ctx(hosts) %>", key=""), FakeRunner(), {"hosts": "web1"})

    assert outcome.status == "failed"
    assert outcome.errors == [
        {
            "type": "error",
            "message": 'TypeError: The value of "<% ctx(hosts) %>" is not type of list.',
            "task_id": "probe",
            "route": 0,
        }
    ]


async def test_task_without_action_succeeds_without_calling_the_runner() -> None:
    definition = """
    version: 1.0
    tasks:
      setup:
        next:
          - do: work
      work:
        action: core.noop
    """
    runner = FakeRunner()
    outcome = await run(definition, runner)

    assert runner.ran() == ["work"]
    assert outcome.task_statuses == {"setup": "succeeded", "work": "succeeded"}


async def test_input_defaults_may_use_earlier_inputs_and_vars_see_inputs() -> None:
    definition = """
    version: 1.0
    input:
      - first
      - greeting: Hello <% ctx().first %>
      - count: 2
    vars:
      - shout: <% ctx().greeting + "!" %>
    output:
      - shout
      - count: <% ctx().count * 10 %>
    tasks:
      only:
        action: core.noop
    """
    outcome = await run(definition, FakeRunner(), {"first": "Ada", "ignored": "x"})

    assert outcome.output == {"shout": "Hello Ada!", "count": 20}
    assert "ignored" not in outcome.context


async def test_a_loop_reruns_a_task_until_its_condition_changes() -> None:
    definition = """
    version: 1.0
    vars:
      - count: 0
    output:
      - count
    tasks:
      init:
        next:
          - do: step
      step:
        action: core.noop
        next:
          - when: <% ctx().count < 2 %>
            publish: count=<% ctx().count + 1 %>
            do: step
          - when: <% ctx().count >= 2 %>
            do: done
      done:
        action: core.noop
    """
    runner = FakeRunner()
    outcome = await run(definition, runner)

    assert runner.ran() == ["step", "step", "step", "done"]
    assert outcome.output == {"count": 2}


async def test_jinja_expressions_and_runner_functions_work_in_a_workflow() -> None:
    definition = """
    version: 1.0
    input:
      - hosts
    output:
      - summary: "{{ ctx('summary') }}"
    tasks:
      report:
        action: "{{ 'core.' ~ 'echo' }}"
        input:
          message: "{{ ctx().hosts | join(', ') }} in {{ st2kv('system.region') }}"
          count: "{{ ctx().hosts | length }}"
        next:
          - when: "{{ succeeded() and result().stdout.startswith('web') }}"
            publish:
              - summary: "{{ result().stdout | upper }}"
    """

    class KeyValueRunner(FakeRunner):
        expression_functions = {"st2kv": lambda key: {"system.region": "eu-west"}[key]}

    runner = KeyValueRunner()
    outcome = await run(definition, runner, {"hosts": ["web1", "web2"]})

    assert runner.calls == [("report", "core.echo", {"message": "web1, web2 in eu-west", "count": 2}, None)]
    assert outcome.output == {"summary": "WEB1, WEB2 IN EU-WEST"}


async def test_retry_reruns_a_failing_task() -> None:
    definition = """
    version: 1.0
    tasks:
      flaky:
        action: core.local
        retry:
          count: 3
    """
    attempts = []

    def flaky(params: dict, index: int | None) -> TaskOutcome:
        attempts.append(index)
        return TaskOutcome("succeeded" if len(attempts) == 3 else "failed", None)

    outcome = await run(definition, FakeRunner({"flaky": flaky}))

    assert len(attempts) == 3
    assert outcome.status == "succeeded"


# -- expressions ---------------------------------------------------------------------------------

CONTEXT = {"name": "Stanley", "count": 3, "nested": {"a": {"b": 1}}, "hosts": ["h1", "h2"], "nothing": None}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("<% ctx().name %>", "Stanley"),
        ("<% ctx(name) %>", "Stanley"),
        ("<% ctx('count') %>", 3),
        ("<% ctx().hosts %>", ["h1", "h2"]),
        ("<% ctx().hosts[1] %>", "h2"),
        ("<% ctx().nested.a.b + 1 %>", 2),
        ("<% ctx().count = 3 and not ctx().count != 3 %>", True),
        ("<% ctx().nothing = null or false %>", True),
        ("<% ctx().count > 1 and ctx().count < 5 %>", True),
        ("<% ctx().missing %>", None),
        ("<% 'Hi ' + ctx().name %>", "Hi Stanley"),
        ("<% ctx().name %> has <% ctx().count %> hosts", "Stanley has 3 hosts"),
        ("{{ ctx().hosts }}", ["h1", "h2"]),
        ("{{ ctx('count') * 2 }}", 6),
        ("{{ ctx().name }}-{{ ctx().count }}", "Stanley-3"),
        ("{{ ctx().hosts | join(',') }}", "h1,h2"),
        ("{{ ctx().nested | to_json_string }}", '{"a": {"b": 1}}'),
        ("{% for h in ctx().hosts %}{{ h }};{% endfor %}", "h1;h2;"),
        ("plain text", "plain text"),
    ],
)
def test_render_evaluates_yaql_style_and_jinja_expressions(expression: str, expected: Any) -> None:
    assert render(expression, CONTEXT) == expected


def test_render_walks_dicts_and_lists_and_uses_extra_functions() -> None:
    value = {"<% ctx().name %>": ["<% result().stdout %>", 1, None], "ok": "{{ succeeded() }}"}

    rendered = render(value, CONTEXT, result=lambda: {"stdout": "done"}, succeeded=lambda: True)

    assert rendered == {"Stanley": ["done", 1, None], "ok": True}


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "<% ctx(unknown) %>",
            "YaqlEvaluationException: Unable to evaluate expression '<% ctx(unknown) %>'. "
            'VariableUndefinedError: The variable "unknown" is undefined.',
        ),
        (
            "{{ ctx().missing }}",
            "JinjaEvaluationException: Unable to evaluate expression '{{ ctx().missing }}'. "
            "UndefinedError: 'dict object' has no attribute 'missing'",
        ),
        (
            "<% result() %>",
            "YaqlEvaluationException: Unable to evaluate expression '<% result() %>'. "
            "ExpressionEvaluationException: The current task is not set in the context.",
        ),
        (
            "<% ctx().name %> {{ ctx().name }}",
            "ExpressionEvaluationException: Expression with multiple types is not supported: "
            "'<% ctx().name %> {{ ctx().name }}'.",
        ),
    ],
)
def test_expression_errors_name_the_expression(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        render(expression, CONTEXT)

    assert f"{caught.value.error_type}: {caught.value}" == message
    assert caught.value.expression == expression


def test_a_key_that_renders_to_a_list_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="cannot be a key"):
        render({"<% ctx().hosts %>": 1}, CONTEXT)


def test_expressions_cannot_modify_the_context() -> None:
    context = {"hosts": ["h1"]}

    with pytest.raises(ExpressionError):
        render("{{ ctx().hosts.append('evil') }}", context)

    assert context == {"hosts": ["h1"]}


async def test_an_expression_error_in_publish_fails_the_workflow() -> None:
    definition = """
    version: 1.0
    tasks:
      task1:
        action: core.noop
        next:
          - when: <% succeeded() %>
            publish: value=<% result().nope.deeper %>
            do: task2
      task2:
        action: core.noop
    """
    runner = FakeRunner()
    outcome = await run(definition, runner)

    assert runner.ran() == ["task1"]
    assert outcome.status == "failed"
    [error] = outcome.errors
    assert error["message"].startswith(
        "YaqlEvaluationException: Unable to evaluate expression '<% result().nope.deeper %>'."
    )
    assert (error["task_id"], error["task_transition_id"]) == ("task1", "task2__t0")


# -- re-run, definitions ---------------------------------------------------------------------------


async def test_rerun_from_a_middle_task_uses_the_given_context() -> None:
    runner = FakeRunner()
    outcome = await run(
        SEQUENTIAL_LONG_FORM,
        runner,
        {"name": "ignored"},
        start_tasks=["task2"],
        initial_context={"name": "Stanley", "greeting": "Hi"},
    )

    assert runner.ran() == ["task2", "task3"]
    assert runner.calls[1][2] == {"message": "Hi, All your base are belong to us!"}
    assert outcome.output == {"greeting": "Hi, All your base are belong to us!"}
    assert outcome.task_statuses == {"task2": "succeeded", "task3": "succeeded"}


async def test_rerun_starts_a_task_from_the_context_it_started_with() -> None:
    first = await run(SEQUENTIAL_LONG_FORM, FakeRunner(), {"name": "Ada"})
    assert first.task_contexts["task2"]["greeting"] == "Ada"

    runner = FakeRunner()
    again = await run(
        SEQUENTIAL_LONG_FORM,
        runner,
        {},
        start_tasks=["task2"],
        initial_context=first.context,
        start_contexts=first.task_contexts,
    )

    # task2 appends to the greeting once, as in the first run, not to the first run's final greeting.
    assert runner.ran() == ["task2", "task3"]
    assert runner.calls[1][2] == {"message": "Ada, All your base are belong to us!"}
    assert again.output == first.output


async def test_rerun_of_an_unknown_task_is_refused() -> None:
    spec = WorkflowSpec.from_yaml(SEQUENTIAL_LONG_FORM)

    with pytest.raises(WorkflowDefinitionError, match='task "nope"'):
        await run_workflow(spec, {}, FakeRunner(), start_tasks=["nope"], initial_context={})


def test_spec_exposes_inputs_and_tasks() -> None:
    spec = WorkflowSpec.from_yaml(
        """
        version: 1.0
        input:
          - cmd
          - timeout: 60
        tasks:
          first:
            action: core.local cmd=<% ctx(cmd) %> timeout=<% ctx(timeout) %>
            next:
              - do: second
          second:
            action: core.noop
        """
    )

    assert spec.input_names == ["cmd", "timeout"]
    assert spec.input_defaults == {"timeout": 60}
    assert spec.task_names == ["first", "second"]
    assert spec.start_tasks == ["first"]
    assert spec.tasks["first"].action == "core.local"
    assert spec.tasks["first"].input == {"cmd": "<% ctx(cmd) %>", "timeout": "<% ctx(timeout) %>"}


@pytest.mark.parametrize(
    ("definition", "problem"),
    [
        ("version: 1.0\ntasks: [unclosed", "Invalid workflow YAML"),
        ("- just\n- a list", "must be a YAML mapping"),
        ("tasks:\n  a:\n    action: core.noop", '"version" is required'),
        ("version: 2.0\ntasks:\n  a:\n    action: core.noop", 'Unsupported workflow version "2.0"'),
        ("version: 1.0", '"tasks" must be a non-empty mapping'),
        ("version: 1.0\noutput:\n  - a-b\ntasks:\n  a:\n    action: core.noop", 'Output "a-b" needs a value'),
        (
            "version: 1.0\ntasks:\n  a:\n    next:\n      - do: ghost",
            'Task "a" transitions to undefined task "ghost"',
        ),
        ("version: 1.0\ntasks:\n  fail:\n    action: core.noop", 'The task name "fail" is reserved'),
        ("version: 1.0\ntasks:\n  a:\n    actoin: core.noop", 'Task "a" has unknown attribute(s): actoin'),
        ("version: 1.0\ntasks:\n  a:\n    next:\n      - do: a", "Unable to identify any tasks to start"),
        ("version: 1.0\ntasks:\n  a:\n    with: <% ctx(x) %>", "action property is required for with items"),
        ("version: 1.0\ntasks:\n  a:\n    action: core.noop\n    join: some", '"join" must be "all"'),
        (
            "version: 1.0\ntasks:\n  a:\n    action: core.echo\n    input:\n      message: <% ctx(x %>",
            "tasks.a.input: Unable to evaluate expression '<% ctx(x %>'",
        ),
    ],
)
def test_invalid_definitions_are_rejected_with_the_problem_named(definition: str, problem: str) -> None:
    with pytest.raises(WorkflowDefinitionError) as caught:
        WorkflowSpec.from_yaml(definition)

    assert problem in str(caught.value)


def test_every_problem_of_a_definition_is_reported_at_once() -> None:
    definition = {
        "version": 1.0,
        "tasks": {"a": {"action": "core.noop", "next": [{"do": "b, c"}]}, "b": {"action": ""}},
    }

    with pytest.raises(WorkflowDefinitionError) as caught:
        WorkflowSpec.from_dict(definition)

    assert caught.value.problems == [
        'Task "b": "action" must be a non-empty string.',
        'Task "a" transitions to undefined task "c".',
    ]


# -- pause, cancel, runner errors --------------------------------------------------------------------


class GatedRunner(FakeRunner):
    """Blocks in checkpoint for chosen tasks until released, like a paused workflow on the server."""

    def __init__(self, gated: str) -> None:
        super().__init__()
        self.gated = gated
        self.reached = asyncio.Event()
        self.released = asyncio.Event()
        self.cancel = False

    async def checkpoint(self, task_name: str) -> None:
        await super().checkpoint(task_name)
        if task_name == self.gated:
            self.reached.set()
            await self.released.wait()
            if self.cancel:
                raise asyncio.CancelledError


async def test_a_blocking_checkpoint_pauses_the_workflow_until_released() -> None:
    runner = GatedRunner("task2")
    workflow = asyncio.create_task(run(SEQUENTIAL_LONG_FORM, runner, {"name": "Stanley"}))

    await asyncio.wait_for(runner.reached.wait(), timeout=5)
    assert runner.ran() == ["task1"]
    assert not workflow.done()

    runner.released.set()
    outcome = await workflow

    assert outcome.status == "succeeded"
    assert runner.ran() == ["task1", "task2", "task3"]


async def test_cancellation_raised_by_the_runner_ends_the_workflow_as_canceled() -> None:
    runner = GatedRunner("task2")
    runner.cancel = True
    runner.released.set()

    outcome = await run(SEQUENTIAL_LONG_FORM, runner, {"name": "Stanley"})

    assert outcome.status == "canceled"
    assert runner.ran() == ["task1"]
    assert outcome.task_statuses == {"task1": "succeeded", "task2": "canceled"}
    assert outcome.output == {"greeting": "Stanley"}
    assert outcome.errors == []


async def test_a_canceled_task_outcome_cancels_the_workflow() -> None:
    runner = FakeRunner({"task1": lambda params, index: TaskOutcome("canceled", None)})

    outcome = await run(SEQUENTIAL_LONG_FORM, runner, {"name": "Stanley"})

    assert outcome.status == "canceled"
    assert runner.ran() == ["task1"]


async def test_cancelling_the_caller_cancels_running_tasks_and_propagates() -> None:
    started = asyncio.Event()
    interrupted = []

    async def slow(params: dict, index: int | None) -> TaskOutcome:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            interrupted.append(True)
            raise
        return TaskOutcome("succeeded", None)

    runner = FakeRunner({"task1": slow})
    workflow = asyncio.create_task(run(SEQUENTIAL_LONG_FORM, runner, {"name": "Stanley"}))
    await asyncio.wait_for(started.wait(), timeout=5)

    workflow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await workflow

    assert interrupted == [True]


async def test_cancellation_during_with_items_stops_the_remaining_items() -> None:
    class CancelOnSecondItem(FakeRunner):
        async def checkpoint(self, task_name: str) -> None:
            await super().checkpoint(task_name)
            if len(self.checkpoints) == 2:
                raise asyncio.CancelledError

    definition = WITH_ITEMS.format(items="\n      items: <% ctx(hosts) %>\n      concurrency: 1", key="")
    runner = CancelOnSecondItem()
    outcome = await run(definition, runner, {"hosts": ["a", "b", "c"]})

    assert outcome.status == "canceled"
    assert [call[3] for call in runner.calls] == [0]
    assert runner.checkpoints == ["probe", "probe"]
    assert outcome.task_statuses == {"probe": "canceled"}


async def test_an_input_default_that_cannot_be_evaluated_fails_before_any_task() -> None:
    definition = """
    version: 1.0
    input:
      - size: <% ctx(undefined_thing) %>
    tasks:
      only:
        action: core.noop
    """
    runner = FakeRunner()
    outcome = await run(definition, runner)

    assert runner.calls == []
    assert outcome.status == "failed"
    assert outcome.errors == [
        {
            "type": "error",
            "message": "YaqlEvaluationException: Unable to evaluate expression '<% ctx(undefined_thing) %>'. "
            'VariableUndefinedError: The variable "undefined_thing" is undefined.',
        }
    ]


async def test_a_runner_error_fails_the_workflow_without_remediation() -> None:
    def broken(params: dict, index: int | None) -> TaskOutcome:
        raise RuntimeError("action examples.missing is not registered")

    runner = FakeRunner({"check": broken})
    outcome = await run(BRANCHING, runner)

    assert runner.ran() == ["check"]
    assert outcome.status == "failed"
    assert outcome.errors == [
        {
            "type": "error",
            "message": "RuntimeError: action examples.missing is not registered",
            "task_id": "check",
            "route": 0,
        }
    ]
