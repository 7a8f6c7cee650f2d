"""Following output streams: batching chunks into one message per redraw (shared by the execution
screen and the tail pane). No Textual widgets here, only messages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.message import Message

from st2tui.messages import OutputReceived
from st2tui.models import OutputChunk

# Output chunks in one message at most; the stream waits while a full batch is still queued.
MAX_BATCH = 1000
YIELD_EVERY = 100


class ChunkBatcher:
    """Collects output chunks into one `OutputReceived` at a time: the first chunk posts the message and the
    next ones join it until the screen takes it. A flood of lines costs one message per redraw; a full
    batch waits for the screen (memory stays bounded however far behind it is)."""

    def __init__(self, post: Callable[[Message], object], generation: int) -> None:
        self._post = post
        self._generation = generation
        self._open: OutputReceived | None = None

    async def add(self, chunk: OutputChunk) -> None:
        batch = self._open
        if batch is not None and not batch.taken.is_set() and len(batch.chunks) >= MAX_BATCH:
            await batch.taken.wait()
        if batch is None or batch.taken.is_set():
            self._open = OutputReceived(self._generation, [chunk])
            self._post(self._open)
        else:
            batch.chunks.append(chunk)
            if len(batch.chunks) % YIELD_EVERY == 0:
                # A network read can hold thousands of chunks: let key presses and redraws in between.
                await asyncio.sleep(0)
