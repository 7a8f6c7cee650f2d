"""Main screen figures (issue: main screen): 100,000 executions on the server, and an update flood.

    python -m benchmarks.main_screen [--executions 100000] [--pages 20] [--rate 1000] [--seconds 10]

1. Opening: time from start to the first page on screen, then paging to the end of the loaded rows
   `--pages` times (one page of 50 each), with the process RSS after each step: the pane holds only
   what was paged in, never the 100,000.
2. Flood: `--rate` `st2.execution__update` events per second for `--seconds` s published on the
   server's bus (the newest executions, status flipping), while a key press (cursor down/up) is sent
   every 100 ms. Key latency is measured from posting the key to the first frame composed after the
   cursor moved. Also printed: how many stream messages reached the screen and how many bursts they
   were applied in (coalescing).

The demo server runs in a child process (as StackStorm would be elsewhere), so RSS is the TUI's own;
the flood is published from the server's loop (`RunningServer.call`). The app runs headless: frames
are composed, not written to a terminal. Never asserts: it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timezone
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from textual import events

from st2tui.api import St2Client
from st2tui.app import St2TuiApp
from st2tui.config import Connection, Settings
from st2tui.demo.seed import generate_bulk
from st2tui.demo.server import DemoServer, RunningServer, start_in_thread
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.table import RecordTable

PAGE = 50


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def load_bulk(running: RunningServer, count: int) -> None:
    server = running.server

    async def insert() -> None:
        docs = generate_bulk(server.content, count, now=datetime.now(timezone.utc), rng=random.Random(7))
        server.engine.insert_history(docs)

    running.call(insert, timeout=600)


def publish_flood(running: RunningServer, rate: int, seconds: float, newest: int) -> tuple[int, float, str]:
    """Publish `rate` execution updates per second for `seconds` on the server's own loop, then one
    last update (the newest execution `abandoned`) that tells the client it has read everything.

    Returns (updates sent, seconds it took, id of the last update's execution).
    """
    server = running.server

    async def publish() -> tuple[int, float, str]:
        engine = server.engine
        rows = server.db.query("SELECT id FROM executions ORDER BY id DESC LIMIT ?", [newest])
        docs = [engine.present(engine.get_execution(row[0])) for row in rows]
        loop = asyncio.get_running_loop()
        total, sent, started = int(rate * seconds), 0, loop.time()
        while sent < total:
            due = min(total, int((loop.time() - started) * rate) + 1)
            while sent < due:
                doc = dict(docs[sent % len(docs)])
                doc["status"] = "running" if (sent // len(docs)) % 2 == 0 else "succeeded"
                server.bus.publish("st2.execution__update", doc)
                sent += 1
            await asyncio.sleep(0.005)
        server.bus.publish("st2.execution__update", {**docs[0], "status": "abandoned"})
        return sent, loop.time() - started, docs[0]["id"]

    return running.call(publish, timeout=seconds + 60)


def serve(conn: Pipe, executions: int, db_path: str) -> None:
    """The child process: a demo server with `executions` more executions, flooding on request."""
    running = start_in_thread(DemoServer(db_path, timers=False))
    started = time.perf_counter()
    load_bulk(running, executions)
    conn.send(
        {
            "api_url": running.api_url,
            "auth_url": running.auth_url,
            "stream_url": running.stream_url,
            "base_url": running.base_url,
            "username": running.username,
            "password": running.password,
            "load_seconds": time.perf_counter() - started,
        }
    )
    while (command := conn.recv()) is not None:
        conn.send(publish_flood(running, *command))
    running.stop()


def build_app(server: dict[str, Any]) -> St2TuiApp:
    connection = Connection(
        api_url=server["api_url"],
        auth_url=server["auth_url"],
        stream_url=server["stream_url"],
        base_url=server["base_url"],
        profile="bench",
        username=server["username"],
        password=server["password"],
        cache_token=False,
    )
    return St2TuiApp(St2Client.from_connection(connection), connection, Settings(timezone="utc"))


async def until(condition, timeout: float = 60.0) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


class FrameClock:
    """Records when frames are composed (headless: composed, not written)."""

    def __init__(self, app: St2TuiApp) -> None:
        self.frames: list[float] = []
        display = app._display

        def recording(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.frames.append(time.perf_counter())

        app._display = recording  # type: ignore[method-assign]

    def first_after(self, moment: float) -> float | None:
        return next((frame for frame in self.frames if frame >= moment), None)


async def key_latency(
    app: St2TuiApp, table: RecordTable, clock: FrameClock, presses: int, gap: float
) -> list[float]:
    """Milliseconds from posting a key to the first frame composed after the cursor moved."""
    moves: list[float] = []
    set_cursor = table._set_cursor

    def recording(index: int, *, scroll: bool = True) -> None:
        set_cursor(index, scroll=scroll)
        moves.append(time.perf_counter())

    table._set_cursor = recording  # type: ignore[method-assign]
    latencies = []
    try:
        for index in range(presses):
            key = "down" if index % 2 == 0 else "up"
            moves.clear()
            posted = time.perf_counter()
            app.post_message(events.Key(key, None))
            await until(lambda: bool(moves) and clock.first_after(moves[0]) is not None, timeout=10)
            latencies.append((clock.first_after(moves[0]) - posted) * 1000)
            await asyncio.sleep(gap)
    finally:
        table._set_cursor = set_cursor  # type: ignore[method-assign]
    return latencies


async def new_execution_latency(
    app: St2TuiApp, pane: ExecutionsPane, clock: FrameClock, runs: int
) -> list[float]:
    """Milliseconds from the API's answer to `POST /executions` to the first frame showing the new row."""
    latencies = []
    for _ in range(runs):
        execution = await app.client.executions.run("core.noop")
        answered = time.perf_counter()
        await until(lambda e=execution: pane.table.has_row(e.id), timeout=30)
        shown = time.perf_counter()
        await until(lambda s=shown: clock.first_after(s) is not None, timeout=10)
        latencies.append((clock.first_after(shown) - answered) * 1000)
        await asyncio.sleep(0.2)
    return latencies


def describe(name: str, values: list[float]) -> str:
    return (
        f"{name}: median {statistics.median(values):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, "
        f"max {max(values):.1f} ms ({len(values)} presses)"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = multiprocessing.Pipe()
        child = multiprocessing.get_context("spawn").Process(
            target=serve, args=(theirs, args.executions, str(Path(tmp) / "bench.sqlite"))
        )
        child.start()
        try:
            server = await asyncio.to_thread(ours.recv)
            print(
                f"server: {args.executions:,} executions added in {server['load_seconds']:.1f} s (child process)"
            )
            print(f"client: RSS {rss_mb():.0f} MB before the app starts")
            app = build_app(server)
            started = time.perf_counter()
            async with app.run_test(size=(160, 45)):
                pane = app.screen.query_one(ExecutionsPane)
                await until(lambda: pane.table.row_count == PAGE)
                print(
                    f"open: first page of {PAGE} (of {pane.total:,}) on screen {time.perf_counter() - started:.2f} s "
                    f"after start; RSS {rss_mb():.0f} MB"
                )
                header = app.screen.query_one("StatusHeader")
                await until(lambda: header.stream_state == "live")
                page_times = []
                rss_steps = [rss_mb()]
                for page in range(2, args.pages + 2):
                    posted = time.perf_counter()
                    app.post_message(events.Key("end", None))
                    await until(lambda p=page: pane.table.row_count == p * PAGE)
                    page_times.append((time.perf_counter() - posted) * 1000)
                    rss_steps.append(rss_mb())
                print(
                    f"paging: {args.pages} pages (end key -> next {PAGE} rows on screen) median "
                    f"{statistics.median(page_times):.0f} ms, p95 {percentile(page_times, 0.95):.0f} ms"
                )
                print(
                    f"memory: RSS {rss_steps[0]:.0f} MB after page 1, {rss_steps[-1]:.0f} MB after page "
                    f"{args.pages + 1} (+{rss_steps[-1] - rss_steps[0]:.1f} MB); the client holds "
                    f"{len(pane.listing.executions):,} of {pane.total:,} executions"
                )
                app.post_message(events.Key("home", None))
                await until(lambda: pane.table.cursor == 0)

                clock = FrameClock(app)
                quiet = await key_latency(app, pane.table, clock, 40, 0.05)
                print(describe("keys, idle", quiet))
                arrivals = await new_execution_latency(app, pane, clock, 10)
                print(
                    f"live: an execution started over REST is on screen {statistics.median(arrivals):.0f} ms "
                    f"(median, max {max(arrivals):.0f} ms of {len(arrivals)}) after the API answered"
                )

                applied: list[int] = []
                apply = pane.apply_updates

                def counting(changed: dict, deleted: set) -> None:
                    applied.append(len(changed))
                    apply(changed, deleted)

                pane.apply_updates = counting  # type: ignore[method-assign]
                frames_before = len(clock.frames)
                ours.send((args.rate, args.seconds, args.newest))
                burst = asyncio.create_task(asyncio.to_thread(ours.recv))
                flood_started = time.perf_counter()
                loaded = await key_latency(app, pane.table, clock, int(args.seconds * 10) - 5, 0.1)
                sent, published_in, last_id = await burst
                executions = pane.listing.executions
                await until(lambda: executions[last_id].status == "abandoned", timeout=120)
                read_in = time.perf_counter() - flood_started
                frames = len(clock.frames) - frames_before
                print(
                    f"flood: {sent:,} updates published in {published_in:.1f} s over the {args.newest} newest "
                    f"executions (the {PAGE} on screen among them); the app had read and applied all of them "
                    f"{read_in:.1f} s after the start"
                )
                print(describe("keys, during the flood", loaded))
                print(
                    f"coalescing: {sum(applied):,} execution states applied in {len(applied):,} bursts "
                    f"(mean {statistics.mean(applied) if applied else 0:.0f} per burst); {frames} frames "
                    f"composed ({frames / read_in:.0f}/s); RSS {rss_mb():.0f} MB"
                )
        finally:
            ours.send(None)
            child.join(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--rate", type=int, default=1000, help="execution updates per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--newest", type=int, default=200, help="how many of the newest executions the flood updates"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
