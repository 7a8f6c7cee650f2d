"""The sign-in dialog a new user meets first: the keys typed as soon as it shows go where the cursor is,
enter in the username moves on, a stray escape does not close st2tui, and its footer lists its own keys."""

from __future__ import annotations

from support.tui import screen_text, wait_for
from textual.widgets import Checkbox, Input

from st2tui.screens.sign_in import SignInScreen
from st2tui.widgets.header import StatusHeader


def _field(app, name: str) -> Input:
    return app.screen.query_one(f"#sign-in-{name}", Input)


async def _dialog(pilot, app) -> SignInScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
    return app.screen


async def test_keys_typed_as_soon_as_the_dialog_shows_go_to_the_focused_field(st2_server, make_app):
    app = make_app(st2_server, username=None, password=None)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await _dialog(pilot, app)
        # No pause: the first frame already has the cursor in the username field.
        assert dialog.focused is _field(app, "username")
        await pilot.press(*"st2admin", "tab", *st2_server.password)
        assert _field(app, "username").value == "st2admin"
        assert _field(app, "password").value == st2_server.password
        await pilot.press("enter")
        header = app.main_screen.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.user == "st2admin", what="the signed-in user")


async def test_enter_in_the_username_field_moves_to_the_password(st2_server, make_app):
    app = make_app(st2_server, username=None, password=None)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await _dialog(pilot, app)
        await pilot.press(*"st2admin", "enter")
        await pilot.pause()
        assert app.screen is dialog, "nothing is sent without a password"
        assert dialog.focused is _field(app, "password")
        assert str(dialog.query_one("#sign-in-error").render()) == ""
        await pilot.press(*st2_server.password, "enter")
        header = app.main_screen.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.user == "st2admin", what="the signed-in user")


async def test_one_escape_does_not_quit_the_second_does(st2_server, make_app):
    app = make_app(st2_server, username=None, password=None)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await _dialog(pilot, app)
        await pilot.press(*"st2ad")
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and app.screen is dialog
        assert _field(app, "username").value == "st2ad", "what was typed stays"
        assert "escape again quits st2tui" in str(dialog.query_one("#sign-in-error").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.is_running, what="st2tui to quit")
    assert app.return_value is None


async def test_the_footer_lists_the_dialogs_keys_not_the_main_screens(st2_server, make_app):
    app = make_app(st2_server, username=None, password=None)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await _dialog(pilot, app)
        await pilot.pause()
        shown = {
            binding.key: binding.description
            for (_, binding, enabled, _tooltip) in dialog.active_bindings.values()
            if binding.show and enabled
        }
        assert shown.get("tab") == "Next field"
        assert shown.get("enter") == "Sign in"
        assert shown.get("escape") == "Quit st2tui"
        assert "q" not in shown and "colon" not in shown, shown


async def test_an_unticked_box_is_empty_even_when_disabled(st2_server, make_app):
    """Without a usable keyring "Remember the password" is disabled and off: its box must not show the X
    (Textual drew it in both states, told apart by colour only, so it read as ticked)."""
    app = make_app(st2_server, username=None, password=None)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await _dialog(pilot, app)
        remember = dialog.query_one("#sign-in-remember", Checkbox)
        assert remember.disabled and not remember.value
        line = next(line for line in screen_text(app).splitlines() if "Remember the password" in line)
        assert "X" not in line, line
        # Ticked, the X shows.
        remember.disabled = False
        remember.value = True
        await pilot.pause()
        line = next(line for line in screen_text(app).splitlines() if "Remember the password" in line)
        assert "X" in line, line
