"""Scenario 4: output flood, 10,000 lines a second for 30 s (10 s with --quick) on the execution screen.

`examples.flood` prints the lines; st2tui (headless, a process of its own) follows them on the execution
screen while a key (`t`, timestamps on/off) is posted every 100 ms. Figures: lines that reached the output
view per second (one sample a second while flooding), frames composed per second, key latency (posting
the key to the first frame composed after the view changed) and the process's peak RSS. The st2 CLI has
no live view to compare with (`st2 execution tail` prints lines, it draws no screen).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.common import (
    TERMINAL,
    Figure,
    FrameClock,
    Row,
    ScenarioResult,
    api_client,
    build_app,
    peak_rss_mb,
    rss_mb,
    run_action,
    run_isolated,
    status_of,
    until,
)
from benchmarks.context import Context

NO_PEER = "n/a: the CLI has no live view"


async def flood(server: dict[str, Any], token: str, rate: int, seconds: int) -> dict[str, Any]:
    from textual import events

    from st2tui.messages import ExecutionOpenRequested
    from st2tui.screens.execution import ExecutionScreen

    total = rate * seconds
    app = build_app(server, token=token)
    clock = FrameClock(app)
    async with app.run_test(size=(160, 45)), api_client(server, token) as api:
        await until(lambda: app.main_screen.signed_in)
        execution_id = await run_action(
            api, "examples.flood", {"lines": total, "rate": rate, "line_length": 80}
        )
        app.post_message(ExecutionOpenRequested(execution_id))
        await until(lambda: isinstance(app.screen, ExecutionScreen))
        screen = app.screen
        await until(lambda: screen.execution is not None)
        log = screen.output.log_view
        keys: list[float] = []
        per_second: list[float] = []
        memory = [rss_mb()]
        frames_before = len(clock.frames)
        started = time.perf_counter()
        last_sample, last_count = started, log.received
        status = "running"
        while status not in TERMINAL:
            before = log.timestamps
            posted = time.perf_counter()
            app.post_message(events.Key("t", "t"))
            await until(lambda b=before: log.timestamps != b, timeout=30)
            keys.append((await clock.next_frame(time.perf_counter()) - posted) * 1000)
            await asyncio.sleep(0.1)
            now = time.perf_counter()
            if now - last_sample >= 1.0:
                per_second.append((log.received - last_count) / (now - last_sample))
                memory.append(rss_mb())
                last_sample, last_count = now, log.received
                status = await status_of(api, execution_id)
        ended = time.perf_counter()
        expected = len((await api.get(f"/executions/{execution_id}/output")).text.splitlines())
        await until(lambda: log.received >= expected, timeout=300)
        caught_up = time.perf_counter()
        frames = len(clock.frames) - frames_before
    # The first and last seconds are partly before the first and after the last line.
    busy = [sample for sample in per_second[1:-1] if sample] or per_second
    return {
        "execution": execution_id,
        "asked": total,
        "printed": expected,
        "received": log.received,
        "kept": log.line_count,
        "lines_per_second": busy,
        "frames_per_second": frames / (caught_up - started),
        "keys_ms": keys,
        "caught_up_after_end_s": max(caught_up - ended, 0.0),
        "rss_mb": memory,
        "rss_end_mb": rss_mb(),
        "peak_rss_mb": peak_rss_mb(),
    }


def run(ctx: Context, result: ScenarioResult) -> None:
    server, token = ctx.seeded()
    rate, seconds = 10_000, ctx.options.pick(30, 10)
    found = run_isolated(flood, server, token, rate, seconds)
    result.details.update(found)
    lines = Figure.of(found["lines_per_second"])
    keys = Figure.of(found["keys_ms"])
    peak = found["peak_rss_mb"]
    scenario = f"4 output flood {rate // 1000}k/s x {seconds}s"
    result.rows += [
        Row(
            scenario,
            "lines into the view per second",
            lines,
            peer_note=NO_PEER,
            goal=f">= {rate * 0.95:,.0f}/s (keeps up)",
            met=lines is not None and lines.median >= rate * 0.95,
            notes=f"one sample a second; {found['frames_per_second']:.0f} frames/s composed; all "
            f"{found['received']:,} lines in the view {found['caught_up_after_end_s']:.2f} s after the end",
        ),
        Row(
            scenario,
            "key press -> frame during the flood (ms)",
            keys,
            peer_note=NO_PEER,
            goal="median < 100",
            met=keys is not None and keys.median < 100,
        ),
        Row(
            scenario,
            "peak RSS of the st2tui process (MB)",
            Figure.single(peak),
            peer_note=NO_PEER,
            goal="< 300",
            met=peak < 300,
            notes=f"{found['rss_end_mb']:.0f} MB at the end; the view keeps {found['kept']:,} lines",
        ),
    ]
