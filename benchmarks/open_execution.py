"""Scenario 2: open a finished execution and show its output, vs `st2 execution get` + `st2 execution tail`.

st2tui (headless, in a process of its own): on the main screen with the execution's row selected, from
posting `enter` to the first frame composed after all its output lines reached the Output tab; then
escape and again. The execution is a finished `core.local` that printed `LINES` lines. The CLI: the wall
times of `st2 execution get ID` (the result, stdout included) and `st2 execution tail ID` (which, for a
finished execution, only says it has completed) added up, each a process of its own.
"""

from __future__ import annotations

import asyncio
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
    finished,
    run_action,
    run_isolated,
    until,
)
from benchmarks.context import Context

LINES = 200


def received(screen: Any) -> int:
    """Output lines the screen's Output tab has received (-1 while it is still being composed)."""
    from textual.css.query import NoMatches

    try:
        return screen.output.log_view.received
    except NoMatches:
        return -1


async def st2tui_open_ms(server: dict[str, Any], token: str, execution_id: str, runs: int) -> list[float]:
    from textual import events

    from st2tui.screens.execution import ExecutionScreen
    from st2tui.screens.main import MainScreen

    app = build_app(server, token=token)
    clock = FrameClock(app)
    latencies = []
    async with app.run_test(size=(160, 45)):
        pane = app.screen.query_one("ExecutionsPane")
        await until(lambda: pane.table.has_row(execution_id), timeout=60)
        pane.table.move_to(execution_id)
        for _ in range(runs):
            posted = time.perf_counter()
            app.post_message(events.Key("enter", None))
            await until(lambda: isinstance(app.screen, ExecutionScreen), timeout=30)
            screen = app.screen
            await until(lambda s=screen: received(s) >= LINES, timeout=30)
            shown = await clock.next_frame(time.perf_counter())
            latencies.append((shown - posted) * 1000)
            await asyncio.sleep(0.2)
            app.post_message(events.Key("escape", None))
            await until(lambda: isinstance(app.screen, MainScreen), timeout=30)
            await asyncio.sleep(0.3)
    return latencies


def run(ctx: Context, result: ScenarioResult) -> None:
    server, token = ctx.seeded()
    runs = ctx.options.pick(10, 4)

    async def prepare() -> str:
        async with api_client(server, token) as api:
            execution_id = await run_action(api, "core.local", {"cmd": f"seq 1 {LINES}"})
            await finished(api, execution_id)
            return execution_id

    execution_id = asyncio.run(prepare())
    ours = run_isolated(st2tui_open_ms, server, token, execution_id, runs)
    cli = ctx.cli(server, token)
    theirs = []
    if cli is not None:
        for _ in range(runs):
            get, output = cli.timed("execution", "get", execution_id)
            tail, _ = cli.timed("execution", "tail", execution_id)
            theirs.append((get + tail) * 1000)
        result.details["cli_get_shows_output"] = str(LINES) in output
    result.rows.append(
        Row(
            "2 open execution",
            f"enter on the row -> {LINES} output lines on screen (ms)",
            Figure.of(ours),
            Figure.of(theirs),
            peer_note="" if cli else NO_CLI,
            notes="st2tui from the main screen (not --execution); peer: get + tail wall times added",
        )
    )
    result.details["execution"] = execution_id
