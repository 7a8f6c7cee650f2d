"""The run form against the embedded server: each parameter type refused when wrong (nothing sent) and
sent with its JSON type when right; a server 400 keeps everything typed; secrets and arrays of objects
reach the server as typed; remembered values; re-run; cancel; $EDITOR."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import enter, executions_of, field_message, open_run_form, shown, signed_in, until
from textual.widgets import Select

from st2tui.messages import ExecutionOpenRequested, RunActionRequested
from st2tui.screens.confirm import ConfirmDialog
from st2tui.screens.run_action import RunActionScreen

ACTION = "examples.all-param-types"

# name, wrong text, what the field says, right text, the value the server must get
TYPED_CASES = [
    ("message", "", "Required: enter a value.", "hello world", "hello world"),
    ("slug", "No Spaces", "Must match the pattern ^[a-z0-9-]+$.", "web-01", "web-01"),
    ("count", "11", "Must be at most 10.", "7", 7),
    ("ratio", "lots", "Must be a number, like 0.5 or 3.", "0.75", 0.75),
    ("tags", "x, x", "Must not list the same value twice.", "x, y", ["x", "y"]),
    (
        "servers",
        '[{"port": 2}]',
        "Item 1: host is required.",
        '[{"host": "db-01", "port": 5432}]',
        [{"host": "db-01", "port": 5432}],
    ),
    ("options", "[1, 2]", "Must be a JSON object", '{"retries": 5}', {"retries": 5}),
    ("notes", None, None, "line one\nline two", "line one\nline two"),
]


async def _submit_refused(pilot, screen: RunActionScreen) -> None:
    """Submitting keeps the form open and says nothing was sent (the caller checks the server)."""
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert pilot.app.screen is screen, "the form closed on a refused value"
    assert "Nothing was sent" in shown(screen.query_one(".form-banner"))


async def _submitted(pilot, rest, before: int) -> dict:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(pilot.app.screen, RunActionScreen), what="the form to close")
    runs = executions_of(rest, ACTION)
    assert len(runs) == before + 1
    return runs[0]


async def test_each_type_refuses_a_wrong_value_in_the_field_and_sends_a_right_one_typed(
    forms_server, make_app, rest
):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run_form(pilot, ACTION)
        before = len(executions_of(rest, ACTION))
        for name, wrong, says, right, _ in TYPED_CASES:
            if wrong is not None:
                field = await enter(pilot, screen, name, wrong)
                await _submit_refused(pilot, screen)
                assert field.has_class("-invalid"), name
                assert field_message(field).startswith(f"✘ {says}"), name
                assert app.focused is field.editor, f"{name}: the first wrong field takes the focus"
            field = await enter(pilot, screen, name, right)
            assert field_message(field) == "", name
        assert len(executions_of(rest, ACTION)) == before, "a refused form sent an execution"
        execution = await _submitted(pilot, rest, before)
    for name, _, _, _, sent in TYPED_CASES:
        assert execution["parameters"][name] == sent, name
        assert type(execution["parameters"][name]) is type(sent), name


async def test_choices_and_switches_refuse_stale_values_and_send_what_is_picked(forms_server, make_app, rest):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run_form(pilot, ACTION)
        await enter(pilot, screen, "message", "hi")
        before = len(executions_of(rest, ACTION))
        # Values that cannot be picked here arrive from elsewhere (a re-run, remembered values).
        screen.field("level").set_text("loud", baseline=False)
        screen.field("verbose").set_text("maybe", baseline=False)
        await pilot.pause()
        await _submit_refused(pilot, screen)
        assert len(executions_of(rest, ACTION)) == before
        assert field_message(screen.field("level")) == "✘ Must be one of: debug, info, warning, error."
        assert field_message(screen.field("verbose")) == "✘ Must be true or false."

        screen.query_one("#field-level Select", Select).value = 3  # "error"
        screen.field("verbose").set_text("false", baseline=False)
        assert "not set" in shown(screen.field("dry_run").query_one(".switch-state"))
        screen.field("dry_run").focus_editor()
        await pilot.press("space")
        screen.field("verbose").focus_editor()
        await pilot.press("space", "q")  # q on a switch does not quit (nor lose the form)
        await pilot.pause()
        assert app.is_running and app.screen is screen
        execution = await _submitted(pilot, rest, before)
    assert execution["parameters"]["level"] == "error"
    assert execution["parameters"]["dry_run"] is True
    assert execution["parameters"]["verbose"] is True


async def test_a_server_400_shows_on_its_field_and_keeps_everything_typed(forms_server, make_app, rest):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run_form(pilot, ACTION)
        await enter(pilot, screen, "message", "kept")
        await enter(pilot, screen, "tags", "a, b")
        count = await enter(pilot, screen, "count", "{{ 20 }}")
        assert "Template" in field_message(count)  # passes unchecked: the server renders it
        before = len(executions_of(rest, ACTION))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: count.has_class("-invalid"), what="the server's refusal")
        assert app.screen is screen
        assert field_message(count) == "✘ The server refused this: 20 is greater than the maximum of 10"
        assert "Your values are kept" in shown(screen.query_one(".form-banner"))
        assert [screen.field(n).text for n in ("message", "tags", "count")] == ["kept", "a, b", "{{ 20 }}"]
        assert len(executions_of(rest, ACTION)) == before

        await enter(pilot, screen, "count", "{{ 2 + 3 }}")
        execution = await _submitted(pilot, rest, before)
    assert execution["parameters"]["count"] == 5


async def test_an_array_of_objects_and_a_secret_reach_the_server_with_their_types(
    forms_server, make_app, rest, state_dir
):
    opened: list[str] = []
    app = make_app(forms_server)

    def hook(message) -> None:
        if isinstance(message, ExecutionOpenRequested):
            opened.append(message.execution_id)

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        screen = await open_run_form(pilot, ACTION)
        await enter(pilot, screen, "message", "deploy")
        await enter(pilot, screen, "servers", '[{"host": "a", "port": 1}, {"host": "b"}]')
        token = await enter(pilot, screen, "api_token", "s3cret-token")
        assert "s3cret-token" not in shown(token.editor)  # masked while typed
        assert token.editor.password
        await pilot.press("ctrl+r")
        assert not token.editor.password  # shown on request
        screen.update_preview()
        preview = shown(screen.query_one("#run-preview-body"))
        assert "s3cret-token" not in preview and "'api_token=********'" in preview
        before = len(executions_of(rest, ACTION))
        execution = await _submitted(pilot, rest, before)
    revealed = rest.get(f"/api/v1/executions/{execution['id']}", params={"show_secrets": "true"}).json()
    assert revealed["parameters"]["servers"] == [{"host": "a", "port": 1}, {"host": "b"}]
    assert revealed["parameters"]["api_token"] == "s3cret-token"
    assert rest.get(f"/api/v1/executions/{execution['id']}").json()["parameters"]["api_token"] == "********"
    assert opened == [execution["id"]], "the execution's screen was asked for"
    assert "s3cret-token" not in (state_dir / "form-values.json").read_text()


async def test_last_values_are_offered_next_time_without_secrets(forms_server, make_app, rest):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run_form(pilot, ACTION)
        assert not screen.query_one("#run-offer").display
        await enter(pilot, screen, "message", "again")
        await enter(pilot, screen, "count", "9")
        await enter(pilot, screen, "api_token", "hidden")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, RunActionScreen), what="the run")

        screen = await open_run_form(pilot, ACTION)
        assert screen.query_one("#run-offer").display
        assert "message=again, count=9" in shown(screen.query_one("#run-offer-text"))
        assert screen.field("count").text == "3"
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert [screen.field(n).text for n in ("message", "count", "api_token")] == ["again", "9", ""]
        assert screen.is_dirty()


async def test_rerun_prefills_the_form_and_keeps_the_masked_secret_on_the_server(
    forms_server, make_app, rest
):
    created = rest.post(
        "/api/v1/executions",
        json={
            "action": ACTION,
            "parameters": {"message": "first", "count": 4, "api_token": "original-secret"},
        },
    ).json()
    masked = rest.get(f"/api/v1/executions/{created['id']}").json()["parameters"]
    assert masked["api_token"] == "********"
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        # Pre-filled without a re-run (nothing on the server to keep it), a masked secret is asked again.
        screen = await open_run_form(pilot, ACTION, parameters=masked)
        token = screen.field("api_token")
        assert token.text == "" and "enter it again" in field_message(token)
        assert "api_token" not in screen.payload(screen._values()[0])  # the mask is never sent
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RunActionScreen), what="closing")

        screen = await open_run_form(pilot, ACTION, parameters=masked, rerun_of=created["id"])
        token = screen.field("api_token")
        assert token.text == "" and "Kept from the original run" in field_message(token)
        assert screen.field("count").text == "4"
        await enter(pilot, screen, "count", "6")
        screen.update_preview()
        assert screen.field("count").flag == "changed" and screen.field("message").flag == ""
        preview = shown(screen.query_one("#run-preview-body"))
        assert f"st2 execution re-run {created['id']} count=6" in preview
        before = len(executions_of(rest, ACTION))
        rerun = await _submitted(pilot, rest, before)
        assert screen._sent == {"count": 6}  # the mask was never sent back
    assert rerun["parameters"]["count"] == 6
    assert rerun["parameters"]["message"] == "first"
    assert rerun["parameters"]["api_token"] == "original-secret"
    assert rerun["context"]["re-run"]["ref"] == created["id"]


async def test_escape_asks_before_dropping_what_was_typed(forms_server, make_app):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run_form(pilot, ACTION)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RunActionScreen), what="closing untouched")

        screen = await open_run_form(pilot, ACTION)
        await enter(pilot, screen, "message", "typed")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, what="back to the form")
        assert screen.field("message").text == "typed"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("y")
        await until(
            pilot, lambda: not isinstance(app.screen, (RunActionScreen, ConfirmDialog)), what="closed"
        )


async def test_tab_follows_the_fields_and_enter_submits(forms_server, make_app, rest):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run_form(pilot, ACTION)
        order = []
        for _ in range(6):
            order.append(screen._focused_field().spec.name)
            await pilot.press("tab")
        assert order == [field.spec.name for field in screen.fields][:6]
        assert order == ["message", "count", "level", "environment", "api_token", "content_version"]
        screen.field("message").focus_editor()
        await pilot.press(*"q by enter")  # q types, it does not quit
        before = len(executions_of(rest, ACTION))
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, RunActionScreen), what="submitted by enter")
    assert executions_of(rest, ACTION)[0]["parameters"]["message"] == "q by enter"
    assert len(executions_of(rest, ACTION)) == before + 1


async def test_any_field_can_be_edited_in_the_editor(forms_server, make_app, tmp_path: Path, monkeypatch):
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('web-02', 'db-09') + '\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run_form(pilot, ACTION)
        screen.field("servers").focus_editor()
        await pilot.press("ctrl+o")
        await pilot.pause()
        servers = json.loads(screen.field("servers").text)
        assert [server["host"] for server in servers] == ["web-01", "db-09"]
        assert screen.field("servers").touched


async def test_read_only_mode_opens_no_form(forms_server, make_app):
    app = make_app(forms_server, readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        app.post_message(RunActionRequested(ACTION))
        await pilot.pause(0.2)
        assert not isinstance(app.screen, RunActionScreen)
        assert any(
            "cannot be run (read-only mode)" in notification.message for notification in app._notifications
        )
