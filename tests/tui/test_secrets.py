"""Secrets: a known value stored as a secret key and passed as a secret action parameter, and another
typed into a run form, never appear on any screen, in the log (with `--debug` curl lines), in saved
files or in a crash report, unless the user reveals one on screen, which shows it there and nowhere else."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from support.tui import screen_text, wait_for
from textual.widgets import Input

from st2tui.launch import configure_logging
from st2tui.messages import ExecutionOpenRequested, KeyEditRequested, RunActionRequested
from st2tui.screens.execution import ExecutionScreen
from st2tui.screens.key_form import KeyFormScreen
from st2tui.screens.main import MainScreen
from st2tui.screens.run_action import RunActionScreen
from st2tui.screens.save import SaveDialog
from st2tui.widgets.keys import KeysPane

STORED = "Quokka-7781-zebra-s3cr3t"
TYPED = "Heron-4410-typed-s3cr3t"
ACTION = "examples.all-param-types"


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("st2tui.launch.log_path", lambda: tmp_path / "log" / "st2tui.log")
    path = configure_logging(debug=True)
    yield path
    logger = logging.getLogger("st2tui")
    for handler in logger.handlers[:]:
        handler.close()
        logger.removeHandler(handler)


async def test_secrets_stay_masked_everywhere_unless_revealed(
    fresh_server, make_app, rest, tmp_path, monkeypatch, log_file
):
    saves = tmp_path / "saves"
    saves.mkdir()
    monkeypatch.chdir(saves)
    api = rest(fresh_server)
    stored = api.client.put(
        "/api/v1/keys/deploy_credential", json={"name": "deploy_credential", "value": STORED, "secret": True}
    )
    assert stored.status_code == 200, stored.text
    run = api.run(ACTION, message="hello", api_token=STORED)
    await api.finished(run["id"])

    app = make_app(fresh_server)
    screens: dict[str, str] = {}

    async def capture(label: str) -> None:
        await pilot.pause(0.2)
        screens[label] = screen_text(app)

    def crash(self) -> None:
        raise RuntimeError(f"bug while showing {STORED}")

    with pytest.raises(RuntimeError, match="bug while showing"):
        async with app.run_test(size=(160, 45)) as pilot:
            app.animation_level = "none"
            await wait_for(pilot, lambda: app.main_screen.signed_in, what="sign-in")
            for number, pane in enumerate(("executions", "actions", "rules", "keys", "inquiries"), start=1):
                await pilot.press(str(number))
                await wait_for(pilot, lambda pane=pane: app.main_screen.pane(pane).loaded)
                await capture(f"pane {pane}")

            keys = app.main_screen.query_one(KeysPane)
            await wait_for(pilot, lambda: "deploy_credential" in str(keys.keys))
            row = next(row.key for row in keys.table.rows if "deploy_credential" in row.key)
            keys.table.move_to(row)
            await capture("keys pane, secret selected")
            app.post_message(KeyEditRequested(keys.selected_key))
            await wait_for(pilot, lambda: isinstance(app.screen, KeyFormScreen))
            await capture("key form of the secret")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

            await pilot.press("question_mark")
            await capture("help")
            await pilot.press("escape")
            await pilot.press("ctrl+p")
            await capture("palette")
            await pilot.press("escape")

            app.post_message(ExecutionOpenRequested(run["id"]))
            await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen) and app.screen.execution)
            execution_screen = app.screen
            for number, tab in enumerate(
                ("output", "result", "workflow", "parameters", "log", "raw"), start=1
            ):
                if tab == "workflow":
                    continue  # not a workflow: no such tab
                await pilot.press(str(number))
                await capture(f"execution tab {tab}")
            await pilot.press("1", "ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, SaveDialog))
            await capture("save dialog")
            await pilot.press("enter")
            await wait_for(pilot, lambda: any(saves.glob("*output*")), what="the saved output")
            await pilot.press("2", "ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, SaveDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: any(saves.glob("*result*")), what="the saved result")

            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, RunActionScreen) and app.screen.loaded)
            await capture("re-run form")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is execution_screen)
            await pilot.press("escape")

            app.post_message(RunActionRequested(ACTION))
            await wait_for(pilot, lambda: isinstance(app.screen, RunActionScreen) and app.screen.loaded)
            form = app.screen
            form.field("message").editor.value = "typed run"
            secret_editor = form.field("api_token").editor
            assert isinstance(secret_editor, Input) and secret_editor.password
            secret_editor.value = TYPED
            await capture("run form with a typed secret")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen), what="the typed run")
            typed_run = app.screen.execution_id
            await api.finished(typed_run)
            await pilot.press("4")
            await capture("parameters of the typed run")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

            # The user asks to see one value: it shows, there.
            await pilot.press("4")
            keys.table.move_to(row)
            await pilot.press("v")
            await wait_for(pilot, lambda: STORED in screen_text(app), what="the revealed value")

            monkeypatch.setattr(MainScreen, "action_reload", crash)
            await pilot.press("ctrl+r")
            await pilot.pause(0.5)

    sent = api.get(f"/executions/{typed_run}", show_secrets="true").json()
    assert sent["parameters"]["api_token"] == TYPED, "the typed secret reached the server as typed"

    artifacts = {f"screen: {label}": text for label, text in screens.items()}
    artifacts["log file"] = log_file.read_text()
    artifacts.update({f"saved file {path.name}": path.read_text() for path in saves.iterdir()})
    assert app.crash_report is not None
    artifacts[f"crash report {app.crash_report.name}"] = app.crash_report.read_text()
    assert len(screens) >= 17 and len(artifacts) >= 21
    assert "POST" in artifacts["log file"] and "curl" in artifacts["log file"]
    found = [where for where, text in artifacts.items() if STORED in text or TYPED in text]
    assert found == [], f"secret found in {found}"


async def test_secrets_show_as_st2s_mask(st2_server, make_app, rest):
    """The README's mask, `********` (as st2 masks them), in the keys pane and the execution screen."""
    api = rest(st2_server)
    name = "mask_shown_key"
    stored = api.client.put(f"/api/v1/keys/{name}", json={"name": name, "value": STORED, "secret": True})
    assert stored.status_code == 200, stored.text
    run = api.run(ACTION, message="hello", api_token=STORED)
    await api.finished(run["id"])
    app = make_app(st2_server)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_for(pilot, lambda: app.main_screen.signed_in, what="sign-in")
            await pilot.press("4")
            keys = app.main_screen.query_one(KeysPane)
            await wait_for(pilot, lambda: any(key.name == name for key in keys.keys.values()), what="the key")
            await pilot.pause(0.2)
            line = next(line for line in screen_text(app).splitlines() if name in line)
            assert "********" in line and "•" not in line, line
            app.post_message(ExecutionOpenRequested(run["id"]))
            await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen) and app.screen.execution)
            await pilot.pause(0.2)
            line = next(line for line in screen_text(app).splitlines() if "api_token=" in line)
            assert "api_token=********" in line and "•" not in line, line
    finally:
        api.client.delete(f"/api/v1/keys/{name}")
