"""Scenario 8: the tail pane under a flood: 10 executions each printing 1,000 lines a second for 30 s
(10 s with --quick), all followed at once by the main screen's tail pane.

st2tui (headless, a process of its own) shows the tail (`T`, every running execution) while a key (`t`,
timestamps on/off in the tail) is posted every 100 ms. Figures: lines that reached the tail per second,
whether every printed line arrived (each execution's stored output plus its status line), key latency
(posting the key to the first frame composed after the view changed) and the process's peak RSS.
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
EXECUTIONS = 10


async def tail_flood(server: dict[str, Any], token: str, rate: int, seconds: int) -> dict[str, Any]:
    from textual import events

    from st2tui.widgets.tail import TailPane

    app = build_app(server, token=token)
    clock = FrameClock(app)
    async with app.run_test(size=(160, 45)), api_client(server, token) as api:
        await until(lambda: app.main_screen.signed_in and app.main_screen.header.stream_state == "live")
        app.main_screen.action_toggle_tail()
        tail = app.main_screen.query_one(TailPane)
        log = tail.log_view
        ids = [
            await run_action(
                api, "examples.flood", {"lines": rate * seconds, "rate": rate, "line_length": 80}
            )
            for _ in range(EXECUTIONS)
        ]
        keys: list[float] = []
        per_second: list[float] = []
        memory = [rss_mb()]
        started = time.perf_counter()
        last_sample, last_count = started, log.received
        running = set(ids)
        while running:
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
                for execution_id in list(running):
                    if await status_of(api, execution_id) in TERMINAL:
                        running.discard(execution_id)
        ended = time.perf_counter()
        printed = 0
        for execution_id in ids:
            printed += len((await api.get(f"/executions/{execution_id}/output")).text.splitlines())
        expected = printed + EXECUTIONS  # one status line each
        await until(lambda: log.received >= expected, timeout=300)
        caught_up = time.perf_counter()
    busy = [sample for sample in per_second[1:-1] if sample] or per_second
    return {
        "executions": ids,
        "asked": EXECUTIONS * rate * seconds,
        "printed": printed,
        "received": log.received,
        "expected": expected,
        "kept": log.line_count,
        "lines_per_second": busy,
        "keys_ms": keys,
        "caught_up_after_end_s": max(caught_up - ended, 0.0),
        "rss_mb": memory,
        "peak_rss_mb": peak_rss_mb(),
    }


def run(ctx: Context, result: ScenarioResult) -> None:
    server, token = ctx.seeded()
    rate, seconds = 1_000, ctx.options.pick(30, 10)
    found = run_isolated(tail_flood, server, token, rate, seconds)
    result.details.update(found)
    lines = Figure.of(found["lines_per_second"])
    keys = Figure.of(found["keys_ms"])
    peak = found["peak_rss_mb"]
    scenario = f"8 tail {EXECUTIONS} x {rate // 1000}k/s x {seconds}s"
    result.rows += [
        Row(
            scenario,
            "lines into the tail per second",
            lines,
            peer_note=NO_PEER,
            goal=f"every line ({found['expected']:,})",
            met=found["received"] == found["expected"],
            notes=f"{found['received']:,} of {found['expected']:,} lines arrived, the last "
            f"{found['caught_up_after_end_s']:.2f} s after the end",
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
            notes=f"the tail keeps {found['kept']:,} lines",
        ),
    ]
