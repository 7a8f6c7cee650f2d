"""Talking to a running embedded server over real HTTP: tokens, clients, runs, and polling with deadlines."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import httpx

from st2tui.demo.server import RunningServer

# st2common.constants.action.LIVEACTION_COMPLETED_STATES
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "timeout", "canceled", "abandoned"})
# An execution id that is well formed (24 hex digits) but names nothing.
MISSING_ID = "000000000000000000000000"


def issue_token(server: RunningServer) -> str:
    response = httpx.post(
        f"{server.auth_url}/tokens", auth=(server.username, server.password), json={}, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["token"]


def api_client(server: RunningServer, token: str | None = None) -> httpx.Client:
    """A client for `base_url` paths (`/api/v1/...`) authenticated with a fresh token."""
    token = token or issue_token(server)
    return httpx.Client(base_url=server.base_url, headers={"X-Auth-Token": token}, timeout=15)


def run_action(client: httpx.Client, ref: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/executions", json={"action": ref, "parameters": parameters or {}})
    assert response.status_code == 201, (
        f"POST /api/v1/executions {ref}: {response.status_code} {response.text}"
    )
    return response.json()


def wait_for(
    client: httpx.Client,
    execution_id: str,
    statuses: Iterable[str] = TERMINAL_STATUSES,
    *,
    timeout: float = 60,
) -> dict[str, Any]:
    """Poll `GET /api/v1/executions/{id}` until its status is one of `statuses`; fail at the deadline."""
    wanted = set(statuses)
    deadline = time.monotonic() + timeout
    doc: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(f"/api/v1/executions/{execution_id}")
        assert response.status_code == 200, response.text
        doc = response.json()
        if doc.get("status") in wanted:
            return doc
        time.sleep(0.1)
    raise AssertionError(
        f"execution {execution_id} did not reach {sorted(wanted)} within {timeout}s; last status "
        f"{doc.get('status')!r}"
    )


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    """Call `predicate()` until it returns something truthy (returned); fail at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout}s")


def children(client: httpx.Client, execution_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/executions/{execution_id}/children", params={"depth": -1})
    assert response.status_code == 200, response.text
    return response.json()


def pending_inquiry_for(client: httpx.Client, workflow_id: str) -> dict[str, Any] | None:
    """The pending `core.ask` child execution of a workflow, if it exists yet."""
    for child in children(client, workflow_id):
        if child.get("runner", {}).get("name") == "inquirer" and child.get("status") == "pending":
            return child
    return None
