"""Issue 16: what st2tui says about its own safety reaches the operator, and notifications (which carry
faultstrings and names from the server) are plain text with every control shown."""

from __future__ import annotations

from support.tui import wait_for

from st2tui.credentials import TokenCache
from st2tui.models import Token


async def test_a_group_writable_token_cache_is_said_on_screen(st2_server, make_app, tmp_path):
    cache = TokenCache(tmp_path / "st2-cache")
    token = Token.from_dict({"user": "st2admin", "token": "abc", "expiry": "2099-01-01T00:00:00.000000Z"})
    path = cache.save(token)
    path.chmod(0o660)
    assert cache.load("st2admin") is not None
    app = make_app(st2_server)
    app.startup_warnings = cache.warnings
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: any("writable by its group" in note.message for note in app._notifications),
            what="the warning",
        )
        (note,) = [note for note in app._notifications if "writable" in note.message]
        assert (note.title, note.severity) == ("Security", "warning")


async def test_notifications_show_server_text_literally(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.main_screen.signed_in, what="sign-in")
        app.main_screen.notify("[bold red]fault[/]\x1b]2;PWNED\x07\u202eok", title="x\x9b2J")
        await wait_for(pilot, lambda: any("fault" in n.message for n in app._notifications), what="the toast")
        (note,) = [note for note in app._notifications if "fault" in note.message]
        # Shown as written (markup off), with every control character visible.
        assert note.markup is False
        assert note.message == "[bold red]fault[/]␛]2;PWNED␇<U+202E>ok"
        assert note.title == "x<U+009B>2J"
