"""Scenario 5: event storm, 1,000 execution updates a second for 10 s on the main screen.

The demo server publishes `st2.execution__update` events on its own bus (the 200 newest executions, the 50
on screen among them, status flipping), then one last update that tells the client it has read
everything. st2tui (headless, a process of its own) shows the executions pane while a key (down/up) is
posted every 100 ms. Figures: frames composed per second, key latency (posting the key to the first frame
composed after the cursor moved), and the backlog: events published but not yet read, sampled every half
second (from the storm's own clock), and how long after the last update was published the pane had it.
The st2 CLI has no live view to compare with.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import aclosing
from multiprocessing.connection import Connection as Pipe
from typing import Any

from benchmarks.common import Figure, FrameClock, Row, ScenarioResult, build_app, run_isolated, until
from benchmarks.context import Context

NO_PEER = "n/a: the CLI has no live view"
NEWEST = 200


def count_stream_events(app: Any, counter: list[float]) -> None:
    """Count the events the app's event stream delivers (`counter[0]`), and when the first came (`[1]`)."""
    from st2tui.models import StreamEvent

    streams = app.client.streams
    events = streams.events

    def counting(**kwargs: Any):
        async def items():
            async with aclosing(events(**kwargs)) as source:
                async for item in source:
                    if isinstance(item, StreamEvent):
                        if not counter[0]:
                            counter[1] = time.perf_counter()
                        counter[0] += 1
                    yield item

        return items()

    streams.events = counting


async def storm_tui(
    server: dict[str, Any], token: str, conn: Pipe, rate: int, seconds: float
) -> dict[str, Any]:
    from textual import events

    from st2tui.widgets.executions import ExecutionsPane

    app = build_app(server, token=token)
    clock = FrameClock(app)
    counter = [0.0, 0.0]
    count_stream_events(app, counter)
    async with app.run_test(size=(160, 45)):
        pane = app.screen.query_one(ExecutionsPane)
        table = pane.table
        await until(lambda: table.row_count >= 50, timeout=60)
        header = app.screen.query_one("StatusHeader")
        await until(lambda: header.stream_state == "live", timeout=60)
        await asyncio.sleep(1.0)
        frames_before = len(clock.frames)
        backlog: list[tuple[float, float]] = []
        keys: list[float] = []
        conn.send("ready")
        started = time.perf_counter()
        reply = asyncio.create_task(asyncio.to_thread(conn.recv))
        next_sample = started + 0.5
        index = 0
        while not reply.done():
            previous = table.cursor
            posted = time.perf_counter()
            app.post_message(events.Key("down" if index % 2 == 0 else "up", None))
            await until(lambda p=previous: table.cursor != p, timeout=30)
            keys.append((await clock.next_frame(time.perf_counter()) - posted) * 1000)
            index += 1
            await asyncio.sleep(0.1)
            now = time.perf_counter()
            if now >= next_sample and counter[1]:
                published = min(rate * seconds, rate * (now - counter[1]))
                backlog.append((round(now - started, 2), max(published - counter[0], 0)))
                next_sample = now + 0.5
        sent, published_in, last_id = await reply
        storm_over = time.perf_counter()
        executions = pane.listing.executions
        await until(lambda: executions[last_id].status == "abandoned", timeout=300)
        applied = time.perf_counter()
        frames = len(clock.frames) - frames_before
    return {
        "sent": sent,
        "published_in_s": published_in,
        "received": int(counter[0]),
        "frames_per_second": frames / (applied - started),
        "keys_ms": keys,
        "backlog_events": backlog,
        "last_update_applied_after_s": applied - storm_over,
    }


def run(ctx: Context, result: ScenarioResult) -> None:
    from multiprocessing import Pipe as make_pipe

    server, token = ctx.seeded()
    server_process = ctx.server_process("seeded")
    rate, seconds = 1000, 10
    ours, theirs = make_pipe()
    outcome: dict[str, Any] = {}

    def tui() -> None:
        try:
            outcome["found"] = run_isolated(storm_tui, server, token, theirs, rate, seconds)
        except Exception as exc:  # raised again in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=tui)
    thread.start()
    if not ours.poll(300):
        thread.join()
        raise outcome.get("error") or RuntimeError("the app did not get ready")
    ours.recv()
    server_process.start_storm(rate, seconds, NEWEST)
    ours.send(server_process.storm_result())
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    found = outcome["found"]
    result.details.update(found)
    keys = Figure.of(found["keys_ms"])
    backlog = [events for _, events in found["backlog_events"]]
    half = len(backlog) // 2
    # No growing backlog: the second half of the storm is not further behind than the first.
    growing = bool(backlog) and max(backlog[half:], default=0) > max(
        max(backlog[:half], default=0), rate * 0.5
    )
    lag = found["last_update_applied_after_s"]
    scenario = f"5 event storm {rate:,}/s x {seconds}s"
    result.rows += [
        Row(
            scenario,
            "frames composed per second",
            Figure.single(found["frames_per_second"]),
            peer_note=NO_PEER,
            notes=f"{found['sent']:,} updates sent, {found['received']:,} read by the app",
        ),
        Row(
            scenario,
            "key press -> frame during the storm (ms)",
            keys,
            peer_note=NO_PEER,
            goal="median < 100 (as 4)",
            met=keys is not None and keys.median < 100,
        ),
        Row(
            scenario,
            "backlog: events not yet read",
            Figure.of(backlog),
            peer_note=NO_PEER,
            goal="not growing; last update applied < 1 s after it was sent",
            met=not growing and lag < 1.0,
            notes=f"last update applied {lag:.2f} s after the storm ended",
        ),
    ]
