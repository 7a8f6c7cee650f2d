"""Fault injection for client tests: a scripted httpx transport and a scripted loopback HTTP server.

``ScriptedTransport`` answers requests from per-route queues of responses, exceptions or callables, and
records what was sent. ``ScriptedServer`` is a real TCP server on 127.0.0.1 whose connections each run
the next script (answer, stay silent, cut a stream mid-event), to exercise httpx's real network paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import httpx

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]

SSE_HEADERS = {"content-type": "text/event-stream; charset=UTF-8", "cache-control": "no-cache"}


def sse_frame(event: str, data: Any) -> str:
    """One st2 stream frame: compact JSON on a single ``data:`` line."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n"


async def chunks(*parts: str | float, then_hang: bool = False) -> AsyncIterator[bytes]:
    """A response body: strings are sent, floats are pauses (seconds); optionally hang at the end."""
    for part in parts:
        if isinstance(part, float):
            await asyncio.sleep(part)
        else:
            yield part.encode()
    if then_hang:
        await asyncio.Event().wait()


def sse_response(body: AsyncIterator[bytes] | str, status: int = 200) -> httpx.Response:
    if isinstance(body, str):
        return httpx.Response(status, headers=SSE_HEADERS, text=body)
    return httpx.Response(status, headers=SSE_HEADERS, stream=_AsyncBody(body))


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, body: AsyncIterator[bytes]) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._body:
            yield part


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"X-Request-ID": "req-test", **headers})


class ScriptedTransport(httpx.AsyncBaseTransport):
    """Answers ``(METHOD, path)`` from queues; the last reply of a queue repeats. Records every request."""

    def __init__(self, routes: dict[tuple[str, str], Reply | Iterable[Reply]] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._routes: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        for route, replies in (routes or {}).items():
            self.add(route, replies)

    def add(self, route: tuple[str, str], replies: Reply | Iterable[Reply]) -> None:
        if isinstance(replies, (httpx.Response, Exception)) or callable(replies):
            replies = [replies]
        self._routes[route].extend(replies)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        queue = self._routes.get((request.method, request.url.path))
        if not queue:
            return json_response(404, {"faultstring": "The resource could not be found."})
        reply = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            reply = reply(request)
        return reply


Script = Callable[[asyncio.StreamWriter], Awaitable[None]]


def http_head(status: str = "200 OK", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in (headers or {}).items()), "", ""]
    return "\r\n".join(lines).encode()


def chunk(data: str) -> bytes:
    raw = data.encode()
    return f"{len(raw):x}\r\n".encode() + raw + b"\r\n"


class ScriptedServer:
    """A loopback HTTP/1.1 server; connection N runs ``scripts[N]`` (the last one repeats)."""

    def __init__(self, scripts: list[Script]) -> None:
        self._scripts = scripts
        self.connections = 0
        self.paths: list[str] = []
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.url = ""

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.paths.append(head.split(b" ", 2)[1].decode())
            script = self._scripts[min(self.connections, len(self._scripts) - 1)]
            self.connections += 1
            await script(writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
