"""Fixtures of the form tests: a server per module, REST access to check what reached it, remembered
values in a temporary state dir, and helpers to open a form and type into its fields."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.rest import api_client
from support.tui import wait_for
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, TextArea

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread
from st2tui.messages import RunActionRequested
from st2tui.screens.form import FormScreen
from st2tui.screens.main import MainScreen
from st2tui.screens.run_action import RunActionScreen
from st2tui.widgets.fields import ParameterField

# Seconds to wait for the app and the server: generous, as a busy machine answers slowly.
PATIENCE = 30


async def until(pilot: Pilot, condition, what: str = "condition") -> None:
    """Let the app run until `condition()` holds."""
    await wait_for(pilot, condition, timeout=PATIENCE, what=what)


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Remembered form values go to a directory of the test's own."""
    path = tmp_path / "state"
    monkeypatch.setenv("ST2TUI_STATE_DIR", str(path))
    return path


@pytest.fixture(scope="module")
def forms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server for one test module (seeded demo content, timers off)."""
    server = start_in_thread(DemoServer(tmp_path_factory.mktemp("st2-forms") / "st2.sqlite", timers=False))
    yield server
    server.stop()


@pytest.fixture
def rest(forms_server: RunningServer) -> Iterator[httpx.Client]:
    """REST access to the module's server, to set things up and to check what the forms sent."""
    client = api_client(forms_server)
    yield client
    client.close()


def executions_of(rest: httpx.Client, action: str) -> list[dict[str, Any]]:
    """Every execution of an action, newest first, with secrets shown."""
    response = rest.get(
        "/api/v1/executions", params={"action": action, "limit": 1000, "show_secrets": "true"}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def signed_in(pilot: Pilot) -> None:
    app = pilot.app
    await until(
        pilot,
        lambda: any(isinstance(screen, MainScreen) and screen.signed_in for screen in app.screen_stack),
        what="sign-in",
    )


async def open_run_form(pilot: Pilot, action_ref: str, **request: Any) -> RunActionScreen:
    """Ask for the run form as the actions pane does, and wait until its fields are there."""
    app = pilot.app
    await signed_in(pilot)
    app.post_message(RunActionRequested(action_ref, **request))
    await until(
        pilot, lambda: isinstance(app.screen, RunActionScreen) and app.screen.loaded, what="the run form"
    )
    return app.screen


# Longer texts are put in the editor at once (the same change event as typing, without a layout
# per key); shorter ones are typed key by key.
TYPED_LENGTH = 16


async def enter(pilot: Pilot, screen: FormScreen, name: str, text: str) -> ParameterField:
    """Focus a field, clear it and enter `text` (typed key by key when short)."""
    field = screen.field(name)
    assert field is not None, f"no field {name}"
    field.focus_editor()
    await pilot.pause()
    editor = field.editor
    if isinstance(editor, TextArea):
        if len(text) > TYPED_LENGTH or "\n" in text:
            editor.load_text(text)
        else:
            editor.select_all()
            await pilot.press("backspace", *text)
    else:
        assert isinstance(editor, Input)
        if len(text) > TYPED_LENGTH:
            editor.value = text
        else:
            await pilot.press("end", "ctrl+u", *text)
    await pilot.pause()
    return field


def shown(widget: Widget) -> str:
    """The text a widget shows on screen (lines joined with spaces, as long lines wrap)."""
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return " ".join(line.text.strip() for line in lines if line.text.strip())


def field_message(field: ParameterField) -> str:
    """The error (or note) under a field, as shown; empty when there is none."""
    message = field.message
    assert message.replace("\n", " ") in shown(field.query_one(".field-notes")) if message else True
    return message
