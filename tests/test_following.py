"""Stream following without a screen (st2tui.following) against the embedded server: one execution's output,
a whole workflow's, and the batching that keeps a flood to one message per redraw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from st2tui.api import St2Client
from st2tui.following import (
    MAX_BATCH,
    ChunkBatcher,
    LineAssembler,
    WorkflowOutputFollower,
    follow_execution_output,
)
from st2tui.models import Execution, OutputChunk

WAIT_SECONDS = 60


def connect(server) -> St2Client:
    return St2Client(
        api_url=server.api_url,
        auth_url=server.auth_url,
        stream_url=server.stream_url,
        username=server.username,
        password=server.password,
    )


@pytest.fixture
async def client(fresh_server) -> AsyncIterator[St2Client]:
    async with connect(fresh_server) as client:
        yield client


class Receiver:
    """Takes every batch at once, as a screen that keeps up does, and keeps the chunks in arrival order."""

    def __init__(self) -> None:
        self.batches: list[list[OutputChunk]] = []

    def deliver(self, chunks: list[OutputChunk], taken: asyncio.Event) -> None:
        self.batches.append(chunks)
        taken.set()

    @property
    def chunks(self) -> list[OutputChunk]:
        return [chunk for batch in self.batches for chunk in batch]

    def text_of(self, execution_id: str) -> str:
        return "".join(chunk.data for chunk in self.chunks if chunk.execution_id == execution_id)


async def finished(client: St2Client, execution_id: str) -> Execution:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        execution = await client.executions.get(execution_id)
        if execution.is_terminal:
            return execution
        assert asyncio.get_running_loop().time() < deadline, f"{execution_id} stuck in {execution.status}"
        await asyncio.sleep(0.1)


def chunk(
    number: int, data: str | None = None, execution_id: str = "e1", output_type: str = "stdout"
) -> OutputChunk:
    text = f"{number}\n" if data is None else data
    return OutputChunk(
        id=str(number), execution_id=execution_id, output_type=output_type, data=text, timestamp=None
    )


def test_a_line_split_across_chunks_becomes_one_line_per_execution_and_stream() -> None:
    assembler = LineAssembler()
    chunks = [
        chunk(1, "hel"),
        chunk(2, "oops\n", output_type="stderr"),
        chunk(3, "lo\nwor"),
        chunk(4, "other\nand more\n", execution_id="e2"),
    ]

    lines = [(text, piece.id) for text, piece in assembler.lines(chunks)]
    rest = [(text, piece.id) for text, piece in assembler.flush("e1")]

    assert lines == [("oops", "2"), ("hello", "3"), ("other", "4"), ("and more", "4")]
    assert rest == [("wor", "3")]
    assert assembler.flush() == []


async def test_a_full_batch_waits_until_it_is_taken() -> None:
    delivered: list[tuple[list[OutputChunk], asyncio.Event]] = []
    batcher = ChunkBatcher(lambda chunks, taken: delivered.append((chunks, taken)))
    for number in range(MAX_BATCH):
        await batcher.add(chunk(number))

    blocked = asyncio.create_task(batcher.add(chunk(MAX_BATCH)))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    assert len(delivered) == 1 and len(delivered[0][0]) == MAX_BATCH

    delivered[0][1].set()
    await asyncio.wait_for(blocked, 5)
    assert [len(chunks) for chunks, _ in delivered] == [MAX_BATCH, 1]


async def test_one_execution_output_arrives_whole_and_in_order(client: St2Client) -> None:
    started = await client.executions.run(
        "core.local", {"cmd": "printf 'one\\ntwo\\nthree\\n'; echo err >&2"}
    )
    execution = await finished(client, started.id)
    receiver = Receiver()
    changes: list[object] = []

    await follow_execution_output(
        client, execution.id, ChunkBatcher(receiver.deliver), finished=True, on_stream=changes.append
    )

    assert receiver.text_of(execution.id) == await client.executions.output(execution.id)
    assert "one\ntwo\nthree\n" in receiver.text_of(execution.id)
    assert changes  # the stream reported connecting


async def test_workflow_follower_shows_every_execution_once_while_it_runs(client: St2Client) -> None:
    started = await client.executions.run("examples.orquesta-sequential", {"name": "Stanley"})
    receiver = Receiver()
    errors: list[tuple[str, Exception]] = []
    state = {"complete": False}
    follower = WorkflowOutputFollower(
        client,
        ChunkBatcher(receiver.deliver),
        lambda eid, exc: errors.append((eid, exc)),
        lambda: state["complete"],
    )

    async def feed() -> None:
        # What the execution screen learns from the event stream: tasks as they appear, and when all is over.
        seen: set[str] = set()
        while True:
            workflow = await client.executions.get(started.id)
            children = await client.executions.children(started.id)
            for child in children:
                if child.id not in seen:
                    seen.add(child.id)
                    follower.add(child)
            state["complete"] = workflow.is_terminal and all(child.is_terminal for child in children)
            await asyncio.sleep(0.1)

    feeding = asyncio.create_task(feed())
    try:
        await asyncio.wait_for(follower.run([started]), WAIT_SECONDS)
    finally:
        feeding.cancel()

    workflow = await finished(client, started.id)
    children = await client.executions.children(started.id)
    assert workflow.status == "succeeded" and len(children) >= 2
    assert errors == []
    for execution_id in [workflow.id, *(child.id for child in children)]:
        assert receiver.text_of(execution_id) == await client.executions.output(execution_id), execution_id
    ids = [chunk.id for chunk in receiver.chunks]
    assert len(ids) == len(set(ids))
