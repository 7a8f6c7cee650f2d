"""SVG snapshots of what the user sees (fixed terminal size; nothing time-dependent on screen)."""

from __future__ import annotations

from support.tui import wait_for

from st2tui.screens.sign_in import SignInScreen


def test_sign_in_dialog(st2_server, make_app, snap_compare):
    app = make_app(st2_server, username=None, password=None)

    async def until_dialog(pilot):
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        await pilot.press(*"st2admin")

    assert snap_compare(app, terminal_size=(100, 30), run_before=until_dialog)
