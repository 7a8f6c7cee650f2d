"""`/stream/v1/stream` and `/stream/v1/executions/{id}/output`: st2stream's server-sent events.

The wire format is st2's exactly: a bare `\\n` first (and as the heartbeat after `stream_heartbeat`
seconds of silence), then `event: <name>\\ndata: <compact JSON>\\n\\n` frames, with no `id:`,
`retry:` or comment lines. sse-starlette's `EventSourceResponse` carries the bytes: the generators
yield finished frames (bytes pass through unchanged), its own `: ping` comments are disabled
(`ping=0`) and the headers are st2's. Its disconnect watcher cancels a generator when the client
goes away; the generator's `finally` then unsubscribes from the bus.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import AsyncIterator, Iterable
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.routing import Route

from . import rbac
from .auth import authenticate
from .bus import Subscription
from .engine import COMPLETED_STATES, PAUSING, RESUMING
from .state import DemoState
from .util import ApiError, dumps, query_list, query_str

DEFAULT_HEARTBEAT = 25.0
DEFAULT_EVENTS = [
    "st2.announcement__*",
    "st2.execution__create",
    "st2.execution__update",
    "st2.execution__delete",
    "st2.liveaction__create",
    "st2.liveaction__update",
    "st2.liveaction__delete",
]
OUTPUT_EVENT = "st2.execution.output__create"
EOF_FRAME = b"event: EOF\ndata: ''\n\n"
CLOSE_OUTPUT_STATES = (*COMPLETED_STATES, PAUSING, RESUMING)
HEADERS = {
    "Content-Type": "text/event-stream; charset=UTF-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
# Frames written at once when a client has a backlog (keeps up with floods of output lines).
MAX_BATCH = 2000

# One JSON encoding per published payload, shared by every client that sends it.
_FRAME_CACHE: dict[int, tuple[dict[str, Any], bytes]] = {}
_FRAME_CACHE_SIZE = 4096


def encode_frame(event: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + dumps(payload) + b"\n\n"


def frame(event: str, payload: dict[str, Any]) -> bytes:
    """The frame of a published payload (encoded once for all clients)."""
    cached = _FRAME_CACHE.get(id(payload))
    if cached is not None and cached[0] is payload:
        return cached[1]
    data = encode_frame(event, payload)
    if len(_FRAME_CACHE) >= _FRAME_CACHE_SIZE:
        _FRAME_CACHE.clear()
    _FRAME_CACHE[id(payload)] = (payload, data)
    return data


def _kind(event: str) -> str:
    return event.split("__", 1)[0]


def action_ref_of(event: str, payload: dict[str, Any]) -> str | None:
    kind = _kind(event)
    if kind == "st2.execution":
        return (payload.get("action") or {}).get("ref")
    if kind == "st2.liveaction":
        return payload.get("action")
    if kind == "st2.execution.output":
        return payload.get("action_ref")
    return None


def execution_id_of(event: str, payload: dict[str, Any]) -> str | None:
    kind = _kind(event)
    if kind == "st2.execution":
        return payload.get("id")
    if kind == "st2.execution.output":
        return payload.get("execution_id")
    return None


def _server(request: Request) -> DemoState:
    return request.app.state.server


def _response(body: AsyncIterator[bytes]) -> EventSourceResponse:
    return EventSourceResponse(body, headers=HEADERS, ping=0, sep="\n")


async def _next_batch(
    sub: Subscription, timeout: float | None
) -> list[tuple[str, dict[str, Any]] | None] | None:
    """Wait for the next item (None on timeout), then take whatever else is already queued."""
    try:
        first = await asyncio.wait_for(sub.queue.get(), timeout)
    except asyncio.TimeoutError:
        return None
    batch = [first]
    while len(batch) < MAX_BATCH and not sub.queue.empty():
        batch.append(sub.queue.get_nowait())
    return batch


async def event_stream(
    server: DemoState,
    *,
    events: list[str],
    action_refs: list[str] | None,
    execution_ids: list[str] | None,
    end_event: str | None,
    end_execution_id: str | None,
) -> AsyncIterator[bytes]:
    sub = server.bus.subscribe()
    try:
        yield b"\n"
        while True:
            batch = await _next_batch(sub, getattr(server, "stream_heartbeat", DEFAULT_HEARTBEAT))
            if batch is None:
                if sub.overflowed:
                    return
                yield b"\n"
                continue
            out: list[bytes] = []
            stop = False
            for item in batch:
                if item is None:  # the server is shutting down
                    stop = True
                    break
                event, payload = item
                # As st2's listener: the end condition is checked before the filters.
                if (
                    event == end_event
                    and end_execution_id is not None
                    and payload.get("id") == end_execution_id
                    and payload.get("status") in COMPLETED_STATES
                ):
                    stop = True
                if _included(event, payload, events, action_refs, execution_ids):
                    out.append(frame(event, payload))
                if stop:
                    break
            if out:
                yield b"".join(out)
            if stop or (sub.overflowed and sub.queue.empty()):
                return
    finally:
        server.bus.unsubscribe(sub)


def _included(
    event: str,
    payload: dict[str, Any],
    events: Iterable[str],
    action_refs: list[str] | None,
    execution_ids: list[str] | None,
) -> bool:
    if not any(fnmatch.fnmatch(event, pattern) for pattern in events):
        return False
    if action_refs and action_ref_of(event, payload) not in action_refs:
        return False
    return not (execution_ids and execution_id_of(event, payload) not in execution_ids)


async def stream(request: Request) -> EventSourceResponse:
    authenticate(request, rbac.STREAM_VIEW)
    server = _server(request)
    body = event_stream(
        server,
        events=query_list(request, "events") or DEFAULT_EVENTS,
        action_refs=query_list(request, "action_refs"),
        execution_ids=query_list(request, "execution_ids"),
        end_event=query_str(request, "end_event"),
        end_execution_id=query_str(request, "end_execution_id"),
    )
    return _response(body)


async def output_stream(
    server: DemoState, execution_id: str, output_type: str | None
) -> AsyncIterator[bytes]:
    engine = server.engine
    # Subscribe, then read what is stored and the status, with no await in between: every chunk is
    # either in the replay or in the queue, never both or neither.
    sub = server.bus.subscribe()
    try:
        replay = [
            encode_frame(OUTPUT_EVENT, chunk) for chunk in engine.output.chunks(execution_id, output_type)
        ]
        closed = engine.status_of(execution_id) in CLOSE_OUTPUT_STATES
        if replay:
            yield b"".join(replay)
        if closed:
            yield EOF_FRAME
            return
        while True:
            # No heartbeat on this endpoint (st2 skips empty ticks).
            batch = await _next_batch(sub, None)
            assert batch is not None
            out: list[bytes] = []
            done = False
            for item in batch:
                if item is None:
                    done = True
                    break
                event, payload = item
                if event == OUTPUT_EVENT:
                    if payload.get("execution_id") == execution_id and output_type in (
                        None,
                        payload.get("output_type"),
                    ):
                        out.append(frame(event, payload))
                elif (
                    event == "st2.execution__update"
                    and payload.get("id") == execution_id
                    and payload.get("status") in CLOSE_OUTPUT_STATES
                ):
                    out.append(EOF_FRAME)
                    done = True
                    break
            if out:
                yield b"".join(out)
            if done or (sub.overflowed and sub.queue.empty()):
                return
    finally:
        server.bus.unsubscribe(sub)


async def execution_output(request: Request) -> EventSourceResponse:
    principal = authenticate(request, rbac.STREAM_VIEW)
    server = _server(request)
    engine = server.engine
    execution_id = request.path_params["id"]
    if execution_id == "last":
        execution_id = engine.last_execution_id() or ""
    if engine.get_execution(execution_id) is None:
        raise ApiError(404, f'Unable to identify resource with id "{execution_id}".')
    rbac.require(principal, rbac.EXECUTION_VIEW, f"execution:{execution_id}")
    output_type = query_str(request, "output_type") or "all"
    return _response(output_stream(server, execution_id, None if output_type == "all" else output_type))


def routes() -> list[Route]:
    return [
        Route("/stream/v1/stream", stream, methods=["GET"]),
        Route("/stream/v1/executions/{id}/output", execution_output, methods=["GET"]),
    ]
