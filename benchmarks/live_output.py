"""Scenario 3: live output latency, from the action's print to the screen, vs `st2 execution tail`.

A `core.local` command prints `lines` lines `interval` s apart, each carrying the wall-clock time it was
printed. st2tui (headless, a process of its own) follows it on its execution screen: latency is the print
to the first frame composed after the line reached the output view. `st2 execution tail` of a second run
of the same command: the print to the line read from the CLI's stdout. Same server, one after the other.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any

from benchmarks.common import (
    NO_CLI,
    Figure,
    FrameClock,
    Row,
    ScenarioResult,
    St2Cli,
    api_client,
    build_app,
    finished,
    run_action,
    run_isolated,
    until,
)
from benchmarks.context import Context

MARK = "LAT"
SCRIPT = (
    "import sys, time\n"
    "time.sleep({delay})\n"
    "for i in range({lines}):\n"
    "    print('{mark} %d %.6f' % (i, time.time()), flush=True)\n"
    "    time.sleep({interval})\n"
)


def command(lines: int, interval: float, delay: float) -> str:
    script = SCRIPT.format(delay=delay, lines=lines, interval=interval, mark=MARK)
    return f"python3 - <<'EOF'\n{script}EOF"


def printed_at(text: str) -> float:
    return float(text.split()[2])


async def st2tui_latency_ms(server: dict[str, Any], token: str, cmd: str, lines: int) -> list[float]:
    from st2tui.messages import ExecutionOpenRequested
    from st2tui.screens.execution import ExecutionScreen

    app = build_app(server, token=token)
    clock = FrameClock(app, time.time)
    arrivals: list[tuple[str, float]] = []
    async with app.run_test(size=(160, 45)), api_client(server, token) as api:
        await until(lambda: app.main_screen.signed_in)
        execution_id = await run_action(api, "core.local", {"cmd": cmd})
        app.post_message(ExecutionOpenRequested(execution_id))
        await until(lambda: isinstance(app.screen, ExecutionScreen))
        screen = app.screen
        await until(lambda: screen.execution is not None)
        log = screen.output.log_view
        append = log.append

        def recording(new_lines) -> int:
            new_lines = list(new_lines)
            now = time.time()
            arrivals.extend((line.text, now) for line in new_lines if line.text.startswith(MARK))
            return append(new_lines)

        log.append = recording
        await until(lambda: len(arrivals) >= lines, timeout=120)
        await asyncio.sleep(0.3)
        latencies = []
        for text, arrived in arrivals:
            shown = clock.first_after(arrived)
            if shown is not None:
                latencies.append((shown - printed_at(text)) * 1000)
        await finished(api, execution_id)
    return latencies


def cli_latency_ms(cli: St2Cli, execution_id: str, lines: int) -> list[float]:
    """`st2 execution tail` of a running execution: milliseconds from each line's print to its stdout."""
    tail = cli.popen("execution", "tail", execution_id)
    latencies = []
    assert tail.stdout is not None
    try:
        for line in tail.stdout:
            received = time.time()
            text = line.strip()
            if text.startswith(MARK):
                latencies.append((received - printed_at(text)) * 1000)
                if len(latencies) >= lines:
                    break
    finally:
        tail.terminate()
        try:
            tail.wait(10)
        except subprocess.TimeoutExpired:
            tail.kill()
    return latencies


def run(ctx: Context, result: ScenarioResult) -> None:
    server, token = ctx.seeded()
    lines = ctx.options.pick(60, 25)
    interval = 0.1
    ours = run_isolated(st2tui_latency_ms, server, token, command(lines, interval, 2.0), lines)
    cli = ctx.cli(server, token)
    theirs: list[float] = []
    if cli is not None:

        async def tail() -> list[float]:
            async with api_client(server, token) as api:
                # The CLI starts in ~1 s: the first line comes 3 s after the start, when it is listening.
                execution_id = await run_action(api, "core.local", {"cmd": command(lines, interval, 3.0)})
                found = await asyncio.to_thread(cli_latency_ms, cli, execution_id, lines)
                await finished(api, execution_id)
                return found

        theirs = asyncio.run(tail())
    figure = Figure.of(ours)
    result.rows.append(
        Row(
            "3 live output",
            "action print -> line on screen (ms)",
            figure,
            Figure.of(theirs),
            peer_note="" if cli else NO_CLI,
            goal="median < 50, p95 < 150",
            met=figure is not None and figure.median < 50 and figure.p95 < 150,
            notes=f"{lines} lines {interval} s apart; peer: line read from `st2 execution tail` stdout",
        )
    )
