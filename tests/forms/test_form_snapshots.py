"""SVG snapshots of the forms: the run form of the action with every parameter type (as it opens, and
with a refused value and the preview), and the key-value form. Byte-stable: a server seeded with a fixed
clock and random seed, times in UTC, a frozen clock, no animations, no blinking cursors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import enter, open_run_form, until
from support.rest import api_client
from textual.widgets import Input, TextArea

from st2tui import formatting
from st2tui.demo.server import DemoServer, RunningServer, start_in_thread
from st2tui.messages import KeyEditRequested
from st2tui.models import KeyValuePair
from st2tui.screens.key_form import KeyFormScreen
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.header import StatusHeader

# The same instant the main-screen snapshots use: the seeded history ends 10 minutes before it.
FIXED_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
ACTION = "examples.all-param-types"


@pytest.fixture(scope="module")
def snapshot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    path: Path = tmp_path_factory.mktemp("st2-form-snapshots") / "st2.sqlite"
    server = start_in_thread(DemoServer(path, timers=False, seed_now=FIXED_NOW, seed_random=1234))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formatting, "now", lambda: FIXED_NOW)


async def _settled(pilot) -> None:
    """Signed in, live, the executions behind the form loaded."""
    app = pilot.app
    app.animation_level = "none"
    header = app.screen.query_one(StatusHeader)
    executions = app.screen.query_one(ExecutionsPane)
    await until(pilot, lambda: header.stream_state == "live" and executions.table.row_count == 50)


async def _quiet(pilot) -> None:
    """Steady cursors, and the last messages landed."""
    for editor in pilot.app.screen.query(Input):
        editor.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    for _ in range(3):
        await pilot.pause()


def test_run_form_of_the_action_with_every_parameter_type(snapshot_server, make_app, snap_compare):
    app = make_app(snapshot_server, timezone="utc")

    async def run_before(pilot):
        await _settled(pilot)
        await open_run_form(pilot, ACTION)
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_run_form_refusing_a_value_with_the_preview_80x24(snapshot_server, make_app, snap_compare):
    app = make_app(snapshot_server, timezone="utc")

    async def run_before(pilot):
        await _settled(pilot)
        screen = await open_run_form(pilot, ACTION)
        await enter(pilot, screen, "message", "hello world")
        await enter(pilot, screen, "count", "11")
        screen.update_preview()
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_key_form_editing_a_json_value(snapshot_server, make_app, snap_compare):
    app = make_app(snapshot_server, timezone="utc")
    with api_client(snapshot_server) as rest:
        key = KeyValuePair.from_dict(rest.get("/api/v1/keys/deploy_config").json())

    async def run_before(pilot):
        await _settled(pilot)
        app.post_message(KeyEditRequested(key))
        await until(pilot, lambda: isinstance(app.screen, KeyFormScreen) and app.screen.loaded)
        await _quiet(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
