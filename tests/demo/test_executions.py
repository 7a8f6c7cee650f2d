"""`/api/v1/executions` of the embedded server over real HTTP: runs, documents, lists and controls."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.rest import MISSING_ID, api_client, run_action, wait_for, wait_until
from support.shapes import differences, shape

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000Z$")


@pytest.fixture(scope="module")
def api(st2_server: RunningServer) -> Iterator[httpx.Client]:
    with api_client(st2_server) as client:
        yield client


def golden(contract: Path, name: str) -> dict[str, Any]:
    return json.loads((contract / "golden" / "real-st2-shapes.json").read_text())[name]


def example(contract: Path, name: str) -> Any:
    return json.loads((contract / "examples" / name).read_text())


def process_running(marker: str) -> bool:
    """Is a process whose command line contains `marker` alive?"""
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    return bool(found.stdout.strip())


# ---- running core.local ----------------------------------------------------------------------------


def test_core_local_runs_and_its_document_has_real_st2s_shape(api: httpx.Client, contract: Path) -> None:
    created = api.post(
        "/api/v1/executions",
        json={
            "action": "core.local",
            "parameters": {"cmd": "echo Hello from StackStorm; echo to-stderr >&2"},
        },
    )
    assert created.status_code == 201
    posted = created.json()
    assert posted["status"] == "requested"
    assert posted["liveaction"]["runner_info"] == {}
    assert MICROSECONDS.match(posted["log"][0]["timestamp"])
    assert differences(golden(contract, "executions.post")["body"], shape(posted)) == []

    done = wait_for(api, posted["id"])

    assert done["status"] == "succeeded"
    assert done["result"] == {
        "failed": False,
        "succeeded": True,
        "return_code": 0,
        "stdout": "Hello from StackStorm",
        "stderr": "to-stderr",
    }
    assert done["result_size"] == 103  # compact JSON length, as st2 computes it
    assert [entry["status"] for entry in done["log"]] == ["requested", "scheduled", "running", "succeeded"]
    assert all(MILLISECONDS.match(entry["timestamp"]) for entry in done["log"])
    assert MICROSECONDS.match(done["start_timestamp"]) and MICROSECONDS.match(done["end_timestamp"])
    assert isinstance(done["elapsed_seconds"], float)
    assert done["web_url"] == f"https://localhost/#/history/{done['id']}/general"
    assert done["liveaction"]["id"] != done["id"]
    assert done["context"] == {"user": "st2admin", "pack": "core"}
    real = example(contract, "execution-local-succeeded.json")
    assert list(done) == list(real)  # same keys in st2's order
    assert set(done["liveaction"]) == set(real["liveaction"])
    assert set(done["liveaction"]["runner_info"]) == {"hostname", "pid"}
    assert differences(golden(contract, "executions.get.succeeded")["body"], shape(done)) == []


def test_output_endpoint_returns_the_lines_as_plain_text(api: httpx.Client) -> None:
    execution = run_action(api, "core.local", {"cmd": "echo one; echo two >&2; echo three"})
    wait_for(api, execution["id"])

    everything = api.get(f"/api/v1/executions/{execution['id']}/output")
    stdout = api.get(f"/api/v1/executions/{execution['id']}/output", params={"output_type": "stdout"})
    stderr = api.get(f"/api/v1/executions/{execution['id']}/output", params={"output_type": "stderr"})

    assert everything.status_code == 200
    assert everything.headers["content-type"] == "text/plain"
    assert sorted(everything.text.splitlines()) == ["one", "three", "two"]
    assert stdout.text == "one\nthree\n"
    assert stderr.text == "two\n"


def test_failed_command_has_the_failed_shape(api: httpx.Client, contract: Path) -> None:
    execution = run_action(api, "core.local", {"cmd": "cat /etc/does-not-exist"})

    done = wait_for(api, execution["id"])

    assert done["status"] == "failed"
    assert done["result"]["return_code"] == 1
    assert done["result"]["failed"] is True and done["result"]["succeeded"] is False
    assert "No such file or directory" in done["result"]["stderr"]
    assert differences(golden(contract, "executions.get.failed")["body"], shape(done)) == []


def test_command_over_its_timeout_ends_in_timeout_and_is_killed(api: httpx.Client) -> None:
    marker = f"st2tui-timeout-{uuid.uuid4().hex}"
    execution = run_action(api, "core.local", {"cmd": f"sleep 30; echo {marker}", "timeout": 1})

    done = wait_for(api, execution["id"], timeout=20)

    assert done["status"] == "timeout"
    assert done["result"]["return_code"] == -9
    assert done["result"]["error"] == "Action failed to complete in 1 seconds"
    assert not process_running(marker)


def test_cancel_kills_the_running_command(api: httpx.Client, contract: Path) -> None:
    marker = f"st2tui-cancel-{uuid.uuid4().hex}"
    execution = run_action(api, "core.local", {"cmd": f"sleep 60; echo {marker}"})
    wait_for(api, execution["id"], {"running"})
    wait_until(lambda: process_running(marker), message="the command is running")

    response = api.delete(f"/api/v1/executions/{execution['id']}")

    assert response.status_code == 200
    assert response.json()["status"] in ("canceling", "canceled")
    assert response.json()["context"]["cancelled_by"] == "st2admin"
    assert (
        differences(
            golden(contract, "executions.cancel")["body"],
            shape(response.json()),
            loose=lambda p: p[:1] == ("parameters",) or p[:2] == ("liveaction", "parameters"),
        )
        == []
    )
    done = wait_for(api, execution["id"], timeout=20)
    assert done["status"] == "canceled"
    assert done["result"] == {"message": "Action canceled by user.", "user": "st2admin"}
    wait_until(lambda: not process_running(marker), message="the command is killed")

    # Canceling again: st2 returns the canceled execution itself.
    again = api.delete(f"/api/v1/executions/{execution['id']}")
    assert again.status_code == 200 and again.json()["status"] == "canceled"


def test_cancel_of_a_finished_execution_answers_200_with_a_faultstring(api: httpx.Client) -> None:
    execution = run_action(api, "core.local", {"cmd": "true"})
    wait_for(api, execution["id"])

    response = api.delete(f"/api/v1/executions/{execution['id']}")

    assert response.status_code == 200
    assert response.json() == {"faultstring": "Action cannot be canceled. State = succeeded."}


def test_delayed_execution_waits_in_delayed_then_runs(api: httpx.Client) -> None:
    created = api.post("/api/v1/executions", json={"action": "core.noop", "delay": 300})

    done = wait_for(api, created.json()["id"])

    assert done["delay"] == 300
    assert [entry["status"] for entry in done["log"]] == [
        "requested",
        "delayed",
        "scheduled",
        "running",
        "succeeded",
    ]


def test_secret_parameters_are_masked_but_used(api: httpx.Client) -> None:
    created = api.post(
        "/api/v1/executions",
        json={"action": "examples.all-param-types", "parameters": {"message": "hi", "api_token": "s3cret"}},
    )
    assert created.status_code == 201
    assert created.json()["parameters"]["api_token"] == "********"
    assert created.json()["liveaction"]["parameters"]["api_token"] == "********"

    done = wait_for(api, created.json()["id"])
    shown = api.get(f"/api/v1/executions/{done['id']}", params={"show_secrets": "true"}).json()

    assert done["parameters"]["api_token"] == "********"
    assert shown["parameters"]["api_token"] == "s3cret"
    # The script received the real value (it prints only its length).
    assert "--api_token: <6 characters, not shown>" in done["result"]["stdout"]


def test_secret_keys_render_as_ciphertext_unless_decrypted_with_decrypt_kv(api: httpx.Client) -> None:
    api.put("/api/v1/keys/render_secret", json={"name": "render_secret", "value": "hunter2", "secret": True})
    cmd = "echo {{ st2kv.system.render_secret }}; echo {{ st2kv.system.render_secret | decrypt_kv }}"
    created = api.post("/api/v1/executions", json={"action": "core.local", "parameters": {"cmd": cmd}})
    assert created.status_code == 201, created.text

    ciphertext, plaintext = wait_for(api, created.json()["id"])["result"]["stdout"].splitlines()

    assert re.fullmatch(r"[0-9A-F]+", ciphertext) and "hunter2" not in ciphertext
    assert plaintext == "hunter2"


def test_st2_context_header_and_trace_tag_go_into_the_context(api: httpx.Client) -> None:
    created = api.post(
        "/api/v1/executions",
        json={"action": "core.noop", "context": {"trace_context": {"trace_tag": "release-42"}}},
        headers={"st2-context": json.dumps({"source_channel": "ops"})},
    )

    context = created.json()["context"]

    assert context["trace_context"] == {"trace_tag": "release-42"}
    assert context["source_channel"] == "ops"
    assert context["user"] == "st2admin"


# ---- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "faultstring"),
    [
        ({"action": "nope.nothing"}, 'Action "nope.nothing" cannot be found.'),
        (
            {"action": "core.local", "parameters": {"cmd": 5}},
            'Value "5" must either be a string or None. Got "int".',
        ),
        (
            {"action": "examples.all-param-types", "parameters": {"message": "m", "count": 11}},
            "11 is greater than the maximum of 10",
        ),
        ({"action": "core.local"}, "'cmd' is a required property"),
        (
            {"action": "core.local", "parameters": {"cmd": "x", "sudo": True}},
            "Override of immutable parameter(s) ['sudo'] is unsupported.",
        ),
        (
            {"action": "core.local", "parameters": {"cmd": "x", "timeout": "soon"}},
            "invalid literal for int() with base 10: 'soon'",
        ),
        ({"parameters": {}}, "'action' is a required property"),
        ({"action": 42}, "42 is not of type 'string'"),
        ([1, 2], "[1, 2] is not of type 'object'"),
    ],
)
def test_post_with_bad_input_answers_400(api: httpx.Client, body: Any, faultstring: str) -> None:
    response = api.post("/api/v1/executions", json=body)

    assert response.status_code == 400
    assert response.json() == {"faultstring": faultstring}


def test_post_with_malformed_json_answers_400(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/executions", content=b'{"action": ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["faultstring"].startswith("Failed to parse request body")


@pytest.mark.parametrize(
    ("params", "faultstring"),
    [
        ({"limit": "abc"}, 'Parameter "limit" is not of type integer'),
        ({"limit": "-5"}, 'Limit, "-5" specified, must be a positive number.'),
        ({"exclude_attributes": "action"}, "Invalid or unsupported exclude attribute specified: action"),
        ({"include_attributes": "nothing"}, "Invalid or unsupported include attribute specified: nothing"),
        (
            {"include_attributes": "status", "exclude_attributes": "result"},
            "exclude_fields and include_fields arguments are mutually exclusive. "
            "You need to provide either one or another, but not both.",
        ),
        ({"timestamp_gt": "yesterday"}, "Datetime value does not match expected format."),
        ({"filter": "status"}, 'invalid format for filter "status"'),
        ({"filter": "nothing:x"}, 'Cannot resolve field "nothing"'),
        ({"show_secrets": "maybe"}, 'Parameter "show_secrets" is not of type boolean'),
    ],
)
def test_list_with_bad_query_answers_400(api: httpx.Client, params: dict[str, str], faultstring: str) -> None:
    response = api.get("/api/v1/executions", params=params)

    assert response.status_code == 400
    assert response.json() == {"faultstring": faultstring}


def test_unknown_execution_is_404(api: httpx.Client) -> None:
    for path in ("", "/children", "/output", "/attribute/status"):
        response = api.get(f"/api/v1/executions/{MISSING_ID}{path}")
        assert response.status_code == 404, path
        assert response.json() == {"faultstring": f'Unable to identify resource with id "{MISSING_ID}".'}
    assert api.delete(f"/api/v1/executions/{MISSING_ID}").status_code == 404


def test_put_rejects_bad_bodies_and_finished_executions(api: httpx.Client) -> None:
    execution = run_action(api, "core.local", {"cmd": "true"})
    wait_for(api, execution["id"])
    path = f"/api/v1/executions/{execution['id']}"

    extra = api.put(path, json={"status": "running", "color": "red"})
    bad_status = api.put(path, json={"status": "sleeping"})
    finished = api.put(path, json={"status": "running"})

    assert extra.status_code == 400
    assert extra.json()["faultstring"] == "Additional properties are not allowed ('color' was unexpected)"
    assert bad_status.status_code == 400
    assert bad_status.json()["faultstring"].startswith("'sleeping' is not one of ['requested'")
    assert finished.status_code == 400
    assert finished.json() == {"faultstring": "Execution is already in completed state."}


def test_pause_of_a_non_workflow_is_refused(api: httpx.Client) -> None:
    execution = run_action(api, "core.local", {"cmd": "sleep 5"})
    running = wait_for(api, execution["id"], {"running"})

    response = api.put(f"/api/v1/executions/{execution['id']}", json={"status": "pausing"})

    assert response.status_code == 400
    assert response.json() == {
        "faultstring": f'Failed updating execution. Unable to pause liveaction "{running["liveaction"]["id"]}" '
        'because it is not supported by the "local-shell-cmd" runner.'
    }
    api.delete(f"/api/v1/executions/{execution['id']}")


# ---- reading ---------------------------------------------------------------------------------------------


def test_last_is_the_most_recently_created_execution(api: httpx.Client) -> None:
    execution = run_action(api, "core.noop")

    last = api.get("/api/v1/executions/last")

    assert last.status_code == 200
    assert last.json()["id"] == execution["id"]


def test_get_with_attributes_and_max_result_size(api: httpx.Client) -> None:
    execution = run_action(api, "core.local", {"cmd": "echo some output"})
    done = wait_for(api, execution["id"])
    path = f"/api/v1/executions/{done['id']}"

    picked = api.get(path, params={"include_attributes": "status,result.stdout"}).json()
    without_result = api.get(path, params={"exclude_attributes": "result"}).json()
    small = api.get(path, params={"max_result_size": 10}).json()
    big = api.get(path, params={"max_result_size": 100000}).json()

    assert picked == {"id": done["id"], "status": "succeeded", "result": {"stdout": "some output"}}
    assert "result" not in without_result and without_result["status"] == "succeeded"
    assert "result" not in small and "result" in big
    assert api.get(path, params={"max_result_size": -1}).json() == {
        "faultstring": "max_result_size must be a positive number"
    }


def test_result_and_attribute_endpoints(api: httpx.Client) -> None:
    execution = run_action(api, "core.local", {"cmd": "echo hi"})
    done = wait_for(api, execution["id"])
    base = f"/api/v1/executions/{done['id']}"

    raw = api.get(f"{base}/result")
    pretty = api.get(f"{base}/result", params={"pretty_format": "true", "download": "true"})
    status = api.get(f"{base}/attribute/status")
    bad = api.get(f"{base}/attribute/parameters")

    assert raw.headers["content-type"] == "text/json"
    assert json.loads(raw.text) == done["result"] and ", " not in raw.text
    assert json.loads(pretty.text) == done["result"] and "\n  " in pretty.text
    assert pretty.headers["content-disposition"] == f"attachment; filename=execution_{done['id']}_result.json"
    assert status.json() == "succeeded"
    assert bad.status_code == 400
    assert bad.json() == {
        "faultstring": 'Invalid attribute "parameters" specified. Valid attributes are: result, trigger_instance, status'
    }


def test_actionexecutions_alias(api: httpx.Client) -> None:
    execution = run_action(api, "core.noop")

    response = api.get(f"/api/v1/actionexecutions/{execution['id']}")

    assert response.status_code == 200 and response.json()["id"] == execution["id"]


# ---- lists -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, list[dict[str, Any]]]]:
    """A server with seeded history (nothing else runs on it) and every execution it holds."""
    server = start_in_thread(DemoServer(tmp_path_factory.mktemp("listing") / "st2.sqlite", timers=False))
    with api_client(server) as client:
        everything = client.get("/api/v1/executions", params={"limit": -1}).json()
        yield client, everything
    server.stop()


def test_list_pages_newest_first_with_paging_headers(
    listing: tuple[httpx.Client, list[dict[str, Any]]],
) -> None:
    client, everything = listing
    top_level = [e for e in everything if "parent" not in e]

    first = client.get("/api/v1/executions", params={"parent": "null", "limit": 50})
    second = client.get("/api/v1/executions", params={"parent": "null", "limit": 50, "offset": 50})

    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == str(len(top_level))
    assert first.headers["X-Limit"] == "50"
    ids = [e["id"] for e in first.json() + second.json()]
    assert ids == [e["id"] for e in top_level[:100]]
    starts = [e["start_timestamp"] for e in everything]
    assert starts == sorted(starts, reverse=True)
    default = client.get("/api/v1/executions")
    assert default.headers["X-Limit"] == "100" and len(default.json()) == min(100, len(everything))


def test_list_filters(listing: tuple[httpx.Client, list[dict[str, Any]]]) -> None:
    client, everything = listing

    def ids(**params: Any) -> list[str]:
        return [e["id"] for e in client.get("/api/v1/executions", params={"limit": -1, **params}).json()]

    def expected(pick) -> list[str]:
        return [e["id"] for e in everything if pick(e)]

    workflow = next(e for e in everything if e.get("children"))
    ruled = next(e for e in everything if e.get("rule"))
    assert ids(status="failed") == expected(lambda e: e["status"] == "failed")
    assert ids(action="core.local") == expected(lambda e: e["action"]["ref"] == "core.local")
    assert ids(user="alice") == expected(lambda e: e["context"].get("user") == "alice")
    assert ids(runner="orquesta") == expected(lambda e: e["runner"]["name"] == "orquesta")
    assert ids(parent=workflow["id"]) == expected(lambda e: e.get("parent") == workflow["id"])
    assert ids(rule=ruled["rule"]["name"]) == expected(
        lambda e: (e.get("rule") or {}).get("name") == ruled["rule"]["name"]
    )
    assert ids(trigger_instance=ruled["trigger_instance"]["id"]) == [ruled["id"]]
    assert ids(liveaction=workflow["liveaction"]["id"]) == [workflow["id"]]
    assert ids(id=f"{workflow['id']},{ruled['id']}") == expected(
        lambda e: e["id"] in (workflow["id"], ruled["id"])
    )
    assert ids(filter="status:failed") == ids(status="failed")
    assert ids(status="failed", action="core.local") == expected(
        lambda e: e["status"] == "failed" and e["action"]["ref"] == "core.local"
    )


def test_list_timestamp_filters_and_sorting(listing: tuple[httpx.Client, list[dict[str, Any]]]) -> None:
    client, everything = listing
    middle = everything[len(everything) // 2]["start_timestamp"]
    newer = [e["id"] for e in everything if e["start_timestamp"] > middle]
    older = [e["id"] for e in everything if e["start_timestamp"] < middle]

    def ids(**params: Any) -> list[str]:
        return [e["id"] for e in client.get("/api/v1/executions", params={"limit": -1, **params}).json()]

    # timestamp_gt sorts ascending, timestamp_lt descending (st2's get_all).
    assert ids(timestamp_gt=middle) == list(reversed(newer))
    assert ids(timestamp_lt=middle) == older
    assert ids(timestamp=middle) == [everything[len(everything) // 2]["id"]]
    first, last = everything[-1]["start_timestamp"], everything[0]["start_timestamp"]
    assert ids(timestamp=f"{first}..{last}") == [e["id"] for e in reversed(everything)]
    assert ids(sort_asc="true") == [e["id"] for e in reversed(everything)]
    by_action = client.get("/api/v1/executions", params={"limit": -1, "sort": "action"}).json()
    assert [e["action"]["ref"] for e in by_action] == sorted(e["action"]["ref"] for e in everything)


def test_list_include_attributes_keeps_top_level_keys(
    listing: tuple[httpx.Client, list[dict[str, Any]]], contract: Path
) -> None:
    client, _ = listing

    response = client.get(
        "/api/v1/executions",
        params={"parent": "null", "limit": 5, "include_attributes": "id,status,action.ref,start_timestamp"},
    )

    assert response.status_code == 200
    for doc in response.json():
        assert set(doc) == {"id", "status", "action", "start_timestamp"}
        # st2 also reads the action fields it needs for masking secrets.
        assert set(doc["action"]) == {"ref", "parameters", "output_schema", "pack", "uid"}
    assert shape(response.json())[0].keys() == golden(contract, "executions.list.top_attrs")["body"][0].keys()
    with_context = client.get(
        "/api/v1/executions", params={"limit": 1, "include_attributes": "context.user"}
    ).json()
    assert set(with_context[0]) == {"id", "context"}


def test_views_filters_lists_distinct_values(
    listing: tuple[httpx.Client, list[dict[str, Any]]], contract: Path
) -> None:
    client, everything = listing

    filters = client.get("/api/v1/executions/views/filters").json()
    some = client.get("/api/v1/executions/views/filters", params={"types": "action,user"}).json()

    assert set(filters) == set(golden(contract, "executions.filters")["body"])
    assert filters["status"] == sorted({e["status"] for e in everything})
    assert filters["action"] == sorted({e["action"]["ref"] for e in everything})
    assert set(some) == {"action", "user"}


# ---- re-run --------------------------------------------------------------------------------------------


def test_re_run_merges_parameters_and_records_the_original(api: httpx.Client) -> None:
    original = run_action(api, "core.local", {"cmd": "echo first", "timeout": 30})
    wait_for(api, original["id"])

    response = api.post(
        f"/api/v1/executions/{original['id']}/re_run", json={"parameters": {"cmd": "echo second"}}
    )

    assert response.status_code == 201
    rerun = response.json()
    assert rerun["id"] != original["id"]
    assert rerun["parameters"] == {"cmd": "echo second", "timeout": 30}
    assert rerun["context"]["re-run"] == {"ref": original["id"]}
    assert wait_for(api, rerun["id"])["result"]["stdout"] == "second"


@pytest.mark.parametrize(
    ("body", "faultstring"),
    [
        ({"tasks": ["task1"]}, "Task option is only supported for Orquesta workflows."),
        (
            {"tasks": ["a"], "parameters": {"cmd": "x"}},
            "Parameters override is not supported when re-running task(s) for a workflow.",
        ),
        ({"tasks": ["a"], "reset": ["b"]}, "List of tasks to reset does not match the tasks to rerun."),
        ({"parameters": "x"}, "'x' is not of type 'object'"),
    ],
)
def test_re_run_with_bad_options_answers_400(
    api: httpx.Client, body: dict[str, Any], faultstring: str
) -> None:
    original = run_action(api, "core.noop")

    response = api.post(f"/api/v1/executions/{original['id']}/re_run", json=body)

    assert response.status_code == 400
    assert response.json() == {"faultstring": faultstring}


# ---- restart ---------------------------------------------------------------------------------------------


def test_state_survives_a_restart_and_interrupted_runs_are_abandoned(tmp_path: Path) -> None:
    db_path = tmp_path / "st2.sqlite"
    marker = f"st2tui-restart-{uuid.uuid4().hex}"
    server = start_in_thread(DemoServer(db_path, timers=False, seed=False))
    with api_client(server) as client:
        finished = run_action(client, "core.local", {"cmd": "echo kept"})
        wait_for(client, finished["id"])
        interrupted = run_action(client, "core.local", {"cmd": f"sleep 60; echo {marker}"})
        wait_for(client, interrupted["id"], {"running"})
    server.stop()

    assert not process_running(marker)
    server = start_in_thread(DemoServer(db_path, timers=False, seed=False))
    try:
        with api_client(server) as client:
            kept = client.get(f"/api/v1/executions/{finished['id']}").json()
            abandoned = client.get(f"/api/v1/executions/{interrupted['id']}").json()
            listed = client.get("/api/v1/executions").json()
    finally:
        server.stop()

    assert kept["status"] == "succeeded" and kept["result"]["stdout"] == "kept"
    assert abandoned["status"] == "abandoned"
    assert abandoned["log"][-1]["status"] == "abandoned"
    assert {e["id"] for e in listed} == {finished["id"], interrupted["id"]}


def test_seeded_history_is_written_once(tmp_path: Path) -> None:
    db_path = tmp_path / "st2.sqlite"
    counts = []
    for _ in range(2):
        server = start_in_thread(DemoServer(db_path, timers=False, history=20))
        try:
            with api_client(server) as client:
                response = client.get("/api/v1/executions", params={"parent": "null", "limit": 1})
                counts.append(int(response.headers["X-Total-Count"]))
        finally:
            server.stop()

    assert counts == [20, 20]
