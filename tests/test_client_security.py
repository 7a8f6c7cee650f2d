"""Issue 16: a hostile or broken server cannot blow the client's memory or crash it (a huge answer is not
read past the limit, JSON nested 100k deep is a malformed answer, an endless stream event is cut), a
redirect to another origin takes no token there, and no secret reaches the log."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fault_transport import ScriptedTransport, chunks, sse_response
from test_api_faults import collect, execution_frame, make_client

from st2tui.api import (
    MalformedResponse,
    ResponseTooLarge,
    St2Error,
    StreamConnected,
    StreamDisconnected,
    StreamReconnected,
)
from st2tui.models import StreamEvent

pytestmark = pytest.mark.timeout(30)


class _Endless(httpx.AsyncByteStream):
    """100 MB of body, counted as it is read."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self):
        chunk = b"[" + b"0," * (512 * 1024)
        while self.sent < 100 * 1024 * 1024:
            self.sent += len(chunk)
            yield chunk


async def test_a_100_mb_answer_is_not_read_past_the_limit():
    body = _Endless()
    transport = ScriptedTransport({("GET", "/api/v1/executions"): httpx.Response(200, stream=body)})
    async with make_client(transport, token="t", max_body_bytes=4 * 1024 * 1024) as client:
        with pytest.raises(ResponseTooLarge, match="larger than 4,194,304 bytes"):
            await client.executions.list()
    assert body.sent < 6 * 1024 * 1024


async def test_a_declared_length_over_the_limit_is_refused_before_reading():
    response = httpx.Response(200, content=b"[]" * 10, headers={"Content-Length": str(10**9)})
    transport = ScriptedTransport({("GET", "/api/v1/executions"): response})
    async with make_client(transport, token="t") as client:
        with pytest.raises(ResponseTooLarge):
            await client.executions.list()


async def test_json_nested_100k_deep_is_a_malformed_answer_not_a_crash():
    deep = b"[" * 100_000 + b"]" * 100_000
    transport = ScriptedTransport({("GET", "/api/v1/executions"): httpx.Response(200, content=deep)})
    async with make_client(transport, token="t") as client:
        with pytest.raises(MalformedResponse, match="nested too deeply"):
            await client.executions.list()


async def test_a_deep_error_body_still_reports_the_status():
    deep = b"[" * 100_000 + b"]" * 100_000
    transport = ScriptedTransport({("GET", "/api/v1/executions"): httpx.Response(500, content=deep)})
    async with make_client(transport, token="t") as client:
        with pytest.raises(St2Error) as caught:
            await client.executions.list()
    assert caught.value.status == 500


async def test_a_redirect_to_another_origin_takes_no_credentials_there():
    transport = ScriptedTransport(
        {("GET", "/api/v1/user"): httpx.Response(302, headers={"Location": "http://evil.example/steal"})}
    )
    async with make_client(transport, token="secret-token", api_key="secret-key") as client:
        with pytest.raises(St2Error, match=r"Redirected to http://evil\.example/steal"):
            await client.auth.whoami()
    assert [request.url.host for request in transport.requests] == ["st2.test"]


async def _endless_line(sent: list[int]):
    yield b"\n"
    yield b"event: st2.execution__update\ndata: "
    piece = b"x" * (256 * 1024)
    while sent[0] < 100 * 1024 * 1024:
        sent[0] += len(piece)
        yield piece


async def test_a_stream_event_that_never_ends_is_cut_at_the_limit_and_the_stream_reconnects():
    sent = [0]
    second = chunks("\n", execution_frame("running"), then_hang=True)
    transport = ScriptedTransport(
        {("GET", "/stream/v1/stream"): [sse_response(_endless_line(sent)), sse_response(second)]}
    )
    async with make_client(transport, token="t", max_event_bytes=2 * 1024 * 1024) as client:
        items = await collect(client.streams.events(), 5)
    assert [type(item) for item in items] == [
        StreamConnected,
        StreamDisconnected,
        StreamConnected,
        StreamReconnected,
        StreamEvent,
    ]
    assert "larger than 2,097,152 bytes" in items[1].reason
    assert sent[0] < 4 * 1024 * 1024


def test_the_limits_are_set_in_config_yaml_settings(tmp_path):
    from st2tui.config import ConfigError, load_app_config

    path = tmp_path / "config.yaml"
    path.write_text("settings:\n  max_response_mb: 4\n  max_event_mb: 2\n")
    limits = load_app_config(path).settings.client_limits()
    assert limits == {"max_body_bytes": 4 << 20, "max_output_bytes": 256 << 20, "max_event_bytes": 2 << 20}
    path.write_text("settings:\n  max_output_mb: 0\n")
    with pytest.raises(ConfigError, match="max_output_mb must be a positive whole number"):
        load_app_config(path)


async def test_no_password_or_token_in_the_log_even_the_debug_curl_lines(st2_server, caplog):
    from st2tui.api import St2Client

    with caplog.at_level("DEBUG", logger="st2tui"):
        async with St2Client(
            api_url=st2_server.api_url,
            auth_url=st2_server.auth_url,
            stream_url=st2_server.stream_url,
            username=st2_server.username,
            password=st2_server.password,
        ) as client:
            await client.auth.whoami()
            await client.keys.list()
            token = client._token
            await client.executions.list(limit=1)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "curl -X POST" in text and "curl -X GET" in text
    assert token and token not in text
    assert st2_server.password not in text


# -- a wrong Content-Length: a clear error, never a hang or a half document taken as the answer ----------


async def test_a_body_shorter_than_its_content_length_is_an_error_not_half_a_document():
    from fault_transport import ScriptedServer, http_head

    async def short(writer):
        writer.write(http_head(headers={"Content-Type": "application/json", "Content-Length": "1000"}))
        writer.write(b'[{"id": "6b03131cb8bc64e7e03eadf1"}]')
        await writer.drain()  # then the connection closes

    async with ScriptedServer([short]) as server:
        async with make_client(base=server.url, token="t") as client:
            with pytest.raises(St2Error) as caught:
                await client.executions.list()
    assert "127.0.0.1" in str(caught.value)


async def test_a_body_that_stops_short_of_its_content_length_and_stalls_times_out():
    from fault_transport import ScriptedServer, http_head

    from st2tui.api import RequestTimeout

    async def stall(writer):
        writer.write(http_head(headers={"Content-Type": "application/json", "Content-Length": "1000"}))
        writer.write(b"[")
        await writer.drain()
        await asyncio.Event().wait()

    async with ScriptedServer([stall]) as server:
        async with make_client(base=server.url, token="t", timeout=1.0) as client:
            with pytest.raises(RequestTimeout, match="within the timeout"):
                await client.executions.list()


async def test_a_body_longer_than_its_content_length_is_read_to_the_declared_length_only():
    from fault_transport import ScriptedServer, http_head

    async def long(writer):
        writer.write(http_head(headers={"Content-Type": "application/json", "Content-Length": "2"}))
        writer.write(b'[]{"injected": "after the declared end"}')
        await writer.drain()

    async with ScriptedServer([long]) as server:
        async with make_client(base=server.url, token="t") as client:
            page = await client.executions.list()
    assert page.items == []
