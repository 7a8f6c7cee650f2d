"""St2Client against the embedded StackStorm-compatible server over loopback HTTP.

Read-only checks share the session server; anything that changes or counts state gets a fresh one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from st2tui.api import (
    BadRequest,
    Forbidden,
    NotFound,
    OperationRejected,
    St2Client,
    StreamConnected,
    StreamOptions,
    Unauthorized,
)
from st2tui.models import Execution, OutputChunk, StreamEvent, Token

pytestmark = pytest.mark.timeout(120)

WAIT_SECONDS = 60


def connect(server, **kwargs) -> St2Client:
    kwargs.setdefault("username", server.username)
    kwargs.setdefault("password", server.password)
    return St2Client(api_url=server.api_url, auth_url=server.auth_url, stream_url=server.stream_url, **kwargs)


@pytest.fixture
async def client(st2_server) -> AsyncIterator[St2Client]:
    async with connect(st2_server) as client:
        yield client


@pytest.fixture
async def fresh_client(fresh_server) -> AsyncIterator[St2Client]:
    async with connect(fresh_server) as client:
        yield client


async def wait_for(
    client: St2Client, execution_id: str, done: Callable[[Execution], bool] = lambda e: e.is_terminal
) -> Execution:
    """Poll an execution until ``done`` (bounded, so a broken server fails the test instead of hanging it)."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        execution = await client.executions.get(execution_id)
        if done(execution):
            return execution
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"execution {execution_id} stuck in {execution.status}")
        await asyncio.sleep(0.1)


# -- auth ------------------------------------------------------------------------------------------


async def test_create_token_and_whoami(st2_server):
    async with connect(st2_server, username=None, password=None) as client:
        token = await client.auth.create_token(st2_server.username, st2_server.password, ttl=3600)
        client.set_token(token)
        whoami = await client.auth.whoami()

    assert token.user == st2_server.username
    assert re.fullmatch(r"[0-9a-f]{32}", token.token)
    remaining = token.expiry - datetime.now(timezone.utc)
    assert timedelta(minutes=55) < remaining <= timedelta(hours=1)
    assert whoami.username == st2_server.username
    assert whoami.auth_method == "authentication token"
    assert whoami.token_expire is not None
    assert whoami.rbac_enabled is False


async def test_login_on_first_call_reports_the_new_token(st2_server):
    tokens: list[Token] = []
    async with connect(st2_server, on_token=tokens.append) as client:
        assert client.token is None
        await client.actions.get("core.local")
        await client.actions.get("core.noop")

    assert len(tokens) == 1
    assert client.token == tokens[0].token


async def test_wrong_password_and_missing_credentials_are_unauthorized(st2_server):
    async with connect(st2_server, password="wrong") as client:
        with pytest.raises(Unauthorized, match="Invalid or missing credentials"):
            await client.auth.whoami()
    async with connect(st2_server, username=None, password=None) as client:
        with pytest.raises(Unauthorized, match="Token or API key required") as caught:
            await client.executions.list(limit=1)
    assert caught.value.request_id


async def test_ttl_above_the_maximum_is_a_bad_request(client, st2_server):
    with pytest.raises(BadRequest, match="greater than max allowed"):
        await client.auth.create_token(st2_server.username, st2_server.password, ttl=10**7)


async def test_expired_token_is_renewed_transparently(st2_server):
    async with connect(st2_server) as client:
        short = await client.auth.create_token(st2_server.username, st2_server.password, ttl=1)
        await asyncio.sleep(1.5)
        # Pretend the expiry is unknown so only the server's 401 reveals it.
        client.set_token(short.token, expiry=None)
        whoami = await client.auth.whoami()

        assert whoami.username == st2_server.username
        assert client.token != short.token


async def test_api_key_authentication(st2_server, client):
    await client.auth.whoami()  # obtains a token
    async with httpx.AsyncClient() as raw:
        created = await raw.post(
            f"{st2_server.api_url}/apikeys",
            json={"user": st2_server.username},
            headers={"X-Auth-Token": client.token},
        )
    assert created.status_code == 201
    async with connect(st2_server, username=None, password=None, api_key=created.json()["key"]) as by_key:
        whoami = await by_key.auth.whoami()

    assert whoami.auth_method == "API key"
    assert whoami.username == st2_server.username


async def test_server_version(client):
    assert re.match(r"\d+\.\d+", await client.server.version())


# -- executions: list, filters, get ----------------------------------------------------------------


async def test_list_pages_with_total_and_newest_first(client):
    first = await client.executions.list(limit=5)
    second = await client.executions.list(limit=5, offset=5)

    assert len(first) == 5
    assert first.limit == 5
    assert first.total is not None and first.total >= 100
    assert first.has_more
    assert second.offset == 5
    assert not {e.id for e in first} & {e.id for e in second}
    stamps = [e.start_timestamp for e in [*first, *second]]
    assert stamps == sorted(stamps, reverse=True)


async def test_list_filters(client):
    everything = await client.executions.list(limit=1)
    failed = await client.executions.list(status="failed", limit=50)
    local = await client.executions.list(action="core.local", limit=50)
    top_level = await client.executions.list(parent="null", limit=100)
    by_runner = await client.executions.list(runner="orquesta", limit=20)
    by_user = await client.executions.list(user="st2admin", limit=20)

    assert failed.items and {e.status for e in failed} == {"failed"}
    assert failed.total < everything.total
    assert local.items and {e.action_ref for e in local} == {"core.local"}
    assert top_level.items and all(e.parent is None for e in top_level)
    assert top_level.total < everything.total  # the seeded history has workflow children
    assert by_runner.items and {e.runner_type for e in by_runner} == {"orquesta"}
    assert by_user.items and {e.user for e in by_user} == {"st2admin"}


async def test_list_by_ids_time_window_and_ascending_order(client):
    recent = await client.executions.list(limit=6)
    ids = [e.id for e in recent.items[:2]]
    chosen = await client.executions.list(id=ids)
    middle = recent.items[3].start_timestamp
    older = await client.executions.list(timestamp_lt=middle, limit=3)
    newer = await client.executions.list(timestamp_gt=middle, sort_asc=True, limit=100)

    assert sorted(e.id for e in chosen) == sorted(ids)
    assert all(e.start_timestamp < middle for e in older)
    assert all(e.start_timestamp > middle for e in newer)
    stamps = [e.start_timestamp for e in newer]
    assert stamps == sorted(stamps)


async def test_list_include_and_exclude_attributes(client):
    slim = await client.executions.list(limit=3, include_attributes=["id", "status", "action.ref"])
    without_result = await client.executions.list(limit=3, exclude_attributes=["result"])

    for execution in slim:
        assert set(execution.raw) <= {"id", "status", "action"}
        assert execution.status and execution.action_ref
    assert without_result.items and all("result" not in e.raw for e in without_result)


async def test_list_rejects_a_zero_limit(client):
    with pytest.raises(BadRequest):
        await client.executions.list(limit=0)


async def test_filter_values(client):
    values = await client.executions.filter_values()
    only_status = await client.executions.filter_values(types=["status"])

    assert "core.local" in values["action"]
    assert {"succeeded", "failed"} <= set(values["status"])
    assert "st2admin" in values["user"]
    assert set(only_status) == {"status"}


async def test_get_parses_a_document_and_unknown_id_is_not_found(client):
    newest = (await client.executions.list(limit=1, action="core.local")).items[0]
    execution = await client.executions.get(newest.id)

    assert execution.id == newest.id
    assert execution.action_ref == "core.local"
    assert execution.start_timestamp is not None
    assert execution.raw["action"]["ref"] == "core.local"
    with pytest.raises(NotFound):
        await client.executions.get("5f0000000000000000000000")


# -- executions: run, output, result, children ------------------------------------------------------


async def test_run_then_get_output_and_result(fresh_client):
    started = await fresh_client.executions.run(
        "core.local", {"cmd": "echo hello; echo oops >&2"}, trace_tag="st2tui-test"
    )
    finished = await wait_for(fresh_client, started.id)
    newest = await fresh_client.executions.get("last")
    output = await fresh_client.executions.output(started.id)
    stderr = await fresh_client.executions.output(started.id, output_type="stderr")
    result = await fresh_client.executions.result(started.id)
    result_text = await fresh_client.executions.result_text(started.id)

    assert started.status == "requested"
    assert started.action_ref == "core.local"
    assert started.user == "st2admin"
    assert started.trace_tag == "st2tui-test"
    assert started.triggered_by == "manual"
    assert finished.status == "succeeded"
    assert finished.result["stdout"] == "hello"
    assert finished.elapsed() is not None
    assert newest.id == started.id
    assert "hello" in output and "oops" in output
    assert "oops" in stderr and "hello" not in stderr
    assert result["stdout"] == "hello"
    assert '"stdout"' in result_text and "\n" in result_text


async def test_get_with_max_result_size_leaves_a_large_result_out(fresh_client):
    started = await fresh_client.executions.run("core.local", {"cmd": "seq 1 2000"})
    await wait_for(fresh_client, started.id)

    small = await fresh_client.executions.get(started.id, max_result_size=100)
    full = await fresh_client.executions.get(started.id)

    assert small.result is None and small.status == "succeeded"
    assert full.result["stdout"].endswith("2000")


async def test_run_with_delay_and_unknown_action(fresh_client):
    delayed = await fresh_client.executions.run("core.noop", delay=200)
    assert delayed.raw.get("delay") == 200
    assert (await wait_for(fresh_client, delayed.id)).status == "succeeded"
    with pytest.raises(BadRequest, match="cannot be found"):
        await fresh_client.executions.run("nope.nothing")


async def test_workflow_children_with_task_names(fresh_client):
    started = await fresh_client.executions.run("examples.orquesta-sequential", {"name": "Stanley"})
    workflow = await wait_for(fresh_client, started.id)
    children = await fresh_client.executions.children(started.id, depth=-1)

    assert workflow.status == "succeeded"
    assert workflow.is_workflow
    assert len(children) == len(workflow.children) >= 2
    assert all(child.parent_id == started.id for child in children)
    assert all(child.task_name for child in children)


async def test_cancel_running_canceled_and_finished_executions(fresh_client):
    started = await fresh_client.executions.run("examples.slow-echo", {"seconds": 30})
    await wait_for(fresh_client, started.id, lambda e: e.status == "running")
    finished = await fresh_client.executions.run("core.noop")
    await wait_for(fresh_client, finished.id)

    canceled = await fresh_client.executions.cancel(started.id)
    final = await wait_for(fresh_client, started.id)
    again = await fresh_client.executions.cancel(started.id)

    assert canceled.status in ("canceling", "canceled")
    assert final.status == "canceled"
    assert again.status == "canceled"  # st2 answers an already canceled execution with its document
    with pytest.raises(OperationRejected, match="State = succeeded"):
        await fresh_client.executions.cancel(finished.id)


async def test_pause_and_resume_a_workflow(fresh_client):
    started = await fresh_client.executions.run("examples.deploy", {"pace": 0.3})
    await wait_for(fresh_client, started.id, lambda e: e.status == "running")

    pausing = await fresh_client.executions.pause(started.id)
    paused = await wait_for(fresh_client, started.id, lambda e: e.status in ("paused", "canceled", "failed"))
    resuming = await fresh_client.executions.resume(started.id)
    running = await wait_for(fresh_client, started.id, lambda e: e.status != "resuming")
    await fresh_client.executions.cancel(started.id)

    assert pausing.status in ("pausing", "paused")
    assert paused.status == "paused"
    assert resuming.status in ("resuming", "running")
    assert running.status in ("running", "succeeded")


async def test_pause_of_a_non_workflow_is_a_bad_request(fresh_client):
    started = await fresh_client.executions.run("core.noop")
    await wait_for(fresh_client, started.id)
    with pytest.raises(BadRequest):
        await fresh_client.executions.pause(started.id)


async def test_rerun_merges_parameters(fresh_client):
    original = await fresh_client.executions.run("examples.slow-echo", {"seconds": 1, "message": "first"})
    await wait_for(fresh_client, original.id)

    rerun = await fresh_client.executions.rerun(original.id, {"message": "second"})
    finished = await wait_for(fresh_client, rerun.id)

    assert rerun.id != original.id
    assert rerun.parameters == {"seconds": 1, "message": "second"}
    assert rerun.context["re-run"]["ref"] == original.id
    assert "second" in finished.result["stdout"]


async def test_rerun_from_a_task_is_orquesta_only(fresh_client):
    original = await fresh_client.executions.run("core.noop")
    await wait_for(fresh_client, original.id)
    with pytest.raises(BadRequest, match="Orquesta"):
        await fresh_client.executions.rerun(original.id, tasks=["task1"])


# -- actions, runners, packs -----------------------------------------------------------------------


async def test_actions(client):
    core = await client.actions.list(pack="core")
    local = await client.actions.get("core.local")
    merged = await client.actions.parameters("core.local")

    assert core.items and {a.pack for a in core} == {"core"}
    assert core.total == len(core.items)
    assert "core.local" in {a.ref for a in core}
    assert local.runner_type == "local-shell-cmd"
    assert local.parameters["cmd"].required
    assert merged["cmd"].required and merged["cmd"].type == "string"
    assert merged["timeout"].default == 60  # from the runner
    assert merged["sudo"].immutable
    with pytest.raises(NotFound):
        await client.actions.get("core.nope")


async def test_action_list_paging_and_slim_attributes(client):
    page = await client.actions.list(limit=2, offset=1, include_attributes=["ref", "pack"])
    assert len(page) == 2 and page.total > 2
    assert all(set(a.raw) <= {"id", "ref", "pack"} for a in page)


async def test_runner_types_and_packs(client):
    runners = await client.runner_types.list()
    shell = await client.runner_types.get("local-shell-cmd")
    packs = await client.packs.list()
    core = await client.packs.get("core")

    assert {"local-shell-cmd", "orquesta", "inquirer"} <= {r.name for r in runners}
    assert shell.runner_parameters["timeout"].default == 60
    assert {"core", "examples"} <= {p.ref for p in packs}
    assert packs.total >= 2
    assert core.name == "core" and core.version


# -- rules and enforcements ------------------------------------------------------------------------


async def test_rules_list_filters_and_get(client):
    rules = await client.rules.list()
    examples = await client.rules.list(pack="examples")
    webhook = await client.rules.get("examples.sample_rule_with_webhook")
    by_trigger = await client.rules.list(trigger=webhook.trigger_ref)

    assert rules.total == len(rules.items) >= 2
    assert examples.items and {r.pack for r in examples} == {"examples"}
    assert webhook.trigger_type == "core.st2.webhook"
    assert webhook.action_ref == "core.local"
    assert webhook.id in {r.id for r in by_trigger}


async def test_rule_disable_and_enable_keep_the_rule(fresh_client):
    before = await fresh_client.rules.get("examples.sample_rule_with_webhook")

    disabled = await fresh_client.rules.disable(before.ref)
    listed = await fresh_client.rules.list(enabled=False)
    enabled = await fresh_client.rules.enable(before.ref)
    after = await fresh_client.rules.get(before.ref)

    assert disabled.enabled is False and disabled.id == before.id
    assert before.ref in {r.ref for r in listed}
    assert enabled.enabled is True
    assert (after.ref, after.criteria, after.action_parameters) == (
        before.ref,
        before.criteria,
        before.action_parameters,
    )


async def test_rule_enforcements(fresh_client, fresh_server):
    rule = await fresh_client.rules.get("examples.sample_rule_with_webhook")
    await fresh_client.auth.whoami()
    async with httpx.AsyncClient() as raw:
        fired = await raw.post(
            f"{fresh_server.api_url}/webhooks/sample",
            json={"name": "st2", "message": "hello"},
            headers={"X-Auth-Token": fresh_client.token},
        )
    assert fired.status_code == 202

    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not (page := await fresh_client.rule_enforcements.list(rule_ref=rule.ref)).items:
        assert asyncio.get_running_loop().time() < deadline, "no enforcement recorded"
        await asyncio.sleep(0.1)
    enforcement = await fresh_client.rule_enforcements.get(page.items[0].id)
    execution = await wait_for(fresh_client, enforcement.execution_id)

    assert page.total >= 1
    assert enforcement.rule_ref == rule.ref and enforcement.rule_id == rule.id
    assert enforcement.status == "succeeded"
    assert enforcement.enforced_at is not None
    assert execution.triggered_by == rule.ref


# -- keys ------------------------------------------------------------------------------------------


async def test_keys_set_get_list_delete(fresh_client):
    created = await fresh_client.keys.set("st2tui_test_plain", "value-1", description="from tests")
    fetched = await fresh_client.keys.get("st2tui_test_plain")
    listed = await fresh_client.keys.list(prefix="st2tui_test_")
    await fresh_client.keys.delete("st2tui_test_plain")

    assert (created.name, created.value, created.scope) == ("st2tui_test_plain", "value-1", "st2kv.system")
    assert fetched.value == "value-1" and not fetched.secret
    assert [k.name for k in listed] == ["st2tui_test_plain"]
    assert listed.total is None  # the keys endpoint sends no X-Total-Count
    with pytest.raises(NotFound):
        await fresh_client.keys.get("st2tui_test_plain")


async def test_secret_key_encrypted_unless_decrypted(fresh_client):
    await fresh_client.keys.set("st2tui_secret", "hunter2", secret=True)

    hidden = await fresh_client.keys.get("st2tui_secret")
    shown = await fresh_client.keys.get("st2tui_secret", decrypt=True)

    assert hidden.secret and hidden.encrypted
    assert re.fullmatch(r"[0-9A-F]+", hidden.value) and hidden.value != "hunter2"
    assert shown.value == "hunter2" and shown.secret and not shown.encrypted


async def test_user_scope_and_ttl(fresh_client):
    created = await fresh_client.keys.set("st2tui_color", "blue", scope="st2kv.user", ttl=600)
    system = await fresh_client.keys.list(scope="st2kv.system", prefix="st2tui_color")
    everything = await fresh_client.keys.list(scope="all", prefix="st2tui_color")
    fetched = await fresh_client.keys.get("st2tui_color", scope="st2kv.user")
    await fresh_client.keys.delete("st2tui_color", scope="st2kv.user")

    assert created.is_user_scope and created.user == "st2admin"
    assert created.expire_timestamp is not None
    assert (
        timedelta(minutes=9) < created.expire_timestamp - datetime.now(timezone.utc) <= timedelta(minutes=10)
    )
    assert system.items == []
    assert [k.name for k in everything] == ["st2tui_color"]
    assert fetched.value == "blue"


async def test_keys_user_parameter_is_admin_only_without_rbac(fresh_client):
    with pytest.raises(Forbidden):
        await fresh_client.keys.list(user="someone-else")


# -- inquiries -------------------------------------------------------------------------------------


async def test_inquiry_list_get_and_respond(fresh_client):
    workflow = await fresh_client.executions.run("examples.orquesta-ask-basic")
    await wait_for(fresh_client, workflow.id, lambda e: e.status == "paused")

    page = await fresh_client.inquiries.list()
    inquiry = await fresh_client.inquiries.get(page.items[0].id)
    with pytest.raises(BadRequest):
        await fresh_client.inquiries.respond(inquiry.id, {"approved": "not a boolean"})
    answer = await fresh_client.inquiries.respond(inquiry.id, {"approved": True})
    finished = await wait_for(fresh_client, workflow.id)

    assert page.total == 1
    assert inquiry.ttl == 1440
    assert inquiry.fields["approved"].type == "boolean" and inquiry.fields["approved"].required
    assert (answer.id, answer.response) == (inquiry.id, {"approved": True})
    assert finished.status == "succeeded"


# -- streams ---------------------------------------------------------------------------------------


async def test_event_stream_follows_an_execution_to_the_end(fresh_client):
    seen: list[StreamEvent] = []

    async def follow(execution_id: str) -> None:
        events = fresh_client.streams.events(
            events=["st2.execution__update"],
            execution_ids=[execution_id],
            end_event="st2.execution__update",
            end_execution_id=execution_id,
        )
        async with aclosing(events):
            async for item in events:
                if isinstance(item, StreamEvent):
                    seen.append(item)

    general = fresh_client.streams.events()
    async with aclosing(general):
        assert isinstance(await anext(general), StreamConnected)  # subscribed: nothing is missed from now on
        started = await fresh_client.executions.run("examples.slow-echo", {"seconds": 2})
        follower = asyncio.create_task(follow(started.id))
        created = None
        async for item in general:
            if isinstance(item, StreamEvent) and item.event == "st2.execution__create":
                created = item.execution
                if created.id == started.id:
                    break
    await asyncio.wait_for(follower, WAIT_SECONDS)

    assert created.action_ref == "examples.slow-echo"
    assert {e.execution.id for e in seen} == {started.id}
    assert seen[-1].execution.status == "succeeded"


async def test_output_stream_live_then_replayed(fresh_client):
    started = await fresh_client.executions.run("examples.slow-echo", {"seconds": 3, "message": "live"})
    live = [item async for item in fresh_client.streams.output(started.id) if isinstance(item, OutputChunk)]
    replay = [
        item
        async for item in fresh_client.streams.output(started.id, output_type="stdout")
        if isinstance(item, OutputChunk)
    ]

    lines = "".join(chunk.data for chunk in live)
    assert lines.count("live") == 3
    assert {chunk.execution_id for chunk in live} == {started.id}
    assert "".join(chunk.data for chunk in replay) == "".join(
        c.data for c in live if c.output_type == "stdout"
    )


async def test_streams_reject_bad_credentials(st2_server):
    async with connect(st2_server, username=None, password=None, token="0" * 32) as client:
        with pytest.raises(Unauthorized):
            async for _ in client.streams.events():
                pass


async def test_output_stream_of_unknown_execution_is_not_found(client):
    with pytest.raises(NotFound):
        async for _ in client.streams.output("5f0000000000000000000000"):
            pass


async def test_quiet_output_stream_survives_idle_status_checks(fresh_server):
    options = StreamOptions(output_idle_timeout=0.3)
    async with connect(fresh_server, stream_options=options) as client:
        started = await client.executions.run("core.local", {"cmd": "sleep 1.5; echo late"})
        items = [item async for item in client.streams.output(started.id)]

    assert [type(item) for item in items] == [StreamConnected, OutputChunk]
    assert items[1].data == "late\n"


# -- real StackStorm documents (shared/contract/examples), served by a mock transport --------------


@pytest.fixture
def real_documents(contract):
    return contract / "examples"


def serve_documents(examples, routes: dict[tuple[str, str], tuple[str, dict]]) -> httpx.MockTransport:
    """Answer each (method, path) with the bytes of a real st2 document, as st2 sent them."""

    def handler(request: httpx.Request) -> httpx.Response:
        name, headers = routes[(request.method, request.url.path)]
        content_type = "text/event-stream; charset=UTF-8" if name.endswith(".txt") else "application/json"
        return httpx.Response(
            200, content=(examples / name).read_bytes(), headers={"content-type": content_type, **headers}
        )

    return httpx.MockTransport(handler)


def document_client(transport: httpx.MockTransport) -> St2Client:
    base = "https://st2.example.com"
    return St2Client(
        api_url=f"{base}/api/v1",
        auth_url=f"{base}/auth/v1",
        stream_url=f"{base}/stream/v1",
        token="t",
        transport=transport,
    )


async def test_real_execution_documents_parse_with_ui_conveniences(real_documents):
    workflow_id = "6b03133ab8bc64e7e03eae05"
    transport = serve_documents(
        real_documents,
        {
            ("GET", f"/api/v1/executions/{workflow_id}"): ("execution-workflow.json", {}),
            ("GET", f"/api/v1/executions/{workflow_id}/children"): ("execution-workflow-children.json", {}),
            ("GET", "/api/v1/executions/6b03133cb8bc64e7e03eaeb1"): ("execution-from-rule.json", {}),
            ("GET", "/api/v1/executions/6b031336b8bc64e7e03eadfe"): ("execution-running.json", {}),
            ("GET", "/api/v1/executions/6b03133bb8bc64e7e03eae4f"): ("execution-workflow-paused.json", {}),
        },
    )
    async with document_client(transport) as client:
        workflow = await client.executions.get(workflow_id)
        children = await client.executions.children(workflow_id)
        from_rule = await client.executions.get("6b03133cb8bc64e7e03eaeb1")
        running = await client.executions.get("6b031336b8bc64e7e03eadfe")
        paused = await client.executions.get("6b03133bb8bc64e7e03eae4f")

    assert workflow.is_workflow and workflow.is_terminal and not workflow.is_cancelable
    assert workflow.short_id == "e03eae05"
    assert workflow.elapsed() == timedelta(microseconds=505954)
    assert workflow.result == {"output": {"greeting": "Stanley, All your base are belong to us!"}}
    assert [child.id for child in children] == workflow.children
    assert [child.task_name for child in children] == ["task1", "task2", "task3"]
    assert {child.parent_id for child in children} == {workflow_id}
    assert from_rule.triggered_by == "examples.sample_rule_with_webhook"
    assert from_rule.user == "stanley"
    assert from_rule.trace_tag.startswith("webhook-sample-")
    assert workflow.triggered_by == "manual"
    assert running.is_cancelable and not running.is_terminal and running.end_timestamp is None
    assert running.result is None
    assert running.elapsed(now=running.start_timestamp + timedelta(seconds=3)) == timedelta(seconds=3)
    assert paused.can_resume and not paused.can_pause and paused.parameters == {}


async def test_real_resource_documents_parse(real_documents):
    transport = serve_documents(
        real_documents,
        {
            ("GET", "/api/v1/actions/core.local"): ("action-core-local.json", {}),
            ("GET", "/api/v1/actions/views/parameters/core.local"): ("action-parameters-view.json", {}),
            ("GET", "/api/v1/runnertypes/local-shell-cmd"): ("runnertype-local-shell-cmd.json", {}),
            ("GET", "/api/v1/rules/examples.sample_rule_with_webhook"): ("rule.json", {}),
            ("GET", "/api/v1/ruleenforcements/6b03133cb8bc64e7e03eaeb2"): ("rule-enforcement.json", {}),
            ("GET", "/api/v1/keys/api_password"): ("keyvalue-secret.json", {}),
            ("GET", "/api/v1/keys/favorite_color"): ("keyvalue-user.json", {}),
            ("GET", "/api/v1/inquiries/6b03133bb8bc64e7e03eae71"): ("inquiry.json", {}),
            ("PUT", "/api/v1/inquiries/6b03133bb8bc64e7e03eae71"): ("inquiry-response.json", {}),
            ("GET", "/api/v1/user"): ("whoami.json", {}),
            ("POST", "/auth/v1/tokens"): ("token.json", {}),
        },
    )
    async with document_client(transport) as client:
        action = await client.actions.get("core.local")
        merged = await client.actions.parameters("core.local")
        runner = await client.runner_types.get("local-shell-cmd")
        rule = await client.rules.get("examples.sample_rule_with_webhook")
        enforcement = await client.rule_enforcements.get("6b03133cb8bc64e7e03eaeb2")
        secret = await client.keys.get("api_password")
        user_key = await client.keys.get("favorite_color", scope="st2kv.user")
        inquiry = await client.inquiries.get("6b03133bb8bc64e7e03eae71")
        answer = await client.inquiries.respond(inquiry.id, {"approved": True})
        whoami = await client.auth.whoami()
        token = await client.auth.create_token("st2admin", "Ch@ngeMe")

    assert (action.ref, action.runner_type, action.parameters["cmd"].required) == (
        "core.local",
        "local-shell-cmd",
        True,
    )
    assert merged["sudo"].immutable and merged["sudo_password"].secret
    assert merged["sudo_password"].has_default and merged["sudo_password"].default is None
    assert not merged["env"].has_default
    assert runner.runner_parameters["timeout"].default == 60
    assert (rule.trigger_type, rule.action_ref, rule.enabled) == ("core.st2.webhook", "core.local", True)
    assert rule.criteria["trigger.body.name"] == {"pattern": "st2", "type": "equals"}
    assert (enforcement.rule_ref, enforcement.status) == ("examples.sample_rule_with_webhook", "succeeded")
    assert enforcement.execution_id == "6b03133cb8bc64e7e03eaeb1"
    assert secret.secret and secret.encrypted and secret.scope == "st2kv.system"
    assert (user_key.user, user_key.is_user_scope) == ("st2admin", True)
    assert inquiry.fields["approved"].type == "boolean" and inquiry.ttl == 1440
    assert answer.response == {"approved": True}
    assert whoami.token_expire == datetime(2026, 11, 23, 16, 6, 52, tzinfo=timezone.utc)
    assert whoami.is_admin and whoami.roles == []
    assert token.expire_timestamp == int(datetime(2026, 11, 23, 16, 6, 52, tzinfo=timezone.utc).timestamp())
    assert token.service is False


async def test_real_stream_captures_parse_including_the_heartbeat_newlines(real_documents):
    execution_id = "6b03131cb8bc64e7e03eadf1"
    transport = serve_documents(
        real_documents,
        {
            ("GET", "/stream/v1/stream"): ("stream-sample-tail.txt", {}),
        },
    )
    async with document_client(transport) as client:
        items = [
            item
            async for item in client.streams.events(
                events=["st2.execution__update", "st2.execution.output__create"],
                end_event="st2.execution__update",
                end_execution_id=execution_id,
            )
        ]

    assert isinstance(items.pop(0), StreamConnected)
    assert all(isinstance(item, StreamEvent) for item in items)
    assert [item.resource for item in items] == ["execution"] * 2 + ["execution.output"] * 2 + ["execution"]
    assert [item.output.data for item in items if item.output] == ["to-stderr\n", "Hello from StackStorm\n"]
    assert items[-1].execution.status == "succeeded" and items[-1].execution.id == execution_id


async def test_real_default_stream_capture_yields_every_frame(real_documents):
    transport = serve_documents(real_documents, {("GET", "/stream/v1/stream"): ("stream-sample.txt", {})})
    async with document_client(transport) as client:
        events = client.streams.events()
        async with aclosing(events):
            items = []
            assert isinstance(await anext(events), StreamConnected)
            async for item in events:
                if not isinstance(item, StreamEvent):
                    break  # the capture ended: the client reports the disconnect
                items.append(item)

    assert [i.event for i in items] == [
        "st2.liveaction__create",
        "st2.execution__create",
        "st2.liveaction__update",
        "st2.execution__update",
        "st2.liveaction__update",
        "st2.execution__update",
        "st2.liveaction__update",
        "st2.execution__update",
    ]
    assert items[-1].execution.status == "succeeded"
    assert items[0].execution is None and items[0].data["status"] == "requested"
