"""Issue 8's bad-input sweep over the one-line inputs: the `/` filter of every pane, the `:` command bar,
the output search of the execution screen and the save dialog's path.

Every value of the sweep (empty, 1 MB, binary, unicode, injection-looking) and filter-specific bad ones:
the app keeps running, a filter or command it cannot use gets an error message (and stays in the bar),
no request reaches the server with a query string it answers with an error of its own (5xx), and no
control character is handed to the terminal.
"""

from __future__ import annotations

from pathlib import Path

from support.bad_input import MEGABYTE, TEXT_VALUES, control_on_screen, recording
from support.tui import wait_for
from textual.widgets import Input

from st2tui.messages import ExecutionOpenRequested
from st2tui.screens.execution import ExecutionScreen
from st2tui.screens.main import MainScreen
from st2tui.screens.save import SaveDialog
from st2tui.widgets.command_bar import CommandBar
from st2tui.widgets.filter_bar import FilterBar, filter_problem

PATIENCE = 30

FILTER_VALUES = {
    **TEXT_VALUES,
    "unknown status": "status:bogus",
    "unknown key": "colour:red",
    "key without value": "status:",
    "duration overflow": "since:99999999999999d",
    "date at the year 1": "since:0001-01-01",
    "date at 9999": "until:9999-12-31T23:59",
    "path with spaces": "parameters.x:'a b'",
    "empty path part": "a..b:1",
    "bad id": "id:zzz",
    "injection in a server filter": "action:'; DROP TABLE executions; --",
    "pack without value": "pack:",
    "enabled maybe": "enabled:maybe",
    "unbalanced quote": "status:'failed",
    "long filter": "x" * 5000,
}
PANES = {"1": "#executions-pane", "2": "#actions-pane", "3": "#rules-pane", "4": "#keys-pane"}


def record_notifications(app) -> list[tuple[str, str, str]]:
    """(severity, message, title) of every notification the app shows from now on."""
    shown: list[tuple[str, str, str]] = []
    notify = app.notify

    def recording_notify(message: str, **kwargs) -> None:
        shown.append((kwargs.get("severity", "information"), message, kwargs.get("title", "")))
        notify(message, **kwargs)

    app.notify = recording_notify
    return shown


async def signed_in(pilot) -> MainScreen:
    app = pilot.app
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, MainScreen) and app.screen.signed_in,
        timeout=PATIENCE,
        what="sign-in",
    )
    return app.screen


async def test_every_pane_filter_refuses_what_it_cannot_use_and_never_makes_the_server_fail(
    st2_server, make_app
):
    app = make_app(st2_server)
    transport = await recording(app)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await signed_in(pilot)
        for key, pane_id in PANES.items():
            await pilot.press(key)
            pane = main.query_one(pane_id)
            bar = pane.query_one(FilterBar)
            for name, text in FILTER_VALUES.items():
                where = f"{pane_id} {name}"
                pane.action_filter()
                await pilot.pause()
                before = len(notes)
                bar.value = text
                await pilot.press("enter")
                await pilot.pause()
                assert app.is_running and app.screen is main, where
                if filter_problem(text) is not None:
                    assert bar.display and bar.has_class("-invalid"), f"{where}: the bar closed"
                    assert bar.value == text, f"{where}: the bar lost what was typed"
                    assert ("error", filter_problem(text), "Filter") in notes[before:], (
                        f"{where}: {notes[before:]}"
                    )
                    await pilot.press("escape")
                    await pilot.pause()
                # A request the server refused or could not answer is reported as “… failed”.
                failures = [title for _, _, title in notes[before:] if "failed" in title]
                assert failures == [], f"{where}: {notes[before:]}"
                assert control_on_screen(app) == [], f"{where}: {control_on_screen(app)}"
                assert transport.server_errors() == [], f"{where}: {transport.server_errors()}"
            pane.action_filter()
            bar.value = ""
            await pilot.press("enter")
            await pilot.pause()
        refused = [message for severity, message, _ in notes if severity == "error"]
        assert any("unknown status" in message for message in refused)
        assert any("reaches back before the year 1" in message for message in refused)
        assert any("cannot contain spaces" in message for message in refused)
        assert any("enabled:maybe" in message for message in refused)
    assert transport.server_errors() == []
    assert max(len(sent.query) for sent in transport.sent) < 20_000


COMMANDS = {
    **{name: text for name, text in TEXT_VALUES.items() if name != "empty"},
    "markup": "[/] [bold]x",
    "filter with bad status": "ex status:bogus",
    "filter with ANSI": "ex \x1b[31m",
    "keys prefix of 1 MB": "kv " + "k" * MEGABYTE,
    "keys prefix injection": "kv '; DROP TABLE keys; --",
    "profile path": "ctx ../../etc/passwd",
    "profile markup": "ctx [/]",
    "rules pack injection": "ru pack:%s%n",
    "long unknown word": "y" * 5000,
}


async def test_the_command_bar_says_what_is_wrong_and_keeps_the_app_running(st2_server, make_app):
    app = make_app(st2_server)
    transport = await recording(app)
    notes = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await signed_in(pilot)
        bar = main.query_one(CommandBar)
        for name, text in COMMANDS.items():
            await pilot.press("escape")
            main.action_command_bar()
            await pilot.pause()
            before = len(notes)
            bar.query_one(Input).value = text
            await pilot.press("enter")
            await pilot.pause()
            assert app.is_running and app.screen is main, name
            problem = filter_problem(text, "command")
            if problem is not None:
                assert ("error", problem, "Command") in notes[before:], f"{name}: {notes[before:]}"
                assert bar.display and bar.query_one(Input).value == text, f"{name}: the command was lost"
            errors = [message for severity, message, _ in notes[before:] if severity == "error"]
            assert errors or not bar.display, f"{name}: neither run nor refused"
            assert all(len(message) < 400 for message in errors), f"{name}: a message repeats it all"
            assert control_on_screen(app) == [], f"{name}: {control_on_screen(app)}"
            assert transport.server_errors() == [], f"{name}: {transport.server_errors()}"
        unknown = [message for _, message, _ in notes if message.startswith("Unknown command :[/]")]
        assert unknown, "markup in an unknown command is shown as typed"
    assert transport.server_errors() == []


async def search_the_output(pilot, st2_server, rest, *, drawn_clean: bool) -> None:
    """Type every sweep value into the output search of an execution's screen, and look for it."""
    app = pilot.app
    execution = rest(st2_server).run("core.echo", message="line one\nline two")
    await signed_in(pilot)
    await rest(st2_server).finished(execution["id"])
    app.post_message(ExecutionOpenRequested(execution["id"]))
    await wait_for(
        pilot, lambda: isinstance(app.screen, ExecutionScreen), timeout=PATIENCE, what="the screen"
    )
    screen = app.screen
    for name, text in {**TEXT_VALUES, "markup": "[/] [bold]x"}.items():
        await pilot.press("slash")
        await pilot.pause()
        screen.query_one("#output-search", Input).value = text
        await pilot.pause()
        if drawn_clean:
            assert control_on_screen(app) == [], f"{name} while typed: {control_on_screen(app)}"
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running and app.screen is screen, name
        if drawn_clean:
            assert control_on_screen(app) == [], f"{name}: {control_on_screen(app)}"


async def test_output_search_takes_any_text_and_the_app_keeps_running(st2_server, make_app, rest):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await search_the_output(pilot, st2_server, rest, drawn_clean=False)


async def test_output_search_draws_no_control_characters(st2_server, make_app, rest):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await search_the_output(pilot, st2_server, rest, drawn_clean=True)


async def test_a_filter_with_markup_characters_is_shown_as_typed(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await signed_in(pilot)
        for key, pane_id in PANES.items():
            await pilot.press(key)
            pane = main.query_one(pane_id)
            pane.action_filter()
            await pilot.pause()
            pane.query_one(FilterBar).value = "[/] [bold]x[/bold]"
            await pilot.press("enter")
            await pilot.pause()
            assert app.is_running and app.screen is main, pane_id


SAVE_REFUSED = {
    "empty": ("", "Enter the path of a file."),
    "NUL": ("out\x00put.txt", "A path cannot contain a NUL character."),
    "huge (1 MB)": ("p" * MEGABYTE, "Cannot use this path: File name too long."),
    "no such user": ("~nobody-at-all-here/out.txt", "is no user's home"),
    "directory": (".", "is a directory: add a file name."),
    "missing directory": ("no/such/dir/out.txt", "There is no directory"),
    "path injection": ("../../../../../../../etc/passwd/x", "There is no directory"),
}
# Unusual names a file system takes: the dialog hands them back exactly.
SAVE_TAKEN = {
    "ANSI": "\x1b[31mred.txt",
    "RTL": TEXT_VALUES["RTL"] + ".txt",
    "emoji": "🚀.txt",
    "markup": "[bold]x[i].txt",
    "SQL": "'; DROP TABLE executions; --.txt",
}


async def test_the_save_dialog_refuses_unusable_paths_at_the_path_and_returns_usable_ones_exactly(
    st2_server, make_app, tmp_path: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await signed_in(pilot)
        chosen: list[Path | None] = []
        for name, (text, says) in SAVE_REFUSED.items():
            dialog = SaveDialog("Save the output to", tmp_path / "out.txt")
            app.push_screen(dialog, chosen.append)
            await pilot.pause()
            dialog.query_one("#save-path", Input).value = text
            await pilot.press("enter")
            await pilot.pause()
            assert app.is_running and app.screen is dialog, f"{name}: the dialog closed"
            warning = dialog.query_one("#save-warning")
            assert says in str(warning.render()), f"{name}: {warning.render()!s:.200}"
            assert dialog.query_one("#save-path", Input).value == text, f"{name}: the path was lost"
            assert control_on_screen(app) == [], f"{name}: {control_on_screen(app)}"
            await pilot.press("escape")
            await pilot.pause()
        assert chosen == [None] * len(SAVE_REFUSED)
        for name, file_name in SAVE_TAKEN.items():
            dialog = SaveDialog("Save the output to", tmp_path / "out.txt")
            app.push_screen(dialog, chosen.append)
            await pilot.pause()
            dialog.query_one("#save-path", Input).value = str(tmp_path / file_name)
            await pilot.press("enter")
            await pilot.pause()
            assert control_on_screen(app) == [], f"{name}: {control_on_screen(app)}"
            assert chosen[-1] == tmp_path / file_name, f"{name}: {chosen[-1]!r}"
