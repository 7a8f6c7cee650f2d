"""Orquesta workflows on the embedded server over real HTTP: tasks as child executions, nesting, pause,
resume, cancel, re-run from tasks and inquiries, including across a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.rest import api_client, children, pending_inquiry_for, run_action, wait_for, wait_until
from support.shapes import differences, shape

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread


@pytest.fixture(scope="module")
def api(st2_server: RunningServer) -> Iterator[httpx.Client]:
    with api_client(st2_server) as client:
        yield client


def golden(contract: Path, name: str) -> Any:
    return json.loads((contract / "golden" / "real-st2-shapes.json").read_text())[name]["body"]


def example(contract: Path, name: str) -> Any:
    return json.loads((contract / "examples" / name).read_text())


def task_names(client: httpx.Client, execution_id: str) -> list[str]:
    return [child["context"]["orquesta"]["task_name"] for child in children(client, execution_id)]


def test_sequential_workflow_runs_its_tasks_as_child_executions(api: httpx.Client, contract: Path) -> None:
    execution = run_action(api, "examples.orquesta-sequential", {"name": "Stanley"})

    done = wait_for(api, execution["id"])
    tasks = children(api, execution["id"])

    assert done["status"] == "succeeded"
    assert done["result"] == {"output": {"greeting": "Stanley, All your base are belong to us!"}}
    assert done["children"] == [task["id"] for task in tasks]
    assert done["liveaction"]["action_is_workflow"] is True
    workflow_execution = done["context"]["workflow_execution"]
    assert [task["context"]["orquesta"]["task_name"] for task in tasks] == ["task1", "task2", "task3"]
    for task in tasks:
        assert task["parent"] == execution["id"]
        assert task["workflow_execution"] == workflow_execution
        assert task["context"]["parent"] == {
            "execution_id": execution["id"],
            "user": "st2admin",
            "pack": "examples",
        }
        assert task["context"]["orquesta"] == {
            "workflow_execution_id": workflow_execution,
            "task_execution_id": task["task_execution"],
            "task_name": task["context"]["orquesta"]["task_name"],
            "task_id": task["context"]["orquesta"]["task_name"],
            "task_route": 0,
        }
    real_child = example(contract, "execution-workflow-children.json")[0]
    assert list(tasks[0]) == list(real_child)
    assert list(done) == list(example(contract, "execution-workflow.json"))
    content = lambda path: path[:1] == ("liveaction",) and path[1:2] == ("parameters",)  # noqa: E731
    # The golden run passed no parameters, so it has no `parameters` key.
    without_parameters = {key: value for key, value in done.items() if key != "parameters"}
    assert (
        differences(golden(contract, "executions.get.workflow"), shape(without_parameters), loose=content)
        == []
    )
    assert differences(golden(contract, "executions.children"), shape(tasks)) == []


def test_workflow_output_streams_progress_messages(api: httpx.Client) -> None:
    execution = run_action(api, "examples.orquesta-sequential", {"name": "Ada"})
    done = wait_for(api, execution["id"])

    output = api.get(f"/api/v1/executions/{execution['id']}/output").text.splitlines()

    assert output[0] == f'Workflow execution "{done["context"]["workflow_execution"]}" is created.'
    assert output[-1] == 'The workflow execution is completed with status "succeeded".'
    assert sum("requested for task" in line for line in output) == 3


def test_nested_failure_fails_three_levels_down_and_reports_it(api: httpx.Client) -> None:
    execution = run_action(api, "examples.nested-failure")

    done = wait_for(api, execution["id"])
    everything = children(api, execution["id"])
    top = api.get(f"/api/v1/executions/{execution['id']}/children", params={"depth": 1}).json()

    assert done["status"] == "failed"
    assert [task["context"]["orquesta"]["task_name"] for task in top] == ["prepare", "run_stage"]
    by_task = {task["context"]["orquesta"]["task_name"]: task for task in everything}
    assert by_task["run_stage"]["status"] == "failed"
    assert by_task["run_database_step"]["status"] == "failed"
    assert by_task["run_database_step"]["parent"] == by_task["run_stage"]["id"]
    migrate = by_task["migrate"]
    assert migrate["status"] == "failed" and migrate["parent"] == by_task["run_database_step"]["id"]
    assert migrate["result"]["stderr"] == 'ERROR:  relation "invoices" already exists'
    assert by_task["cleanup"]["status"] == "succeeded"  # the middle level handled it, then failed
    assert "announce" not in by_task
    # Depth-first order: each sub-workflow's tasks follow it.
    names = [task["context"]["orquesta"]["task_name"] for task in everything]
    assert names.index("run_database_step") < names.index("migrate") < names.index("cleanup")
    assert done["result"]["output"] is None
    assert done["result"]["errors"][0]["task_id"] == "run_stage"
    assert done["result"]["errors"][0]["message"] == "Execution failed. See result for details."


def test_pause_waits_for_running_tasks_then_resume_continues(api: httpx.Client) -> None:
    execution = run_action(api, "examples.deploy", {"pace": 0.1})
    wait_until(lambda: children(api, execution["id"]), message="the first task")

    pausing = api.put(f"/api/v1/executions/{execution['id']}", json={"status": "pausing"})
    paused = wait_for(api, execution["id"], {"paused"})
    started_while_paused = task_names(api, execution["id"])

    assert pausing.status_code == 200
    assert pausing.json()["status"] == "pausing"
    assert pausing.json()["context"]["paused_by"] == "st2admin"
    assert paused["result"] == {"output": None}
    assert started_while_paused == ["build"]
    assert all(task["status"] == "succeeded" for task in children(api, execution["id"]))
    assert (
        api.put(f"/api/v1/executions/{execution['id']}", json={"status": "pausing"}).json()["status"]
        == "paused"
    )

    resuming = api.put(f"/api/v1/executions/{execution['id']}", json={"status": "resuming"})
    done = wait_for(api, execution["id"])

    assert resuming.json()["status"] == "resuming"
    assert resuming.json()["context"]["resumed_by"] == "st2admin"
    assert done["status"] == "succeeded"
    assert [entry["status"] for entry in done["log"]] == [
        "requested",
        "scheduled",
        "running",
        "pausing",
        "paused",
        "resuming",
        "running",
        "succeeded",
    ]
    assert set(task_names(api, execution["id"])) == {
        "build",
        "test",
        "migrate",
        "deploy",
        "smoke_test",
        "notify",
    }


def test_resume_of_a_running_workflow_is_a_no_op_and_pause_of_a_finished_one_is_refused(
    api: httpx.Client,
) -> None:
    execution = run_action(api, "examples.deploy", {"pace": 0.1})
    running = wait_for(api, execution["id"], {"running"})

    assert (
        api.put(f"/api/v1/executions/{execution['id']}", json={"status": "resuming"}).json()["status"]
        == "running"
    )
    assert api.delete(f"/api/v1/executions/{execution['id']}").status_code == 200
    wait_for(api, execution["id"])
    refused = api.put(f"/api/v1/executions/{execution['id']}", json={"status": "pausing"})
    assert refused.status_code == 400
    assert refused.json() == {"faultstring": "Execution is already in completed state."}
    assert running["liveaction"]["id"]


def test_cancel_lets_the_running_task_finish_and_starts_no_other(api: httpx.Client) -> None:
    execution = run_action(api, "examples.deploy", {"pace": 0.1})
    wait_until(lambda: children(api, execution["id"]), message="the first task")

    response = api.delete(f"/api/v1/executions/{execution['id']}")
    done = wait_for(api, execution["id"])

    assert response.status_code == 200
    assert response.json()["status"] == "canceling"
    assert response.json()["result"] == {"message": "Action canceled by user.", "user": "st2admin"}
    assert done["status"] == "canceled"
    assert [entry["status"] for entry in done["log"]][-2:] == ["canceling", "canceled"]
    assert [
        (task["context"]["orquesta"]["task_name"], task["status"]) for task in children(api, execution["id"])
    ] == [("build", "succeeded")]


def test_re_run_from_a_task_keeps_the_original_context(api: httpx.Client) -> None:
    original = run_action(api, "examples.orquesta-sequential", {"name": "Ada"})
    wait_for(api, original["id"])

    response = api.post(f"/api/v1/executions/{original['id']}/re_run", json={"tasks": ["task3"]})
    rerun = wait_for(api, response.json()["id"])

    assert response.status_code == 201
    assert rerun["context"]["re-run"] == {"ref": original["id"], "tasks": ["task3"]}
    assert rerun["status"] == "succeeded"
    assert task_names(api, rerun["id"]) == ["task3"]
    # task3 used what task1 and task2 published in the original run.
    assert rerun["result"] == {"output": {"greeting": "Ada, All your base are belong to us!"}}


def test_re_run_of_an_unknown_task_fails_the_new_execution(api: httpx.Client) -> None:
    original = run_action(api, "examples.orquesta-sequential", {"name": "Ada"})
    wait_for(api, original["id"])

    response = api.post(
        f"/api/v1/executions/{original['id']}/re_run", json={"tasks": ["nope"], "reset": ["nope"]}
    )
    rerun = wait_for(api, response.json()["id"])

    assert rerun["context"]["re-run"] == {"ref": original["id"], "tasks": ["nope"], "reset": ["nope"]}
    assert rerun["status"] == "failed"
    assert "nope" in rerun["result"]["errors"][0]["message"]


def test_inquiry_pauses_the_workflow_and_the_answer_resumes_it(api: httpx.Client, contract: Path) -> None:
    execution = run_action(api, "examples.orquesta-ask-basic")

    paused = wait_for(api, execution["id"], {"paused"})
    ask = wait_until(lambda: pending_inquiry_for(api, execution["id"]), message="a pending inquiry")

    assert [entry["status"] for entry in paused["log"]] == ["requested", "scheduled", "running", "paused"]
    assert paused["result"] == {"output": None}
    assert "parameters" not in paused
    assert list(paused) == list(example(contract, "execution-workflow-paused.json"))
    assert set(ask["result"]) == {"schema", "roles", "users", "route", "ttl"}
    inquiries = api.get("/api/v1/inquiries").json()
    assert ask["id"] in [inquiry["id"] for inquiry in inquiries]

    answer = api.put(f"/api/v1/inquiries/{ask['id']}", json={"id": ask["id"], "response": {"approved": True}})
    done = wait_for(api, execution["id"])

    assert answer.status_code == 200
    assert done["status"] == "succeeded"
    assert [entry["status"] for entry in done["log"]][-3:] == ["resuming", "running", "succeeded"]
    answered = api.get(f"/api/v1/executions/{ask['id']}").json()
    assert answered["status"] == "succeeded"
    assert answered["result"]["response"] == {"approved": True}
    assert task_names(api, execution["id"]) == ["start", "get_approval", "finish"]


def test_paused_workflow_survives_a_restart_and_finishes_once_answered(tmp_path: Path) -> None:
    db_path = tmp_path / "st2.sqlite"
    server = start_in_thread(DemoServer(db_path, timers=False, seed=False))
    with api_client(server) as client:
        execution = run_action(client, "examples.orquesta-ask-basic")
        wait_for(client, execution["id"], {"paused"})
        ask = wait_until(lambda: pending_inquiry_for(client, execution["id"]), message="a pending inquiry")
    server.stop()

    server = start_in_thread(DemoServer(db_path, timers=False, seed=False))
    try:
        with api_client(server) as client:
            assert client.get(f"/api/v1/executions/{execution['id']}").json()["status"] == "paused"
            answer = client.put(
                f"/api/v1/inquiries/{ask['id']}", json={"id": ask["id"], "response": {"approved": True}}
            )
            done = wait_for(client, execution["id"])
            names = task_names(client, execution["id"])
    finally:
        server.stop()

    assert answer.status_code == 200
    assert done["status"] == "succeeded"
    assert names == ["start", "get_approval", "finish"]  # no task ran twice
