"""The demo server's content: packs, actions, runners, rules and keys, in real st2's document shapes."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from st2tui.demo.content import (
    ACTION_PARAMETER_SCHEMA,
    CONTENT_ROOT,
    ContentError,
    load_content,
    trigger_uid,
)
from st2tui.demo.orquesta import TaskOutcome, WorkflowSpec, run_workflow

HEX24 = re.compile(r"^[0-9a-f]{24}$")
SIMPLE_TYPES = {"array", "boolean", "integer", "null", "number", "object", "string"}

EXPECTED_ACTIONS = {
    "core.ask",
    "core.echo",
    "core.local",
    "core.noop",
    "core.pause",
    "examples.all-param-types",
    "examples.deploy",
    "examples.deploy-step",
    "examples.flood",
    "examples.nested-failure",
    "examples.nested-failure-stage",
    "examples.nested-failure-step",
    "examples.orquesta-ask-basic",
    "examples.orquesta-sequential",
    "examples.python-hello",
    "examples.slow-echo",
}


@pytest.fixture(scope="module")
def content():
    return load_content()


def example(contract: Path, name: str) -> Any:
    return json.loads((contract / "examples" / name).read_text())


def golden(contract: Path, key: str) -> Any:
    return json.loads((contract / "golden" / "real-st2-shapes.json").read_text())[key]["body"]


def without_id(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key != "id"}


def test_content_has_the_demo_runners_packs_actions_and_rules(content):
    assert set(content.runners) == {
        "local-shell-cmd",
        "local-shell-script",
        "python-script",
        "noop",
        "orquesta",
        "inquirer",
    }
    assert set(content.packs) == {"core", "examples"}
    assert set(content.actions) == EXPECTED_ACTIONS
    assert set(content.rules) == {
        "examples.every-minute",
        "examples.sample_rule_with_webhook",
        "examples.deploy_on_webhook",
        "examples.sample_rule_with_timer",
    }


def _types(schema: Any) -> list[Any]:
    """Every `type` value in a parameter schema, nested ones included."""
    if isinstance(schema, dict):
        found = [schema["type"]] if "type" in schema else []
        for key, value in schema.items():
            if key in ("properties", "patternProperties", "definitions"):
                for sub in value.values():
                    found += _types(sub)
            elif key in ("items", "additionalProperties", "additionalItems", "not"):
                found += _types(value)
            elif key in ("anyOf", "oneOf", "allOf"):
                for sub in value:
                    found += _types(sub)
        return found
    if isinstance(schema, list):
        return [t for sub in schema for t in _types(sub)]
    return []


def test_every_parameter_definition_follows_the_st2_action_parameter_schema(content):
    validator = jsonschema.Draft4Validator(ACTION_PARAMETER_SCHEMA)
    definitions = [
        (f"action {ref}", name, meta)
        for ref, action in content.actions.items()
        for name, meta in action["parameters"].items()
    ] + [
        (f"runner {name}", param, meta)
        for name, runner in content.runners.items()
        for param, meta in runner["runner_parameters"].items()
    ]
    assert len(definitions) > 60
    for owner, name, meta in definitions:
        errors = [error.message for error in validator.iter_errors(meta)]
        assert not errors, f"{owner} parameter {name}: {errors}"
        for kind in _types(meta):
            assert kind in SIMPLE_TYPES, f"{owner} parameter {name} has type {kind!r}"


def test_the_parameter_schema_rejects_what_st2_rejects():
    validator = jsonschema.Draft4Validator(ACTION_PARAMETER_SCHEMA)
    assert not validator.is_valid({"type": ["string", "null"]})  # a single type only
    assert not validator.is_valid({"type": "text"})
    assert not validator.is_valid({"type": "string", "required": ["x"]})  # draft-3 boolean
    assert not validator.is_valid({"type": "string", "colour": "red"})  # unknown keyword
    assert not validator.is_valid({"type": "integer", "position": -1})
    assert validator.is_valid({"type": "string", "secret": True, "immutable": True, "position": 2})


def _copy_content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_loading_refuses_an_action_with_an_invalid_parameter(tmp_path):
    root = _copy_content(tmp_path)
    path = root / "packs" / "core" / "actions" / "local.yaml"
    meta = yaml.safe_load(path.read_text())
    meta["parameters"]["cmd"]["type"] = "text"
    path.write_text(yaml.safe_dump(meta))
    with pytest.raises(ContentError, match=re.escape('Parameter "cmd" of action core.local is invalid')):
        load_content(root)


def test_loading_refuses_an_action_overriding_a_runner_attribute_st2_keeps(tmp_path):
    root = _copy_content(tmp_path)
    path = root / "packs" / "core" / "actions" / "local.yaml"
    meta = yaml.safe_load(path.read_text())
    meta["parameters"]["timeout"] = {"type": "string"}
    path.write_text(yaml.safe_dump(meta))
    with pytest.raises(ContentError, match='The attribute "type" for the runner parameter "timeout"'):
        load_content(root)


def test_core_local_action_is_the_document_real_st2_returns(content, contract):
    real = example(contract, "action-core-local.json")
    ours = content.actions["core.local"]
    assert without_id(ours) == without_id(real)
    assert list(ours) == list(real)  # same key order as st2's serializer
    assert HEX24.match(ours["id"])


@pytest.mark.parametrize(
    ("ref", "example_name", "pick"),
    [
        ("examples.orquesta-sequential", "execution-workflow.json", lambda doc: doc["action"]),
        ("examples.orquesta-ask-basic", "execution-workflow-paused.json", lambda doc: doc["action"]),
        ("core.echo", "execution-workflow-children.json", lambda docs: docs[0]["action"]),
        ("core.ask", "execution-inquiry-pending.json", lambda doc: doc["action"]),
    ],
)
def test_actions_mirroring_real_ones_are_identical_but_for_ids(content, contract, ref, example_name, pick):
    real = pick(example(contract, example_name))
    assert without_id(content.actions[ref]) == without_id(real)


@pytest.mark.parametrize(
    ("name", "example_name", "pick"),
    [
        ("local-shell-cmd", "runnertype-local-shell-cmd.json", lambda doc: doc),
        ("orquesta", "execution-workflow.json", lambda doc: doc["runner"]),
        ("inquirer", "execution-inquiry-pending.json", lambda doc: doc["runner"]),
    ],
)
def test_runner_types_are_identical_to_real_ones_but_for_ids(content, contract, name, example_name, pick):
    real = pick(example(contract, example_name))
    ours = content.runners[name]
    assert without_id(ours) == without_id(real)
    assert list(ours) == list(real)


def test_documents_have_the_keys_real_st2_answers_with(content, contract):
    action_keys = set(golden(contract, "actions.get"))
    assert all(set(doc) == action_keys for doc in content.actions.values())
    assert all(set(doc) <= set(golden(contract, "actions.list")[0]) for doc in content.actions.values())

    runner_keys = set(golden(contract, "runnertypes.get"))
    for doc in content.runners.values():
        assert set(doc) - {"output_key"} == runner_keys

    pack_keys = set(golden(contract, "packs.list")[0])
    assert all(set(doc) == pack_keys for doc in content.packs.values())

    rule_keys = set(golden(contract, "rules.get"))
    assert rule_keys == set(golden(contract, "rules.list")[0])
    assert all(set(doc) == rule_keys for doc in content.rules.values())


def test_sample_webhook_rule_mirrors_the_real_rule(content, contract):
    real = example(contract, "rule.json")
    ours = content.rules["examples.sample_rule_with_webhook"]
    assert list(ours) == list(real)
    for key in real:
        if key not in ("id", "trigger"):
            assert ours[key] == real[key], key
    assert {k: v for k, v in ours["trigger"].items() if k != "ref"} == {
        k: v for k, v in real["trigger"].items() if k != "ref"
    }
    # A trigger with parameters gets a generated `core.<uuid>` ref, as in st2.
    assert re.match(r"^core\.[0-9a-f-]{36}$", ours["trigger"]["ref"])


def test_trigger_documents_use_st2s_uid_formula(content, contract):
    real = example(contract, "execution-from-rule.json")["trigger"]
    assert trigger_uid("core", real["name"], real["parameters"]) == real["uid"]
    trigger = content.trigger_for("examples.sample_rule_with_webhook")
    assert set(trigger) == set(real)
    assert trigger["uid"].endswith(real["uid"].rsplit(":", 1)[1])  # same parameters, same digest
    real_type = example(contract, "execution-from-rule.json")["trigger_type"]
    assert without_id(content.trigger_types["core.st2.webhook"]) == without_id(real_type)


def test_rules_cover_timer_webhooks_criteria_and_a_disabled_rule(content):
    every_minute = content.rules["examples.every-minute"]
    assert every_minute["trigger"]["type"] == "core.st2.IntervalTimer"
    assert every_minute["trigger"]["parameters"] == {"unit": "minutes", "delta": 1}
    assert every_minute["action"]["ref"] == "core.echo"
    assert every_minute["enabled"] is True

    deploy = content.rules["examples.deploy_on_webhook"]
    assert deploy["trigger"]["parameters"] == {"url": "deploy"}
    assert {c["type"] for c in deploy["criteria"].values()} == {"regex", "contains"}
    assert deploy["action"]["ref"] == "examples.deploy"

    assert content.rules["examples.sample_rule_with_timer"]["enabled"] is False
    for ref in content.rules:
        assert content.trigger_for(ref)["type"] in content.trigger_types


def test_ids_are_stable_unique_and_shaped_like_object_ids(content):
    again = load_content()
    docs = [
        *content.runners.values(),
        *content.packs.values(),
        *content.actions.values(),
        *content.rules.values(),
        *content.trigger_types.values(),
        *content.triggers.values(),
    ]
    ids = [doc["id"] for doc in docs]
    assert all(HEX24.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert content.actions["core.local"]["id"] == again.actions["core.local"]["id"]
    assert content.rules["examples.every-minute"]["id"] == again.rules["examples.every-minute"]["id"]
    assert content.actions["examples.deploy"]["uid"] == "action:examples:deploy"
    assert content.rules["examples.every-minute"]["uid"] == "rule:examples:every-minute"
    assert content.packs["core"]["uid"] == "pack:core"
    assert content.runners["noop"]["uid"] == "runner_type:noop"


def test_pack_documents_list_their_files_and_location(content):
    examples = content.packs["examples"]
    assert examples["version"] == "0.2.1"
    assert "pack.yaml" in examples["files"]
    assert "actions/workflows/deploy.yaml" in examples["files"]
    assert "rules/every-minute.yaml" in examples["files"]
    assert all((Path(examples["path"]) / name).is_file() for name in examples["files"])
    assert content.packs["core"]["python_versions"] == ["2", "3"]


def test_keys_seed_system_user_secret_json_and_expiring_values(content):
    by_name = {(spec["scope"], spec.get("user"), spec["name"]): spec for spec in content.keys}
    assert by_name[("st2kv.system", None, "os_version")]["value"] == "Ubuntu 22.04"
    assert by_name[("st2kv.system", None, "api_password")]["secret"] is True
    assert by_name[("st2kv.system", None, "deploy_lock")]["ttl"] == 86400
    assert json.loads(by_name[("st2kv.system", None, "deploy_config")]["value"])["strategy"] == "rolling"
    assert by_name[("st2kv.user", "st2admin", "favorite_color")]["value"] == "blue"
    assert all(isinstance(spec["value"], str) for spec in content.keys)


def test_entry_points_resolve_to_workflows_and_scripts(content):
    for ref, action in content.actions.items():
        if action["runner_type"] == "orquesta":
            WorkflowSpec.from_yaml(content.workflow_definition(ref))
        elif action["runner_type"] in ("local-shell-script", "python-script"):
            assert content.script_path(ref).is_file()
        else:
            assert content.entry_point_path(ref) is None
    with pytest.raises(ContentError):
        content.workflow_definition("core.local")


def test_workflows_only_call_actions_that_exist(content):
    for ref, action in content.actions.items():
        if action["runner_type"] != "orquesta":
            continue
        spec = yaml.safe_load(content.workflow_definition(ref))
        for task in spec["tasks"].values():
            assert task["action"] in content.actions, f"{ref} calls {task['action']}"


class RecordingRunner:
    """Runs sub-workflows with the engine; core.echo echoes, `exit 1` commands fail."""

    def __init__(self, content) -> None:
        self.content = content
        self.calls: list[tuple[int, str, str]] = []
        self.depth = 0

    async def checkpoint(self, task_name: str) -> None:
        return None

    async def run_task(self, task_name: str, action_ref: str, params: dict, item_index: int | None):
        self.calls.append((self.depth, task_name, action_ref))
        if self.content.actions[action_ref]["runner_type"] == "orquesta":
            self.depth += 1
            spec = WorkflowSpec.from_yaml(self.content.workflow_definition(action_ref))
            outcome = await run_workflow(spec, params, self)
            self.depth -= 1
            return TaskOutcome(outcome.status, {"output": outcome.output, "errors": outcome.errors})
        if action_ref == "core.echo":
            return TaskOutcome("succeeded", {"stdout": params["message"], "stderr": "", "return_code": 0})
        failing = "exit 1" in params.get("cmd", "")
        return TaskOutcome("failed" if failing else "succeeded", {"return_code": int(failing)})


def _run(content, ref: str, inputs: dict) -> tuple[Any, RecordingRunner]:
    runner = RecordingRunner(content)
    spec = WorkflowSpec.from_yaml(content.workflow_definition(ref))
    return asyncio.run(run_workflow(spec, inputs, runner)), runner


def test_orquesta_sequential_produces_the_real_greeting(content, contract):
    outcome, _ = _run(content, "examples.orquesta-sequential", {"name": "Stanley"})
    assert outcome.status == "succeeded"
    assert {"output": outcome.output} == example(contract, "execution-workflow.json")["result"]


def test_nested_failure_fails_three_levels_down_and_still_fails_after_remediation(content):
    outcome, runner = _run(content, "examples.nested-failure", {"release": "r1"})
    assert outcome.status == "failed"
    assert (2, "migrate", "core.local") in runner.calls  # a task of the sub-sub-workflow
    assert (1, "cleanup", "core.local") in runner.calls  # the failed() handler one level up
    assert "announce" not in [name for _, name, _ in runner.calls]


def test_deploy_rolls_out_to_every_host_and_rolls_back_after_a_failed_smoke_test(content):
    hosts = ["web-01", "web-02", "web-03"]
    inputs = {"version": "2.4.1", "environment": "staging", "hosts": hosts, "fail_step": "none", "pace": 0}
    outcome, runner = _run(content, "examples.deploy", inputs)
    assert outcome.status == "succeeded"
    names = [name for _, name, _ in runner.calls]
    assert names.count("deploy") == len(hosts)
    assert names[-1] == "notify"
    assert outcome.output["artifact"] == "app-2.4.1.tar.gz"


def _script(content, ref: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = content.script_path(ref)
    command = [sys.executable, str(path)] if path.suffix == ".py" else ["bash", str(path)]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, check=False)


def test_flood_prints_the_requested_number_of_lines(content):
    # st2 passes the integer 0 of a positional argument as "", which means "as fast as possible".
    done = _script(content, "examples.flood", "2500", "", "40")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert len(lines) == 2500
    assert lines[0].startswith("0001 ") and lines[-1].startswith("2500 ")
    assert {len(line) for line in lines} == {40}
    assert "progress: 2000/2500 lines" in done.stderr
    named = _script(content, "examples.flood", "--lines=3", "--line_length=20")
    assert len(named.stdout.splitlines()) == 3


def test_deploy_step_prints_progress_and_fails_on_request(content):
    ok = _script(content, "examples.deploy-step", "deploy", "2.4.1", "staging", "web-02", "none", "0")
    assert ok.returncode == 0
    assert "[web-02] Deployed 2.4.1" in ok.stdout
    failed = _script(content, "examples.deploy-step", "test", "2.4.1", "staging", "", "test", "0")
    assert failed.returncode == 1
    assert "1 failed" in failed.stdout


def test_slow_echo_and_all_param_types_scripts_echo_their_arguments(content):
    slow = _script(content, "examples.slow-echo", "1", "hello")
    assert slow.returncode == 0
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[1/1\] hello$", slow.stdout.strip())
    report = _script(content, "examples.all-param-types", "--api_token=abc", "--verbose", "hi", "3", "info")
    assert report.stdout.splitlines() == [
        "Received 3 positional and 2 named arguments.",
        "  [0] message: hi",
        "  [1] count: 3",
        "  [2] level: info",
        "  --api_token: <3 characters, not shown>",
        "  --verbose: true",
    ]
