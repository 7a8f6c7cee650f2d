"""Every implemented endpoint answers with a body valid against StackStorm's OpenAPI response schema.

A table of requests walks the server (lists, documents, creates, cancels, re-runs, views, errors). Each
answer must have the expected status, carry `X-Request-ID` and st2's CORS headers (for an origin the
server was told to allow: it sends none otherwise, see test_security), carry exactly the
paging headers st2 sends for it (`X-Total-Count` on `ResourceController` lists, `X-Limit` when a limit
applied; none on `/keys`, whose controller returns a plain list), and its JSON body must validate
against the schema the spec declares for that path, method and status (`default` → `Error`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.openapi import OpenApiSpec
from support.rest import MISSING_ID, issue_token, pending_inquiry_for, run_action, wait_for, wait_until

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

pytestmark = pytest.mark.contract

CORS_HEADERS = {
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
    "access-control-expose-headers",
}
TOTAL = {"x-total-count"}
PAGED = {"x-total-count", "x-limit"}
ORIGIN = "http://127.0.0.1:3000"


@dataclass
class Call:
    """One request of the table; `{name}` in the path is filled from the prepared ids."""

    name: str
    method: str
    path: str
    status: int
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    paging: set[str] | None = None  # None: a single document, no paging headers expected
    auth: bool = True
    basic: tuple[str, str] | None = None  # HTTP basic credentials (token requests), "{user}"/"{password}"


CALLS = [
    Call("token", "POST", "/auth/v1/tokens", 201, json={}, auth=False, basic=("{user}", "{password}")),
    Call(
        "token with ttl",
        "POST",
        "/auth/v1/tokens",
        201,
        json={"ttl": 60},
        auth=False,
        basic=("{user}", "{password}"),
    ),
    Call(
        "token bad password", "POST", "/auth/v1/tokens", 401, json={}, auth=False, basic=("{user}", "wrong")
    ),
    Call("api root", "GET", "/api/v1/", 200),
    Call("whoami", "GET", "/api/v1/user", 200),
    Call("token validate", "POST", "/auth/v1/tokens/validate", 200, json={"token": "{token}"}),
    Call("no credentials", "GET", "/api/v1/executions", 401, auth=False),
    Call("executions list", "GET", "/api/v1/executions", 200, paging=PAGED),
    Call("executions all", "GET", "/api/v1/executions", 200, params={"limit": -1}, paging=TOTAL),
    Call(
        "executions top-level page",
        "GET",
        "/api/v1/executions",
        200,
        params={
            "parent": "null",
            "limit": 50,
            "include_attributes": "id,status,action.ref,context.user,start_timestamp,end_timestamp,parent,children",
        },
        paging=PAGED,
    ),
    Call("executions failed", "GET", "/api/v1/executions", 200, params={"status": "failed"}, paging=PAGED),
    Call(
        "executions exclude result",
        "GET",
        "/api/v1/executions",
        200,
        params={"exclude_attributes": "result"},
        paging=PAGED,
    ),
    Call("execution", "GET", "/api/v1/executions/{local}", 200),
    Call("execution last", "GET", "/api/v1/executions/last", 200),
    Call("execution children", "GET", "/api/v1/executions/{workflow}/children", 200, params={"depth": -1}),
    Call("execution output", "GET", "/api/v1/executions/{local}/output", 200),
    Call("execution filters", "GET", "/api/v1/executions/views/filters", 200),
    Call(
        "execution filters typed",
        "GET",
        "/api/v1/executions/views/filters",
        200,
        params={"types": "action,status"},
    ),
    Call("execution create", "POST", "/api/v1/executions", 201, json={"action": "core.noop"}),
    Call("execution re-run", "POST", "/api/v1/executions/{local}/re_run", 201, json={}),
    Call("execution cancel", "DELETE", "/api/v1/executions/{running}", 200),
    Call("execution cancel finished", "DELETE", "/api/v1/executions/{local}", 200),
    Call("workflow pause", "PUT", "/api/v1/executions/{deploy}", 200, json={"status": "pausing"}),
    Call("execution attribute", "GET", "/api/v1/executions/{local}/attribute/status", 200),
    Call("execution missing", "GET", f"/api/v1/executions/{MISSING_ID}", 404),
    Call("execution bad limit", "GET", "/api/v1/executions", 400, params={"limit": "abc"}),
    Call("actions list", "GET", "/api/v1/actions", 200, paging=TOTAL),
    Call("actions page", "GET", "/api/v1/actions", 200, params={"limit": 2}, paging=PAGED),
    Call("action", "GET", "/api/v1/actions/core.local", 200),
    Call("action missing", "GET", "/api/v1/actions/examples.nope", 404),
    Call("action parameters", "GET", "/api/v1/actions/views/parameters/core.local", 200),
    Call("actions overview", "GET", "/api/v1/actions/views/overview", 200, paging=TOTAL),
    Call("runnertypes list", "GET", "/api/v1/runnertypes", 200, paging=PAGED),
    Call("runnertype", "GET", "/api/v1/runnertypes/local-shell-cmd", 200),
    Call("packs list", "GET", "/api/v1/packs", 200, paging=PAGED),
    Call("pack", "GET", "/api/v1/packs/core", 200),
    Call("rules list", "GET", "/api/v1/rules", 200, paging=TOTAL),
    Call("rule", "GET", "/api/v1/rules/examples.sample_rule_with_webhook", 200),
    Call("rule enforcements", "GET", "/api/v1/ruleenforcements", 200, paging=PAGED),
    Call("rule enforcement", "GET", "/api/v1/ruleenforcements/{enforcement}", 200),
    Call("rule enforcements views", "GET", "/api/v1/ruleenforcements/views", 200, paging=PAGED),
    Call("rule enforcement view", "GET", "/api/v1/ruleenforcements/views/{enforcement}", 200),
    Call("rules views", "GET", "/api/v1/rules/views", 200, paging=TOTAL),
    Call("rule view", "GET", "/api/v1/rules/views/examples.sample_rule_with_webhook", 200),
    Call("rule update", "PUT", "/api/v1/rules/{timer_rule_id}", 200, json="{timer_rule_body}"),
    Call("triggertypes list", "GET", "/api/v1/triggertypes", 200, paging=PAGED),
    Call("triggertype", "GET", "/api/v1/triggertypes/core.st2.webhook", 200),
    Call("triggers list", "GET", "/api/v1/triggers", 200, paging=set()),
    Call("triggerinstances list", "GET", "/api/v1/triggerinstances", 200, paging=PAGED),
    Call("triggerinstance", "GET", "/api/v1/triggerinstances/{trigger_instance}", 200),
    Call("webhooks list", "GET", "/api/v1/webhooks", 200, paging=set()),
    Call("webhook document", "GET", "/api/v1/webhooks/sample", 200),
    Call("webhook", "POST", "/api/v1/webhooks/sample", 202, json={"name": "st2", "message": "again"}),
    Call("keys list", "GET", "/api/v1/keys", 200, paging=set()),
    Call("keys all scopes", "GET", "/api/v1/keys", 200, params={"scope": "all"}, paging=set()),
    Call("key", "GET", "/api/v1/keys/os_version", 200),
    Call("key put", "PUT", "/api/v1/keys/openapi_key", 200, json={"name": "openapi_key", "value": "v"}),
    Call("key delete", "DELETE", "/api/v1/keys/openapi_doomed", 204),
    Call("key missing", "GET", "/api/v1/keys/openapi_never_set", 404),
    Call("inquiries list", "GET", "/api/v1/inquiries", 200, paging=PAGED),
    Call("inquiry", "GET", "/api/v1/inquiries/{inquiry}", 200),
    Call(
        "inquiry respond",
        "PUT",
        "/api/v1/inquiries/{answered_inquiry}",
        200,
        json={"id": "{answered_inquiry}", "response": {"continue": True}},
    ),
    Call("apikeys list", "GET", "/api/v1/apikeys", 200, paging=PAGED),
    Call("apikey", "GET", "/api/v1/apikeys/{apikey}", 200),
    Call("apikey create", "POST", "/api/v1/apikeys", 201, json={"metadata": {"by": "openapi test"}}),
    Call("apikey disable", "PUT", "/api/v1/apikeys/{apikey}", 200, json={"enabled": False}),
    Call("apikey delete", "DELETE", "/api/v1/apikeys/{doomed_apikey}", 204),
]


@pytest.fixture(scope="module")
def spec(contract: Path) -> OpenApiSpec:
    return OpenApiSpec(contract / "st2-openapi.yaml")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with its seeded history (so lists hold every kind of execution), timers off."""
    running = start_in_thread(
        DemoServer(tmp_path_factory.mktemp("openapi") / "st2.sqlite", timers=False, allow_origins=[ORIGIN])
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ids(server: RunningServer) -> dict[str, Any]:
    """The objects the table refers to: finished, running and workflow executions, inquiries, keys..."""
    token = issue_token(server)
    with httpx.Client(base_url=server.base_url, headers={"X-Auth-Token": token}, timeout=15) as client:
        local = run_action(client, "core.local", {"cmd": "echo openapi"})
        workflow = run_action(client, "examples.orquesta-sequential", {"name": "Ada"})
        running = run_action(client, "examples.slow-echo", {"seconds": 60})
        asking = run_action(client, "examples.orquesta-ask-basic")
        answered = run_action(client, "core.ask")
        wait_for(client, local["id"])
        wait_for(client, workflow["id"])
        deploy = run_action(client, "examples.deploy", {"pace": 0.5})
        wait_for(client, running["id"], {"running"})
        wait_for(client, deploy["id"], {"running"})
        wait_for(client, answered["id"], {"pending"})
        inquiry = wait_until(
            lambda: pending_inquiry_for(client, asking["id"]), message="the workflow's inquiry"
        )
        assert (
            client.post("/api/v1/webhooks/sample", json={"name": "st2", "message": "hi"}).status_code == 202
        )
        enforcement = wait_until(
            lambda: client.get("/api/v1/ruleenforcements").json(), message="an enforcement"
        )
        assert (
            client.put(
                "/api/v1/keys/openapi_doomed", json={"name": "openapi_doomed", "value": "x"}
            ).status_code
            == 200
        )
        apikey = client.post("/api/v1/apikeys", json={}).json()
        doomed_apikey = client.post("/api/v1/apikeys", json={}).json()
        timer_rule = client.get("/api/v1/rules/examples.sample_rule_with_timer").json()
    return {
        "token": token,
        "local": local["id"],
        "workflow": workflow["id"],
        "running": running["id"],
        "inquiry": inquiry["id"],
        "answered_inquiry": answered["id"],
        "enforcement": enforcement[0]["id"],
        "apikey": apikey["id"],
        "doomed_apikey": doomed_apikey["id"],
        "deploy": deploy["id"],
        "trigger_instance": enforcement[0]["trigger_instance_id"],
        "timer_rule_id": timer_rule["id"],
        # What `st2 rule enable` sends: the document without `ref`.
        "timer_rule_body": {**{k: v for k, v in timer_rule.items() if k != "ref"}, "enabled": True},
        "user": server.username,
        "password": server.password,
    }


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


@pytest.mark.parametrize("call", CALLS, ids=[call.name for call in CALLS])
def test_response_matches_the_spec(
    call: Call, server: RunningServer, ids: dict[str, Any], spec: OpenApiSpec
) -> None:
    path = _fill(call.path, ids)
    headers = {"Origin": ORIGIN, **({"X-Auth-Token": ids["token"]} if call.auth else {})}
    response = httpx.request(
        call.method,
        f"{server.base_url}{path}",
        params=call.params,
        json=_fill(call.json, ids),
        headers=headers,
        auth=tuple(_fill(part, ids) for part in call.basic) if call.basic else None,
        timeout=30,
    )

    assert response.status_code == call.status, (
        f"{call.method} {path}: {response.status_code} {response.text[:500]}"
    )
    assert response.headers.get("x-request-id"), "no X-Request-ID"
    missing_cors = sorted(name for name in CORS_HEADERS if name not in response.headers)
    assert not missing_cors, f"CORS headers missing: {missing_cors}"
    if call.paging is not None:
        present = {name for name in PAGED if name in response.headers}
        assert present == call.paging, (
            f"paging headers: expected {sorted(call.paging)}, got {sorted(present)}"
        )
        if "x-limit" in call.paging:
            # The limit asked for, else the default the spec declares for the operation.
            assert response.headers["x-limit"] == str(
                call.params.get("limit", spec.default_limit(call.method, path))
            )
        if "x-total-count" in present:
            assert int(response.headers["x-total-count"]) >= len(response.json())
    if response.headers.get("content-type", "").startswith("application/json"):
        errors = spec.errors(call.method, path, response.status_code, response.json())
        assert not errors, (
            f"{call.method} {path} ({response.status_code}) violates the spec:\n  " + "\n  ".join(errors[:20])
        )
    elif response.status_code != 204:
        # Non-JSON answers are the plain-text output endpoint only.
        assert path.endswith("/output"), response.headers.get("content-type")
        assert response.headers["content-type"].startswith("text/plain")


def test_options_preflight_answers_with_cors_headers(server: RunningServer) -> None:
    response = httpx.options(
        f"{server.api_url}/executions",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET,POST,PUT,DELETE,OPTIONS"
    assert "X-Total-Count" in response.headers["access-control-expose-headers"]
