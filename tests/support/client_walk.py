"""Every kind of request st2tui sends, with the parameters its panes and screens send, against one
server: the demo here, a real StackStorm in tests/real_st2. Each step records what came back, so the
two can be compared line by line (and the closing note of issue 15 lists them)."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from st2tui.api import ENDPOINTS, RequestLog, St2Client, St2Error, StreamConnected
from st2tui.models import OutputChunk, StreamEvent
from st2tui.screens.inquiry_form import CONTEXT_FIELDS
from st2tui.widgets.executions import ACTIVITY_FIELDS, LIST_ATTRIBUTES
from st2tui.widgets.inquiries import INQUIRY_FIELDS

# Sent by the app but not walked, with why.
NOT_WALKED = {
    "executions.update": "pause/resume: walked as a refusal on a non-workflow (core has no workflow on real st2)",
}


@dataclass
class Step:
    op: str
    what: str
    status: int | None
    fault: str | None = None


class Walk:
    def __init__(self, client: St2Client) -> None:
        self.client = client
        self.steps: list[Step] = []
        self.sent: list[RequestLog] = []

    async def step(self, op: str, what: str, call) -> Any:
        before = len(self.sent)
        try:
            result = await call
        except St2Error as exc:
            self.steps.append(Step(op, what, exc.status, exc.faultstring))
            return None
        statuses = [log.status for log in self.sent[before:]]
        self.steps.append(Step(op, what, statuses[-1] if statuses else None))
        return result


def make_client(
    api_url: str, auth_url: str, stream_url: str, username: str, password: str
) -> tuple[St2Client, Walk]:
    walk_ref: list[Walk] = []
    client = St2Client(
        api_url=api_url,
        auth_url=auth_url,
        stream_url=stream_url,
        username=username,
        password=password,
        on_request=lambda log: walk_ref[0].sent.append(log),
    )
    walk = Walk(client)
    walk_ref.append(walk)
    return client, walk


async def _run_to_end(client: St2Client, execution_id: str, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if (await client.executions.get(execution_id, include_attributes=["status"])).is_terminal:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{execution_id} did not finish in {timeout} s")


async def walk_everything(walk: Walk, key_name: str) -> list[Step]:
    c = walk.client
    s = walk.step
    await s("auth.create_token", "sign in with a password", c.auth.login(c.username, c._password))
    await s("server.root", "GET /api/v1/ (version)", c.server.version())
    await s("auth.whoami", "GET /api/v1/user", c.auth.whoami())

    # The event stream, open while an execution runs: its events arrive.
    events: list[StreamEvent] = []
    connected = asyncio.Event()

    async def follow() -> None:
        stream = c.streams.events(
            events=("st2.execution__create", "st2.execution__update", "st2.execution__delete")
        )
        async with aclosing(stream) as items:
            async for item in items:
                if isinstance(item, StreamConnected):
                    connected.set()
                elif isinstance(item, StreamEvent):
                    events.append(item)

    follower = asyncio.create_task(follow())
    await asyncio.wait_for(connected.wait(), 15)
    run = await s(
        "executions.run",
        "POST core.local (3 lines)",
        c.executions.run("core.local", {"cmd": "echo a; echo b; echo c"}),
    )
    chunks = []

    async def output() -> None:
        async with aclosing(c.streams.output(run.id)) as items:
            async for item in items:
                if isinstance(item, OutputChunk):
                    chunks.append(item.data)

    await s("streams.output", "stream the output to its end", output())
    await _run_to_end(c, run.id)
    for _ in range(50):
        if any(e.data.get("id") == run.id and e.data.get("status") == "succeeded" for e in events):
            break
        await asyncio.sleep(0.1)
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    walk.steps.append(
        Step(
            "streams.events",
            "st2.execution__* while it ran",
            200 if any(e.data.get("id") == run.id for e in events) else None,
        )
    )
    walk.steps.append(
        Step(
            "streams.output",
            "lines a, b, c once each, in order",
            200 if chunks == ["a\n", "b\n", "c\n"] else None,
            repr(chunks),
        )
    )

    # The executions pane: first page, a filter, the last hour's activity, children, details.
    await s(
        "executions.list",
        "pane first page (parent=null, sort_desc, include_attributes)",
        c.executions.list(limit=50, parent="null", sort_desc=True, include_attributes=LIST_ATTRIBUTES),
    )
    await s(
        "executions.list",
        "pane filter status+action, sort by action",
        c.executions.list(
            limit=50,
            status="succeeded",
            action="core.local",
            sort="-action",
            include_attributes=LIST_ATTRIBUTES,
        ),
    )
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    await s(
        "executions.list",
        "activity strip (timestamp_gt)",
        c.executions.list(parent="null", timestamp_gt=since, include_attributes=ACTIVITY_FIELDS, limit=100),
    )
    await s(
        "executions.list",
        "workflow children (parent=id, sort_asc)",
        c.executions.list(parent=run.id, sort_asc=True, limit=100, include_attributes=LIST_ATTRIBUTES),
    )
    await s(
        "executions.list",
        "action's recent executions (exclude_attributes)",
        c.executions.list(
            action="core.local", limit=10, sort_desc=True, exclude_attributes=["result", "trigger_instance"]
        ),
    )
    await s(
        "executions.list",
        "inquiries' workflows (id=, include)",
        c.executions.list(id=[run.id], include_attributes=INQUIRY_FIELDS, limit=1),
    )
    await s("executions.get", "execution screen", c.executions.get(run.id))
    await s(
        "executions.get", "inquiry form context", c.executions.get(run.id, include_attributes=CONTEXT_FIELDS)
    )
    await s("executions.children", "children depth=-1", c.executions.children(run.id))
    await s("executions.output", "GET output", c.executions.output(run.id))
    await s("executions.result", "GET result", c.executions.result_text(run.id))
    await s("executions.filter_values", "filter values", c.executions.filter_values())
    rerun = await s("executions.rerun", "re-run", c.executions.rerun(run.id))
    if rerun is not None:
        await _run_to_end(c, rerun.id)
    sleeper = await s(
        "executions.run", "POST core.local sleep", c.executions.run("core.local", {"cmd": "sleep 20"})
    )
    await asyncio.sleep(1.0)
    await s("executions.update", "pause a non-workflow (refused)", c.executions.pause(sleeper.id))
    await s("executions.cancel", "cancel", c.executions.cancel(sleeper.id))

    # Actions, runners, packs.
    await s("actions.list", "actions pane", c.actions.list())
    await s("actions.get", "action detail", c.actions.get("core.local"))
    await s("actions.parameters", "run form parameters", c.actions.parameters("core.local"))
    await s("runner_types.list", "runners", c.runner_types.list())
    await s("runner_types.get", "runner", c.runner_types.get("local-shell-cmd"))
    await s("packs.list", "packs", c.packs.list())
    await s("packs.get", "pack", c.packs.get("core"))

    # Rules: list, detail, enforcements, disable and enable again.
    rules = await s("rules.list", "rules pane", c.rules.list())
    if rules is not None and rules.items:
        rule = rules.items[0]
        await s("rules.get", "rule detail", c.rules.get(rule.ref))
        enforcements = await s(
            "rule_enforcements.list",
            "rule's enforcements",
            c.rule_enforcements.list(rule_ref=rule.ref, limit=10),
        )
        if enforcements is not None and enforcements.items:
            await s("rule_enforcements.get", "enforcement", c.rule_enforcements.get(enforcements.items[0].id))
        else:
            walk.steps.append(Step("rule_enforcements.get", "no enforcement to read", 200))
        first = c.rules.disable if rule.enabled else c.rules.enable
        second = c.rules.enable if rule.enabled else c.rules.disable
        await s("rules.update", "toggle", first(rule.ref))
        await s("rules.update", "toggle back", second(rule.ref))

    # Keys: list, set, get, delete (system scope; the user scope too).
    await s("keys.list", "keys pane", c.keys.list(scope="st2kv.system"))
    await s("keys.list", "keys pane, all scopes", c.keys.list(scope="all"))
    await s("keys.set", "set a key", c.keys.set(key_name, "v1"))
    await s("keys.get", "read it", c.keys.get(key_name))
    await s("keys.set", "user scope", c.keys.set(key_name, "v2", scope="st2kv.user"))
    await s("keys.delete", "delete user", c.keys.delete(key_name, scope="st2kv.user"))
    await s("keys.delete", "delete", c.keys.delete(key_name))

    # Inquiries: core.ask waits for an answer.
    ask = await s("executions.run", "core.ask", c.executions.run("core.ask", {"route": "walk"}))
    inquiry = None
    for _ in range(100):
        page = await c.inquiries.list(limit=50)
        inquiry = next((item for item in page.items if item.id == ask.id), None)
        if inquiry is not None:
            break
        await asyncio.sleep(0.2)
    walk.steps.append(Step("inquiries.list", "pending inquiry listed", 200 if inquiry else None))
    if inquiry is not None:
        await s("inquiries.get", "inquiry", c.inquiries.get(ask.id))
        await s("inquiries.respond", "answer", c.inquiries.respond(ask.id, {"continue": True}))
    return walk.steps


# Steps st2 refuses by design, with its status; every other step is answered with a 2xx.
EXPECTED_REFUSALS = {("executions.update", "pause a non-workflow (refused)"): 400}


def unexpected(steps: list[Step]) -> list[tuple[str, str, int | None, str | None]]:
    """Steps whose status is not st2's: a refusal where a 2xx was due, or the other way round."""
    wrong = []
    for step in steps:
        expected = EXPECTED_REFUSALS.get((step.op, step.what))
        ok = step.status == expected if expected else step.status is not None and step.status < 300
        if not ok:
            wrong.append((step.op, step.what, step.status, step.fault))
    return wrong


def ops_walked(steps: list[Step]) -> set[str]:
    return {step.op for step in steps}


def unwalked(steps: list[Step]) -> set[str]:
    return set(ENDPOINTS) - ops_walked(steps) - set(NOT_WALKED)
