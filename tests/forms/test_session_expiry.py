"""A session that expires while the user fills a form: the sign-in dialog opens over the form, and after
signing in the submission goes through with what was typed; giving up keeps the form as it was."""

from __future__ import annotations

from conftest import enter, executions_of, open_run_form, until
from support.rest import issue_token
from textual.widgets import Input

from st2tui.api import St2Client
from st2tui.demo.auth import hash_token
from st2tui.screens.execution import ExecutionScreen
from st2tui.screens.run_action import RunActionScreen
from st2tui.screens.sign_in import SignInScreen

ACTION = "core.local"


def _app_with_token_only(make_app, server):
    """Signed in with a token and nothing to renew it with (like `st2tui --token` or an API key)."""
    token = issue_token(server)
    app = make_app(server)
    app.client = St2Client(
        api_url=server.api_url, auth_url=server.auth_url, stream_url=server.stream_url, token=token
    )
    return app, token


def _expire(server, token: str) -> None:
    # The demo keeps only a digest of each token (like a password): the row is found by it.
    async def expire() -> None:
        server.server.db.execute(
            "UPDATE tokens SET expiry = '2001-01-01T00:00:00.000000Z' WHERE token = ?",
            (hash_token(token),),
        )

    server.call(expire)


async def test_signing_in_again_sends_the_half_filled_form(forms_server, make_app, rest):
    app, token = _app_with_token_only(make_app, forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_run_form(pilot, ACTION)
        await enter(pilot, form, "cmd", "echo typed before expiry")
        _expire(forms_server, token)

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        assert app.screen_stack[-2] is form, "the dialog opens over the form"
        assert "Session expired" in str(app.screen.query_one("#sign-in-error").render())

        app.screen.query_one("#sign-in-username", Input).value = forms_server.username
        app.screen.query_one("#sign-in-password", Input).value = forms_server.password
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ExecutionScreen), what="the execution screen")

        newest = executions_of(rest, ACTION)[0]
        assert newest["parameters"]["cmd"] == "echo typed before expiry"
        assert newest["id"] == app.screen.execution_id
        assert app.client.token != token


async def test_giving_up_on_signing_in_keeps_the_form_filled(forms_server, make_app, rest):
    app, token = _app_with_token_only(make_app, forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_run_form(pilot, ACTION)
        await enter(pilot, form, "cmd", "echo still here")
        before = len(executions_of(rest, ACTION))
        _expire(forms_server, token)

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is form, what="back on the form")
        await until(pilot, lambda: "expired" in str(form.query_one(".form-banner").render()).lower())
        assert isinstance(app.screen, RunActionScreen)
        assert form.field("cmd").editor.value == "echo still here"
        assert len(executions_of(rest, ACTION)) == before
