"""Issue 16: a hostile or broken server cannot blow the client's memory or crash it: a huge answer is not
read past the limit, JSON nested 100k deep is a malformed answer, and a redirect to another origin takes
no token there."""

from __future__ import annotations

import httpx
import pytest
from fault_transport import ScriptedTransport
from test_api_faults import make_client

from st2tui.api import MalformedResponse, ResponseTooLarge, St2Error

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
