"""The client only calls operations and query parameters that StackStorm's OpenAPI spec declares.

Two checks: the static endpoint table (``st2tui.api.ENDPOINTS``) against the spec, and every public
client method actually called (all optional arguments set) with the requests it sends matched back to
spec paths and parameters.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from st2tui.api import ENDPOINTS, St2Client, StreamOptions

BASE = "http://st2.test"

# Operations the service layer is required to cover (the list).
REQUIRED = {
    ("POST", "/auth/v1/tokens"),
    ("GET", "/api/v1/user"),
    ("GET", "/api/v1/executions"),
    ("POST", "/api/v1/executions"),
    ("GET", "/api/v1/executions/{id}"),
    ("PUT", "/api/v1/executions/{id}"),
    ("DELETE", "/api/v1/executions/{id}"),
    ("GET", "/api/v1/executions/{id}/children"),
    ("GET", "/api/v1/executions/{id}/output"),
    ("GET", "/api/v1/executions/{id}/result"),
    ("POST", "/api/v1/executions/{id}/re_run"),
    ("GET", "/api/v1/executions/views/filters"),
    ("GET", "/api/v1/actions"),
    ("GET", "/api/v1/actions/{ref_or_id}"),
    ("GET", "/api/v1/actions/views/parameters/{ref_or_id}"),
    ("GET", "/api/v1/runnertypes"),
    ("GET", "/api/v1/runnertypes/{name_or_id}"),
    ("GET", "/api/v1/packs"),
    ("GET", "/api/v1/packs/{ref_or_id}"),
    ("GET", "/api/v1/rules"),
    ("GET", "/api/v1/rules/{ref_or_id}"),
    ("PUT", "/api/v1/rules/{rule_ref_or_id}"),
    ("GET", "/api/v1/ruleenforcements"),
    ("GET", "/api/v1/ruleenforcements/{id}"),
    ("GET", "/api/v1/keys"),
    ("GET", "/api/v1/keys/{name}"),
    ("PUT", "/api/v1/keys/{name}"),
    ("DELETE", "/api/v1/keys/{name}"),
    ("GET", "/api/v1/inquiries"),
    ("GET", "/api/v1/inquiries/{inquiry_id}"),
    ("PUT", "/api/v1/inquiries/{inquiry_id}"),
    ("GET", "/stream/v1/stream"),
    ("GET", "/stream/v1/executions/{id}/output"),
}


@pytest.fixture(scope="module")
def spec(contract: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path) -> {"query": set of query parameter names, "array_response": bool}."""
    document = yaml.safe_load((contract / "st2-openapi.yaml").read_text())
    operations = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method == "parameters":
                continue
            declared = [*operation.get("parameters", []), *operation.get("x-parameters", [])]
            schema = (operation.get("responses", {}).get("200") or {}).get("schema") or {}
            operations[(method.upper(), path)] = {
                "query": {p["name"] for p in declared if p.get("in") == "query"},
                "array_response": schema.get("type") == "array",
            }
    return operations


def _match(spec: dict, method: str, path: str) -> tuple[str, str] | None:
    """The spec operation a concrete request path belongs to (literal segments beat templates)."""
    candidates = []
    for spec_method, template in spec:
        if spec_method != method:
            continue
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            candidates.append((template.count("{"), template))
    if not candidates:
        return None
    return method, min(candidates)[1]


def test_every_declared_endpoint_and_query_parameter_exists_in_the_spec(spec):
    problems = []
    for op, endpoint in ENDPOINTS.items():
        declared = spec.get((endpoint.method, endpoint.path))
        if declared is None:
            problems.append(f"{op}: {endpoint.method} {endpoint.path} is not in the spec")
            continue
        extra = endpoint.query - declared["query"]
        if extra:
            problems.append(f"{op}: query parameters {sorted(extra)} are not in the spec")
    assert problems == []


def test_required_operations_are_covered_and_report(spec):
    covered = {(endpoint.method, endpoint.path) for endpoint in ENDPOINTS.values()}

    assert REQUIRED - covered == set()
    api_operations = {op for op in spec if not op[1].startswith("/auth/v1/sso")}
    print(f"\nst2tui covers {len(covered)} of {len(api_operations)} spec operations:")
    for method, path in sorted(covered, key=lambda op: (op[1], op[0])):
        print(f"  {method:6} {path}")


def test_undeclared_query_parameter_is_refused_before_sending():
    client = St2Client(api_url=f"{BASE}/api/v1", auth_url=f"{BASE}/auth/v1", stream_url=f"{BASE}/stream/v1")
    with pytest.raises(ValueError, match="not declared"):
        client._build_request("executions.list", params={"execution_id": "x"})


# -- every public method, called for real against a recording transport ---------------------------

SSE = (
    "\n"
    'event: st2.execution.output__create\ndata: {"id":"c1","execution_id":"abc","output_type":"stdout","data":"hi\\n"}\n\n'
    'event: st2.execution__update\ndata: {"id":"abc","status":"succeeded"}\n\n'
    "event: EOF\ndata: ''\n\n"
)

REQUIRED_ARGS: dict[str, Any] = {
    "id": "abc",
    "ref_or_id": "core.local",
    "name_or_id": "local-shell-cmd",
    "inquiry_id": "abc",
    "execution_id": "abc",
    "name": "mykey",
    "value": "v",
    "action": "core.local",
    "username": "st2admin",
    "password": "pw",
    "response": {"approved": True},
}


def _value_for(annotation: str) -> Any:
    if "bool" in annotation:
        return True
    if "datetime" in annotation:
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    if "Iterable" in annotation:
        return ["a", "b"]
    if "Mapping" in annotation:
        return {"k": "v"}
    if "int" in annotation:
        return 5
    return "x"


def _arguments(method) -> tuple[list[Any], dict[str, Any]]:
    positional, keywords = [], {}
    for parameter in inspect.signature(method).parameters.values():
        if parameter.default is inspect.Parameter.empty:
            positional.append(REQUIRED_ARGS[parameter.name])
        else:
            keywords[parameter.name] = _value_for(str(parameter.annotation))
    return positional, keywords


def _respond(spec: dict, request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.startswith("/stream/v1/"):
        return httpx.Response(200, headers={"content-type": "text/event-stream; charset=UTF-8"}, text=SSE)
    if path == "/auth/v1/tokens":
        return httpx.Response(
            201, json={"user": "st2admin", "token": "t0k", "expiry": "2099-01-01T00:00:00.000000Z"}
        )
    if path.endswith("/output") or path.endswith("/result"):
        return httpx.Response(200, text='{"stdout": "hi"}')
    operation = _match(spec, request.method, path)
    if operation and spec[operation]["array_response"]:
        return httpx.Response(200, json=[], headers={"X-Total-Count": "0"})
    if path == "/api/v1/executions/views/filters":
        return httpx.Response(200, json={"status": ["succeeded"]})
    return httpx.Response(
        200, json={"id": "abc", "ref": "core.x", "name": "x", "status": "running", "parameters": {}}
    )


async def _exercise(call) -> None:
    result = call()
    if inspect.isawaitable(result):
        await result
        return
    assert isinstance(result, AsyncIterator)
    try:
        await anext(result)
    finally:
        await result.aclose()


async def test_every_client_method_only_sends_spec_paths_and_parameters(spec):
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _respond(spec, request)

    client = St2Client(
        api_url=f"{BASE}/api/v1",
        auth_url=f"{BASE}/auth/v1",
        stream_url=f"{BASE}/stream/v1",
        username="st2admin",
        password="pw",
        transport=httpx.MockTransport(handler),
        stream_options=StreamOptions(heartbeat_timeout=5, output_idle_timeout=5),
    )
    called = []
    async with client:
        for resource_name, resource in vars(client).items():
            if resource_name.startswith("_") or not hasattr(resource, "_client"):
                continue
            for method_name, method in inspect.getmembers(resource, inspect.ismethod):
                if method_name.startswith("_"):
                    continue
                positional, keywords = _arguments(method)
                await _exercise(lambda m=method, a=positional, k=keywords: m(*a, **k))
                called.append(f"{resource_name}.{method_name}")

    problems, used = [], set()
    for request in sent:
        operation = _match(spec, request.method, request.url.path)
        if operation is None:
            problems.append(f"{request.method} {request.url.path} is not a spec path")
            continue
        used.add(operation)
        extra = set(dict(request.url.params)) - spec[operation]["query"]
        if extra:
            problems.append(f"{request.method} {operation[1]}: query {sorted(extra)} not in the spec")
        if request.content:
            json.loads(request.content)  # every body is JSON
    assert problems == []
    assert {(e.method, e.path) for e in ENDPOINTS.values()} - used == set(), (
        "declared endpoints no method calls"
    )
    assert len(called) >= 35
