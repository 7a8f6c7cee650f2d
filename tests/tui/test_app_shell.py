"""The app frame: sign-in, header, pane switching, command bar, help, palette, read-only, keymap."""

from __future__ import annotations

from support.tui import wait_for
from textual.widgets import TabbedContent

from st2tui.screens.confirm import ConfirmDialog
from st2tui.screens.help import HelpScreen
from st2tui.screens.sign_in import SignInScreen
from st2tui.widgets.actions import ActionsPane
from st2tui.widgets.command_bar import CommandBar
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.header import StatusHeader
from st2tui.widgets.inquiries import InquiriesPane
from st2tui.widgets.keys import KeysPane
from st2tui.widgets.rules import RulesPane


async def _ready(pilot, app) -> ExecutionsPane:
    pane = app.screen.query_one(ExecutionsPane)
    await wait_for(pilot, lambda: pane.table.row_count > 0, what="executions")
    return pane


def _active(app) -> str:
    return app.screen.query_one(TabbedContent).active


def _focused_in(app, pane_type) -> bool:
    focused = app.screen.focused
    return focused is not None and any(isinstance(node, pane_type) for node in focused.ancestors_with_self)


async def test_number_keys_switch_panes_and_focus_follows(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await _ready(pilot, app)
        assert _focused_in(app, ExecutionsPane)
        for key, name, pane_type in (
            ("2", "actions", ActionsPane),
            ("3", "rules", RulesPane),
            ("4", "keys", KeysPane),
        ):
            await pilot.press(key)
            assert _active(app) == name
            assert _focused_in(app, pane_type)
        # escape with nothing open stays on the pane (and its focus): the next filter goes where one looks
        await pilot.press("escape")
        await pilot.pause()
        assert _active(app) == "keys" and _focused_in(app, KeysPane)
        await pilot.press("slash")
        await pilot.pause()
        assert app.screen.focused is not None and app.screen.focused.id == "keys-filter", app.screen.focused


async def test_command_bar_aliases(st2_server, make_app, rest):
    api = rest(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await _ready(pilot, app)
        bar = app.screen.query_one(CommandBar)
        await pilot.press("colon", *"kv", "enter")
        assert _active(app) == "keys" and not bar.display
        await pilot.press("colon", *"ru", "enter")
        assert _active(app) == "rules"
        await pilot.press("colon", *"ex status:failed", "enter")
        assert _active(app) == "executions"
        failed = int(api.get("/executions", parent="null", status="failed", limit=1).headers["X-Total-Count"])
        await wait_for(pilot, lambda: pane.total == failed)
        await pilot.press("colon", *"nonsense", "enter")
        assert any("Unknown command :nonsense" in n.message for n in app._notifications)
        await pilot.press("escape")
        assert not bar.display and _focused_in(app, ExecutionsPane)
        await pilot.press("colon", *"ctx nowhere", "enter")
        assert any("No profile 'nowhere'" in n.message for n in app._notifications)
        await pilot.press("colon", "q", "enter")
        await pilot.pause()
        assert not app.is_running


async def test_help_is_generated_from_the_bindings_in_force(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await _ready(pilot, app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        descriptions = {(entry.group, entry.description) for entry in app.screen.entries}
        assert ("Executions", "Cancel") in descriptions
        assert ("Everywhere", "Help") in descriptions
        await pilot.press("escape")
        await pilot.press("3", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        groups = {entry.group for entry in app.screen.entries}
        assert "Rules" in groups and "Executions" not in groups


async def test_palette_commands_follow_the_selection(fresh_server, make_app, rest):
    api = rest(fresh_server)
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await _ready(pilot, app)
        finished = pane.selected_execution
        titles = [command.title for command in app.screen.palette_commands()]
        assert f"Re-run execution {finished.short_id} ({finished.action_ref})" in titles
        assert not any(title.startswith("Cancel") for title in titles)
        running = api.run("core.local", cmd="sleep 20")
        await wait_for(pilot, lambda: running["id"] in pane.listing.executions)
        await wait_for(pilot, lambda: pane.listing.executions[running["id"]].status == "running")
        pane.table.move_to(running["id"])
        command = next(c for c in app.screen.palette_commands() if c.title.startswith("Cancel execution"))
        command.run()
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        assert (await api.finished(running["id"]))["status"] == "canceled"
        # The palette itself opens on ctrl+p.
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette")


async def test_read_only_hides_every_mutating_binding(st2_server, make_app):
    app = make_app(st2_server, readonly=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await _ready(pilot, app)
        assert app.screen.query_one(StatusHeader).readonly
        assert "READ-ONLY" in str(app.screen.query_one(StatusHeader).render())
        mutating = {"Cancel", "Re-run", "Run", "Enable/disable", "New", "Delete", "Edit", "Respond", "Mark"}
        panes = (
            ("1", ExecutionsPane),
            ("2", ActionsPane),
            ("3", RulesPane),
            ("4", KeysPane),
            ("5", InquiriesPane),
        )
        for key, pane_type in panes:
            await pilot.press(key)
            await wait_for(pilot, lambda t=pane_type: _focused_in(app, t))
            shown = {active.binding.description for active in app.screen.active_bindings.values()}
            assert not shown & mutating
            titles = " ".join(command.title for command in app.screen.palette_commands())
            for verb in ("Cancel", "Re-run", "Run action", "Disable rule", "Delete key", "Edit key"):
                assert verb not in titles
        # Keys that would change something do nothing.
        await pilot.press("4", "d", "n", "enter")
        await pilot.press("1", "c", "R")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)


async def test_bindings_can_be_remapped_by_id(st2_server, make_app):
    app = make_app(st2_server, keybindings={"executions.failures": "x", "pane.rules": "r"})
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await _ready(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        assert "status:failed" not in pane.query_text
        await pilot.press("x")
        await wait_for(pilot, lambda: "status:failed" in pane.query_text)
        await pilot.press("r")
        assert _active(app) == "rules"


async def test_times_switch_between_utc_and_local(st2_server, make_app):
    app = make_app(st2_server, timezone="utc")
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await _ready(pilot, app)
        first = pane.table.rows[0]
        assert str(first.cells[6]).endswith("Z")
        await pilot.press("t")
        assert not str(pane.table.rows[0].cells[6]).endswith("Z")
        assert "local time" in str(pane.query_one("#executions-summary").render())


async def test_without_credentials_the_sign_in_dialog_asks_and_explains_a_wrong_password(
    st2_server, make_app
):
    app = make_app(st2_server, username=None, password=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        await pilot.click("#sign-in-username")
        await pilot.press(*"st2admin")
        await pilot.click("#sign-in-password")
        await pilot.press(*"wrong", "enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, SignInScreen)
                and "Invalid or missing credentials" in str(app.screen.query_one("#sign-in-error").render())
            ),
            what="the error in the dialog",
        )
        await pilot.click("#sign-in-password")
        await pilot.press(*st2_server.password, "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SignInScreen), what="the dialog to close")
        header = app.screen.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.user == "st2admin", what="the signed-in user")
        await _ready(pilot, app)


async def test_ctx_switches_to_another_profile(st2_server, fresh_server, make_app, rest, tmp_path):
    other = rest(fresh_server).run("core.local", cmd="echo only-on-the-other-server")
    config_dir = tmp_path / "st2tui-config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.yaml").write_text(
        "profiles:\n"
        f"  other:\n    url: {fresh_server.base_url}\n    username: st2admin\n"
        f"  first:\n    url: {st2_server.base_url}\n    username: st2admin\n"
    )
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await _ready(pilot, app)
        assert other["id"] not in pane.listing.executions
        titles = [command.title for command in app.screen.palette_commands()]
        assert "Switch to profile other" in titles
        await pilot.press("colon", *"ctx other", "enter")
        # No password is stored for that profile: the sign-in dialog asks for it.
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        await pilot.press(*fresh_server.password, "enter")
        header = app.main_screen.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.server == "other" and header.user == "st2admin")
        await wait_for(
            pilot, lambda: other["id"] in pane.listing.executions, what="the other server's executions"
        )
        assert app.connection.api_url == f"{fresh_server.base_url}/api/v1"


async def test_q_in_a_dialog_does_not_quit_the_app(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        app.push_screen(ConfirmDialog("Disable rule?", "examples.every-minute stops firing."))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the dialog")
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog), what="the dialog to close")
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, what="q to quit from the main screen")
