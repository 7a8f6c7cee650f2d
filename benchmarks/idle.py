"""Scenario 7: idle cost, CPU of st2tui on the main screen with the event stream connected.

st2tui (headless, a process of its own) signs in, shows the first page and opens the event stream, waits
a few seconds, then measures its own CPU time (`time.process_time`, all threads) over `seconds` of wall
time in 5-second windows, as % of one core. Meanwhile one execution runs (a `sleep`): its elapsed time
ticks on screen, and `st2 execution tail` follows it, the peer: the CLI's CPU over the same windows (from
/proc), a terminal left open on a live execution.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from typing import Any

from benchmarks.common import (
    NO_CLI,
    Figure,
    FrameClock,
    Row,
    ScenarioResult,
    api_client,
    build_app,
    cpu_seconds_of,
    run_action,
    run_isolated,
    until,
)
from benchmarks.context import Context

WINDOW = 5.0
SETTLE = 5.0
GOAL = 2.0


async def idle_tui(server: dict[str, Any], token: str, seconds: float) -> dict[str, Any]:
    from st2tui.widgets.executions import ExecutionsPane

    app = build_app(server, token=token)
    clock = FrameClock(app)
    async with app.run_test(size=(160, 45)):
        pane = app.screen.query_one(ExecutionsPane)
        header = app.screen.query_one("StatusHeader")
        await until(lambda: pane.table.row_count >= 50 and header.stream_state == "live", timeout=120)
        await asyncio.sleep(SETTLE)
        frames_before = len(clock.frames)
        windows = []
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - started_wall < seconds:
            wall, cpu = time.perf_counter(), time.process_time()
            await asyncio.sleep(WINDOW)
            windows.append(100 * (time.process_time() - cpu) / (time.perf_counter() - wall))
        wall = time.perf_counter() - started_wall
        overall = 100 * (time.process_time() - started_cpu) / wall
        frames = len(clock.frames) - frames_before
    return {"windows_pct": windows, "overall_pct": overall, "frames_per_second": frames / wall}


def tail_cpu(process: subprocess.Popen[str], seconds: float, windows: list[float]) -> None:
    """CPU % of `process` in WINDOW-second windows, after SETTLE s (as the app's are)."""
    time.sleep(SETTLE)
    started = time.perf_counter()
    while time.perf_counter() - started < seconds and process.poll() is None:
        wall, cpu = time.perf_counter(), cpu_seconds_of(process.pid)
        time.sleep(WINDOW)
        windows.append(100 * (cpu_seconds_of(process.pid) - cpu) / (time.perf_counter() - wall))


def run(ctx: Context, result: ScenarioResult) -> None:
    server, token = ctx.seeded()
    seconds = ctx.options.pick(60, 30)
    cli = ctx.cli(server, token)

    async def start() -> str:
        async with api_client(server, token) as api:
            return await run_action(api, "core.local", {"cmd": f"sleep {seconds + 60:.0f}", "timeout": 600})

    execution_id = asyncio.run(start())
    theirs: list[float] = []
    tail = cli.popen("execution", "tail", execution_id) if cli else None
    measuring = None
    if tail is not None:
        assert tail.stdout is not None
        threading.Thread(target=tail.stdout.read, daemon=True).start()
        # The app needs a few seconds to start: the CLI's windows start about when the app's do.
        measuring = threading.Thread(target=tail_cpu, args=(tail, seconds + 3, theirs))
        measuring.start()
    try:
        found = run_isolated(idle_tui, server, token, seconds)
    finally:
        if measuring is not None:
            measuring.join()
        if tail is not None:
            tail.terminate()
            tail.wait(10)

        async def cancel() -> None:
            async with api_client(server, token) as api:
                await api.delete(f"/executions/{execution_id}")

        asyncio.run(cancel())
    result.details.update(found)
    result.details["cli_windows_pct"] = theirs
    figure = Figure.of(found["windows_pct"])
    result.rows.append(
        Row(
            f"7 idle {seconds}s",
            "CPU, % of one core (5 s windows)",
            figure,
            Figure.of(theirs),
            peer_note="" if cli else NO_CLI,
            goal=f"< {GOAL:g}%",
            met=found["overall_pct"] < GOAL,
            notes=f"overall {found['overall_pct']:.2f}%, {found['frames_per_second']:.1f} frames/s; one "
            "execution running (its elapsed time ticks); peer: st2 execution tail on it",
        )
    )
