"""Scenario 6: scale, 100,000 executions stored (20,000 with --quick), the newest a workflow of 500 tasks.

- first page: scenario 1's cold start against this server, vs `st2 execution list -n 50`;
- filtered page: `f` (status:failed) to the first frame showing 50 failed executions, vs
  `st2 execution list -n 50 --status failed`;
- page 100: `end` with 99 pages loaded to the frame showing rows 4,951-5,000 (the last 10 pages'
  loads), vs `st2 execution list -n 50 --timestamp-lt T`, T the start of the 4,950th execution (the
  CLI's way to a page that deep in one call);
- expanding the workflow: `right` on its row to the frame showing its 500 child rows (the pane's cache
  of its children is emptied first, so each time they are read from the server), vs
  `st2 execution get ID --show-tasks`;
- memory: RSS of the st2tui process after each of `cycles` rounds of next page, reload, filter on,
  filter off: flat means the last round holds no more than the first.

st2tui runs headless in a process of its own, the server in another.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks import cold_start
from benchmarks.common import (
    NO_CLI,
    Figure,
    FrameClock,
    Row,
    ScenarioResult,
    api_client,
    build_app,
    rss_mb,
    run_isolated,
    until,
)
from benchmarks.context import Context

PAGE = 50
DEEP_PAGE = 100
MEMORY_GROWTH_MB = 10


async def scale_tui(
    server: dict[str, Any], token: str, workflow_id: str, children: int, runs: int, cycles: int
) -> dict[str, Any]:
    from textual import events

    from st2tui.widgets.executions import ExecutionsPane

    app = build_app(server, token=token)
    clock = FrameClock(app)
    found: dict[str, Any] = {}
    async with app.run_test(size=(160, 45)):
        pane = app.screen.query_one(ExecutionsPane)
        table = pane.table

        def statuses() -> list[str]:
            return [pane.listing.executions[row.execution_id].status for row in pane.visible_rows]

        async def press(key: str, condition) -> float:
            posted = time.perf_counter()
            app.post_message(events.Key(key, None))
            await until(condition, timeout=120)
            return (await clock.next_frame(time.perf_counter()) - posted) * 1000

        async def act(key: str, condition) -> None:
            app.post_message(events.Key(key, None))
            await until(condition, timeout=120)

        await until(lambda: table.row_count >= PAGE, timeout=120)
        found["rss_first_page_mb"] = rss_mb()
        filtered = []
        for _ in range(runs):
            filtered.append(
                await press("f", lambda: table.row_count == PAGE and set(statuses()) == {"failed"})
            )
            await act("f", lambda: table.row_count == PAGE and set(statuses()) != {"failed"})
            await asyncio.sleep(0.2)
        found["filtered_ms"] = filtered

        expand = []
        for _ in range(runs):
            table.move_to(workflow_id)
            pane.listing.children.pop(workflow_id, None)
            expand.append(await press("right", lambda: table.row_count == PAGE + children))
            await act("left", lambda: table.row_count == PAGE)
            await asyncio.sleep(0.2)
        found["expand_ms"] = expand

        pages = []
        for page in range(2, DEEP_PAGE + 1):
            pages.append(await press("end", lambda p=page: table.row_count == p * PAGE))
        found["page_ms"] = pages
        found["rss_page_100_mb"] = rss_mb()

        memory = []
        await act("ctrl+r", lambda: table.row_count == PAGE)
        for _ in range(cycles):
            await act("end", lambda: table.row_count == 2 * PAGE)
            await act("ctrl+r", lambda: table.row_count == PAGE)
            await act("f", lambda: table.row_count == PAGE and set(statuses()) == {"failed"})
            await act("f", lambda: table.row_count == PAGE and set(statuses()) != {"failed"})
            memory.append(rss_mb())
        found["rss_cycles_mb"] = memory
        found["total"] = pane.total
    return found


async def deep_timestamp(server: dict[str, Any], token: str) -> str:
    """The start time of the last execution before page 100, in the CLI's format."""
    async with api_client(server, token) as api:
        response = await api.get(
            "/executions",
            params={
                "parent": "null",
                "limit": 1,
                "offset": (DEEP_PAGE - 1) * PAGE - 1,
                "include_attributes": "start_timestamp",
            },
        )
        response.raise_for_status()
        stamp = response.json()[0]["start_timestamp"]
    return stamp[:23] + "Z"


def run(ctx: Context, result: ScenarioResult) -> None:
    server, token = ctx.scale()
    cli = ctx.cli(server, token)
    runs = ctx.options.pick(5, 3)
    result.details["server_ready_s"] = server["ready_seconds"]
    result.details["executions"] = server["bulk"] + 1 + server["workflow_children"]
    scenario = f"6 scale {server['bulk'] // 1000}k"
    peer_note = "" if cli else NO_CLI

    ours, theirs = cold_start.measure(server, token, cli, runs)
    result.rows.append(
        Row(scenario, "first page, cold start (ms)", ours, theirs, peer_note=peer_note, notes="as 1")
    )

    found = run_isolated(
        scale_tui,
        server,
        token,
        server["workflow_id"],
        server["workflow_children"],
        runs,
        ctx.options.pick(20, 5),
    )
    result.details.update(found)

    def cli_ms(*args: str) -> Figure | None:
        return Figure.of(cli.times_ms(runs, *args)) if cli else None

    deep = asyncio.run(deep_timestamp(server, token))
    result.rows += [
        Row(
            scenario,
            "filtered page status:failed (ms)",
            Figure.of(found["filtered_ms"]),
            cli_ms("execution", "list", "-n", str(PAGE), "--status", "failed"),
            peer_note=peer_note,
            notes="st2tui: key f in a running app; peer: a new st2 process",
        ),
        Row(
            scenario,
            f"page {DEEP_PAGE} (ms)",
            Figure.of(found["page_ms"][-10:]),
            cli_ms("execution", "list", "-n", str(PAGE), "--timestamp-lt", deep),
            peer_note=peer_note,
            notes=f"st2tui: end key with {DEEP_PAGE - 1} pages loaded (last 10 pages); "
            f"RSS {found['rss_page_100_mb']:.0f} MB with {DEEP_PAGE * PAGE:,} rows",
        ),
        Row(
            scenario,
            f"expand a workflow of {server['workflow_children']} children (ms)",
            Figure.of(found["expand_ms"]),
            cli_ms("execution", "get", server["workflow_id"], "--show-tasks"),
            peer_note=peer_note,
            notes="peer: st2 execution get ID --show-tasks",
        ),
    ]
    memory = found["rss_cycles_mb"]
    growth = memory[-1] - memory[0]
    result.rows.append(
        Row(
            scenario,
            "RSS growth over repeated page loads (MB)",
            Figure.single(growth),
            peer_note="n/a: each CLI call is a new process",
            goal=f"flat (< {MEMORY_GROWTH_MB} MB)",
            met=growth < MEMORY_GROWTH_MB,
            notes=f"{len(memory)} rounds of 4 loads: {memory[0]:.0f} -> {memory[-1]:.0f} MB; "
            f"first page {found['rss_first_page_mb']:.0f} MB",
        )
    )
