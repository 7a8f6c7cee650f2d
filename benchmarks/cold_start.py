"""Scenario 1: cold start to the first page of executions on screen, vs `st2 execution list -n 50`.

Both in fresh processes, interpreter start-up included. st2tui: a fresh interpreter turns garbage
collection off as `st2tui` does at start (st2tui.cli.main), imports st2tui, runs the app headless (Textual's `run_test`: frames composed, not written to a
terminal), signs in with a token (whoami + version, as every start does), and prints READY once the first
frame showing 50 rows is composed; the time is taken by the parent from process start to that line. The
CLI: process start to exit, output captured, with `ST2_AUTH_TOKEN` (no sign-in round trip either).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import NO_CLI, REPO, Figure, Row, ScenarioResult, St2Cli
from benchmarks.context import Context

PAGE = 50
READY = "READY"
# The child: what `st2tui` does before its imports (cli.main), then the headless app.
CHILD = "import gc; gc.disable(); import sys; from benchmarks.cold_start import main; main(sys.argv[1])"


def st2tui_first_page_ms(server: dict[str, Any], token: str) -> float:
    """Milliseconds from starting the child interpreter to its READY line."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps({**server, "token": token})],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=env,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    elapsed = time.perf_counter() - started
    child.wait(60)
    if line.strip() != READY:
        raise RuntimeError(
            f"st2tui cold start failed: {line!r} {child.stderr.read() if child.stderr else ''}"
        )
    return elapsed * 1000


def measure(
    server: dict[str, Any], token: str, cli: St2Cli | None, runs: int, cli_args: tuple[str, ...] = ()
) -> tuple[Figure | None, Figure | None]:
    """Alternating runs of st2tui and `st2 execution list -n 50 [cli_args]`, so both see the same load."""
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        ours.append(st2tui_first_page_ms(server, token))
        if cli is not None:
            theirs.append(cli.timed("execution", "list", "-n", str(PAGE), *cli_args)[0] * 1000)
    return Figure.of(ours), Figure.of(theirs)


def run(ctx: Context, result: ScenarioResult) -> None:
    server, token = ctx.seeded()
    cli = ctx.cli(server, token)
    ours, theirs = measure(server, token, cli, ctx.options.pick(7, 3))
    row = Row(
        "1 cold start",
        f"first page of {PAGE} on screen, fresh process (ms)",
        ours,
        theirs,
        peer_note="" if cli else NO_CLI,
        goal="ratio <= 1.0",
    )
    row.met = row.ratio <= 1.0 if row.ratio is not None else None
    result.rows.append(row)
    result.details["peer"] = f"st2 execution list -n {PAGE} (process start to exit)"


async def _first_page(server: dict[str, Any]) -> None:
    from benchmarks.common import FrameClock, build_app, until
    from st2tui.widgets.executions import ExecutionsPane

    app = build_app(server, token=server["token"])
    clock = FrameClock(app)
    async with app.run_test(size=(160, 45)):
        pane = app.screen.query_one(ExecutionsPane)
        await until(lambda: pane.table.row_count >= PAGE, timeout=120)
        await clock.next_frame(time.perf_counter())
        print(READY, flush=True)


def main(server_json: str) -> None:
    import asyncio

    asyncio.run(_first_page(json.loads(server_json)))
