"""The execution engine of the demo server: what st2's scheduler, action runner, workflow engine and
notifier do together.

An execution document is stored in the `executions` table exactly as real st2 returns it (falsy
attributes dropped, keys in st2's order), with secret parameters unmasked; `present()` masks them for
answers and events. Every status change appends a `log` entry and publishes `st2.liveaction__update`
and `st2.execution__update`, as the stream of a real run shows (`examples/stream-sample.txt`).
Output lines go through `OutputStore`, which stores each chunk at once (batched transactions) and
publishes it a moment later, so that a terminal update overtakes the last chunks as on st2.

Over 800 lines because one object owns an execution's whole life (scheduling, running, status changes,
workflows, inquiries, cancellation) over one database; what stands alone is apart (runners, orquesta, seed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import traceback
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import crypto, keys, params, seed
from .runners import (
    ABANDONED,
    CANCELABLE_STATES,
    CANCELED,
    CANCELING,
    COMPLETED_STATES,
    DELAYED,
    FAILED,
    PAUSED,
    PAUSING,
    PENDING,
    REQUESTED,
    RESUMING,
    RUNNING,
    SCHEDULED,
    SUCCEEDED,
    WORKFLOW_RUNNERS,
    Runner,
    RunRequest,
    runner_class,
)
from .runners.workflow import WorkflowDriver
from .state import DemoState
from .util import ApiError, dumps, isotime, isotime_ms, new_id, parse_isotime, utcnow

log = logging.getLogger(__name__)

WEB_URL = "https://localhost/#/history/{id}/general"
HISTORY_SEEDED_META = "history_seeded"
# Statuses in which a paused or waiting workflow counts its child as settled (st2's
# `is_children_active` treats these as inactive).
SETTLED_CHILD_STATES = (*COMPLETED_STATES, PAUSED, PENDING)
# What an execution still in one of these states when the server stopped becomes on restart.
ORPHAN_STATES = (REQUESTED, SCHEDULED, DELAYED, RUNNING, CANCELING, PAUSING, RESUMING)

# The key order of st2's execution documents (`ActionExecutionAPI.from_model` over the DB model).
DOC_ORDER = (
    "trigger",
    "trigger_type",
    "trigger_instance",
    "rule",
    "action",
    "runner",
    "liveaction",
    "workflow_execution",
    "task_execution",
    "status",
    "start_timestamp",
    "end_timestamp",
    "delay",
    "parameters",
    "result_size",
    "context",
    "children",
    "parent",
    "log",
    "web_url",
    "id",
    "result",
    "elapsed_seconds",
)
_ORDER_INDEX = {name: index for index, name in enumerate(DOC_ORDER)}

# Columns of the `executions` table filled from the document.
COLUMNS = (
    "id",
    "parent",
    "status",
    "action_ref",
    "runner",
    "user",
    "rule",
    "trigger",
    "trigger_type",
    "trigger_instance",
    "liveaction",
    "start_timestamp",
    "doc",
)
INSERT_SQL = (
    f"INSERT OR REPLACE INTO executions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)

# Indexes beyond those of the base schema: status- and action-filtered pages of top-level executions
# (what a TUI's list and `st2 execution list` show) and a user filter, all with their COUNT on the index; and one that covers the
# distinct values `views/filters` lists, so that it never reads the documents.
ENGINE_SCHEMA = """
CREATE INDEX IF NOT EXISTS executions_toplevel_status ON executions (status, start_timestamp) WHERE parent IS NULL;
CREATE INDEX IF NOT EXISTS executions_toplevel_action ON executions (action_ref, start_timestamp) WHERE parent IS NULL;
CREATE INDEX IF NOT EXISTS executions_user ON executions (user, start_timestamp);
CREATE INDEX IF NOT EXISTS executions_filter_values ON executions (runner, rule, trigger, trigger_type);
"""

_UNSET: Any = object()


def shape(doc: dict[str, Any]) -> dict[str, Any]:
    """Order keys as st2 does and drop falsy attributes (`if value` in `from_model`)."""
    return {k: doc[k] for k in sorted(doc, key=lambda k: _ORDER_INDEX.get(k, len(DOC_ORDER))) if doc[k]}


def row_values(doc: dict[str, Any]) -> tuple[Any, ...]:
    """The `executions` row of a stored document (indexed columns + JSON)."""

    def name_of(key: str) -> str | None:
        value = doc.get(key)
        return value.get("name") if isinstance(value, dict) else None

    return (
        doc["id"],
        doc.get("parent"),
        doc["status"],
        (doc.get("action") or {}).get("ref", ""),
        name_of("runner"),
        (doc.get("context") or {}).get("user"),
        name_of("rule"),
        name_of("trigger"),
        name_of("trigger_type"),
        (doc.get("trigger_instance") or {}).get("id"),
        (doc.get("liveaction") or {}).get("id"),
        doc["start_timestamp"],
        json.dumps(doc, separators=(",", ":"), ensure_ascii=False),
    )


class OutputStore:
    """Execution output chunks: published as they arrive, written in batches.

    A flush runs a few milliseconds after the first pending chunk (one transaction for all of them),
    and before anything reads the `output` table.
    """

    FLUSH_DELAY = 0.005
    # st2 publishes output chunks and execution updates on different queues, and the terminal update
    # of an execution reaches st2stream before its last chunks (seen on st2 master, 5 runs of 5). The
    # demo holds chunk events back this long, while updates go at once, so clients meet that order
    # here too. Chunks are stored at once: a read after the end has them all, as on st2. Tests that
    # need the order for certain lengthen `lag` (`server.engine.output.lag`). 15 ms: st2 master's own
    # live output reaches st2stream ~12 ms after the print (median of 12 lines 0.2 s apart), and with
    # `echo a; echo b; echo c` its terminal update came before `b` and `c` in 4 runs of 5; the demo with
    # 15 ms: lines 17 ms after the print, the terminal update before all three in 8 of 8.
    PUBLISH_LAG = 0.015

    def __init__(self, server: DemoState) -> None:
        self.db = server.db
        self.bus = server.bus
        self._pending: list[tuple[str, str, str, str]] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        # Chunks stored and not yet published, each with the loop time it may go out at.
        self._unpublished: deque[tuple[float, dict[str, Any]]] = deque()
        self._publish_handle: asyncio.TimerHandle | None = None
        self.lag = self.PUBLISH_LAG

    def add(self, execution_id: str, action_ref: str, runner_ref: str, output_type: str, data: str) -> None:
        doc = {
            "execution_id": execution_id,
            "action_ref": action_ref,
            "runner_ref": runner_ref,
            "timestamp": isotime(utcnow()),
            "output_type": output_type,
            "data": data,
            "id": new_id(),
        }
        self._pending.append((doc["id"], execution_id, output_type, json.dumps(doc, ensure_ascii=False)))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no running loop: nothing to hold back for; the next read flushes
            self._unpublished.append((0.0, doc))
            self._publish(everything=True)
            return
        if self._flush_handle is None:
            self._flush_handle = loop.call_later(self.FLUSH_DELAY, self.flush)
        # Each chunk is held back `lag` from when it was stored (not from the first of a batch: a chunk
        # stored just before a batch went out would otherwise go with it, ahead of a terminal update).
        due = loop.time() + self.lag
        self._unpublished.append((due, doc))
        if self._publish_handle is None:
            self._publish_handle = loop.call_at(due, self._publish)

    def _publish(self, *, everything: bool = False) -> None:
        """Publish, in order, the chunks whose time has come; wait for the next one's."""
        self._publish_handle = None
        if everything:
            now = float("inf")
        else:
            loop = asyncio.get_running_loop()
            now = loop.time()
        while self._unpublished and self._unpublished[0][0] <= now:
            self.bus.publish("st2.execution.output__create", self._unpublished.popleft()[1])
        if self._unpublished:
            # Not sooner than FLUSH_DELAY: a flood goes out in small batches, not one timer per chunk.
            when = max(self._unpublished[0][0], now + self.FLUSH_DELAY)
            self._publish_handle = loop.call_at(when, self._publish)

    def flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO output (id, execution_id, output_type, doc) VALUES (?, ?, ?, ?)", rows
            )

    def insert_docs(self, docs: Iterable[dict[str, Any]]) -> None:
        """Store chunks without publishing them (seeded history)."""
        self.flush()
        rows = [
            (d["id"], d["execution_id"], d["output_type"], json.dumps(d, ensure_ascii=False)) for d in docs
        ]
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO output (id, execution_id, output_type, doc) VALUES (?, ?, ?, ?)", rows
            )

    def chunks(self, execution_id: str, output_type: str | None = None) -> list[dict[str, Any]]:
        self.flush()
        if output_type:
            return self.db.docs(
                "SELECT doc FROM output WHERE execution_id = ? AND output_type = ? ORDER BY seq",
                (execution_id, output_type),
            )
        return self.db.docs("SELECT doc FROM output WHERE execution_id = ? ORDER BY seq", (execution_id,))


@dataclass
class Live:
    """What the engine holds for an execution it is driving."""

    task: asyncio.Task[None] | None = None
    runner: Runner | None = None
    driver: WorkflowDriver | None = None
    waiters: list[asyncio.Future[dict[str, Any]]] = field(default_factory=list)


class Engine:
    """The service behind `/api/v1/executions` and `/stream/v1`; `server.engine`."""

    def __init__(self, server: DemoState) -> None:
        self.server = server
        self.db = server.db
        self.bus = server.bus
        self.db.conn.executescript(ENGINE_SCHEMA)
        self.output = OutputStore(server)
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self._live: dict[str, Live] = {}
        self._merged_cache: dict[str, dict[str, Any]] = {}
        self._stopping = False

    # -- service -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        self._abandon_orphans()
        if self.server.seed and not self.db.get_meta(HISTORY_SEEDED_META):
            self._seed_history()
            self.db.set_meta(HISTORY_SEEDED_META, "1")

    async def stop(self) -> None:
        """Stop every run (processes are killed); their executions become `abandoned` as st2 does."""
        self._stopping = True
        tasks = [live.task for live in self._live.values() if live.task is not None]
        for live in list(self._live.values()):
            if live.runner is not None:
                await live.runner.cancel()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self._abandon_orphans()
        self.output.flush()

    def _abandon_orphans(self) -> None:
        """Executions nothing drives any more: st2's action runner abandons them on shutdown.

        Paused workflows and pending inquiries keep their state (they are revived on resume/answer).
        """
        marks = ",".join("?" * len(ORPHAN_STATES))
        rows = self.db.query(f"SELECT id FROM executions WHERE status IN ({marks})", ORPHAN_STATES)
        for row in rows:
            if row["id"] in self._live and not self._stopping:
                continue
            self._update(row["id"], status=ABANDONED, result={}, publish=not self._stopping)

    def _seed_history(self) -> None:
        """A few days of past executions (with their output and rule records) on a fresh database."""
        content = getattr(self.server, "content", None)
        if content is None:
            return
        docs = seed.generate_history(
            content,
            count=self.server.history,
            now=self.server.seed_now or utcnow(),
            rng=random.Random(self.server.seed_random),
        )
        self.insert_history(docs, seed.generate_output(content, docs))
        instances, enforcements = seed.generate_rule_records(docs)
        with self.db.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO trigger_instances (id, trigger, occurrence_time, doc) VALUES (?, ?, ?, ?)",
                [(i["id"], i["trigger"], i["occurrence_time"], json.dumps(i)) for i in instances],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO enforcements (id, rule_ref, rule_id, execution_id, trigger_instance_id, "
                "enforced_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e["id"],
                        e["rule"]["ref"],
                        e["rule"]["id"],
                        e.get("execution_id"),
                        e.get("trigger_instance_id"),
                        e["enforced_at"],
                        json.dumps(e),
                    )
                    for e in enforcements
                ],
            )

    def insert_history(self, docs: Iterable[dict[str, Any]], outputs: Iterable[dict[str, Any]] = ()) -> None:
        """Store finished executions as they are (seeded history, benchmarks); nothing is published."""
        with self.db.transaction():
            self.db.executemany(INSERT_SQL, (row_values(shape(doc)) for doc in docs))
        self.output.insert_docs(outputs)

    # -- lookups -------------------------------------------------------------------------------

    def action(self, ref: str) -> dict[str, Any] | None:
        return self.db.doc("SELECT doc FROM actions WHERE ref = ?", (ref,))

    def runner_type(self, name: str) -> dict[str, Any] | None:
        return self.db.doc("SELECT doc FROM runnertypes WHERE name = ?", (name,))

    def get_execution(self, execution_id: str) -> dict[str, Any] | None:
        return self.db.doc("SELECT doc FROM executions WHERE id = ?", (execution_id,))

    def last_execution_id(self) -> str | None:
        """The most recently created execution (st2 orders by ObjectId)."""
        return self.db.scalar("SELECT id FROM executions ORDER BY id DESC LIMIT 1")

    def status_of(self, execution_id: str) -> str | None:
        return self.db.scalar("SELECT status FROM executions WHERE id = ?", (execution_id,))

    def merged_parameters(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Runner + action parameter definitions of an execution (cached per action and runner)."""
        action = doc.get("action") or {}
        runner = doc.get("runner") or {}
        key = f"{action.get('id')}/{runner.get('id')}"
        merged = self._merged_cache.get(key)
        if merged is None:
            merged = params.merge_parameters(
                runner.get("runner_parameters") or {}, action.get("parameters") or {}
            )
            if len(self._merged_cache) > 1000:
                self._merged_cache.clear()
            self._merged_cache[key] = merged
        return merged

    def present(self, doc: dict[str, Any], *, mask: bool = True) -> dict[str, Any]:
        """The document as the API answers it: secret parameters masked unless `mask` is false."""
        if not mask or not (doc.get("parameters") or (doc.get("liveaction") or {}).get("parameters")):
            return doc
        merged = self.merged_parameters(doc)
        if not any(
            (meta or {}).get("secret") or (meta or {}).get("type") in ("object", "array")
            for meta in merged.values()
        ):
            return doc
        out = dict(doc)
        if doc.get("parameters"):
            out["parameters"] = params.mask_secrets(doc["parameters"], merged)
        if (doc.get("liveaction") or {}).get("parameters"):
            out["liveaction"] = {
                **doc["liveaction"],
                "parameters": params.mask_secrets(doc["liveaction"]["parameters"], merged),
            }
        return out

    def liveaction_doc(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The LiveAction document st2 publishes on `st2.liveaction__*` (masked; result as a JSON string)."""
        shown = self.present(doc)
        live = shown.get("liveaction") or {}
        out: dict[str, Any] = {"status": doc["status"], "start_timestamp": doc["start_timestamp"]}
        if doc.get("end_timestamp"):
            out["end_timestamp"] = doc["end_timestamp"]
        out.update(
            {
                "action": live.get("action"),
                "action_is_workflow": live.get("action_is_workflow", False),
                "parameters": live.get("parameters") or {},
                "context": doc.get("context") or {},
                "callback": live.get("callback") or {},
                "runner_info": live.get("runner_info") or {},
            }
        )
        for key in ("workflow_execution", "task_execution", "delay"):
            if doc.get(key):
                out[key] = doc[key]
        if live.get("notify"):
            out["notify"] = live["notify"]
        out["id"] = live.get("id")
        out["result"] = dumps(doc.get("result") or {}).decode()
        return out

    # -- creating executions ---------------------------------------------------------------------

    def kv_value(self, scope: str, name: str, user: str) -> str | None:
        """A datastore value for rendering, as stored (None when the key does not exist).

        Secrets render as their ciphertext, as in st2: only the `decrypt_kv` filter (`_decrypt`) reveals them.
        """
        return keys.stored_value(self.server, scope, name, user)

    def _decrypt(self, value: str) -> str:
        try:
            return crypto.decrypt(keys.crypto_key(self.server), value)
        except crypto.CryptoError:
            return value

    async def run_action(
        self,
        action_ref: str,
        parameters: dict[str, Any] | None,
        *,
        user: str,
        context: dict[str, Any] | None = None,
        parent: str | None = None,
        rule: dict[str, Any] | None = None,
        trigger: dict[str, Any] | None = None,
        trigger_type: dict[str, Any] | None = None,
        trigger_instance: dict[str, Any] | None = None,
        delay: int | None = None,
        workflow_execution: str | None = None,
        task_execution: str | None = None,
        context_overrides: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create an execution and start running it; returns the document (unmasked) as created.

        `context` is the request's context (user and pack are set over it); `context_overrides` (the
        `st2-context` header) is merged last, as st2's controller does.

        Raises `ApiError(400)` with st2's message when the action is unknown or disabled or the
        parameters are invalid; a parameter that fails to render creates a `failed` execution first.
        """
        action = self.action(action_ref) if isinstance(action_ref, str) else None
        if action is None:
            raise ApiError(400, f'Action "{action_ref}" cannot be found.')
        runner = self.runner_type(action["runner_type"])
        if runner is None:
            raise ApiError(400, f'RunnerType "{action["runner_type"]}" cannot be found.')
        ctx = dict(context or {})
        ctx["user"] = user
        ctx["pack"] = action["pack"]
        ctx.update(context_overrides or {})
        parent_ctx = ctx.get("parent")
        if isinstance(parent_ctx, dict) and parent_ctx.get("user"):
            ctx["user"] = parent_ctx["user"]
        submitted = dict(parameters or {})
        render_error: params.ParameterRenderError | None = None
        render_traceback = ""
        live_params: dict[str, Any] = submitted
        try:
            live_params = params.render_live_parameters(
                runner.get("runner_parameters") or {},
                action.get("parameters") or {},
                submitted,
                self.kv_value,
                action_context=ctx,
                decrypt=self._decrypt,
            )
        except params.ParameterRenderError as exc:
            render_error, render_traceback = exc, traceback.format_exc()
        except params.ParameterValidationError as exc:
            raise ApiError(400, exc.message) from None
        if render_error is None:
            if not action.get("enabled", True):
                raise ApiError(400, f'Unable to execute. Action "{action_ref}" is disabled.')
            merged = params.merge_parameters(
                runner.get("runner_parameters") or {}, action.get("parameters") or {}
            )
            try:
                params.validate_parameters(merged, live_params)
            except params.ParameterValidationError as exc:
                raise ApiError(400, exc.message) from None
        doc, created = self._create(
            action,
            runner,
            live_params,
            ctx,
            parent=parent,
            rule=rule,
            trigger=trigger,
            trigger_type=trigger_type,
            trigger_instance=trigger_instance,
            delay=delay,
            workflow_execution=workflow_execution,
            task_execution=task_execution,
        )
        if render_error is not None:
            self._update(
                doc["id"],
                status=FAILED,
                result={"error": render_error.message, "traceback": render_traceback},
                set_result_size=True,
            )
            raise ApiError(400, render_error.message)
        self._start(doc["id"])
        return created

    def _create(
        self,
        action: dict[str, Any],
        runner: dict[str, Any],
        parameters: dict[str, Any],
        context: dict[str, Any],
        *,
        parent: str | None,
        rule: dict[str, Any] | None,
        trigger: dict[str, Any] | None,
        trigger_type: dict[str, Any] | None,
        trigger_instance: dict[str, Any] | None,
        delay: int | None,
        workflow_execution: str | None,
        task_execution: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Store a `requested` execution and publish its create events; returns (stored, as-created)."""
        now = utcnow()
        liveaction_id = new_id()  # st2 creates the liveaction first: its id is the smaller one
        execution_id = new_id()
        liveaction: dict[str, Any] = {
            "action": action["ref"],
            "action_is_workflow": action["runner_type"] in WORKFLOW_RUNNERS,
            "parameters": parameters,
            "callback": {},
            "runner_info": {},
            "id": liveaction_id,
        }
        doc: dict[str, Any] = {
            "trigger": trigger,
            "trigger_type": trigger_type,
            "trigger_instance": trigger_instance,
            "rule": rule,
            "action": action,
            "runner": runner,
            "liveaction": liveaction,
            "workflow_execution": workflow_execution,
            "task_execution": task_execution,
            "status": REQUESTED,
            "start_timestamp": isotime(now),
            "delay": delay,
            "parameters": parameters,
            "context": context,
            "parent": parent,
            # The first entry keeps microseconds until it goes through the database (as in st2).
            "log": [{"timestamp": isotime(now), "status": REQUESTED}],
            "web_url": WEB_URL.format(id=execution_id),
            "id": execution_id,
        }
        created = shape(doc)
        stored = {**created, "log": [{"timestamp": isotime_ms(now), "status": REQUESTED}]}
        self.db.execute(INSERT_SQL, row_values(stored))
        if parent:
            self._add_child(parent, execution_id)
        self.bus.publish("st2.liveaction__create", self.liveaction_doc(created))
        self.bus.publish("st2.execution__create", self.present(created))
        return stored, created

    def _add_child(self, parent_id: str, child_id: str) -> None:
        parent = self.get_execution(parent_id)
        if parent is None or child_id in parent.get("children", []):
            return
        parent = shape({**parent, "children": [*parent.get("children", []), child_id]})
        self.db.execute(INSERT_SQL, row_values(parent))
        self.bus.publish("st2.execution__update", self.present(parent))

    # -- status changes --------------------------------------------------------------------------

    def _update(
        self,
        execution_id: str,
        *,
        status: str | None = None,
        result: Any = _UNSET,
        set_result_size: bool = False,
        context: dict[str, Any] | None = None,
        runner_info: dict[str, Any] | None = None,
        publish: bool = True,
    ) -> dict[str, Any]:
        """Apply a change as st2's `update_status` + `update_execution` do; completed ones are final."""
        doc = self.get_execution(execution_id)
        if doc is None:
            raise LookupError(execution_id)
        if doc["status"] in COMPLETED_STATES:
            return doc
        old_status = doc["status"]
        now = utcnow()
        doc = dict(doc)
        if status is not None and status != old_status:
            doc["status"] = status
            doc["log"] = [*doc.get("log", []), {"timestamp": isotime_ms(now), "status": status}]
            # An abandoned execution gets no end time (st2's `abandon_execution_if_incomplete`).
            if status in COMPLETED_STATES and status != ABANDONED:
                doc["end_timestamp"] = isotime(now)
                doc["elapsed_seconds"] = (now - parse_isotime(doc["start_timestamp"])).total_seconds()
        if result is not _UNSET:
            doc["result"] = result
            if set_result_size:
                doc["result_size"] = len(dumps(result))
        if context is not None:
            doc["context"] = context
        if runner_info is not None:
            doc["liveaction"] = {**doc["liveaction"], "runner_info": runner_info}
        doc = shape(doc)
        if doc["status"] in COMPLETED_STATES:
            self.output.flush()  # whoever sees the final status can read all of the output
        self.db.execute(INSERT_SQL, row_values(doc))
        if publish:
            self.bus.publish("st2.liveaction__update", self.liveaction_doc(doc))
            self.bus.publish("st2.execution__update", self.present(doc))
        if doc["status"] != old_status:
            self._status_changed(doc, old_status)
        return doc

    def _status_changed(self, doc: dict[str, Any], old_status: str) -> None:
        status = doc["status"]
        live = self._live.get(doc["id"])
        if live is not None:
            if live.driver is not None:
                live.driver.on_status(status)
            if status in COMPLETED_STATES:
                for waiter in live.waiters:
                    if not waiter.done():
                        waiter.set_result(doc)
                live.waiters.clear()
                if live.task is None:
                    self._live.pop(doc["id"], None)
        parent_id = doc.get("parent")
        if not parent_id:
            return
        parent_status = self.status_of(parent_id)
        if status in (PENDING, PAUSED) and parent_status == RUNNING:
            # A task waiting for an inquiry (or a paused sub-workflow) pauses its workflow.
            self._pause(parent_id, requester=None)
        elif status in (RESUMING, RUNNING) and old_status == PAUSED and parent_status in (PAUSING, PAUSED):
            self._resume(parent_id, requester=None)
        if self.status_of(parent_id) == PAUSING:
            self._settle_pause(parent_id)

    def wait_done(self, execution_id: str) -> asyncio.Future[dict[str, Any]]:
        """A future resolved with the document once the execution reaches a completed state."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        doc = self.get_execution(execution_id)
        if doc is not None and doc["status"] in COMPLETED_STATES:
            future.set_result(doc)
        else:
            self._live.setdefault(execution_id, Live()).waiters.append(future)
        return future

    # -- running ---------------------------------------------------------------------------------

    def _start(self, execution_id: str) -> None:
        live = self._live.setdefault(execution_id, Live())
        live.task = asyncio.ensure_future(self._execute(execution_id))

    def _finish_live(self, execution_id: str) -> None:
        live = self._live.get(execution_id)
        if live is None:
            return
        live.task = None
        live.runner = None
        live.driver = None
        if not live.waiters:
            self._live.pop(execution_id, None)

    async def _execute(self, execution_id: str) -> None:
        try:
            await self._execute_steps(execution_id)
        except asyncio.CancelledError:
            if not self._stopping:
                self._update(execution_id, status=CANCELED)
            raise
        except Exception as exc:
            log.exception("execution %s failed", execution_id)
            self._update(
                execution_id,
                status=FAILED,
                result={"error": str(exc), "traceback": traceback.format_exc()},
                set_result_size=True,
            )
        finally:
            self._finish_live(execution_id)

    def _canceled_meanwhile(self, execution_id: str) -> bool:
        """True (and the execution finalized) when a cancel arrived before the run started."""
        status = self.status_of(execution_id)
        if status == CANCELING:
            self._update(execution_id, status=CANCELED)
        return status in (CANCELING, *COMPLETED_STATES)

    async def _execute_steps(self, execution_id: str) -> None:
        doc = self.get_execution(execution_id)
        assert doc is not None
        await asyncio.sleep(0)
        if doc.get("delay"):
            self._update(execution_id, status=DELAYED)
            await asyncio.sleep(doc["delay"] / 1000)
        if self._canceled_meanwhile(execution_id):
            return
        self._update(execution_id, status=SCHEDULED)
        await asyncio.sleep(0)
        if self._canceled_meanwhile(execution_id):
            return
        doc = self._update(
            execution_id, status=RUNNING, runner_info={"hostname": self.hostname, "pid": self.pid}
        )
        runner_params, action_params = params.render_final_parameters(
            doc["runner"].get("runner_parameters") or {},
            doc["action"].get("parameters") or {},
            doc.get("parameters") or {},
            self.kv_value,
            action_context=doc.get("context") or {},
            decrypt=self._decrypt,
        )
        if doc["runner"]["name"] == "orquesta":
            driver = WorkflowDriver(self, doc, action_params)
            self._live[execution_id].driver = driver
            await driver.run()
            return
        cls = runner_class(doc["runner"]["name"])
        if cls is None:
            raise RuntimeError(f'Runner "{doc["runner"]["name"]}" is not supported by the demo server.')
        request = RunRequest(
            execution_id=execution_id,
            action=doc["action"],
            runner=doc["runner"],
            runner_params=runner_params,
            action_params=action_params,
            script_path=self.entry_point_path(doc["action"]),
            env={
                "ST2_ACTION_PACK_NAME": doc["action"].get("pack", ""),
                "ST2_ACTION_EXECUTION_ID": execution_id,
                "ST2_ACTION_DEBUG": "False",
            },
            on_output=lambda output_type, data: self.output.add(
                execution_id, doc["action"]["ref"], doc["runner"]["name"], output_type, data
            ),
        )
        runner = cls(request)
        self._live[execution_id].runner = runner
        outcome = await runner.run()
        current = self.get_execution(execution_id) or doc
        if current["status"] == CANCELING or outcome.status == CANCELED:
            # The result stays the cancel request's `{"message", "user"}`, as st2's runner cancel does.
            self._update(execution_id, status=CANCELED)
        else:
            self._update(execution_id, status=outcome.status, result=outcome.result, set_result_size=True)

    def entry_point_path(self, action: dict[str, Any]) -> Path | None:
        """The file an action's `entry_point` names, relative to `<pack path>/actions/`."""
        entry_point = action.get("entry_point")
        if not entry_point:
            return None
        pack = self.db.doc("SELECT doc FROM packs WHERE ref = ?", (action.get("pack"),))
        if not pack or not pack.get("path"):
            return None
        return Path(pack["path"]) / "actions" / entry_point

    # -- control ---------------------------------------------------------------------------------

    async def request_cancellation(self, execution_id: str, requester: str) -> dict[str, Any]:
        """st2's `request_cancellation`: `canceling` when running or inside a workflow, else `canceled`.

        Running actions are stopped (their process group killed); a workflow stops starting tasks,
        cancels its sub-workflows and delayed tasks, and ends `canceled` once its running tasks end.
        """
        doc = self.get_execution(execution_id)
        assert doc is not None
        if doc["status"] == CANCELED:
            return doc
        in_workflow = "parent" in (doc.get("context") or {})
        status = CANCELING if in_workflow or doc["status"] == RUNNING else CANCELED
        context = {**(doc.get("context") or {}), "cancelled_by": requester}
        result = {"message": "Action canceled by user.", "user": requester}
        doc = self._update(execution_id, status=status, result=result, context=context)
        live = self._live.get(execution_id)
        if self._is_workflow(doc):
            await self._cancel_children(doc, requester)
            if (live is None or live.driver is None) and doc["status"] == CANCELING:
                self._update(execution_id, status=CANCELED)
        elif live is not None and live.runner is not None:
            await live.runner.cancel()
        elif live is not None and live.task is not None:
            live.task.cancel()
        elif doc["status"] == CANCELING:
            self._update(execution_id, status=CANCELED)  # nothing runs it (a pending inquiry)
        return self.get_execution(execution_id) or doc

    async def _cancel_children(self, doc: dict[str, Any], requester: str) -> None:
        for child_id in doc.get("children", []):
            child = self.get_execution(child_id)
            if child is None:
                continue
            if self._is_workflow(child) and child["status"] in CANCELABLE_STATES:
                await self.request_cancellation(child_id, requester)
            elif child["status"] in (DELAYED, PENDING):
                # A pending inquiry cannot hold up the cancel of its workflow: it is canceled too.
                await self.request_cancellation(child_id, requester)

    @staticmethod
    def _is_workflow(doc: dict[str, Any]) -> bool:
        return (doc.get("runner") or {}).get("name") in WORKFLOW_RUNNERS

    def children_active(self, execution_id: str) -> bool:
        marks = ",".join("?" * len(SETTLED_CHILD_STATES))
        return bool(
            self.db.scalar(
                f"SELECT 1 FROM executions WHERE parent = ? AND status NOT IN ({marks}) LIMIT 1",
                (execution_id, *SETTLED_CHILD_STATES),
            )
        )

    def _workflow_for(self, execution_id: str, verb: str) -> tuple[dict[str, Any], str]:
        """The execution and its liveaction id; only workflow runners can pause and resume (st2's 400)."""
        doc = self.get_execution(execution_id)
        assert doc is not None
        liveaction_id = doc["liveaction"]["id"]
        if not self._is_workflow(doc):
            raise ApiError(
                400,
                f'Failed updating execution. Unable to {verb} liveaction "{liveaction_id}" because it is not '
                f'supported by the "{doc["runner"]["name"]}" runner.',
            )
        return doc, liveaction_id

    def request_pause(self, execution_id: str, requester: str) -> dict[str, Any]:
        """st2's `request_pause` (workflows only); raises ApiError(400) as the PUT answers it."""
        doc, liveaction_id = self._workflow_for(execution_id, "pause")
        if doc["status"] in (PAUSING, PAUSED):
            return doc
        if doc["status"] != RUNNING:
            raise ApiError(
                400,
                f'Failed updating execution. Unable to pause liveaction "{liveaction_id}" because it is not in '
                "a running state.",
            )
        return self._pause(execution_id, requester)

    def _pause(self, execution_id: str, requester: str | None) -> dict[str, Any]:
        doc = self.get_execution(execution_id)
        assert doc is not None
        context = {**doc.get("context", {}), "paused_by": requester} if requester else None
        if requester is None and not self.children_active(execution_id):
            # A workflow paused by its own task (an inquiry) goes straight to `paused`, as in st2.
            return self._update(execution_id, status=PAUSED, result={"output": None}, set_result_size=True)
        doc = self._update(execution_id, status=PAUSING, context=context)
        for child_id in doc.get("children", []):
            child = self.get_execution(child_id)
            if child is not None and self._is_workflow(child) and child["status"] == RUNNING:
                self._pause(child_id, requester)
        return self._settle_pause(execution_id)

    def _settle_pause(self, execution_id: str) -> dict[str, Any]:
        """`pausing` becomes `paused` once no child is active any more."""
        doc = self.get_execution(execution_id)
        assert doc is not None
        if doc["status"] == PAUSING and not self.children_active(execution_id):
            doc = self._update(execution_id, status=PAUSED, result={"output": None}, set_result_size=True)
        return doc

    def request_resume(self, execution_id: str, requester: str) -> dict[str, Any]:
        """st2's `request_resume` (workflows only); raises ApiError(400) as the PUT answers it."""
        doc, liveaction_id = self._workflow_for(execution_id, "resume")
        if doc["status"] in (RUNNING, RESUMING):
            return doc
        if doc["status"] != PAUSED:
            raise ApiError(
                400,
                f'Failed updating execution. Unable to resume liveaction "{liveaction_id}" because it is in '
                f'"{doc["status"]}" state and not in "paused" state.',
            )
        return self._resume(execution_id, requester)

    def _resume(self, execution_id: str, requester: str | None) -> dict[str, Any]:
        doc = self.get_execution(execution_id)
        assert doc is not None
        if doc["status"] not in (PAUSED, PAUSING):
            return doc
        context = {**doc.get("context", {}), "resumed_by": requester} if requester else None
        doc = self._update(execution_id, status=RESUMING, context=context)
        for child_id in doc.get("children", []):
            child = self.get_execution(child_id)
            if child is not None and self._is_workflow(child) and child["status"] == PAUSED:
                self._resume(child_id, requester)
        if execution_id not in self._live or self._live[execution_id].driver is None:
            self._revive(execution_id)
        # The answer shows `resuming` (as st2's); the workflow runs again right after.
        asyncio.get_running_loop().call_soon(self._resumed, execution_id)
        return doc

    def _resumed(self, execution_id: str) -> None:
        if self.status_of(execution_id) == RESUMING:
            self._update(execution_id, status=RUNNING)

    def _revive(self, execution_id: str) -> None:
        """Drive a paused workflow nothing drives (the server restarted): replay it from its tasks."""
        doc = self.get_execution(execution_id)
        assert doc is not None
        _, action_params = params.render_final_parameters(
            doc["runner"].get("runner_parameters") or {},
            doc["action"].get("parameters") or {},
            doc.get("parameters") or {},
            self.kv_value,
            action_context=doc.get("context") or {},
            decrypt=self._decrypt,
        )
        live = self._live.setdefault(execution_id, Live())
        live.driver = WorkflowDriver(self, doc, action_params, replay=True)

        async def drive() -> None:
            try:
                assert live.driver is not None
                await live.driver.run()
            except Exception as exc:
                log.exception("workflow %s failed", execution_id)
                self._update(
                    execution_id,
                    status=FAILED,
                    result={"errors": [{"message": str(exc)}], "output": None},
                    set_result_size=True,
                )
            finally:
                self._finish_live(execution_id)

        live.task = asyncio.ensure_future(drive())

    async def update_status(
        self, execution_id: str, status: str, result: Any, requester: str
    ) -> dict[str, Any]:
        """`PUT /executions/{id}` with `{"status", "result"}` (st2's controller `put`)."""
        doc = self.get_execution(execution_id)
        assert doc is not None
        current = doc["status"]
        if current in COMPLETED_STATES:
            raise ApiError(400, "Execution is already in completed state.")
        if current == CANCELING and status == CANCELED:
            if self.children_active(execution_id):
                return doc
            return await self._force_status(execution_id, CANCELED, result)
        if status in (CANCELING, CANCELED):
            if current == CANCELING:
                # st2's request_cancellation returns a bare liveaction here and the controller fails.
                raise ApiError(500, "Failed updating execution due to unexpected error.")
            if current not in CANCELABLE_STATES:
                raise ApiError(
                    400,
                    f'Failed updating execution. Unable to cancel liveaction "{doc["liveaction"]["id"]}" '
                    "because it is already in a completed state.",
                )
            return await self.request_cancellation(execution_id, requester)
        if current == PAUSING and status == PAUSED:
            if self.children_active(execution_id):
                return doc
            return self._update(execution_id, status=PAUSED, result=_UNSET if result is None else result)
        if status in (PAUSING, PAUSED):
            return self.request_pause(execution_id, requester)
        if status == RESUMING:
            return self.request_resume(execution_id, requester)
        return await self._force_status(execution_id, status, result)

    async def _force_status(self, execution_id: str, status: str, result: Any) -> dict[str, Any]:
        doc = self._update(
            execution_id,
            status=status,
            result=_UNSET if result is None else result,
            set_result_size=result is not None,
        )
        if status in COMPLETED_STATES:
            live = self._live.get(execution_id)
            if live is not None and live.runner is not None:
                await live.runner.cancel()
        return doc

    async def re_run(
        self,
        execution_id: str,
        *,
        parameters: dict[str, Any],
        tasks: list[str],
        reset: list[str],
        user: str,
        delay: int | None,
    ) -> dict[str, Any]:
        """`POST /executions/{id}/re_run` after the request checks: a new execution of the same action."""
        doc = self.get_execution(execution_id)
        assert doc is not None
        if tasks and (doc.get("runner") or {}).get("name") != "orquesta":
            raise ApiError(400, "Task option is only supported for Orquesta workflows.")
        new_parameters = {**(doc.get("parameters") or {}), **parameters}
        rerun: dict[str, Any] = {"ref": execution_id}
        if tasks:
            rerun["tasks"] = tasks
        if reset:
            rerun["reset"] = reset
        return await self.run_action(
            doc["action"]["ref"], new_parameters, user=user, context={"re-run": rerun}, delay=delay
        )

    async def respond_inquiry(self, execution_id: str, response: Any, user: str) -> None:
        """Answer a pending `core.ask` execution: it succeeds with `result.response`; its workflow resumes."""
        doc = self.get_execution(execution_id)
        if doc is None or doc["status"] != PENDING:
            raise ApiError(400, f'Inquiry "{execution_id}" is not pending.')
        parent_id = doc.get("parent")
        if parent_id and self.status_of(parent_id) in (PAUSING, PAUSED):
            self._resume(parent_id, user)
        result = {**(doc.get("result") or {}), "response": response}
        self._update(
            execution_id,
            status=SUCCEEDED,
            result=result,
            set_result_size=True,
            runner_info={"hostname": self.hostname, "pid": self.pid},
        )

    # -- workflow bookkeeping (used by the orquesta driver) -----------------------------------------

    def save_workflow_state(self, execution_id: str, state: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO workflows (execution_id, doc) VALUES (?, ?)",
            (execution_id, json.dumps(state, ensure_ascii=False)),
        )

    def workflow_state(self, execution_id: str) -> dict[str, Any] | None:
        return self.db.doc("SELECT doc FROM workflows WHERE execution_id = ?", (execution_id,))

    def finish_workflow(self, execution_id: str, status: str, result: dict[str, Any]) -> dict[str, Any]:
        return self._update(execution_id, status=status, result=result, set_result_size=True)

    def set_context(self, execution_id: str, context: dict[str, Any]) -> None:
        # st2 stores the runner's context without publishing (the status did not change).
        self._update(execution_id, context=context, publish=False)

    def children_docs(self, execution_id: str) -> list[dict[str, Any]]:
        return self.db.docs(
            "SELECT doc FROM executions WHERE parent = ? ORDER BY start_timestamp", (execution_id,)
        )

    def workflow_definition(self, action_ref: str) -> str:
        action = self.action(action_ref)
        path = self.entry_point_path(action) if action else None
        if path is None:
            raise LookupError(f'Workflow definition of action "{action_ref}" not found.')
        return path.read_text(encoding="utf-8")
