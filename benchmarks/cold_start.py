"""Scenario 1: cold start to the first page of executions on screen, vs `st2 execution list -n 50`.

Both in fresh processes, interpreter start-up included, and both told the server and the token the same way
(`ST2_API_URL`, `ST2_AUTH_URL`, `ST2_STREAM_URL`, `ST2_AUTH_TOKEN`, a HOME of their own). st2tui: its own
`cli.main` (configuration, the start requests sent before the UI is built, the app), run headless (Textual's
`run_test`: frames composed, not written to a terminal); the child prints READY when the first frame showing
50 rows is composed (benchmarks/first_page_child.py), and the parent takes the time from process start to
that line. The CLI: process start to exit, output captured.

st2tui's modules are compiled to bytecode first, as `pip install` does (and as the st2 CLI's are): an
environment with PYTHONDONTWRITEBYTECODE would otherwise compile them from source in every run.

`--server-url` points the scenario at another StackStorm (e.g. a real one) instead of the demo server.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from benchmarks.common import NO_CLI, REPO, Figure, Row, ScenarioResult, St2Cli
from benchmarks.context import Context

PAGE = 50
READY = "READY"
# The child: the `st2tui` console script's two lines, with a headless runner.
CHILD = (
    "import sys; from benchmarks.first_page_child import run_headless; from st2tui.cli import main; "
    "sys.exit(main([], run=run_headless))"
)


def compile_sources() -> None:
    """Bytecode for st2tui and the child, as an installed st2tui has (written beside the sources)."""
    for package in ("st2tui", "benchmarks"):
        compileall.compile_dir(str(REPO / package), quiet=1, force=False)


def child_env(server: dict[str, Any], token: str, home: str) -> dict[str, str]:
    """The environment an operator's shell would give `st2tui`: the server and token as `ST2_*`, and a HOME
    of its own (no ~/.st2/config, token cache or st2tui config of this machine's user)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ST2_", "ST2TUI_", "XDG_"))}
    env.update(
        {
            "HOME": home,
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "ST2_BASE_URL": server["base_url"],
            "ST2_AUTH_URL": server["auth_url"],
            "ST2_API_URL": server["api_url"],
            "ST2_STREAM_URL": server["stream_url"],
            "ST2_AUTH_TOKEN": token,
        }
    )
    return env


def st2tui_first_page_ms(server: dict[str, Any], token: str) -> float:
    """Milliseconds from starting the child interpreter to its READY line."""
    with tempfile.TemporaryDirectory(prefix="st2tui-bench-home-") as home:
        env = child_env(server, token, home)
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD],
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
    compile_sources()
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        ours.append(st2tui_first_page_ms(server, token))
        if cli is not None:
            theirs.append(cli.timed("execution", "list", "-n", str(PAGE), *cli_args)[0] * 1000)
    return Figure.of(ours), Figure.of(theirs)


def run(ctx: Context, result: ScenarioResult) -> None:
    server, token = ctx.first_page_server()
    cli = ctx.cli(server, token)
    ours, theirs = measure(server, token, cli, ctx.options.runs or ctx.options.pick(7, 3))
    row = Row(
        "1 cold start",
        f"first page of {PAGE} on screen, fresh process (ms)",
        ours,
        theirs,
        peer_note="" if cli else NO_CLI,
        goal="ratio <= 0.9",
        notes=f"against {ctx.options.server_url}" if ctx.options.server_url else "",
    )
    row.met = row.ratio <= 0.9 if row.ratio is not None else None
    result.rows.append(row)
    result.details["peer"] = f"st2 execution list -n {PAGE} (process start to exit)"
