"""Seeded execution history: real st2 document shapes, consistent links, determinism."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from st2tui.demo.content import load_content
from st2tui.demo.params import merge_parameters, validate_parameters
from st2tui.demo.seed import (
    generate_bulk,
    generate_history,
    generate_output,
    generate_rule_records,
    result_size,
)

NOW = datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)
HEX24 = re.compile(r"^[0-9a-f]{24}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
LOG_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000Z$")


@pytest.fixture(scope="module")
def content():
    return load_content()


@pytest.fixture(scope="module")
def history(content) -> list[dict[str, Any]]:
    return generate_history(content, count=300, now=NOW, rng=random.Random(42))


@pytest.fixture(scope="module")
def by_id(history) -> dict[str, dict[str, Any]]:
    return {doc["id"]: doc for doc in history}


def example(contract: Path, name: str) -> Any:
    return json.loads((contract / "examples" / name).read_text())


def parse(timestamp: str) -> datetime:
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def top_level(history, ref: str | None = None) -> list[dict[str, Any]]:
    return [doc for doc in history if "parent" not in doc and (ref is None or doc["action"]["ref"] == ref)]


def test_history_is_deterministic_for_a_given_rng(content, history):
    again = generate_history(content, count=300, now=NOW, rng=random.Random(42))
    assert json.dumps(again) == json.dumps(history)
    other = generate_history(content, count=300, now=NOW, rng=random.Random(43))
    assert [doc["id"] for doc in other] != [doc["id"] for doc in history]


def test_count_top_level_executions_spread_over_three_days_all_finished(history):
    tops = top_level(history)
    assert len(tops) == 300
    starts = [parse(doc["start_timestamp"]) for doc in history]
    assert min(starts) >= NOW - timedelta(days=3)
    assert max(parse(doc["end_timestamp"]) for doc in history) <= NOW - timedelta(minutes=10)
    assert [doc["start_timestamp"] for doc in history] == sorted(doc["start_timestamp"] for doc in history)
    days = Counter(parse(doc["start_timestamp"]).date() for doc in tops)
    assert len(days) >= 3


def test_statuses_are_mostly_successes_with_failures_timeouts_and_cancels(history):
    statuses = Counter(doc["status"] for doc in top_level(history))
    assert set(statuses) == {"succeeded", "failed", "timeout", "canceled"}
    assert statuses["succeeded"] > 0.7 * 300


def test_every_demo_action_and_user_appears(content, history):
    refs = {doc["action"]["ref"] for doc in history}
    assert refs == set(content.actions)
    users = {doc["context"]["user"] for doc in top_level(history)}
    assert users == {"st2admin", "stanley", "alice"}


def test_documents_have_real_st2_keys_in_real_order(history, contract):
    local = example(contract, "execution-local-succeeded.json")
    workflow = example(contract, "execution-workflow.json")
    child = example(contract, "execution-workflow-children.json")[0]
    fired = example(contract, "execution-from-rule.json")
    done = [doc for doc in history if doc["status"] == "succeeded"]
    plain = next(d for d in done if d["action"]["ref"] == "core.local" and "rule" not in d)
    assert list(plain) == list(local)
    parent = next(d for d in done if d["action"]["ref"] == "examples.orquesta-sequential")
    assert list(parent) == list(workflow)
    task = next(d for d in done if d.get("parent") == parent["id"])
    assert list(task) == list(child)
    assert list(task["context"]) == list(child["context"])
    assert list(task["context"]["orquesta"]) == list(child["context"]["orquesta"])
    rule_fired = next(d for d in done if d["action"]["ref"] == "core.local" and "rule" in d)
    assert list(rule_fired) == list(fired)
    assert list(rule_fired["context"]) == list(fired["context"])
    assert set(rule_fired["trigger_instance"]) == set(fired["trigger_instance"])
    assert list(plain["liveaction"]) == list(local["liveaction"])


def test_embedded_action_and_runner_documents_are_the_content_ones(content, history):
    for doc in history:
        assert doc["action"] == content.actions[doc["action"]["ref"]]
        assert doc["runner"] == content.runners[doc["action"]["runner_type"]]


def test_ids_timestamps_and_derived_fields_are_consistent(history):
    ids = [doc["id"] for doc in history] + [doc["liveaction"]["id"] for doc in history]
    assert all(HEX24.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
    for doc in history:
        assert doc["web_url"] == f"https://localhost/#/history/{doc['id']}/general"
        assert doc["liveaction"]["action"] == doc["action"]["ref"]
        assert doc["liveaction"]["parameters"] == doc.get("parameters", {})
        assert doc["liveaction"]["action_is_workflow"] == (doc["runner"]["name"] == "orquesta")
        assert TIMESTAMP.match(doc["start_timestamp"]) and TIMESTAMP.match(doc["end_timestamp"])
        elapsed = (parse(doc["end_timestamp"]) - parse(doc["start_timestamp"])).total_seconds()
        assert doc["elapsed_seconds"] == pytest.approx(elapsed, abs=1e-6)
        stamps = [entry["timestamp"] for entry in doc["log"]]
        assert all(LOG_TIMESTAMP.match(stamp) for stamp in stamps)
        assert stamps == sorted(stamps)
        assert [entry["status"] for entry in doc["log"]][:3] == ["requested", "scheduled", "running"]
        assert doc["log"][-1]["status"] == doc["status"]
        if "result" in doc:
            assert doc["result_size"] == result_size(doc["result"])
        assert "parameters" not in doc or doc["parameters"]  # falsy values are left out


def test_workflows_and_their_tasks_link_both_ways(history, by_id):
    workflows = [doc for doc in history if doc["runner"]["name"] == "orquesta"]
    assert len(workflows) > 30
    for workflow in workflows:
        assert workflow["children"]
        wf_ex = workflow["context"]["workflow_execution"]
        for child_id in workflow["children"]:
            child = by_id[child_id]
            assert child["parent"] == workflow["id"]
            assert child["context"]["parent"]["execution_id"] == workflow["id"]
            assert child["context"]["parent"]["pack"] == workflow["action"]["pack"]
            assert child["context"]["user"] == workflow["context"]["user"]
            assert (
                child["workflow_execution"] == wf_ex == child["context"]["orquesta"]["workflow_execution_id"]
            )
            assert child["task_execution"] == child["context"]["orquesta"]["task_execution_id"]
            assert parse(child["start_timestamp"]) >= parse(workflow["start_timestamp"])
            assert parse(child["end_timestamp"]) <= parse(workflow["end_timestamp"])
    children = [doc for doc in history if "parent" in doc]
    assert all(doc["id"] in by_id[doc["parent"]]["children"] for doc in children)


def test_items_of_a_with_items_task_share_one_task_execution(history, by_id):
    deploy = next(d for d in top_level(history, "examples.deploy") if d["status"] == "succeeded")
    items = [by_id[c] for c in deploy["children"] if by_id[c]["context"]["orquesta"]["task_name"] == "deploy"]
    hosts = deploy["parameters"].get("hosts", ["web-01", "web-02", "web-03"])
    assert [item["parameters"]["target"] for item in items] == hosts
    assert [item["context"]["orquesta"]["item_id"] for item in items] == list(range(len(hosts)))
    assert len({item["task_execution"] for item in items}) == 1
    assert deploy["result"]["output"]["artifact"] == f"app-{deploy['parameters']['version']}.tar.gz"


def test_sequential_workflow_output_comes_from_its_tasks(history, by_id):
    for workflow in top_level(history, "examples.orquesta-sequential"):
        tasks = [by_id[c] for c in workflow["children"]]
        assert [t["context"]["orquesta"]["task_name"] for t in tasks] == ["task1", "task2", "task3"]
        assert workflow["result"] == {"output": {"greeting": tasks[2]["result"]["stdout"]}}
        assert tasks[0]["parameters"] == {"message": workflow["parameters"]["name"]}


def test_nested_failure_fails_three_levels_below_the_top(history, by_id):
    top = top_level(history, "examples.nested-failure")[0]
    assert top["status"] == "failed"

    def failed_child(doc: dict[str, Any]) -> dict[str, Any]:
        return next(by_id[c] for c in doc["children"] if by_id[c]["status"] == "failed")

    stage = failed_child(top)
    step = failed_child(stage)
    migrate = failed_child(step)
    assert [stage["action"]["ref"], step["action"]["ref"], migrate["action"]["ref"]] == [
        "examples.nested-failure-stage",
        "examples.nested-failure-step",
        "core.local",
    ]
    assert migrate["result"]["return_code"] == 1
    assert "children" not in migrate
    # The stage handled the failure (cleanup ran) and still failed.
    stage_tasks = {by_id[c]["context"]["orquesta"]["task_name"]: by_id[c] for c in stage["children"]}
    assert stage_tasks["cleanup"]["status"] == "succeeded"
    assert [e["task_id"] for e in stage["result"]["errors"]] == ["run_database_step", "fail"]
    assert top["result"]["errors"][0]["result"] == stage["result"]
    assert step["context"]["workflow_execution"] == migrate["workflow_execution"]


def test_inquiry_workflows_pause_while_the_inquiry_is_pending(history, by_id):
    for workflow in top_level(history, "examples.orquesta-ask-basic"):
        ask = next(by_id[c] for c in workflow["children"] if by_id[c]["action"]["ref"] == "core.ask")
        assert [entry["status"] for entry in ask["log"]][3] == "pending"
        statuses = [entry["status"] for entry in workflow["log"]]
        assert statuses[3:6] == ["paused", "resuming", "running"]
        if ask["status"] == "succeeded":
            assert ask["result"]["response"] == {"approved": True}
            assert workflow["status"] == "succeeded"
        else:
            assert workflow["status"] == "failed"


def test_rule_fired_executions_carry_their_rule_and_trigger(content, history):
    fired = [doc for doc in history if "rule" in doc]
    assert {doc["rule"]["ref"] for doc in fired} == {
        "examples.every-minute",
        "examples.sample_rule_with_webhook",
        "examples.deploy_on_webhook",
    }
    for doc in fired:
        rule = content.rules[doc["rule"]["ref"]]
        assert doc["rule"] == rule
        assert doc["action"]["ref"] == rule["action"]["ref"]
        assert doc["trigger"]["ref"] == rule["trigger"]["ref"] == doc["trigger_instance"]["trigger"]
        assert doc["trigger_type"]["ref"] == rule["trigger"]["type"]
        assert doc["context"]["rule"] == {"id": rule["id"], "name": rule["name"]}
        assert doc["context"]["trigger_instance"] == {"id": doc["trigger_instance"]["id"], "name": None}
        assert doc["context"]["user"] == "stanley"
        assert doc["context"]["trace_context"]["trace_tag"]
    heartbeat = next(d for d in fired if d["rule"]["ref"] == "examples.every-minute")
    executed_at = heartbeat["trigger_instance"]["payload"]["executed_at"]
    assert heartbeat["parameters"] == {"message": f"Heartbeat at {executed_at}"}


def test_seeded_parameters_are_valid_for_their_actions(content, history):
    for doc in history:
        action = content.actions[doc["action"]["ref"]]
        runner = content.runners[action["runner_type"]]
        merged = merge_parameters(runner["runner_parameters"], action["parameters"])
        validate_parameters(merged, doc.get("parameters", {}))


def test_output_chunks_match_the_real_shape_and_the_results(content, history, by_id, contract):
    chunks = generate_output(content, history)
    real = example(contract, "output-chunk.json")
    assert all(list(chunk) == list(real) for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == len(chunks)
    assert [c["timestamp"] for c in chunks] == sorted(c["timestamp"] for c in chunks)
    per_execution: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunks:
        per_execution.setdefault(chunk["execution_id"], []).append(chunk)
        execution = by_id[chunk["execution_id"]]
        assert chunk["action_ref"] == execution["action"]["ref"]
        assert chunk["runner_ref"] == execution["runner"]["name"]
        assert chunk["data"].endswith("\n")
        assert execution["start_timestamp"] <= chunk["timestamp"]
    for execution_id, own in per_execution.items():
        execution = by_id[execution_id]
        if execution["runner"]["name"] == "orquesta":
            assert {c["output_type"] for c in own} == {"output"}
            assert f'completed with status "{execution["status"]}"' in "".join(c["data"] for c in own)
        elif execution["status"] == "succeeded":
            for stream in ("stdout", "stderr"):
                text = "".join(c["data"] for c in own if c["output_type"] == stream)
                expected = execution["result"][stream]
                if expected and not expected.endswith("\n"):  # shell runners strip the last newline
                    expected += "\n"
                assert text == expected


def test_rule_records_reference_the_fired_executions(history, contract):
    instances, enforcements = generate_rule_records(history)
    fired = [doc for doc in history if "rule" in doc]
    assert len(instances) == len(enforcements) == len(fired)
    real = example(contract, "rule-enforcement.json")
    for enforcement, instance, doc in zip(enforcements, instances, fired, strict=True):
        assert list(enforcement) == list(real)
        assert enforcement["execution_id"] == doc["id"]
        assert enforcement["trigger_instance_id"] == instance["id"] == doc["trigger_instance"]["id"]
        assert enforcement["rule"] == {
            "ref": doc["rule"]["ref"],
            "id": doc["rule"]["id"],
            "uid": doc["rule"]["uid"],
        }
        assert instance["status"] == "processed"
        assert (
            doc["trigger_instance"]["occurrence_time"] <= enforcement["enforced_at"] <= doc["start_timestamp"]
        )


def test_bulk_executions_are_valid_unique_and_deterministic(content, contract):
    local = example(contract, "execution-local-succeeded.json")
    docs = list(generate_bulk(content, 5000, now=NOW, rng=random.Random(1)))
    assert len(docs) == 5000
    assert len({doc["id"] for doc in docs}) == 5000
    assert all(set(doc) <= set(local) for doc in docs)
    assert all(doc["status"] in ("succeeded", "failed", "timeout", "canceled") for doc in docs)
    assert Counter(doc["status"] for doc in docs)["succeeded"] > 4000
    assert [doc["start_timestamp"] for doc in docs] == sorted(doc["start_timestamp"] for doc in docs)
    assert parse(docs[0]["start_timestamp"]) >= NOW - timedelta(days=30)
    assert all(doc["result_size"] == result_size(doc["result"]) for doc in docs[:200])
    again = list(generate_bulk(content, 5000, now=NOW, rng=random.Random(1)))
    assert json.dumps(again) == json.dumps(docs)
