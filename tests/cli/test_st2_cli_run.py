"""`st2 run`: shell commands, failures, workflows, typed parameters, async runs."""

from __future__ import annotations

import json

import httpx
import pytest
from support.rest import children, wait_for
from support.st2cli import St2Cli, execution_id_from_async, parse_table, parse_yaml_like

pytestmark = pytest.mark.cli


def test_run_core_local_prints_status_stdout_and_stderr(st2: St2Cli, rest: httpx.Client) -> None:
    result = st2("run", "core.local", "cmd=echo hi; echo err >&2")

    assert result.returncode == 0, result
    fields = parse_yaml_like(result.stdout)
    assert fields["status"] == "succeeded", result
    assert fields["action.ref"] == "core.local"
    assert fields["context.user"] == st2.server.username
    assert "  cmd: echo hi; echo err >&2\n" in result.stdout
    for line in ("  failed: false", "  return_code: 0", "  stderr: err", "  stdout: hi", "  succeeded: true"):
        assert f"{line}\n" in result.stdout, result
    doc = rest.get(f"/api/v1/executions/{fields['id']}").json()
    assert doc["result"] == {
        "failed": False,
        "succeeded": True,
        "return_code": 0,
        "stdout": "hi",
        "stderr": "err",
    }


def test_run_of_a_failing_command_exits_1(st2: St2Cli) -> None:
    result = st2("run", "core.local", "cmd=cat /etc/does-not-exist")

    assert result.returncode == 1, result
    assert parse_yaml_like(result.stdout)["status"] == "failed", result
    assert "  failed: true\n" in result.stdout
    assert "  return_code: 1\n" in result.stdout
    assert "  stderr: 'cat: /etc/does-not-exist: No such file or directory'\n" in result.stdout


def test_run_of_a_workflow_prints_its_task_table(st2: St2Cli, rest: httpx.Client) -> None:
    result = st2("run", "examples.orquesta-sequential", "name=Stanley")

    assert result.returncode == 0, result
    fields = parse_yaml_like(result.stdout)
    assert fields["status"] == "succeeded", result
    assert "    greeting: Stanley, All your base are belong to us!\n" in result.stdout, result
    tasks = parse_table(result.stdout)
    assert list(tasks[0]) == ["id", "status", "task", "action", "start_timestamp"], result
    assert [row["task"] for row in tasks] == ["task1", "task2", "task3"], result
    assert all(row["action"] == "core.echo" for row in tasks)
    assert all(row["status"].startswith("succeeded (") for row in tasks), result
    child_ids = {child["id"] for child in children(rest, fields["id"])}
    assert {row["id"] for row in tasks} == child_ids


def test_run_async_prints_how_to_follow_the_execution(st2: St2Cli, rest: httpx.Client) -> None:
    result = st2("run", "core.local", "cmd=echo async", "-a")

    assert result.returncode == 0, result
    execution_id = execution_id_from_async(result)
    assert result.stdout == (
        f"To get the results, execute:\n st2 execution get {execution_id}\n\n"
        f"To view output in real-time, execute:\n st2 execution tail {execution_id}\n"
    )
    assert wait_for(rest, execution_id)["status"] == "succeeded"


def test_run_with_parameters_of_every_type_stores_them_typed(st2: St2Cli, rest: httpx.Client) -> None:
    options = {"retries": 1, "nested": {"on": True, "hosts": ["a", "b"]}}
    servers = [{"host": "db-01", "port": 5432}]
    result = st2(
        "run",
        "examples.all-param-types",
        "message=hello world",
        "count=5",
        "level=debug",
        "ratio=0.5",
        "verbose=true",
        "dry_run=false",
        "tags=red,green",
        f"options={json.dumps(options)}",
        f"servers={json.dumps(servers)}",
        "api_token=s3cret-value",
        "-a",
    )

    assert result.returncode == 0, result
    doc = wait_for(rest, execution_id_from_async(result))
    assert doc["status"] == "succeeded", doc.get("result")
    params = doc["parameters"]
    assert params["message"] == "hello world"
    assert params["count"] == 5 and type(params["count"]) is int
    assert params["level"] == "debug"
    assert params["ratio"] == 0.5 and type(params["ratio"]) is float
    assert params["verbose"] is True
    assert params["dry_run"] is False
    assert params["tags"] == ["red", "green"]
    assert params["options"] == options
    assert params["servers"] == servers
    # Secret parameters are masked in every execution document (`ActionExecutionDB.mask_secrets`),
    # in the live action too, unless an admin asks for ?show_secrets=true (with RBAC off, everyone).
    assert params["api_token"] == "********"
    assert doc["liveaction"]["parameters"]["api_token"] == "********"
    shown = rest.get(f"/api/v1/executions/{doc['id']}", params={"show_secrets": "true"}).json()
    assert shown["parameters"]["api_token"] == "s3cret-value"
    assert shown["liveaction"]["parameters"]["api_token"] == "s3cret-value"


def test_run_with_a_value_out_of_bounds_reports_the_validation_error(st2: St2Cli) -> None:
    result = st2("run", "examples.all-param-types", "message=hi", "count=42")

    assert result.returncode == 1, result
    assert "400 Client Error" in result.output
    assert "MESSAGE: 42 is greater than the maximum of 10" in result.output


def test_run_of_an_unknown_action(st2: St2Cli) -> None:
    result = st2("run", "examples.does-not-exist")

    assert result.returncode == 1, result
    # The CLI looks the action up first (GET /actions/<ref> → 404) and reports it itself.
    assert 'Resource with id or reference "examples.does-not-exist" doesn\'t exist.' in result.output
