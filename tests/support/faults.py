"""Faults between the app and a real embedded server: an httpx transport that forwards to the server
over loopback and, when told, refuses, delays, fails, corrupts or cuts.

``FaultInjector`` sits where the network would be (the app's ``St2Client(transport=...)``), so the
app's whole stack runs unmodified; the server behind it is the real embedded one, which tests may
also stop and start again on the same port (``restart_server``) to kill streams for real.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread


@dataclass
class Fault:
    """One rule: for requests whose path matches ``path`` (fnmatch), ``times`` times (None: until
    cleared), do ``kind``: ``refuse`` (connection refused), ``status`` (answer ``status`` with a
    faultstring), ``stall`` (wait ``seconds`` first), ``corrupt`` (200 with a body that is not JSON)."""

    kind: str
    path: str = "*"
    times: int | None = None
    status: int = 503
    seconds: float = 0.0
    hits: int = 0

    def matches(self, request: httpx.Request) -> bool:
        return fnmatch.fnmatch(request.url.path, self.path) and (self.times is None or self.hits < self.times)


@dataclass
class FaultInjector(httpx.AsyncBaseTransport):
    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)
    faults: list[Fault] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    _streams: set[_CuttableStream] = field(default_factory=set)

    # -- what tests call ------------------------------------------------------------------------------

    def add(self, kind: str, path: str = "*", **options) -> Fault:
        fault = Fault(kind, path, **options)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def cut_streams(self, *, mid_event: bool = False) -> int:
        """End every open stream response as a dropped connection would (optionally after half of an
        event's frame); returns how many were cut."""
        streams = list(self._streams)
        for stream in streams:
            stream.cut(mid_event=mid_event)
        self.injected.extend(["cut stream mid-event" if mid_event else "cut stream"] * len(streams))
        return len(streams)

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    # -- transport ------------------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for fault in list(self.faults):
            if not fault.matches(request):
                continue
            fault.hits += 1
            self.injected.append(f"{fault.kind} {request.method} {request.url.path}")
            if fault.kind == "refuse":
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            if fault.kind == "status":
                return httpx.Response(
                    fault.status,
                    json={"faultstring": "Service Unavailable"},
                    headers={"X-Request-ID": "injected"},
                    request=request,
                )
            if fault.kind == "corrupt":
                return httpx.Response(
                    200, content=b'{"id": "5f', headers={"Content-Type": "application/json"}, request=request
                )
            if fault.kind == "stall":
                # As a silent server would: the client's own read timeout ends the wait, if it is shorter.
                read_timeout = request.extensions.get("timeout", {}).get("read")
                if read_timeout is not None and read_timeout < fault.seconds:
                    await asyncio.sleep(read_timeout)
                    raise httpx.ReadTimeout("timed out", request=request)
                await asyncio.sleep(fault.seconds)
        response = await self.inner.handle_async_request(request)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            stream = _CuttableStream(response.stream, self._streams)  # type: ignore[arg-type]
            return httpx.Response(
                response.status_code, headers=response.headers, stream=stream, request=request
            )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class _CuttableStream(httpx.AsyncByteStream):
    """A streamed body that a test can break: the next read raises as a reset connection would."""

    HALF_EVENT = b'event: st2.execution__update\ndata: {"id": "5f0c'

    def __init__(self, inner: httpx.AsyncByteStream, registry: set[_CuttableStream]) -> None:
        self._inner = inner
        self._registry = registry
        self._cut = asyncio.Event()
        self._mid_event = False
        registry.add(self)

    def cut(self, *, mid_event: bool) -> None:
        self._mid_event = mid_event
        self._cut.set()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = self._inner.__aiter__()
        try:
            while True:
                read = asyncio.ensure_future(chunks.__anext__())
                cut = asyncio.ensure_future(self._cut.wait())
                done, _ = await asyncio.wait({read, cut}, return_when=asyncio.FIRST_COMPLETED)
                if cut in done:
                    read.cancel()
                    if self._mid_event:
                        yield self.HALF_EVENT
                    raise httpx.RemoteProtocolError("peer closed connection without sending complete message")
                cut.cancel()
                try:
                    yield read.result()
                except StopAsyncIteration:
                    return
        finally:
            self._registry.discard(self)

    async def aclose(self) -> None:
        self._registry.discard(self)
        await self._inner.aclose()


async def stop_server(running: RunningServer) -> None:
    """Stop the server as a crash would look from outside: its connections and streams end."""
    await asyncio.to_thread(running.stop)


async def start_server_again(running: RunningServer, **options) -> RunningServer:
    """A new server on the stopped one's port and database (its state survives, as st2's does)."""
    options.setdefault("timers", False)
    server = DemoServer(Path(running.db_path), **options)
    return await asyncio.to_thread(start_in_thread, server, running.host, running.port)
