"""Helpers of the execution screen tests: REST access for setting up and checking, opening the screen, and
a workflow caught in the middle of its run (for the snapshots)."""

from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from rich.console import Console
from support.rest import TERMINAL_STATUSES, api_client
from support.tui import wait_for
from textual.widget import Widget
from textual.widgets import Static

from st2tui.demo.server import RunningServer
from st2tui.messages import ExecutionOpenRequested
from st2tui.screens.execution import ExecutionScreen

# The seeded history of the snapshot server ends 10 minutes before this instant; the frozen clock reads it.
FIXED_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
_TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


class Api:
    """Direct API calls, to start executions from outside the app and to check what the app did."""

    def __init__(self, server: RunningServer) -> None:
        self.client = api_client(server)

    def run(self, action: str, **parameters: Any) -> dict[str, Any]:
        response = self.client.post("/api/v1/executions", json={"action": action, "parameters": parameters})
        assert response.status_code == 201, response.text
        return response.json()

    def get(self, execution_id: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/executions/{execution_id}", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def list(self, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/executions", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def output(self, execution_id: str) -> str:
        return self.client.get(f"/api/v1/executions/{execution_id}/output").text

    def cancel(self, execution_id: str) -> None:
        self.client.delete(f"/api/v1/executions/{execution_id}")

    async def status_becomes(
        self, execution_id: str, statuses: set[str], timeout: float = 30
    ) -> dict[str, Any]:
        """Wait (without blocking the app's loop) until the execution has one of `statuses`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            doc = self.get(execution_id, include_attributes="id,status")
            if doc["status"] in statuses:
                return doc
            if loop.time() > deadline:
                raise AssertionError(
                    f"{execution_id} still {doc['status']} after {timeout} s, not {statuses}"
                )
            await asyncio.sleep(0.1)

    async def finished(self, execution_id: str, timeout: float = 30) -> dict[str, Any]:
        return await self.status_becomes(execution_id, set(TERMINAL_STATUSES), timeout)


async def open_execution(pilot, execution_id: str) -> ExecutionScreen:
    """Sign in as the app does, then open the execution screen as enter on a row would."""
    app = pilot.app
    app.animation_level = "none"
    await wait_for(pilot, lambda: app.main_screen.signed_in, what="sign-in")
    app.post_message(ExecutionOpenRequested(execution_id))
    await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen), what="the execution screen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.execution is not None, what="the execution")
    return screen


def text_of(widget: Widget) -> str:
    """What a widget shows, as plain text (a Static's content, or what another widget renders: a Static
    that draws itself, such as the execution facts, has no content)."""
    draws_itself = isinstance(widget, Static) and type(widget).render is not Static.render
    shown = widget.content if isinstance(widget, Static) and not draws_itself else widget.render()
    console = Console(width=max(widget.size.width, 80), file=io.StringIO(), color_system=None, record=True)
    console.print(shown)
    return console.export_text()


def lines_of(screen: ExecutionScreen) -> list[str]:
    return [line.text for line in screen.output.log_view.lines()]


# -- a workflow caught running, for the snapshots --------------------------------------------------------


def _shift(text: str, delta: timedelta) -> str:
    def moved(match: re.Match[str]) -> str:
        at = datetime.strptime(match.group(0), "%Y-%m-%dT%H:%M:%S.%fZ") + delta
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    return _TIMESTAMP_RE.sub(moved, text)


def add_running_deploy(server: RunningServer, elapsed: float = 28.0) -> str:
    """Store a copy of the newest seeded deploy as it was `elapsed` seconds into its run, started that long
    before FIXED_NOW: finished tasks keep their results, tasks under way are running, later ones do not
    exist yet, and the output stops where the run stands. Ids derive from the originals, so they are the
    same every run. Nothing drives it on; its streams stay open. Returns the workflow id."""
    engine = server.server.engine
    db = server.server.db
    root_id = db.scalar(
        "SELECT id FROM executions WHERE action_ref = 'examples.deploy' AND status = 'succeeded' "
        "ORDER BY id DESC LIMIT 1"
    )
    root = engine.get_execution(root_id)
    children = [engine.get_execution(row) for row in _descendant_ids(engine, root_id)]
    started = datetime.strptime(root["start_timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    cut = started + timedelta(seconds=elapsed)
    delta = (FIXED_NOW - timedelta(seconds=elapsed)) - started
    kept = [doc for doc in children if _at(doc["start_timestamp"]) < cut]
    ids = {doc["id"]: _new_id(doc["id"], delta) for doc in [root, *kept]}

    def renamed(doc: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(doc)
        for old, new in ids.items():
            text = text.replace(old, new)
        return json.loads(_shift(text, delta))

    docs = []
    for doc in [root, *kept]:
        running = doc is root or _at(doc.get("end_timestamp")) >= cut
        copy = renamed(doc)
        if running:
            copy["status"] = "running"
            for key in ("end_timestamp", "elapsed_seconds", "result", "result_size"):
                copy.pop(key, None)
            copy["log"] = [entry for entry in copy.get("log", []) if entry["status"] != "succeeded"]
        copy["children"] = [child for child in copy.get("children", []) if child in ids.values()]
        docs.append(copy)
    outputs = []
    for old in ids:
        for chunk in engine.output.chunks(old):
            if _at(chunk["timestamp"]) < cut:
                copy = renamed(chunk)
                copy["id"] = _new_id(chunk["id"], delta)
                outputs.append(copy)

    async def insert() -> None:
        engine.insert_history(docs, outputs)

    server.call(insert)
    return ids[root_id]


def _descendant_ids(engine, execution_id: str) -> list[str]:
    found = []
    for child in engine.get_execution(execution_id).get("children", []):
        found += [child, *_descendant_ids(engine, child)]
    return found


def _at(value: str | None) -> datetime:
    if not value:
        return datetime.max.replace(tzinfo=timezone.utc)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def _new_id(old: str, delta: timedelta) -> str:
    """An ObjectId of the same shape whose time part moved by `delta`."""
    return f"{int(old[:8], 16) + int(delta.total_seconds()):08x}{old[8:]}"
