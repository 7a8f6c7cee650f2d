"""Rules over HTTP: documents as real st2's, CRUD with the CLI's full-object PUT, webhooks, timers,
enforcements and trigger instances."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.rest import api_client, wait_for, wait_until
from support.shapes import differences, shape

from st2tui.demo.content import load_content
from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

WEBHOOK_RULE = "examples.sample_rule_with_webhook"


@pytest.fixture
def api(fresh_server: RunningServer) -> Iterator[httpx.Client]:
    with api_client(fresh_server) as client:
        yield client


def example(contract: Path, name: str) -> dict[str, Any]:
    return json.loads((contract / "examples" / name).read_text())


def golden(contract: Path, name: str) -> dict[str, Any]:
    return json.loads((contract / "golden" / "real-st2-shapes.json").read_text())[name]


def webhook_rule(
    name: str, url: str, criteria: dict[str, Any], parameters: dict[str, Any] | None = None
) -> dict:
    return {
        "name": name,
        "pack": "examples",
        "enabled": True,
        "trigger": {"type": "core.st2.webhook", "parameters": {"url": url}},
        "criteria": criteria,
        "action": {
            "ref": "core.echo",
            "parameters": parameters or {"message": "hook {{ trigger.body.tag }}"},
        },
    }


def create(api: httpx.Client, rule: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v1/rules", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def enforcements_of(api: httpx.Client, rule_ref: str) -> list[dict[str, Any]]:
    return api.get("/api/v1/ruleenforcements", params={"rule_ref": rule_ref}).json()


def cli_style_put(api: httpx.Client, ref: str, **changes: Any) -> httpx.Response:
    """What `st2 rule enable/disable` does: GET, drop `ref`, change, PUT the whole document to its id."""
    rule = api.get(f"/api/v1/rules/{ref}").json()
    rule.pop("ref")
    rule.update(changes)
    return api.put(f"/api/v1/rules/{rule['id']}", json=rule)


# ---- reading ---------------------------------------------------------------------------------


def test_rule_get_matches_real_st2(api: httpx.Client, contract: Path) -> None:
    real = example(contract, "rule.json")

    doc = api.get(f"/api/v1/rules/{WEBHOOK_RULE}").json()

    assert list(doc) == list(real)
    # The trigger ref names a generated trigger (`core.<uuid>`), different on every st2 instance.
    assert {k: v for k, v in doc.items() if k not in ("id", "trigger")} == {
        k: v for k, v in real.items() if k not in ("id", "trigger")
    }
    assert doc["trigger"]["type"] == real["trigger"]["type"]
    assert doc["trigger"]["parameters"] == real["trigger"]["parameters"]
    assert doc["trigger"]["ref"].startswith("core.")
    assert api.get(f"/api/v1/rules/{doc['id']}").json() == doc


def test_rule_list(api: httpx.Client, contract: Path) -> None:
    response = api.get("/api/v1/rules")

    rules = response.json()
    assert sorted(r["ref"] for r in rules) == sorted(load_content().rules)
    assert [(r["pack"], r["name"]) for r in rules] == sorted((r["pack"], r["name"]) for r in rules)
    assert response.headers["X-Total-Count"] == str(len(rules))
    assert "X-Limit" not in response.headers
    assert set(golden(contract, "rules.list")["headers"]) == {"x-request-id", "x-total-count"}
    assert api.get("/api/v1/rules", params={"limit": 1}).headers["X-Limit"] == "1"


def test_rule_list_filters(api: httpx.Client) -> None:
    rules = api.get("/api/v1/rules").json()
    enabled = {r["ref"] for r in rules if r["enabled"]}
    webhook = api.get(f"/api/v1/rules/{WEBHOOK_RULE}").json()

    assert {r["ref"] for r in api.get("/api/v1/rules", params={"enabled": "true"}).json()} == enabled
    assert {r["ref"] for r in api.get("/api/v1/rules", params={"enabled": "False"}).json()} == {
        r["ref"] for r in rules
    } - enabled
    assert [
        r["ref"] for r in api.get("/api/v1/rules", params={"trigger": webhook["trigger"]["ref"]}).json()
    ] == [WEBHOOK_RULE]
    by_action = api.get("/api/v1/rules", params={"action": "core.local"}).json()
    assert by_action and all(r["action"]["ref"] == "core.local" for r in by_action)
    assert api.get("/api/v1/rules", params={"pack": "core"}).json() == []
    assert [r["ref"] for r in api.get("/api/v1/rules", params={"name": webhook["name"]}).json()] == [
        WEBHOOK_RULE
    ]

    bad = api.get("/api/v1/rules", params={"enabled": "yes"})
    assert bad.status_code == 400
    assert bad.json() == {"faultstring": 'Invalid bool representation "yes" provided.'}


def test_rule_list_attribute_selection(api: httpx.Client) -> None:
    rules = api.get("/api/v1/rules", params={"include_attributes": "enabled,action.ref"}).json()

    assert {frozenset(r) for r in rules} == {frozenset({"id", "ref", "enabled", "action"})}
    assert all(set(r["action"]) == {"ref"} for r in rules)


def test_rule_views_add_descriptions(api: httpx.Client) -> None:
    view = api.get(f"/api/v1/rules/views/{WEBHOOK_RULE}").json()
    listed = {r["ref"]: r for r in api.get("/api/v1/rules/views").json()}

    assert (
        view["action"]["description"] == "Action that executes an arbitrary Linux command on the localhost."
    )
    assert view["trigger"]["description"].startswith("Trigger type for registering webhooks")
    assert listed[WEBHOOK_RULE] == view


def test_unknown_rule(api: httpx.Client) -> None:
    for method in ("GET", "DELETE"):
        response = api.request(method, "/api/v1/rules/examples.nope")
        assert response.status_code == 404
        assert response.json() == {"faultstring": 'Resource with a reference or id "examples.nope" not found'}


# ---- writing -------------------------------------------------------------------------------------


def test_create_rule_and_conflict(api: httpx.Client, fresh_server: RunningServer) -> None:
    body = webhook_rule("created", "created-hook", {})
    body.pop("enabled")

    created = api.post("/api/v1/rules", json=body)
    again = api.post("/api/v1/rules", json=body)

    assert created.status_code == 201
    doc = created.json()
    assert doc["ref"] == "examples.created" and doc["uid"] == "rule:examples:created"
    assert doc["enabled"] is False  # st2's RuleAPI default
    assert doc["context"] == {"user": fresh_server.username}
    assert doc["trigger"]["ref"].startswith("core.") and doc["trigger"]["parameters"] == {
        "url": "created-hook"
    }
    assert api.get("/api/v1/rules/examples.created").json() == doc
    assert again.status_code == 409
    assert again.json()["conflict-id"] == doc["id"]
    assert "duplicate" in again.json()["faultstring"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": 5}, "5 is not of type 'string'"),
        ({"bogus": 1}, "Additional properties are not allowed ('bogus' was unexpected)"),
        ({"action": {"parameters": {}}}, "'ref' is a required property"),
        (
            {"criteria": {"trigger.body.x": {"type": "sameas", "pattern": "y"}}},
            "For field: trigger.body.x, operator sameas",
        ),
        (
            {"criteria": {"trigger.body.x": {"type": "equals"}}},
            "For field: trigger.body.x, no pattern specified for operator equals",
        ),
        ({"trigger": {"type": "core.st2.webhook", "parameters": {}}}, "'url' is a required property"),
        (
            {"trigger": {"type": "core.nope"}},
            'Trigger "core.nope" defined in the rule does not exist in system',
        ),
    ],
)
def test_create_rule_rejects_bad_documents(api: httpx.Client, change: dict[str, Any], message: str) -> None:
    body = {**webhook_rule("invalid", "invalid-hook", {}), **change}

    response = api.post("/api/v1/rules", json=body)

    assert response.status_code == 400
    assert message in response.json()["faultstring"]
    assert api.get("/api/v1/rules/examples.invalid").status_code == 404


def test_missing_name_is_refused(api: httpx.Client) -> None:
    body = webhook_rule("x", "x", {})
    del body["name"]

    response = api.post("/api/v1/rules", json=body)

    assert response.status_code == 400
    assert response.json() == {"faultstring": "'name' is a required property"}


def test_full_object_put_enables_and_disables(
    api: httpx.Client, fresh_server: RunningServer, contract: Path
) -> None:
    disabled = cli_style_put(api, WEBHOOK_RULE, enabled=False)
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False
    assert disabled.json()["context"] == {"user": fresh_server.username}
    content_paths = {("action", "parameters"), ("criteria",), ("trigger", "parameters")}
    assert (
        differences(
            golden(contract, "rules.get")["body"],
            shape(disabled.json()),
            loose=lambda path: path[:2] in content_paths or path[:1] in content_paths,
        )
        == []
    )
    assert api.get(f"/api/v1/rules/{WEBHOOK_RULE}").json()["enabled"] is False

    enabled = cli_style_put(api, WEBHOOK_RULE, enabled=True)
    assert enabled.json()["enabled"] is True

    # `enabled` left out means false (RuleAPI's default), as with real st2.
    rule = api.get(f"/api/v1/rules/{WEBHOOK_RULE}").json()
    rule.pop("enabled")
    assert api.put(f"/api/v1/rules/{rule['id']}", json=rule).json()["enabled"] is False


def test_put_refuses_what_st2_refuses(api: httpx.Client) -> None:
    rule = api.get(f"/api/v1/rules/{WEBHOOK_RULE}").json()

    extra = api.put(f"/api/v1/rules/{rule['id']}", json={**rule, "colour": "red"})
    by_ref = api.put(f"/api/v1/rules/{WEBHOOK_RULE}", json=rule)
    missing = api.put("/api/v1/rules/000000000000000000000000", json=rule)

    assert extra.status_code == 400
    assert extra.json() == {"faultstring": "Additional properties are not allowed ('colour' was unexpected)"}
    # st2 stores the rule under the path value, which must be the id.
    assert by_ref.status_code == 400 and "is not a valid ObjectId" in by_ref.json()["faultstring"]
    assert missing.status_code == 404
    assert api.get(f"/api/v1/rules/{WEBHOOK_RULE}").json() == rule


def test_rule_changes_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "st2.sqlite"
    first = start_in_thread(DemoServer(db, timers=False, seed=False))
    try:
        with api_client(first) as api:
            assert cli_style_put(api, WEBHOOK_RULE, enabled=False).status_code == 200
            timer_rule = next(
                r for r in api.get("/api/v1/rules").json() if r["trigger"]["type"] == "core.st2.IntervalTimer"
            )
            assert api.delete(f"/api/v1/rules/{timer_rule['id']}").status_code == 204
            created = create(api, webhook_rule("mine", "mine-hook", {}))
            ids = {r["ref"]: r["id"] for r in api.get("/api/v1/rules").json()}
    finally:
        first.stop()
    second = start_in_thread(DemoServer(db, timers=False, seed=False))
    try:
        with api_client(second) as api:
            rules = {r["ref"]: r for r in api.get("/api/v1/rules").json()}
            assert rules[WEBHOOK_RULE]["enabled"] is False
            assert timer_rule["ref"] not in rules  # a deleted content rule stays deleted
            assert rules["examples.mine"] == created
            assert {ref: r["id"] for ref, r in rules.items()} == ids  # ids are stable
    finally:
        second.stop()


def test_delete_rule(api: httpx.Client) -> None:
    rule = create(api, webhook_rule("short", "short-hook", {}))

    deleted = api.delete(f"/api/v1/rules/{rule['ref']}")

    assert deleted.status_code == 204
    assert api.get(f"/api/v1/rules/{rule['id']}").status_code == 404
    # Its webhook is gone with the only rule that used it.
    assert api.post("/api/v1/webhooks/short-hook", json={}).status_code == 404


# ---- webhooks and the rules engine -------------------------------------------------------------


def test_webhook_fires_a_matching_rule(api: httpx.Client, contract: Path) -> None:
    real = example(contract, "execution-from-rule.json")
    rule = create(
        api, webhook_rule("greeter", "greet", {"trigger.body.name": {"type": "equals", "pattern": "st2"}})
    )

    posted = api.post(
        "/api/v1/webhooks/greet", json={"name": "st2", "tag": "v1"}, headers={"X-Custom": "yes"}
    )

    assert posted.status_code == 202
    assert posted.json() == {"name": "st2", "tag": "v1"}
    [enforcement] = enforcements_of(api, rule["ref"])
    assert enforcement["status"] == "succeeded"
    assert enforcement["rule"] == {"ref": rule["ref"], "id": rule["id"], "uid": rule["uid"]}
    assert list(enforcement) == list(example(contract, "rule-enforcement.json"))

    execution = wait_for(api, enforcement["execution_id"])
    assert execution["status"] == "succeeded"
    assert execution["parameters"] == {"message": "hook v1"}
    assert execution["result"]["stdout"] == "hook v1"
    assert {"rule", "trigger", "trigger_type", "trigger_instance"} <= set(execution)
    assert execution["rule"]["ref"] == rule["ref"]
    assert execution["trigger"]["ref"] == rule["trigger"]["ref"]
    assert execution["trigger_type"]["ref"] == "core.st2.webhook"
    instance = execution["trigger_instance"]
    assert instance["id"] == enforcement["trigger_instance_id"]
    assert set(instance) == set(real["trigger_instance"])
    assert instance["payload"]["body"] == {"name": "st2", "tag": "v1"}
    assert instance["payload"]["headers"]["X-Custom"] == "yes"
    assert instance["payload"]["headers_lower"]["x-custom"] == "yes"
    assert "X-Auth-Token" not in instance["payload"]["headers"]
    context = execution["context"]
    assert list(context)[:4] == list(real["context"])[:4]
    assert context["user"] == "stanley"
    assert context["rule"] == {"id": rule["id"], "name": rule["name"]}
    assert context["trigger_instance"] == {"id": instance["id"], "name": None}
    assert set(context["trace_context"]) == {"id_", "trace_tag"}


def test_webhook_trace_tag_names_the_trace(api: httpx.Client) -> None:
    rule = create(api, webhook_rule("tagged", "tagged", {}))

    api.post("/api/v1/webhooks/tagged", json={"tag": "t"}, headers={"St2-Trace-Tag": "release-42"})

    [enforcement] = enforcements_of(api, rule["ref"])
    execution = api.get(f"/api/v1/executions/{enforcement['execution_id']}").json()
    assert execution["context"]["trace_context"]["trace_tag"] == "release-42"
    assert "St2-Trace-Tag" not in execution["trigger_instance"]["payload"]["headers"]


def test_webhook_does_not_fire_a_rule_whose_criteria_do_not_match(api: httpx.Client) -> None:
    rule = create(
        api, webhook_rule("picky", "picky", {"trigger.body.name": {"type": "equals", "pattern": "st2"}})
    )

    posted = api.post("/api/v1/webhooks/picky", json={"name": "someone else"})

    assert posted.status_code == 202
    assert enforcements_of(api, rule["ref"]) == []
    instances = api.get("/api/v1/triggerinstances", params={"trigger": rule["trigger"]["ref"]}).json()
    assert [i["payload"]["body"] for i in instances] == [{"name": "someone else"}]
    assert instances[0]["status"] == "processed"


def test_disabled_rules_do_not_fire(api: httpx.Client) -> None:
    rule = create(api, {**webhook_rule("sleepy", "sleepy", {}), "enabled": False})

    api.post("/api/v1/webhooks/sleepy", json={})

    assert enforcements_of(api, rule["ref"]) == []


@pytest.mark.parametrize(
    ("criterion", "body", "fires"),
    [
        ({"type": "equals", "pattern": "st2"}, {"v": "st2"}, True),
        ({"type": "equals", "pattern": "st2"}, {"v": "ST2"}, False),
        ({"type": "iequals", "pattern": "st2"}, {"v": "ST2"}, True),
        ({"type": "contains", "pattern": "app"}, {"v": "webapp"}, True),
        ({"type": "contains", "pattern": "APP"}, {"v": "webapp"}, False),
        ({"type": "icontains", "pattern": "APP"}, {"v": "webapp"}, True),
        ({"type": "regex", "pattern": "^(staging|production)$"}, {"v": "staging"}, True),
        ({"type": "regex", "pattern": "^(staging|production)$"}, {"v": "dev"}, False),
        ({"type": "exists", "pattern": ""}, {"v": 0}, True),
        ({"type": "exists", "pattern": ""}, {"w": 1}, False),
        ({"type": "nexists", "pattern": ""}, {"w": 1}, True),
        ({"type": "gt", "pattern": 3}, {"v": 5}, True),
        ({"type": "gt", "pattern": 3}, {"v": 2}, False),
        ({"type": "lt", "pattern": 3}, {"v": 2}, True),
        ({"type": "startswith", "pattern": "rel"}, {"v": "release"}, True),
    ],
)
def test_criteria_operators(
    api: httpx.Client, criterion: dict[str, Any], body: dict[str, Any], fires: bool
) -> None:
    rule = create(api, webhook_rule("op", "op", {"trigger.body.v": criterion}, {"message": "matched"}))

    api.post("/api/v1/webhooks/op", json=body)

    assert [e["status"] for e in enforcements_of(api, rule["ref"])] == (["succeeded"] if fires else [])


def test_a_broken_criterion_is_a_failed_enforcement(api: httpx.Client) -> None:
    # As in st2: comparing a missing value (None) with a number raises, which is recorded.
    rule = create(api, webhook_rule("broken", "broken", {"trigger.body.n": {"type": "gt", "pattern": 3}}))

    api.post("/api/v1/webhooks/broken", json={"other": 1})

    [enforcement] = enforcements_of(api, rule["ref"])
    assert enforcement["status"] == "failed"
    assert "execution_id" not in enforcement
    assert enforcement["failure_reason"].startswith(
        f'Failed to match rule "{rule["ref"]}" against trigger instance'
    )


def test_unrenderable_parameters_fail_the_enforcement(api: httpx.Client) -> None:
    rule = create(api, webhook_rule("render", "render", {}, {"message": "{{ trigger.body.missing.deeper }}"}))

    api.post("/api/v1/webhooks/render", json={"x": 1})

    [enforcement] = enforcements_of(api, rule["ref"])
    assert enforcement["status"] == "failed"
    assert "missing" in enforcement["failure_reason"]


@pytest.mark.parametrize(
    ("url", "body", "status", "message"),
    [
        ("/api/v1/webhooks/nope", {}, 404, "Webhook nope not registered with st2"),
        ("/api/v1/webhooks/nope", "text", 400, "'text' is not of type 'object', 'array'"),
        ("/api/v1/webhooks/st2", {"payload": {}}, 400, "Trigger not specified."),
    ],
)
def test_webhook_errors(api: httpx.Client, url: str, body: Any, status: int, message: str) -> None:
    response = api.post(url, json=body)

    assert response.status_code == status
    assert response.json() == {"faultstring": message}


def test_webhooks_require_authentication(fresh_server: RunningServer) -> None:
    response = httpx.post(f"{fresh_server.api_url}/webhooks/sample", json={"name": "st2"})

    assert response.status_code == 401


def test_webhook_list_and_get(api: httpx.Client) -> None:
    rule = api.get(f"/api/v1/rules/{WEBHOOK_RULE}").json()

    listed = api.get("/api/v1/webhooks").json()
    one = api.get("/api/v1/webhooks/sample")

    assert rule["trigger"]["ref"] in [t["ref"] for t in listed]
    assert one.json()["parameters"] == {"url": "sample"}
    assert api.get("/api/v1/webhooks/nope").status_code == 404


# ---- enforcements, triggers --------------------------------------------------------------------


def test_enforcement_list_get_and_views(api: httpx.Client, contract: Path) -> None:
    rule = create(api, webhook_rule("counted", "counted", {}))
    for tag in ("one", "two"):
        api.post("/api/v1/webhooks/counted", json={"tag": tag})

    response = api.get("/api/v1/ruleenforcements", params={"rule_ref": rule["ref"]})
    listed = response.json()
    assert len(listed) == 2
    assert listed[0]["enforced_at"] >= listed[1]["enforced_at"]  # newest first
    assert response.headers["X-Limit"] == "50" and response.headers["X-Total-Count"] == "2"
    real = golden(contract, "ruleenforcements.list")
    assert {h.lower() for h in response.headers} >= set(real["headers"])

    one = api.get(f"/api/v1/ruleenforcements/{listed[0]['id']}")
    assert one.json() == listed[0]
    by_execution = api.get("/api/v1/ruleenforcements", params={"execution": listed[1]["execution_id"]}).json()
    assert by_execution == [listed[1]]

    view = api.get(f"/api/v1/ruleenforcements/views/{listed[0]['id']}").json()
    assert view["trigger_instance"]["id"] == listed[0]["trigger_instance_id"]
    assert view["execution"]["id"] == listed[0]["execution_id"]
    assert view["execution"]["action"]["ref"] == "core.echo"

    missing = api.get("/api/v1/ruleenforcements/000000000000000000000000")
    assert missing.status_code == 404
    assert missing.json() == {
        "faultstring": 'Unable to identify resource with id "000000000000000000000000".'
    }


def test_trigger_types_triggers_and_instances(api: httpx.Client) -> None:
    rule = create(api, webhook_rule("traced", "traced", {}))
    api.post("/api/v1/webhooks/traced", json={"tag": "x"})

    types = {t["ref"] for t in api.get("/api/v1/triggertypes").json()}
    webhook_type = api.get("/api/v1/triggertypes/core.st2.webhook")
    triggers = {t["ref"]: t for t in api.get("/api/v1/triggers").json()}
    instances = api.get("/api/v1/triggerinstances", params={"trigger_type": "core.st2.webhook"})

    assert {"core.st2.webhook", "core.st2.IntervalTimer"} <= types
    assert webhook_type.json()["uid"] == "trigger_type:core:st2.webhook"
    trigger = triggers[rule["trigger"]["ref"]]
    assert api.get(f"/api/v1/triggers/{trigger['id']}").json() == trigger
    assert trigger["uid"].startswith(f"trigger:core:{trigger['name']}:")
    assert instances.headers["X-Limit"] == "100"
    [instance] = [i for i in instances.json() if i["trigger"] == trigger["ref"]]
    assert api.get(f"/api/v1/triggerinstances/{instance['id']}").json() == instance
    assert api.get("/api/v1/triggerinstances/000000000000000000000000").status_code == 404


# ---- interval timers -------------------------------------------------------------------------------


def test_interval_timer_fires_enabled_rules(tmp_path: Path) -> None:
    server = DemoServer(tmp_path / "st2.sqlite", timers=True, seed=False)
    server.timer_interval = 0.2  # instead of each rule's own interval
    running = start_in_thread(server)
    try:
        with api_client(running) as api:
            rules = api.get("/api/v1/rules").json()
            timer_rules = {r["ref"]: r for r in rules if r["trigger"]["type"] == "core.st2.IntervalTimer"}
            enabled = [ref for ref, r in timer_rules.items() if r["enabled"]]
            disabled = [ref for ref, r in timer_rules.items() if not r["enabled"]]
            assert enabled and disabled

            fired = wait_until(
                lambda: enforcements_of(api, enabled[0]), timeout=20, message="a timer enforcement"
            )
            execution = wait_for(api, fired[-1]["execution_id"])

            assert fired[-1]["status"] == "succeeded"
            assert execution["trigger_type"]["ref"] == "core.st2.IntervalTimer"
            assert execution["context"]["user"] == "stanley"
            assert "executed_at" in execution["trigger_instance"]["payload"]
            assert all(enforcements_of(api, ref) == [] for ref in disabled)
    finally:
        running.stop()
