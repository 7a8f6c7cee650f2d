"""Faults a StackStorm client meets: each ends in the right exception or a reconnect, never a hang."""

from __future__ import annotations

import asyncio
import json
import random
from contextlib import aclosing
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from fault_transport import (
    SSE_HEADERS,
    ScriptedServer,
    ScriptedTransport,
    chunk,
    chunks,
    closed_port,
    http_head,
    json_response,
    sse_frame,
    sse_response,
)

from st2tui.api import (
    BadRequest,
    Conflict,
    ConnectionFailed,
    Forbidden,
    MalformedResponse,
    NotFound,
    OperationRejected,
    ReconnectPolicy,
    RequestTimeout,
    ServerError,
    St2Client,
    St2Error,
    StreamConnected,
    StreamDisconnected,
    StreamOptions,
    StreamReconnected,
    Unauthorized,
    curl_command,
)
from st2tui.models import OutputChunk, StreamEvent

pytestmark = pytest.mark.timeout(30)

BASE = "http://st2.test"
FAST_STREAMS = StreamOptions(
    heartbeat_timeout=0.3,
    output_idle_timeout=0.3,
    reconnect=ReconnectPolicy(initial_delay=0.01, max_delay=0.05),
)
EXECUTION = {"id": "6b03131cb8bc64e7e03eadf1", "status": "running", "action": {"ref": "core.local"}}


def make_client(transport: httpx.AsyncBaseTransport | None = None, base: str = BASE, **kwargs) -> St2Client:
    kwargs.setdefault("stream_options", FAST_STREAMS)
    return St2Client(
        api_url=f"{base}/api/v1",
        auth_url=f"{base}/auth/v1",
        stream_url=f"{base}/stream/v1",
        transport=transport,
        **kwargs,
    )


def token_doc(token: str, expires_in: timedelta = timedelta(hours=24)) -> dict:
    expiry = datetime.now(timezone.utc) + expires_in
    return {"user": "st2admin", "token": token, "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


async def collect(iterator, count: int) -> list:
    items = []
    async with aclosing(iterator):
        async for item in iterator:
            items.append(item)
            if len(items) == count:
                break
    return items


# -- network failures ------------------------------------------------------------------------------


async def test_connection_refused_raises_connection_failed():
    async with make_client(base=f"http://127.0.0.1:{closed_port()}", token="t") as client:
        with pytest.raises(ConnectionFailed, match=r"Cannot reach http://127\.0\.0\.1") as caught:
            await client.executions.list()
    assert caught.value.status is None
    assert caught.value.method == "GET"


async def test_a_request_too_long_for_a_url_is_an_st2_error_and_nothing_is_sent():
    transport = ScriptedTransport()
    async with make_client(transport, token="t") as client:
        with pytest.raises(St2Error, match=r"Cannot send this request to /api/v1/keys/\{name\}"):
            await client.keys.get("k" * 70_000)
    assert transport.requests == []


async def test_dns_failure_raises_connection_failed():
    transport = ScriptedTransport(
        {("GET", "/api/v1/actions"): httpx.ConnectError("[Errno -2] Name or service not known")}
    )
    async with make_client(transport, token="t") as client:
        with pytest.raises(ConnectionFailed, match="Name or service not known"):
            await client.actions.list()


async def test_server_that_never_answers_raises_request_timeout():
    async def never_answer(writer):
        await asyncio.Event().wait()

    async with ScriptedServer([never_answer]) as server:
        async with make_client(base=server.url, token="t", timeout=0.3) as client:
            with pytest.raises(RequestTimeout):
                await client.executions.get("abc")


async def test_stream_whose_headers_never_come_times_out_and_is_retried():
    async def never_answer(writer):
        await asyncio.Event().wait()

    policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.01, max_attempts=1)
    async with ScriptedServer([never_answer]) as server:
        async with make_client(
            base=server.url, token="t", timeout=0.2, stream_options=StreamOptions(reconnect=policy)
        ) as client:
            items = []
            with pytest.raises(ConnectionFailed, match="reconnect attempts"):
                async for item in client.streams.events():
                    items.append(item)
    assert [type(i) for i in items] == [StreamDisconnected]
    assert server.connections == 2


# -- HTTP errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (400, {"faultstring": 'Action "nope.x" cannot be found.'}, BadRequest, "cannot be found"),
        (
            403,
            {"faultstring": 'User "bob" doesn\'t have required permission "execution_list"'},
            Forbidden,
            "bob",
        ),
        (404, {"faultstring": 'Resource with a reference or id "x" not found'}, NotFound, "not found"),
        (
            503,
            {"faultstring": "Nginx is unable to reach st2api. Make sure service is running."},
            ServerError,
            "Nginx",
        ),
        (500, {"faultstring": "Internal Server Error"}, ServerError, "Internal Server Error"),
        (429, {"faultstring": "Too many requests"}, St2Error, "Too many"),
    ],
)
async def test_error_statuses_map_to_exceptions_with_faultstring_and_request_id(status, body, error, message):
    transport = ScriptedTransport({("POST", "/api/v1/executions"): json_response(status, body)})
    async with make_client(transport, token="t") as client:
        with pytest.raises(error, match=message) as caught:
            await client.executions.run("nope.x")
    assert caught.value.status == status
    assert caught.value.faultstring == body["faultstring"]
    assert caught.value.request_id == "req-test"


async def test_conflict_carries_the_existing_object_id():
    transport = ScriptedTransport(
        {
            ("PUT", "/api/v1/rules/r1"): json_response(
                409, {"faultstring": "Tried to save duplicate", "conflict-id": "r0"}
            )
        }
    )
    transport.add(("GET", "/api/v1/rules/examples.r"), json_response(200, {"id": "r1", "ref": "examples.r"}))
    async with make_client(transport, token="t") as client:
        with pytest.raises(Conflict) as caught:
            await client.rules.enable("examples.r")
    assert caught.value.conflict_id == "r0"


async def test_plain_text_5xx_body_is_kept_as_the_message():
    transport = ScriptedTransport(
        {("GET", "/api/v1/keys"): httpx.Response(502, text="<html>Bad Gateway</html>")}
    )
    async with make_client(transport, token="t") as client:
        with pytest.raises(ServerError, match="Bad Gateway"):
            await client.keys.list()


async def test_redirect_is_reported_not_followed():
    transport = ScriptedTransport(
        {("GET", "/api/v1/user"): httpx.Response(308, headers={"Location": "https://st2.test/api/v1/user"})}
    )
    async with make_client(transport, token="secret-token") as client:
        with pytest.raises(St2Error, match=r"Redirected to https://st2\.test/api/v1/user") as caught:
            await client.auth.whoami()
    assert caught.value.status == 308
    assert len(transport.requests) == 1  # the token was not replayed elsewhere


async def test_cancel_answered_200_with_faultstring_is_an_error():
    fault = {"faultstring": "Action cannot be canceled. State = succeeded."}
    transport = ScriptedTransport({("DELETE", "/api/v1/executions/abc"): json_response(200, fault)})
    async with make_client(transport, token="t") as client:
        with pytest.raises(OperationRejected, match="cannot be canceled") as caught:
            await client.executions.cancel("abc")
    assert caught.value.status == 200


# -- malformed responses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text='{"id": "abc", "status": '),
        httpx.Response(200, json=["not", "an", "execution"]),
        httpx.Response(200, text="<html>login page</html>"),
    ],
)
async def test_malformed_document_raises_malformed_response(response):
    transport = ScriptedTransport({("GET", "/api/v1/executions/abc"): response})
    async with make_client(transport, token="t") as client:
        with pytest.raises(MalformedResponse):
            await client.executions.get("abc")


async def test_list_endpoint_answering_an_object_is_malformed():
    transport = ScriptedTransport({("GET", "/api/v1/executions"): json_response(200, {"faultstring": "?"})})
    async with make_client(transport, token="t") as client:
        with pytest.raises(MalformedResponse, match="expected a JSON list"):
            await client.executions.list()


async def test_stream_that_is_not_an_event_stream_is_malformed_and_retried():
    transport = ScriptedTransport({("GET", "/stream/v1/stream"): httpx.Response(200, html="<html></html>")})
    async with make_client(transport, token="t") as client:
        items = await collect(client.streams.events(), 1)
    assert isinstance(items[0], StreamDisconnected)
    assert "text/event-stream" in items[0].reason


# -- authentication: expiry, 401, re-login ---------------------------------------------------------


async def test_401_on_an_expired_token_triggers_one_relogin_and_retry():
    def whoami(request: httpx.Request) -> httpx.Response:
        if request.headers.get("X-Auth-Token") == "old":
            return json_response(401, {"faultstring": "Unauthorized - Token has expired."})
        return json_response(
            200, {"username": "st2admin", "authentication": {"method": "authentication token"}}
        )

    transport = ScriptedTransport(
        {
            ("GET", "/api/v1/user"): whoami,
            ("POST", "/auth/v1/tokens"): json_response(201, token_doc("new")),
        }
    )
    new_tokens = []
    async with make_client(
        transport, token="old", username="st2admin", password="pw", on_token=new_tokens.append
    ) as client:
        who = await client.auth.whoami()

    assert who.username == "st2admin"
    assert [r.headers["X-Auth-Token"] for r in transport.sent("GET", "/api/v1/user")] == ["old", "new"]
    login = transport.sent("POST", "/auth/v1/tokens")
    assert len(login) == 1
    assert login[0].headers["Authorization"].startswith("Basic ")
    assert [t.token for t in new_tokens] == ["new"]


async def test_persistent_401_is_raised_after_a_single_retry():
    transport = ScriptedTransport(
        {
            ("GET", "/api/v1/user"): json_response(401, {"faultstring": "Unauthorized"}),
            ("POST", "/auth/v1/tokens"): json_response(201, token_doc("new")),
        }
    )
    async with make_client(transport, token="old", username="st2admin", password="pw") as client:
        with pytest.raises(Unauthorized):
            await client.auth.whoami()
    assert len(transport.sent("GET", "/api/v1/user")) == 2
    assert len(transport.sent("POST", "/auth/v1/tokens")) == 1


async def test_401_without_credentials_to_relogin_is_raised_at_once():
    transport = ScriptedTransport(
        {("GET", "/api/v1/user"): json_response(401, {"faultstring": "Unauthorized - Token has expired."})}
    )
    async with make_client(transport, token="old") as client:
        with pytest.raises(Unauthorized, match="Token has expired"):
            await client.auth.whoami()
    assert transport.sent("POST", "/auth/v1/tokens") == []


async def test_wrong_password_raises_unauthorized_from_login():
    transport = ScriptedTransport(
        {("POST", "/auth/v1/tokens"): json_response(401, {"faultstring": "Invalid or missing credentials"})}
    )
    async with make_client(transport, username="st2admin", password="wrong") as client:
        with pytest.raises(Unauthorized, match="Invalid or missing credentials"):
            await client.executions.list()


async def test_token_is_refreshed_before_it_expires_once_for_concurrent_requests():
    transport = ScriptedTransport(
        {
            ("POST", "/auth/v1/tokens"): json_response(201, token_doc("fresh")),
            ("GET", "/api/v1/executions"): json_response(200, [], **{"X-Total-Count": "0"}),
        }
    )
    almost_expired = datetime.now(timezone.utc) + timedelta(seconds=10)  # inside the 15 s grace
    async with make_client(
        transport, token="old", token_expiry=almost_expired, username="st2admin", password="pw"
    ) as client:
        await asyncio.gather(*(client.executions.list() for _ in range(5)))

    assert len(transport.sent("POST", "/auth/v1/tokens")) == 1
    assert {r.headers["X-Auth-Token"] for r in transport.sent("GET", "/api/v1/executions")} == {"fresh"}


async def test_api_key_is_sent_and_never_triggers_login():
    transport = ScriptedTransport({("GET", "/api/v1/user"): json_response(200, {"username": "bot"})})
    async with make_client(transport, api_key="k3y") as client:
        assert (await client.auth.whoami()).username == "bot"
    assert transport.requests[0].headers["St2-Api-Key"] == "k3y"
    assert "X-Auth-Token" not in transport.requests[0].headers


# -- streams: cut, silence, heartbeats, reconnect --------------------------------------------------


def execution_frame(status: str) -> str:
    return sse_frame("st2.execution__update", {**EXECUTION, "status": status})


async def test_stream_cut_mid_event_drops_the_partial_event_and_reconnects():
    first = chunks("\n", execution_frame("scheduled"), 'event: st2.execution__update\ndata: {"id":"6b03')
    second = chunks("\n", execution_frame("running"), then_hang=True)
    transport = ScriptedTransport({("GET", "/stream/v1/stream"): [sse_response(first), sse_response(second)]})
    async with make_client(transport, token="t") as client:
        items = await collect(client.streams.events(), 6)

    assert [type(i) for i in items] == [
        StreamConnected,
        StreamEvent,
        StreamDisconnected,
        StreamConnected,
        StreamReconnected,
        StreamEvent,
    ]
    assert [items[1].execution.status, items[5].execution.status] == ["scheduled", "running"]
    assert items[2].reason == "stream closed by the server"


async def test_silent_stream_is_declared_dead_and_reopened():
    silent = chunks("\n", execution_frame("running"), then_hang=True)
    transport = ScriptedTransport(
        {
            ("GET", "/stream/v1/stream"): [
                sse_response(silent),
                sse_response(chunks(execution_frame("succeeded"))),
            ]
        }
    )
    async with make_client(transport, token="t") as client:
        items = await collect(client.streams.events(), 6)

    assert [type(i) for i in items] == [
        StreamConnected,
        StreamEvent,
        StreamDisconnected,
        StreamConnected,
        StreamReconnected,
        StreamEvent,
    ]
    assert "no heartbeat" in items[2].reason
    assert items[5].execution.status == "succeeded"


async def test_bare_newline_heartbeats_keep_a_quiet_stream_alive():
    # Eight heartbeats 0.1 s apart span far more than the 0.3 s heartbeat timeout.
    body = chunks("\n", *(["\n", 0.1] * 8), execution_frame("succeeded"), then_hang=True)
    transport = ScriptedTransport({("GET", "/stream/v1/stream"): sse_response(body)})
    async with make_client(transport, token="t") as client:
        items = await collect(client.streams.events(), 2)

    assert [type(i) for i in items] == [StreamConnected, StreamEvent]
    assert items[1].execution.status == "succeeded"
    assert len(transport.requests) == 1


async def test_stream_sends_filters_and_credentials_and_ends_at_the_end_event():
    body = chunks("\n", execution_frame("running"), execution_frame("succeeded"), then_hang=True)
    transport = ScriptedTransport({("GET", "/stream/v1/stream"): sse_response(body)})
    async with make_client(transport, token="t0k") as client:
        items = [
            item
            async for item in client.streams.events(
                events=["st2.execution__update", "st2.execution.output__create"],
                execution_ids=[EXECUTION["id"]],
                end_event="st2.execution__update",
                end_execution_id=EXECUTION["id"],
            )
        ]

    assert isinstance(items[0], StreamConnected)
    assert [i.execution.status for i in items[1:]] == ["running", "succeeded"]
    request = transport.requests[0]
    assert request.url.params["events"] == "st2.execution__update,st2.execution.output__create"
    assert request.url.params["execution_ids"] == EXECUTION["id"]
    assert request.headers["X-Auth-Token"] == "t0k"
    assert request.headers["Accept"] == "text/event-stream"


async def test_stream_gives_up_after_max_attempts_with_connection_failed():
    policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.01, max_attempts=2)
    async with make_client(
        base=f"http://127.0.0.1:{closed_port()}", token="t", stream_options=StreamOptions(reconnect=policy)
    ) as client:
        seen = []
        with pytest.raises(ConnectionFailed, match="after 2 reconnect attempts"):
            async for item in client.streams.events():
                seen.append(item)
    assert [i.attempt for i in seen] == [1, 2]


async def test_stream_401_relogs_in_once_and_403_or_404_are_raised():
    transport = ScriptedTransport(
        {
            ("GET", "/stream/v1/stream"): [
                json_response(401, {"faultstring": "Unauthorized - Token has expired."}),
                sse_response(chunks("\n", execution_frame("running"), then_hang=True)),
            ],
            ("POST", "/auth/v1/tokens"): json_response(201, token_doc("new")),
            ("GET", "/stream/v1/executions/missing/output"): json_response(404, {"faultstring": "not found"}),
        }
    )
    async with make_client(transport, token="old", username="st2admin", password="pw") as client:
        items = await collect(client.streams.events(), 2)
        with pytest.raises(NotFound):
            await collect(client.streams.output("missing"), 1)

    assert [type(i) for i in items] == [StreamConnected, StreamEvent]
    assert [r.headers["X-Auth-Token"] for r in transport.sent("GET", "/stream/v1/stream")] == ["old", "new"]


def output_frame(chunk_id: str, data: str) -> str:
    return sse_frame(
        "st2.execution.output__create",
        {"id": chunk_id, "execution_id": EXECUTION["id"], "output_type": "stdout", "data": data},
    )


async def test_output_stream_replays_then_ends_at_eof():
    body = "".join([output_frame("c1", "one\n"), output_frame("c2", "two\n"), "event: EOF\ndata: ''\n\n"])
    transport = ScriptedTransport(
        {("GET", f"/stream/v1/executions/{EXECUTION['id']}/output"): sse_response(body)}
    )
    async with make_client(transport, token="t") as client:
        items = [item async for item in client.streams.output(EXECUTION["id"], output_type="stdout")]

    assert isinstance(items[0], StreamConnected)
    assert [(i.id, i.data) for i in items[1:]] == [("c1", "one\n"), ("c2", "two\n")]
    assert transport.requests[0].url.params["output_type"] == "stdout"


async def test_output_stream_quiet_while_running_is_kept_open_after_a_rest_check():
    path = f"/stream/v1/executions/{EXECUTION['id']}/output"
    body = chunks(
        output_frame("c1", "start\n"), 0.8, output_frame("c2", "done\n"), "event: EOF\ndata: ''\n\n"
    )
    transport = ScriptedTransport(
        {
            ("GET", path): sse_response(body),
            ("GET", f"/api/v1/executions/{EXECUTION['id']}"): json_response(
                200, {"id": EXECUTION["id"], "status": "running"}
            ),
        }
    )
    async with make_client(transport, token="t") as client:
        items = [item async for item in client.streams.output(EXECUTION["id"])]

    assert [i.data for i in items if isinstance(i, OutputChunk)] == ["start\n", "done\n"]
    assert [type(i) for i in items].count(StreamConnected) == 1
    assert len(transport.sent("GET", path)) == 1  # no reconnect: the connection was healthy
    status_checks = transport.sent("GET", f"/api/v1/executions/{EXECUTION['id']}")
    assert status_checks and status_checks[0].url.params["include_attributes"] == "status"


async def test_output_stream_silent_after_the_execution_finished_reconnects_without_duplicates():
    path = f"/stream/v1/executions/{EXECUTION['id']}/output"
    stuck = chunks(output_frame("c1", "one\n"), then_hang=True)
    replay = "".join([output_frame("c1", "one\n"), output_frame("c2", "two\n"), "event: EOF\ndata: ''\n\n"])
    transport = ScriptedTransport(
        {
            ("GET", path): [sse_response(stuck), sse_response(replay)],
            ("GET", f"/api/v1/executions/{EXECUTION['id']}"): json_response(
                200, {"id": EXECUTION["id"], "status": "succeeded"}
            ),
        }
    )
    async with make_client(transport, token="t") as client:
        items = [item async for item in client.streams.output(EXECUTION["id"])]

    assert [type(i) for i in items] == [
        StreamConnected,
        OutputChunk,
        StreamDisconnected,
        StreamConnected,
        StreamReconnected,
        OutputChunk,
    ]
    assert [i.data for i in items if isinstance(i, OutputChunk)] == ["one\n", "two\n"]
    assert "succeeded" in items[2].reason


async def test_output_stream_status_check_failing_counts_as_a_dead_connection():
    path = f"/stream/v1/executions/{EXECUTION['id']}/output"
    transport = ScriptedTransport(
        {
            ("GET", path): [sse_response(chunks(then_hang=True)), sse_response("event: EOF\ndata: ''\n\n")],
            ("GET", f"/api/v1/executions/{EXECUTION['id']}"): httpx.ConnectError("connection refused"),
        }
    )
    async with make_client(transport, token="t") as client:
        items = [item async for item in client.streams.output(EXECUTION["id"])]

    assert [type(i) for i in items] == [
        StreamConnected,
        StreamDisconnected,
        StreamConnected,
        StreamReconnected,
    ]
    assert "status check failed" in items[1].reason


# -- the same faults over a real loopback socket ---------------------------------------------------


def _sse_head() -> bytes:
    return http_head(headers={**SSE_HEADERS, "transfer-encoding": "chunked"})


async def test_real_socket_stream_cut_mid_chunk_reconnects():
    async def cut(writer):
        writer.write(_sse_head() + chunk("\n") + chunk(execution_frame("running")) + b"40\r\nevent: st2.exec")
        await writer.drain()

    async def healthy(writer):
        writer.write(_sse_head() + chunk("\n") + chunk(execution_frame("succeeded")))
        await writer.drain()
        await asyncio.Event().wait()

    async with ScriptedServer([cut, healthy]) as server:
        async with make_client(base=server.url, token="t") as client:
            items = await collect(client.streams.events(), 6)

    assert [type(i) for i in items] == [
        StreamConnected,
        StreamEvent,
        StreamDisconnected,
        StreamConnected,
        StreamReconnected,
        StreamEvent,
    ]
    assert items[5].execution.status == "succeeded"
    assert server.paths[0].startswith("/stream/v1/stream")


async def test_real_socket_silent_stream_is_detected():
    async def silent(writer):
        writer.write(_sse_head() + chunk("\n"))
        await writer.drain()
        await asyncio.Event().wait()

    async with ScriptedServer([silent]) as server:
        async with make_client(base=server.url, token="t") as client:
            items = await collect(client.streams.events(), 5)

    assert [type(i) for i in items] == [
        StreamConnected,
        StreamDisconnected,
        StreamConnected,
        StreamReconnected,
        StreamDisconnected,
    ]
    assert server.connections == 2


# -- helpers ---------------------------------------------------------------------------------------


def test_reconnect_backoff_grows_exponentially_up_to_the_cap_with_jitter():
    policy = ReconnectPolicy(initial_delay=0.5, max_delay=30.0, multiplier=2.0, jitter=0.5)
    rng = random.Random(7)
    delays = [policy.delay(attempt, rng) for attempt in range(1, 12)]

    caps = [min(30.0, 0.5 * 2 ** (attempt - 1)) for attempt in range(1, 12)]
    assert all(cap * 0.5 <= delay <= cap for delay, cap in zip(delays, caps, strict=True))
    assert delays[-1] >= 15.0
    assert len(set(delays)) == len(delays)  # jittered


def test_curl_command_masks_secrets():
    client = make_client(token="tok-secret", api_key="key-secret")
    request = client._build_request(
        "keys.set",
        path={"name": "db_password"},
        json_body={"name": "db_password", "value": "hunter2", "secret": True},
    )
    line = curl_command(request)
    stream_request = httpx.Request("GET", f"{BASE}/stream/v1/stream?x-auth-token=tok-secret&events=a,b")

    assert "tok-secret" not in line and "key-secret" not in line and "hunter2" not in line
    assert line.startswith("curl -X PUT -H ")
    assert "'X-Auth-Token: ********'" in line
    assert '"value":"********"' in line
    assert line.endswith("http://st2.test/api/v1/keys/db_password")
    assert "tok-secret" not in curl_command(stream_request)
    assert "events=a,b" in curl_command(stream_request)


async def test_request_log_hook_reports_status_duration_and_request_id_with_masked_url(caplog):
    transport = ScriptedTransport(
        {
            ("GET", "/api/v1/keys/k"): json_response(
                200, {"name": "k", "value": "v"}, **{"X-Request-ID": "rid-1"}
            )
        }
    )
    records = []
    with caplog.at_level("DEBUG", logger="st2tui.api"):
        async with make_client(transport, token="tok-secret", on_request=records.append) as client:
            await client.keys.get("k", scope="st2kv.user")

    assert [(r.method, r.url, r.status, r.request_id) for r in records] == [
        ("GET", f"{BASE}/api/v1/keys/k?scope=st2kv.user", 200, "rid-1")
    ]
    assert records[0].duration >= 0
    assert "rid-1" in caplog.text
    assert "tok-secret" not in caplog.text


def test_masked_document_keeps_structure():
    request = httpx.Request(
        "POST",
        f"{BASE}/api/v1/executions",
        content=json.dumps({"action": "core.local", "parameters": {"cmd": "ls", "sudo_password": "pw"}}),
    )
    assert '"parameters":{"cmd":"ls","sudo_password":"********"}' in curl_command(request)
