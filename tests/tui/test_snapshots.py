"""SVG snapshots of what the user sees, byte-stable across runs: a server seeded with a fixed clock and
random seed, times in UTC, a frozen clock for everything that ages, no animations, no blinking cursor."""

from __future__ import annotations

import pytest
from support.tui import wait_for
from textual.widgets import Input

from st2tui.screens.sign_in import SignInScreen
from st2tui.widgets.actions import ActionsPane, RecentExecutionsTable
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.header import StatusHeader
from st2tui.widgets.inquiries import InquiriesPane
from st2tui.widgets.keys import KeysPane
from st2tui.widgets.rules import RulesPane

SIZES = [pytest.param((120, 36), id="120x36"), pytest.param((80, 24), id="80x24")]


async def _settled(pilot, app) -> None:
    """Signed in, live, executions and the inquiry badge loaded."""
    app.animation_level = "none"
    header = app.screen.query_one(StatusHeader)
    executions = app.screen.query_one(ExecutionsPane)
    await wait_for(pilot, lambda: header.stream_state == "live" and header.pending_inquiries == 1)
    await wait_for(
        pilot, lambda: executions.table.row_count == 50 and sum(executions.activity.counts()[0]) > 0
    )
    await pilot.pause()


async def _quiet(pilot) -> None:
    """Let the last messages land before the picture is taken; inputs keep a steady cursor."""
    for entry in pilot.app.screen.query(Input):
        entry.cursor_blink = False
    for _ in range(3):
        await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_executions_pane(snapshot_server, make_app, frozen_clock, snap_compare, size):
    app = make_app(snapshot_server, timezone="utc")

    async def run_before(pilot):
        await _settled(pilot, app)
        await pilot.press("down", "space", "down")
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_executions_workflow_tree(snapshot_server, make_app, frozen_clock, snap_compare, size):
    app = make_app(snapshot_server, timezone="utc")

    async def run_before(pilot):
        await _settled(pilot, app)
        pane = app.screen.query_one(ExecutionsPane)
        await pilot.press("right")
        await wait_for(pilot, lambda: any(row.depth == 1 for row in pane.visible_rows))
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_actions_pane(snapshot_server, make_app, frozen_clock, snap_compare, size):
    app = make_app(snapshot_server, timezone="utc")

    async def run_before(pilot):
        await _settled(pilot, app)
        await pilot.press("2")
        pane = app.screen.query_one(ActionsPane)
        await wait_for(pilot, lambda: pane.detail is not None and pane.detail.action.ref == "core.ask")
        await pilot.press("down", "down")
        await wait_for(pilot, lambda: pane.detail.action.ref == "core.local")
        await wait_for(pilot, lambda: pane.query_one(RecentExecutionsTable).row_count > 0)
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_rules_pane_with_details(snapshot_server, make_app, frozen_clock, snap_compare, size):
    app = make_app(snapshot_server, timezone="utc")

    async def run_before(pilot):
        await _settled(pilot, app)
        await pilot.press("3")
        pane = app.screen.query_one(RulesPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.detail is not None)
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_keys_pane(snapshot_server, make_app, frozen_clock, snap_compare, size):
    app = make_app(snapshot_server, timezone="utc")

    async def run_before(pilot):
        await _settled(pilot, app)
        await pilot.press("4")
        pane = app.screen.query_one(KeysPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0)
        await pilot.press("s", "s")  # all scopes
        await wait_for(
            pilot, lambda: pane.scope == "all" and any(key.is_user_scope for key in pane.keys.values())
        )
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_inquiries_pane(snapshot_server, make_app, frozen_clock, snap_compare, size):
    app = make_app(snapshot_server, timezone="utc")

    async def run_before(pilot):
        await _settled(pilot, app)
        await pilot.press("5")
        pane = app.screen.query_one(InquiriesPane)
        await wait_for(pilot, lambda: pane.table.row_count == 1)
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_read_only_header_and_footer(snapshot_server, make_app, frozen_clock, snap_compare):
    app = make_app(snapshot_server, timezone="utc", readonly=True)

    async def run_before(pilot):
        await _settled(pilot, app)
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_sign_in_dialog(snapshot_server, make_app, frozen_clock, snap_compare):
    app = make_app(snapshot_server, username=None, password=None)

    async def until_dialog(pilot):
        app.animation_level = "none"
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        await pilot.press(*"st2admin")
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=until_dialog)
