"""Following output streams, without a screen: what the execution screen and the tail pane share.

- `ChunkBatcher` gathers chunks into one batch per redraw, handed to a callback (the caller's message);
- `LineAssembler` turns chunks into whole lines (a line may span chunks);
- `follow_execution_output` streams one execution's output into a batcher;
- `WorkflowOutputFollower` follows every execution of a workflow, at any depth, merged by time.

Service layer only (the client and its models): no Textual, so it runs and is tested without an app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from contextlib import aclosing
from datetime import datetime, timezone
from itertools import chain
from typing import TYPE_CHECKING

from st2tui.api_errors import St2Error
from st2tui.api_stream_states import StreamConnected, StreamDisconnected, StreamReconnected
from st2tui.models import Execution, OutputChunk

if TYPE_CHECKING:
    from st2tui.api import St2Client

# Output chunks in one batch at most; the stream waits while a full batch is still queued.
MAX_BATCH = 1000
YIELD_EVERY = 100
# Output streams open at once in follow-workflow mode; the client's connection pool is shared with the
# rest of the app, and later tasks wait for a free slot (their output is replayed then, none is lost).
MAX_OUTPUT_STREAMS = 6
# How often follow-workflow mode checks whether the whole workflow is over (seconds).
COMPLETION_CHECK = 0.5
# Catching up in follow-workflow mode waits at most this long (seconds) for the replays of running tasks.
CATCH_UP_LIMIT = 5.0
CATCH_UP_POLL = 0.05
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)

# Receives a new batch: the list (later chunks are appended to it until `taken` is set) and `taken`.
DeliverBatch = Callable[[list[OutputChunk], asyncio.Event], object]
StreamChange = StreamConnected | StreamDisconnected | StreamReconnected


class ChunkBatcher:
    """Collects output chunks into one batch at a time: the first chunk delivers the batch and the next
    ones join it until the receiver sets its `taken` event. A flood of lines costs one message per redraw; a
    full batch waits for the receiver (memory stays bounded however far behind it is)."""

    def __init__(self, deliver: DeliverBatch) -> None:
        self._deliver = deliver
        self._chunks: list[OutputChunk] = []
        self._taken: asyncio.Event | None = None

    async def add(self, chunk: OutputChunk) -> None:
        taken = self._taken
        if taken is not None and not taken.is_set() and len(self._chunks) >= MAX_BATCH:
            await taken.wait()
        if taken is None or taken.is_set():
            self._chunks, self._taken = [chunk], asyncio.Event()
            self._deliver(self._chunks, self._taken)
        else:
            self._chunks.append(chunk)
            if len(self._chunks) % YIELD_EVERY == 0:
                # A network read can hold thousands of chunks: let key presses and redraws in between.
                await asyncio.sleep(0)


class LineAssembler:
    """Whole lines out of output chunks: st2 sends what a process printed as it came, so a line may span
    chunks; its start waits here for its end (per execution and output type)."""

    def __init__(self) -> None:
        self._partials: dict[tuple[str, str], tuple[str, OutputChunk]] = {}

    def lines(self, chunks: Iterable[OutputChunk]) -> list[tuple[str, OutputChunk]]:
        """Each completed line's text (without its line break) and the chunk that ended it."""
        lines: list[tuple[str, OutputChunk]] = []
        for chunk in chunks:
            key = (chunk.execution_id, chunk.output_type)
            pending = self._partials.pop(key, None)
            data = chunk.data if pending is None else pending[0] + chunk.data
            complete, newline, rest = data.rpartition("\n")
            if not newline:
                self._partials[key] = (data, chunk)
                continue
            if rest:
                self._partials[key] = (rest, chunk)
            lines.extend((text, chunk) for text in complete.split("\n"))
        return lines

    def flush(self, execution_id: str | None = None) -> list[tuple[str, OutputChunk]]:
        """The unfinished lines (of one execution, or of all) with their latest chunk: the output ended."""
        keys = [key for key in self._partials if execution_id is None or key[0] == execution_id]
        return [self._partials.pop(key) for key in keys]

    def clear(self) -> None:
        self._partials.clear()


async def follow_execution_output(
    client: St2Client,
    execution_id: str,
    batcher: ChunkBatcher,
    *,
    finished: bool,
    on_stream: Callable[[StreamChange], None] | None = None,
) -> None:
    """Every chunk of one execution's output into `batcher` until its stream ends (`finished`: the
    execution was over before the stream opened). Connection changes go to `on_stream`; raises St2Error."""
    async with aclosing(client.streams.output(execution_id, finished=finished)) as items:
        async for item in items:
            if isinstance(item, OutputChunk):
                await batcher.add(item)
            elif on_stream is not None:
                on_stream(item)


def _chunk_order(chunk: OutputChunk) -> tuple[datetime, str]:
    return (chunk.timestamp or _EPOCH, chunk.id)


class WorkflowOutputFollower:
    """The output of every execution of a workflow, at any depth, as it happens.

    What was printed before the follower started is shown merged by time: finished executions are
    replayed in full, and the replays of running ones are held until their streams have caught up (as
    many chunks as the execution had stored).
    After that each running execution, and each one that appears later (`add`), streams its lines as
    they come, at most `MAX_OUTPUT_STREAMS` at a time. A stream opened again (a workflow resumed) skips
    the chunks already shown.
    """

    def __init__(
        self,
        client: St2Client,
        batcher: ChunkBatcher,
        on_error: Callable[[str, Exception], None],
        is_complete: Callable[[], bool],
    ):
        self._client = client
        self._batcher = batcher
        self._on_error = on_error
        self._is_complete = is_complete
        self._queue: asyncio.Queue[Execution] = asyncio.Queue()
        self._slots = asyncio.Semaphore(MAX_OUTPUT_STREAMS)
        self._active: set[str] = set()
        self._done: set[str] = set()
        # Chunks shown per execution: a stream opened again replays them first, in the same order.
        self._emitted: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # While catching up, chunks of running executions wait here to be merged by time.
        self._held: list[OutputChunk] | None = None
        self._held_counts: dict[str, int] = {}

    def add(self, execution: Execution) -> None:
        self._queue.put_nowait(execution)

    async def run(self, initial: list[Execution]) -> None:
        """Stream until the whole workflow finished and every stream ended (or until cancelled)."""
        try:
            await self._catch_up(initial)
            while True:
                try:
                    execution = await asyncio.wait_for(self._queue.get(), timeout=COMPLETION_CHECK)
                except asyncio.TimeoutError:
                    if not self._active and self._queue.empty() and self._is_complete():
                        return
                    continue
                if execution.id in self._active or (execution.id in self._done and execution.is_terminal):
                    continue
                self._start(execution.id)
        finally:
            for task in self._tasks:
                task.cancel()
            if self._tasks:
                await asyncio.wait(self._tasks)

    async def _catch_up(self, initial: list[Execution]) -> None:
        running = [execution.id for execution in initial if not execution.is_terminal]
        finished = [execution.id for execution in initial if execution.is_terminal]
        # How much each running execution had printed: its stream has caught up once it replayed as many
        # chunks (st2 stores one chunk per line).
        stored = await asyncio.gather(*(self._stored_lines(execution_id) for execution_id in running))
        self._held = []
        for execution_id in running:
            self._start(execution_id)
        replays = await asyncio.gather(*(self._collect(execution_id) for execution_id in finished))
        self._done.update(finished)

        def caught_up() -> bool:
            return all(
                execution_id in self._done or self._held_counts.get(execution_id, 0) >= lines
                for execution_id, lines in zip(running, stored, strict=True)
            )

        for _ in range(int(CATCH_UP_LIMIT / CATCH_UP_POLL)):
            if caught_up():
                break
            await asyncio.sleep(CATCH_UP_POLL)
        held, self._held = self._held, None
        for chunk in sorted(chain(chain.from_iterable(replays), held), key=_chunk_order):
            await self._emit(chunk)

    async def _stored_lines(self, execution_id: str) -> int:
        try:
            return (await self._client.executions.output(execution_id)).count("\n")
        except St2Error:
            return 0

    def _start(self, execution_id: str) -> None:
        self._active.add(execution_id)
        task = asyncio.create_task(self._pump(execution_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _emit(self, chunk: OutputChunk) -> None:
        self._emitted[chunk.execution_id] = self._emitted.get(chunk.execution_id, 0) + 1
        await self._batcher.add(chunk)

    async def _collect(self, execution_id: str) -> list[OutputChunk]:
        chunks: list[OutputChunk] = []
        async with self._slots:
            try:
                async with aclosing(self._client.streams.output(execution_id, finished=True)) as items:
                    async for item in items:
                        if isinstance(item, OutputChunk):
                            chunks.append(item)
            except St2Error as exc:
                self._on_error(execution_id, exc)
        return chunks

    async def _pump(self, execution_id: str) -> None:
        try:
            async with self._slots:
                shown = self._emitted.get(execution_id, 0)
                async with aclosing(self._client.streams.output(execution_id)) as items:
                    async for item in items:
                        if isinstance(item, OutputChunk):
                            if shown:
                                shown -= 1
                            elif self._held is not None:
                                self._held.append(item)
                                self._held_counts[execution_id] = self._held_counts.get(execution_id, 0) + 1
                            else:
                                await self._emit(item)
        except St2Error as exc:
            self._on_error(execution_id, exc)
        finally:
            self._active.discard(execution_id)
            self._done.add(execution_id)
