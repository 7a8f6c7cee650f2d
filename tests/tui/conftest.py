"""TUI test fixtures: a frozen clock, a reproducible server for snapshots, REST access for the checks."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.rest import api_client

from st2tui import formatting
from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

# The seeded history ends 10 minutes before this instant; the frozen clock of the snapshots reads it.
FIXED_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
TERMINAL = {"succeeded", "failed", "timeout", "canceled", "abandoned"}


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Everything on screen that ages (elapsed, expiry, the activity strip) reads FIXED_NOW."""
    monkeypatch.setattr(formatting, "now", lambda: FIXED_NOW)
    return FIXED_NOW


def _object_id(at: datetime, tail: str) -> str:
    return f"{int(at.timestamp()):08x}{tail}"


def add_pending_inquiry(server: RunningServer) -> tuple[str, str]:
    """Store a workflow paused on a pending `core.ask`, copied from the seeded history with fixed ids
    and times (so screens that show it are reproducible). Returns (workflow id, inquiry id)."""
    engine = server.server.engine
    source_id = server.server.db.scalar(
        "SELECT id FROM executions WHERE action_ref = 'examples.orquesta-ask-basic' ORDER BY id DESC LIMIT 1"
    )
    source = engine.get_execution(source_id)
    ask_source = next(
        doc for doc in map(engine.get_execution, source["children"]) if doc["action"]["ref"] == "core.ask"
    )
    started = FIXED_NOW - timedelta(minutes=4, seconds=30)
    workflow_id = _object_id(started, "0000000000000a5c")
    ask_id = _object_id(started + timedelta(seconds=2), "0000000000000a5d")
    workflow = copy.deepcopy(source)
    workflow.update(id=workflow_id, status="paused", children=[ask_id], start_timestamp=_iso(started))
    for key in ("end_timestamp", "elapsed_seconds", "result"):
        workflow.pop(key, None)
    ask = copy.deepcopy(ask_source)
    ask.update(
        id=ask_id, status="pending", parent=workflow_id, start_timestamp=_iso(started + timedelta(seconds=2))
    )
    ask["context"] = {
        **ask["context"],
        "parent": {**ask["context"].get("parent", {}), "execution_id": workflow_id},
    }
    ask["result"] = {key: value for key, value in ask["result"].items() if key != "response"}
    for key in ("end_timestamp", "elapsed_seconds"):
        ask.pop(key, None)

    async def insert() -> None:
        engine.insert_history([workflow, ask], [])

    server.call(insert)
    return workflow_id, ask_id


@pytest.fixture
def add_inquiry():
    """`add_inquiry(server)` stores a workflow waiting on a pending inquiry (see `add_pending_inquiry`)."""
    return add_pending_inquiry


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def snapshot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Seeded with a fixed clock and random seed (the same history every run), plus one pending inquiry.

    The TTL key is stored again without a TTL: its expiry would count from the real clock.
    """
    path: Path = tmp_path_factory.mktemp("st2-snapshots") / "st2.sqlite"
    server = start_in_thread(DemoServer(path, timers=False, seed_now=FIXED_NOW, seed_random=1234))
    add_pending_inquiry(server)
    with api_client(server) as client:
        lock = client.get("/api/v1/keys/deploy_lock").json()
        client.put("/api/v1/keys/deploy_lock", json={"name": "deploy_lock", "value": lock["value"]})
    yield server
    server.stop()


class Rest:
    """Direct API calls, to set things up from outside the app and to check what it did."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.client = api_client(server)

    def get(self, path: str, **params: Any) -> httpx.Response:
        response = self.client.get(f"/api/v1{path}", params=params)
        assert response.status_code == 200, response.text
        return response

    def run(self, action: str, **parameters: Any) -> dict[str, Any]:
        response = self.client.post("/api/v1/executions", json={"action": action, "parameters": parameters})
        assert response.status_code == 201, response.text
        return response.json()

    async def finished(self, execution_id: str, timeout: float = 30) -> dict[str, Any]:
        """Wait (without blocking the app's loop) until the execution reaches a terminal status."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            doc = self.get(f"/executions/{execution_id}", include_attributes="id,status").json()
            if doc["status"] in TERMINAL:
                return doc
            if loop.time() > deadline:
                raise AssertionError(f"{execution_id} still {doc['status']} after {timeout} s")
            await asyncio.sleep(0.1)


@pytest.fixture
def rest() -> Iterator[Any]:
    """`rest(server)` gives a `Rest` for that server."""
    opened: list[Rest] = []

    def factory(server: RunningServer) -> Rest:
        opened.append(Rest(server))
        return opened[-1]

    yield factory
    for item in opened:
        item.client.close()
