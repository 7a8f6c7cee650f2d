"""The demo server the scenarios run against, in a child process of its own (as StackStorm would be
elsewhere), so the figures of the app under test are the app's alone.

Two kinds: the seeded demo (the history `st2tui --demo` shows) and the scale server (100,000 bulk
executions plus one workflow with 500 child executions). The child also publishes execution updates on
its own bus on request (the event storm: no REST call makes 1,000 updates a second).
"""

from __future__ import annotations

import asyncio
import copy
import multiprocessing
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

WORKFLOW_ACTION = "examples.orquesta-sequential"
TASK_ACTION = "core.echo"


@dataclass
class ServerSpec:
    history: int = 300  # seeded demo history (top-level executions and their tasks)
    bulk: int = 0  # extra light top-level executions (generate_bulk)
    workflow_children: int = 0  # one more workflow, the newest execution, with this many children


class ServerProcess:
    """A demo server in a spawned child; `info` has its URLs and credentials (and what was stored)."""

    def __init__(self, spec: ServerSpec) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="st2tui-bench-")
        self._conn, theirs = multiprocessing.Pipe()
        db = str(Path(self._tmp.name) / "bench.sqlite")
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(theirs, spec, db), daemon=True
        )
        self._process.start()
        theirs.close()
        if not self._conn.poll(900):
            raise RuntimeError("the demo server did not start")
        self.info: dict[str, Any] = self._conn.recv()

    def start_storm(self, rate: int, seconds: float, newest: int) -> None:
        """Publish `rate` execution updates a second for `seconds` s (see `_publish_storm`); the figures
        come with `storm_result`."""
        self._conn.send(("storm", rate, seconds, newest))

    def storm_result(self) -> tuple[int, float, str]:
        return self._conn.recv()

    def stop(self) -> None:
        try:
            self._conn.send(None)
        except OSError:
            pass
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()
        self._tmp.cleanup()


def _serve(conn: Pipe, spec: ServerSpec, db_path: str) -> None:
    from st2tui.demo.server import DemoServer, start_in_thread

    started = time.perf_counter()
    running = start_in_thread(DemoServer(db_path, timers=False, history=spec.history))
    extra: dict[str, Any] = {}
    if spec.bulk or spec.workflow_children:
        extra = running.call(lambda: _store(running.server, spec), timeout=900)
    conn.send(
        {
            "api_url": running.api_url,
            "auth_url": running.auth_url,
            "stream_url": running.stream_url,
            "base_url": running.base_url,
            "username": running.username,
            "password": running.password,
            "ready_seconds": time.perf_counter() - started,
            **extra,
        }
    )
    while (command := conn.recv()) is not None:
        if command[0] == "storm":
            conn.send(running.call(lambda c=command: _publish_storm(running.server, *c[1:]), timeout=600))
    running.stop()


async def _store(server: Any, spec: ServerSpec) -> dict[str, Any]:
    from st2tui.demo.seed import generate_bulk

    now = datetime.now(timezone.utc)
    docs = generate_bulk(server.content, spec.bulk, now=now - timedelta(minutes=5), rng=random.Random(7))
    server.engine.insert_history(docs)
    extra: dict[str, Any] = {"bulk": spec.bulk}
    if spec.workflow_children:
        workflow = workflow_documents(server.content, spec.workflow_children, now - timedelta(minutes=2))
        server.engine.insert_history(workflow)
        extra["workflow_id"] = workflow[0]["id"]
        extra["workflow_children"] = spec.workflow_children
    return extra


def workflow_documents(content: Any, children: int, start: datetime) -> list[dict[str, Any]]:
    """A finished orquesta workflow execution (first) and its `children` task executions, linked both ways
    (`children` / `parent`, `context.parent`, `context.orquesta`) as st2 stores them."""
    rng = random.Random(11)
    machine = rng.getrandbits(40)
    counter = iter(range(1, 1 << 24))

    def new_id(at: datetime) -> str:
        return f"{int(at.timestamp()):08x}{machine:010x}{next(counter):06x}"

    def stamp(at: datetime) -> str:
        return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    workflow_action, task_action = content.action(WORKFLOW_ACTION), content.action(TASK_ACTION)
    workflow_id, wf_ex_id = new_id(start), new_id(start)
    user = "st2admin"
    docs: list[dict[str, Any]] = []
    at = start + timedelta(milliseconds=100)
    for index in range(children):
        name = f"task{index + 1}"
        child_start, child_end = at, at + timedelta(milliseconds=50)
        child_id = new_id(child_start)
        docs.append(
            {
                "action": copy.deepcopy(task_action),
                "runner": copy.deepcopy(content.runners[task_action["runner_type"]]),
                "liveaction": {"action": TASK_ACTION, "parameters": {"message": name}, "id": new_id(at)},
                "status": "succeeded",
                "start_timestamp": stamp(child_start),
                "end_timestamp": stamp(child_end),
                "parameters": {"message": name},
                "context": {
                    "user": user,
                    "pack": task_action["pack"],
                    "parent": {"execution_id": workflow_id, "user": user, "pack": workflow_action["pack"]},
                    "orquesta": {
                        "workflow_execution_id": wf_ex_id,
                        "task_execution_id": new_id(at),
                        "task_name": name,
                        "task_id": name,
                        "task_route": 0,
                    },
                },
                "parent": workflow_id,
                "result": {
                    "failed": False,
                    "succeeded": True,
                    "return_code": 0,
                    "stdout": name,
                    "stderr": "",
                },
                "elapsed_seconds": 0.05,
                "id": child_id,
            }
        )
        at = child_end + timedelta(milliseconds=10)
    workflow = {
        "action": copy.deepcopy(workflow_action),
        "runner": copy.deepcopy(content.runners[workflow_action["runner_type"]]),
        "liveaction": {
            "action": WORKFLOW_ACTION,
            "action_is_workflow": True,
            "parameters": {"name": "bench"},
            "id": new_id(start),
        },
        "status": "succeeded",
        "start_timestamp": stamp(start),
        "end_timestamp": stamp(at),
        "parameters": {"name": "bench"},
        "context": {"user": user, "pack": workflow_action["pack"], "workflow_execution": wf_ex_id},
        "children": [doc["id"] for doc in docs],
        "result": {"output": {"tasks": children}},
        "elapsed_seconds": round((at - start).total_seconds(), 6),
        "id": workflow_id,
    }
    return [workflow, *docs]


async def _publish_storm(server: Any, rate: int, seconds: float, newest: int) -> tuple[int, float, str]:
    """Publish `rate` `st2.execution__update` events a second for `seconds` s (the `newest` executions,
    status flipping, results left out), then one last update (the newest execution `abandoned`) that
    tells the client it has read everything. Returns (updates sent, seconds it took, id of the last
    update's execution)."""
    engine = server.engine
    rows = server.db.query("SELECT id FROM executions ORDER BY id DESC LIMIT ?", [newest])
    # Without results: a flipping status is what is measured, and an earlier scenario's flood leaves an
    # execution whose 24 MB result would otherwise ride along with every 200th update.
    docs = [
        {key: value for key, value in engine.present(engine.get_execution(row[0])).items() if key != "result"}
        for row in rows
    ]
    loop = asyncio.get_running_loop()
    total, sent, started = int(rate * seconds), 0, loop.time()
    while sent < total:
        due = min(total, int((loop.time() - started) * rate) + 1)
        while sent < due:
            doc = dict(docs[sent % len(docs)])
            doc["status"] = "running" if (sent // len(docs)) % 2 == 0 else "succeeded"
            server.bus.publish("st2.execution__update", doc)
            sent += 1
        await asyncio.sleep(0.005)
    server.bus.publish("st2.execution__update", {**docs[0], "status": "abandoned"})
    return sent, loop.time() - started, docs[0]["id"]
