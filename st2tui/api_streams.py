"""The two SSE streams (events, an execution's output): reconnecting, idle detection, event size limits."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from st2tui.api_errors import ConnectionFailed, MalformedResponse, NetworkError, ServerError, St2Error
from st2tui.api_resources import ClientCore, ExecutionsResource
from st2tui.api_stream_states import StreamConnected, StreamDisconnected, StreamReconnected
from st2tui.api_transport import MAX_EVENT_BYTES, logger
from st2tui.models import (
    TERMINAL_STATUSES,
    OutputChunk,
    StreamEvent,
)


@dataclass(frozen=True)
class ReconnectPolicy:
    """Capped exponential backoff with jitter for stream reconnects."""

    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5
    max_attempts: int | None = None

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before reconnect ``attempt`` (1-based)."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** max(attempt - 1, 0))
        spread = (rng or random).random() * self.jitter
        return base * (1.0 - spread)


@dataclass(frozen=True)
class StreamOptions:
    """Dead-connection detection and reconnect settings for the SSE streams.

    st2 writes a bare newline on ``/stream`` every 25 s, so ``heartbeat_timeout`` of silence means the
    connection is dead. The output endpoint sends nothing while an execution is quiet, so after
    ``output_idle_timeout`` of silence the client asks the REST API whether the execution finished.
    """

    heartbeat_timeout: float = 60.0
    output_idle_timeout: float = 30.0
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)


class _StreamStalled(Exception):
    """Internal: the stream is considered dead and must be reopened."""


async def _next_or_idle(
    iterator: AsyncIterator[bytes], idle_timeout: float, on_idle: Callable[[], Awaitable[None]]
) -> bytes:
    """Next chunk of ``iterator``; every ``idle_timeout`` of silence calls ``on_idle`` (which may raise).

    The pending read is kept across idle periods, so a quiet but healthy connection is not torn down.
    """
    pending = asyncio.ensure_future(iterator.__anext__())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=idle_timeout)
            if done:
                return pending.result()
            await on_idle()
    finally:
        if not pending.done():
            pending.cancel()
            await asyncio.wait({pending})


class IdleWatchedStream(httpx.AsyncByteStream):
    """The stream's bytes under idle watch, and bounded: an event (bytes up to a blank line) larger than
    `max_event_bytes`, e.g. a line that never ends, ends the stream with MalformedResponse (the stream then
    reconnects) instead of growing in the SSE decoder."""

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        idle_timeout: float,
        on_idle: Callable[[], Awaitable[None]],
        max_event_bytes: int = MAX_EVENT_BYTES,
    ) -> None:
        self._chunks = chunks
        self._idle_timeout = idle_timeout
        self._on_idle = on_idle
        self._max_event_bytes = max_event_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pending = 0  # bytes since the last blank line (end of an event)
        while True:
            try:
                chunk = await _next_or_idle(self._chunks, self._idle_timeout, self._on_idle)
            except StopAsyncIteration:
                return
            end = max(chunk.rfind(b"\n\n"), chunk.rfind(b"\r\n\r\n"))
            pending = len(chunk) - end if end >= 0 else pending + len(chunk)
            if pending > self._max_event_bytes:
                raise MalformedResponse(
                    f"Stream event larger than {self._max_event_bytes:,} bytes "
                    "(settings: max_event_mb); reconnecting"
                )
            yield chunk


StreamItem = StreamEvent | StreamConnected | StreamReconnected | StreamDisconnected
OutputItem = OutputChunk | StreamConnected | StreamReconnected | StreamDisconnected

# States at which st2 ends the output stream with EOF.
_OUTPUT_END_STATUSES = TERMINAL_STATUSES | {"pausing", "resuming"}


class StreamingClient(ClientCore, Protocol):
    """What the stream resource asks of its client, beyond `ClientCore` (`St2Client` implements it)."""

    stream_options: StreamOptions
    executions: ExecutionsResource
    _last_contact_at: float | None

    def _open_stream(
        self,
        op: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        idle_timeout: float,
        on_idle: Callable[[], Awaitable[None]],
    ) -> AbstractAsyncContextManager[AsyncIterator[Any]]: ...


class StreamsResource:
    """The two SSE endpoints, as async iterators that survive dropped connections.

    Close them with ``contextlib.aclosing`` (or ``await it.aclose()``) when done early.
    """

    def __init__(self, client: StreamingClient) -> None:
        self._client = client
        self._rng = random.Random()

    def events(
        self,
        *,
        events: Iterable[str] | None = None,
        action_refs: Iterable[str] | None = None,
        execution_ids: Iterable[str] | None = None,
        end_event: str | None = None,
        end_execution_id: str | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Events of ``/stream/v1/stream`` (names or fnmatch globs in ``events``).

        Yields ``StreamEvent``s and markers: ``StreamConnected`` each time the stream opens (the server
        accepted it: events from now on will arrive), ``StreamDisconnected`` when it drops and
        ``StreamReconnected`` after it came back (resync over REST). With ``end_event`` +
        ``end_execution_id`` it ends after that execution's terminal event.
        """
        params = {
            "events": list(events) if events else None,
            "action_refs": list(action_refs) if action_refs else None,
            "execution_ids": list(execution_ids) if execution_ids else None,
            "end_event": end_event,
            "end_execution_id": end_execution_id,
        }
        return self._events(params, end_event, end_execution_id)

    async def _events(
        self, params: dict[str, Any], end_event: str | None, end_execution_id: str | None
    ) -> AsyncIterator[StreamItem]:
        timeout = self._client.stream_options.heartbeat_timeout

        async def on_idle() -> None:
            raise _StreamStalled(f"no heartbeat for {timeout:g} s")

        async with aclosing(self._reconnecting("streams.events", {}, params, timeout, on_idle)) as items:
            async for item in items:
                yield item
                if end_event and end_execution_id and isinstance(item, StreamEvent):
                    data = item.data if isinstance(item.data, dict) else {}
                    if (
                        item.event == end_event
                        and data.get("id") == end_execution_id
                        and data.get("status") in TERMINAL_STATUSES
                    ):
                        return

    def output(
        self, execution_id: str, *, output_type: str | None = None, finished: bool = False
    ) -> AsyncIterator[OutputItem]:
        """Output of one execution (``/stream/v1/executions/{id}/output``): stored chunks, then live ones.

        Ends at st2's ``EOF`` event (execution finished, pausing or resuming). Also yields the stream
        markers (``StreamConnected``, ``StreamDisconnected``, ``StreamReconnected``). After a reconnect
        st2 replays all stored output; chunks already delivered are skipped by id. After the end, the
        chunks the stream left out are read (`_output_after_end`), unless the caller knows the execution
        had `finished` before the stream opened (then the stream was a replay of everything).
        """
        return self._output(execution_id, output_type, finished)

    async def _output(
        self, execution_id: str, output_type: str | None, finished: bool
    ) -> AsyncIterator[OutputItem]:
        client = self._client
        timeout = client.stream_options.output_idle_timeout

        async def on_idle() -> None:
            # st2 sends nothing on this endpoint while the execution is quiet: ask REST whether the
            # execution reached a state at which the server should have ended the stream.
            try:
                execution = await client.executions.get(execution_id, include_attributes=["status"])
            except NetworkError as exc:
                raise _StreamStalled(f"execution status check failed: {exc}") from exc
            if execution.status in _OUTPUT_END_STATUSES:
                raise _StreamStalled(f"execution is {execution.status} but the stream did not end")

        seen: set[str] = set()
        items = self._reconnecting(
            "streams.output", {"id": execution_id}, {"output_type": output_type}, timeout, on_idle
        )
        async with aclosing(items):
            async for item in items:
                if not isinstance(item, StreamEvent):
                    yield item
                    continue
                chunk = item.output
                if chunk is None or chunk.id in seen:
                    continue
                if chunk.id:
                    seen.add(chunk.id)
                yield chunk
        if finished:
            return
        async for chunk in self._output_after_end(execution_id, output_type, seen):
            yield chunk

    async def _output_after_end(
        self, execution_id: str, output_type: str | None, seen: set[str]
    ) -> AsyncIterator[OutputChunk]:
        """The chunks the live stream left out after its end, in stored order.

        st2stream ends the stream at the execution's terminal update, which travels on another queue
        than the output and often overtakes its last chunks (seen on st2 master: 5 of 5 runs lost the
        last line). They are stored by then: a stream opened on a finished execution replays every
        stored chunk, with its id and type (the REST `/output` text has neither), then ends at once.
        Pausing and resuming also end the stream; the output goes on after them, so it is read when
        the stream is opened again, as before.
        """
        try:
            execution = await self._client.executions.get(execution_id, include_attributes=["status"])
        except St2Error as exc:
            logger.info("output of %s: status after the end unknown (%s)", execution_id, exc)
            return
        if execution.status not in TERMINAL_STATUSES:
            return

        async def on_idle() -> None:
            raise _StreamStalled("a finished execution's output did not end")

        try:
            async with self._client._open_stream(
                "streams.output",
                path={"id": execution_id},
                params={"output_type": output_type},
                idle_timeout=self._client.stream_options.output_idle_timeout,
                on_idle=on_idle,
            ) as source:
                async for sse in source:
                    if sse.event == "EOF":
                        return
                    event = _parse_event(sse.event, sse.data)
                    chunk = event.output if event is not None else None
                    if chunk is None or chunk.id in seen:
                        continue
                    if chunk.id:
                        seen.add(chunk.id)
                    yield chunk
        except (St2Error, _StreamStalled, httpx.TransportError) as exc:
            logger.info("output of %s: replay after the end failed (%s)", execution_id, exc)

    async def _reconnecting(
        self,
        op: str,
        path: dict[str, str],
        params: dict[str, Any],
        idle_timeout: float,
        on_idle: Callable[[], Awaitable[None]],
    ) -> AsyncIterator[StreamItem]:
        """Events of one SSE endpoint across reconnects, until the server sends ``EOF``."""
        policy = self._client.stream_options.reconnect
        failures = 0
        disconnected_at: float | None = None
        while True:
            try:
                async with self._client._open_stream(
                    op, path=path, params=params, idle_timeout=idle_timeout, on_idle=on_idle
                ) as source:
                    yield StreamConnected()
                    if disconnected_at is not None:
                        yield StreamReconnected(
                            attempts=failures, downtime=time.monotonic() - disconnected_at
                        )
                    failures, disconnected_at = 0, None
                    async for sse in source:
                        if sse.event == "EOF":
                            return
                        self._client._last_contact_at = time.time()
                        event = _parse_event(sse.event, sse.data)
                        if event is not None:
                            yield event
                reason = "stream closed by the server"
            except (
                _StreamStalled,
                NetworkError,
                ServerError,
                MalformedResponse,
                httpx.TransportError,
            ) as exc:
                reason = str(exc) or type(exc).__name__
            failures += 1
            if disconnected_at is None:
                disconnected_at = time.monotonic()
            if policy.max_attempts is not None and failures > policy.max_attempts:
                raise ConnectionFailed(f"Stream lost after {failures - 1} reconnect attempts: {reason}")
            delay = policy.delay(failures, self._rng)
            logger.info("stream %s dropped (%s); reconnect %d in %.2f s", op, reason, failures, delay)
            yield StreamDisconnected(reason=reason, attempt=failures, retry_in=delay)
            await asyncio.sleep(delay)


def _parse_event(name: str, data: str) -> StreamEvent | None:
    # st2 never sends data-less frames, but other servers or proxies might ("retry:" only frames).
    if not data:
        return None
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        logger.warning("dropping stream event %r with invalid JSON data", name)
        return None
    return StreamEvent(event=name or "message", data=payload)
