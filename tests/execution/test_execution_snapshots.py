"""SVG snapshots of the execution screen, byte-stable across runs: executions of a server seeded with a fixed
clock and random seed (fixed ids), times in UTC, a frozen clock for what ages, no animations."""

from __future__ import annotations

from execution_support import open_execution
from support.rest import api_client
from support.tui import wait_for

from st2tui.widgets.output_log import OutputLog

SIZE = (120, 36)
# The URL the user configured: the st2web link is built from it (the test server's port changes every run).
BASE_URL = "https://st2.example.com"
HELLO = "echo Hello from StackStorm; echo to-stderr >&2"


def _newest(server, *, cmd: str | None = None, **filters) -> str:
    """The newest seeded top-level execution matching `filters` (and running `cmd`, for core.local)."""
    with api_client(server) as client:
        docs = client.get(
            "/api/v1/executions",
            params={"limit": 100, "parent": "null", "include_attributes": "id,parameters", **filters},
        ).json()
    found = [doc["id"] for doc in docs if cmd is None or doc.get("parameters", {}).get("cmd") == cmd]
    assert found, f"the seeded history has no execution matching {filters} {cmd or ''}"
    return found[0]


async def _settled(pilot, screen) -> None:
    """The event stream is live, the output is all in and nothing is left loading."""
    await wait_for(pilot, lambda: screen.stream_state == "live", what="the event stream")
    busy = ("execution-load", "execution-specs", "execution-task-output", "full-result-lines")
    await wait_for(
        pilot,
        lambda: not any(worker.is_running and worker.group in busy for worker in pilot.app.workers),
        what="the screen's loads",
    )
    for _ in range(3):
        await pilot.pause()


def test_succeeded_local_command(snapshot_server, make_app, frozen_clock, snap_compare):
    execution_id = _newest(snapshot_server, action="core.local", status="succeeded", cmd=HELLO)
    app = make_app(snapshot_server, timezone="utc", base_url=BASE_URL)

    async def run_before(pilot):
        screen = await open_execution(pilot, execution_id)
        await wait_for(pilot, lambda: screen.output.stream_state == "ended", what="the output")
        await pilot.press("2")
        await _settled(pilot, screen)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_failed_workflow_lands_on_the_failed_task(snapshot_server, make_app, frozen_clock, snap_compare):
    execution_id = _newest(snapshot_server, action="examples.nested-failure", status="failed")
    app = make_app(snapshot_server, timezone="utc", base_url=BASE_URL)

    async def run_before(pilot):
        screen = await open_execution(pilot, execution_id)
        tree = screen.tree
        await wait_for(
            pilot,
            lambda: tree.selected_execution is not None and tree.selected_execution.task_name == "migrate",
            what="the failed task under the cursor",
        )
        await wait_for(pilot, lambda: screen.output.stream_state == "ended", what="every task's output")
        await _settled(pilot, screen)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_running_workflow_follows_every_task(
    snapshot_server, running_deploy, make_app, frozen_clock, snap_compare
):
    app = make_app(snapshot_server, timezone="utc", base_url=BASE_URL)

    async def run_before(pilot):
        screen = await open_execution(pilot, running_deploy)
        await wait_for(pilot, lambda: screen.output.stream_state == "live", what="the output streams")
        await pilot.press("1")
        log = screen.query_one(OutputLog)
        # Everything printed so far: the tasks that finished and those under way, merged by time.
        with api_client(snapshot_server) as client:
            expected = sum(
                len(client.get(f"/api/v1/executions/{execution.id}/output").text.splitlines())
                for execution in [screen.execution, *screen.tree.descendants()]
            )
        await wait_for(pilot, lambda: log.line_count >= expected, what="the output so far")
        await _settled(pilot, screen)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
