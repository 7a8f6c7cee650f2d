"""`/stream/v1/stream` and `/stream/v1/executions/{id}/output` over real HTTP: st2's exact wire format."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.rest import MISSING_ID, issue_token
from support.shapes import differences, shape

from st2tui.demo.server import RunningServer

Frame = tuple[str, str] | None  # (event, data) or None for a bare "\n"


def parse_frames(buffer: bytes) -> tuple[list[Frame], bytes]:
    """Split st2's stream body into heartbeats and `event:`/`data:` frames; returns the unparsed rest."""
    frames: list[Frame] = []
    while buffer:
        if buffer.startswith(b"\n"):
            frames.append(None)
            buffer = buffer[1:]
            continue
        end = buffer.find(b"\n\n")
        if end < 0:
            break
        block, buffer = buffer[:end].decode(), buffer[end + 2 :]
        event_line, data_line = block.split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: "), block
        frames.append((event_line[len("event: ") :], data_line[len("data: ") :]))
    return frames, buffer


class StreamReader:
    """Reads one open stream response, keeping the raw bytes and the parsed frames."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.raw = b""
        self.frames: list[Frame] = []
        self._rest = b""
        self._chunks: AsyncIterator[bytes] = response.aiter_raw()
        self.closed = False

    async def read_until(self, done: Callable[[list[Frame]], bool], timeout: float = 30) -> None:
        async def pump() -> None:
            while not done(self.frames):
                try:
                    chunk = await anext(self._chunks)
                except StopAsyncIteration:
                    self.closed = True
                    return
                self.raw += chunk
                parsed, self._rest = parse_frames(self._rest + chunk)
                self.frames += parsed

        await asyncio.wait_for(pump(), timeout)

    async def read_to_end(self, timeout: float = 30) -> None:
        await self.read_until(lambda frames: False, timeout)
        assert self.closed

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        return [(frame[0], json.loads(frame[1])) for frame in self.frames if frame is not None]


@pytest.fixture
async def client(st2_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    token = issue_token(st2_server)
    async with httpx.AsyncClient(
        base_url=st2_server.base_url, headers={"X-Auth-Token": token}, timeout=30
    ) as http:
        yield http


async def run(
    client: httpx.AsyncClient, ref: str, parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post("/api/v1/executions", json={"action": ref, "parameters": parameters or {}})
    assert response.status_code == 201, response.text
    return response.json()


async def finished(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    while True:
        doc = (await client.get(f"/api/v1/executions/{execution_id}")).json()
        if doc["status"] in ("succeeded", "failed", "timeout", "canceled", "abandoned"):
            return doc
        await asyncio.sleep(0.05)


def final_update_of(execution_id: str) -> Callable[[list[Frame]], bool]:
    def done(frames: list[Frame]) -> bool:
        for frame in frames:
            if frame and frame[0] == "st2.execution__update":
                data = json.loads(frame[1])
                if data["id"] == execution_id and data["status"] in ("succeeded", "failed"):
                    return True
        return False

    return done


async def test_stream_sends_st2s_exact_frames_for_one_run(client: httpx.AsyncClient, contract: Path) -> None:
    async with client.stream("GET", "/stream/v1/stream") as response:
        reader = StreamReader(response)
        await reader.read_until(lambda frames: len(frames) >= 1)
        execution = await run(client, "core.local", {"cmd": "echo Hello from StackStorm; echo to-stderr >&2"})
        await reader.read_until(final_update_of(execution["id"]))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=UTF-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert reader.raw.startswith(b"\nevent: ")
    liveaction_id = execution["liveaction"]["id"]
    ours = [
        (event, data) for event, data in reader.events() if data.get("id") in (execution["id"], liveaction_id)
    ]
    # The 8 frames of examples/stream-sample.txt, in the same order.
    assert [event for event, _ in ours] == [
        "st2.liveaction__create",
        "st2.execution__create",
        "st2.liveaction__update",
        "st2.execution__update",
        "st2.liveaction__update",
        "st2.execution__update",
        "st2.liveaction__update",
        "st2.execution__update",
    ]
    assert [data["status"] for _, data in ours] == [
        "requested",
        "requested",
        "scheduled",
        "scheduled",
        "running",
        "running",
        "succeeded",
        "succeeded",
    ]
    for frame in reader.frames:
        if frame is not None:  # data is one line of compact JSON
            assert frame[1] == json.dumps(json.loads(frame[1]), separators=(",", ":"), ensure_ascii=False)
    sample = [
        line
        for line in (contract / "examples" / "stream-sample.txt").read_text().split("\n")
        if line.startswith("data: ")
    ]
    real_liveaction = json.loads(sample[0][len("data: ") :])
    liveaction_create = ours[0][1]
    assert list(liveaction_create) == list(real_liveaction)
    assert liveaction_create["result"] == "{}"  # LiveAction results travel as a JSON string
    assert json.loads(ours[6][1]["result"])["stdout"] == "Hello from StackStorm"
    frames = json.loads((contract / "golden" / "real-st2-shapes.json").read_text())["stream.frames"]
    content = lambda path: path[:1] == ("parameters",) or path[:2] == ("liveaction", "parameters")  # noqa: E731
    assert differences(frames["st2.execution__create"], shape(ours[1][1]), loose=content) == []
    assert not any(event == "st2.execution.output__create" for event, _ in reader.events())


async def test_heartbeat_is_a_bare_newline_after_silence(fresh_server: RunningServer) -> None:
    fresh_server.server.stream_heartbeat = 0.2
    token = issue_token(fresh_server)
    async with httpx.AsyncClient(base_url=fresh_server.base_url, headers={"X-Auth-Token": token}) as http:
        async with http.stream("GET", "/stream/v1/stream") as response:
            reader = StreamReader(response)
            await reader.read_until(lambda frames: len(frames) >= 3, timeout=5)

    assert reader.raw == b"\n\n\n"


async def test_end_event_overtakes_the_last_output_as_on_st2(fresh_server: RunningServer) -> None:
    # st2 master, 5 runs of 5: the terminal update reaches the stream before the last chunk, so a
    # stream that ends at it (`st2 execution tail`) misses that line; the stored output has it.
    fresh_server.server.engine.output.lag = 1.0
    token = issue_token(fresh_server)
    async with httpx.AsyncClient(
        base_url=fresh_server.base_url, headers={"X-Auth-Token": token}, timeout=30
    ) as client:
        execution = await run(
            client, "core.local", {"cmd": "echo one; sleep 0.5; echo two; sleep 0.5; echo three"}
        )
        params = {
            "events": "st2.execution__update,st2.execution.output__create",
            "end_event": "st2.execution__update",
            "end_execution_id": execution["id"],
        }
        async with client.stream("GET", "/stream/v1/stream", params=params) as response:
            reader = StreamReader(response)
            await reader.read_to_end()
        stored = await client.get(f"/api/v1/executions/{execution['id']}/output")

    events = reader.events()
    lines = [
        data["data"]
        for event, data in events
        if event == "st2.execution.output__create" and data["execution_id"] == execution["id"]
    ]
    assert events[-1][0] == "st2.execution__update"
    assert events[-1][1]["id"] == execution["id"] and events[-1][1]["status"] == "succeeded"
    assert "three\n" not in lines
    assert stored.text == "one\ntwo\nthree\n"
    assert {event for event, _ in events} <= {"st2.execution__update", "st2.execution.output__create"}


async def test_output_stream_ends_before_the_last_chunk_and_a_replay_has_it(
    fresh_server: RunningServer,
) -> None:
    fresh_server.server.engine.output.lag = 1.0
    token = issue_token(fresh_server)
    async with httpx.AsyncClient(
        base_url=fresh_server.base_url, headers={"X-Auth-Token": token}, timeout=30
    ) as client:
        execution = await run(client, "core.local", {"cmd": "echo one; sleep 0.3; echo two; echo three"})
        path = f"/stream/v1/executions/{execution['id']}/output"
        async with client.stream("GET", path) as response:
            live = StreamReader(response)
            await live.read_to_end()
        async with client.stream("GET", path) as response:
            replay = StreamReader(response)
            await replay.read_to_end()

    live_lines = [json.loads(f[1])["data"] for f in live.frames if f and f[0] != "EOF"]
    replayed = [json.loads(f[1]) for f in replay.frames if f and f[0] != "EOF"]
    assert live.frames[-1] is not None and live.frames[-1][0] == "EOF"
    assert live_lines != ["one\n", "two\n", "three\n"]
    assert [chunk["data"] for chunk in replayed] == ["one\n", "two\n", "three\n"]


async def test_event_globs_action_refs_and_execution_ids_filter_the_stream(client: httpx.AsyncClient) -> None:
    async with (
        client.stream("GET", "/stream/v1/stream", params={"events": "st2.liveaction__*"}) as by_glob,
        client.stream("GET", "/stream/v1/stream", params={"action_refs": "core.noop"}) as by_action,
    ):
        globbed, by_ref = StreamReader(by_glob), StreamReader(by_action)
        await globbed.read_until(lambda frames: len(frames) >= 1)
        await by_ref.read_until(lambda frames: len(frames) >= 1)
        local = await run(client, "core.local", {"cmd": "true"})
        noop = await run(client, "core.noop")
        await finished(client, local["id"])
        await finished(client, noop["id"])
        await globbed.read_until(
            lambda frames: any(
                f and json.loads(f[1])["id"] == noop["liveaction"]["id"] and '"succeeded"' in f[1]
                for f in frames
            )
        )
        await by_ref.read_until(final_update_of(noop["id"]))
        delayed = (await client.post("/api/v1/executions", json={"action": "core.noop", "delay": 500})).json()
        async with client.stream(
            "GET", "/stream/v1/stream", params={"execution_ids": delayed["id"]}
        ) as by_id:
            by_execution = StreamReader(by_id)
            await by_execution.read_until(lambda frames: len(frames) >= 1)
            other = await run(client, "core.noop")
            await by_execution.read_until(final_update_of(delayed["id"]))
            await finished(client, other["id"])

    assert {event for event, _ in globbed.events()} == {"st2.liveaction__create", "st2.liveaction__update"}
    assert {data["action"] for _, data in globbed.events()} >= {"core.local", "core.noop"}
    by_ref_actions = {
        data["action"] if event.startswith("st2.liveaction") else data["action"]["ref"]
        for event, data in by_ref.events()
    }
    assert by_ref_actions == {"core.noop"}
    # Only execution events of that execution: no liveaction events, nothing of the other run.
    assert {(event, data["id"]) for event, data in by_execution.events()} == {
        ("st2.execution__update", delayed["id"])
    }
    assert [data["status"] for _, data in by_execution.events()][-3:] == ["scheduled", "running", "succeeded"]


async def test_output_stream_replays_then_follows_then_ends_with_eof(fresh_server: RunningServer) -> None:
    # Chunks go out as stored here: this is about replay, follow and EOF, not about the terminal update
    # overtaking the last lines (test_output_stream_ends_before_the_last_chunk_and_a_replay_has_it), which
    # a loaded machine would otherwise bring about.
    fresh_server.server.engine.output.lag = 0.0
    token = issue_token(fresh_server)
    async with httpx.AsyncClient(
        base_url=fresh_server.base_url, headers={"X-Auth-Token": token}, timeout=30
    ) as client:
        await _replays_then_follows_then_ends_with_eof(client)


async def _replays_then_follows_then_ends_with_eof(client: httpx.AsyncClient) -> None:
    execution = await run(
        client, "core.local", {"cmd": "echo first; sleep 1; echo second >&2; echo third; sleep 0.5"}
    )
    for _ in range(600):  # until the first line is stored, so that it is replayed
        if "first" in (await client.get(f"/api/v1/executions/{execution['id']}/output")).text:
            break
        await asyncio.sleep(0.05)

    async with client.stream("GET", f"/stream/v1/executions/{execution['id']}/output") as response:
        reader = StreamReader(response)
        await reader.read_to_end()

    assert response.headers["content-type"] == "text/event-stream; charset=UTF-8"
    assert reader.raw.startswith(b"event: st2.execution.output__create\ndata: ")
    assert reader.raw.endswith(b"event: EOF\ndata: ''\n\n")
    assert None not in reader.frames  # no heartbeats on this endpoint
    chunks = [json.loads(data) for event, data in reader.frames[:-1]]
    assert [chunk["data"] for chunk in chunks] == ["first\n", "second\n", "third\n"]
    assert [chunk["output_type"] for chunk in chunks] == ["stdout", "stderr", "stdout"]
    assert set(chunks[0]) == {
        "id",
        "execution_id",
        "action_ref",
        "runner_ref",
        "timestamp",
        "output_type",
        "data",
    }


async def test_output_stream_of_a_finished_execution_replays_and_ends(client: httpx.AsyncClient) -> None:
    execution = await run(client, "core.local", {"cmd": "echo out; echo err >&2"})
    await finished(client, execution["id"])

    async with client.stream(
        "GET", f"/stream/v1/executions/{execution['id']}/output", params={"output_type": "stderr"}
    ) as response:
        reader = StreamReader(response)
        await reader.read_to_end(timeout=5)

    assert reader.frames[-1] == ("EOF", "''")
    assert [json.loads(data)["data"] for _, data in reader.frames[:-1]] == ["err\n"]


async def test_output_stream_of_an_unknown_execution_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/stream/v1/executions/{MISSING_ID}/output")

    assert response.status_code == 404
    assert response.json() == {"faultstring": f'Unable to identify resource with id "{MISSING_ID}".'}


async def test_stream_needs_credentials(st2_server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=st2_server.base_url) as http:
        response = await http.get("/stream/v1/stream")

    assert response.status_code == 401


async def test_disconnected_clients_are_unsubscribed(
    st2_server: RunningServer, client: httpx.AsyncClient
) -> None:
    bus = st2_server.server.bus
    before = bus.subscriber_count
    async with client.stream("GET", "/stream/v1/stream") as response:
        reader = StreamReader(response)
        await reader.read_until(lambda frames: len(frames) >= 1)
        assert bus.subscriber_count == before + 1

    for _ in range(100):
        if bus.subscriber_count == before:
            break
        await asyncio.sleep(0.05)
    assert bus.subscriber_count == before


async def test_two_clients_receive_a_flood_completely_and_in_order(client: httpx.AsyncClient) -> None:
    execution = await run(client, "examples.flood", {"lines": 20000, "rate": 0})
    path = f"/stream/v1/executions/{execution['id']}/output"

    async def collect() -> list[str]:
        # As on st2 the stream may end before its last chunks: a client reads the stored rest after
        # the end (a stream opened on a finished execution replays all of it) and skips what it has.
        chunks: dict[str, str] = {}
        for _ in range(2):
            async with client.stream("GET", path, params={"output_type": "stdout"}) as response:
                reader = StreamReader(response)
                await reader.read_to_end(timeout=60)
            for event, data in reader.frames:
                if event != "EOF":
                    chunk = json.loads(data)
                    chunks.setdefault(chunk["id"], chunk["data"])
        return list(chunks.values())

    first, second = await asyncio.gather(collect(), collect())

    numbers = [int(line.split(" ", 1)[0]) for line in first]
    assert numbers == list(range(1, 20001))
    assert second == first
