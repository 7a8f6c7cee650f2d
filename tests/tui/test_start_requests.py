"""The start's requests (who am I, version, the list's first page) are sent before the UI is built; the
first frame shows their rows, the list stays live, and any failure falls back to the usual sign-in."""

from __future__ import annotations

import httpx
from support.tui import wait_for

from st2tui.api import St2Client
from st2tui.config import Connection, Settings
from st2tui.prefetch import StartRequests
from st2tui.screens.sign_in import SignInScreen
from st2tui.widgets.execution_query import first_page_params
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.header import StatusHeader


def _token(server) -> str:
    answer = httpx.post(f"{server.auth_url}/tokens", auth=(server.username, server.password), json={})
    answer.raise_for_status()
    return answer.json()["token"]


def _connection(server, token: str) -> Connection:
    return Connection(
        api_url=server.api_url,
        auth_url=server.auth_url,
        stream_url=server.stream_url,
        base_url=server.base_url,
        profile="test",
        token=token,
        cache_token=False,
    )


def _app(connection: Connection, start: StartRequests, tmp_path):
    from st2tui.app import St2TuiApp

    client = St2Client.from_connection(connection)
    app = St2TuiApp(client, connection, Settings())
    app.crash_dir = tmp_path / "crash-reports"
    app.start_requests = start
    return app


async def _answered(start: StartRequests) -> None:
    assert await start.answers() is not None


async def test_rows_asked_for_before_the_ui_are_on_screen_when_it_comes_up(st2_server, rest, tmp_path):
    connection = _connection(st2_server, _token(st2_server))
    start = StartRequests(connection, params=first_page_params(utc=False))
    await _answered(start)
    app = _app(connection, start, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.screen.query_one(ExecutionsPane)
        # On screen from the start, signed in, without the app asking for them again.
        assert pane.table.row_count == 50
        header = app.screen.query_one(StatusHeader)
        assert header.user == st2_server.username and header.version
        # Still live: an execution started elsewhere shows up.
        new_id = rest(st2_server).run("core.local", cmd="true")["id"]
        await wait_for(pilot, lambda: any(row.execution_id == new_id for row in pane.visible_rows))


async def test_a_page_asked_for_another_query_is_not_shown(st2_server, tmp_path):
    connection = _connection(st2_server, _token(st2_server))
    start = StartRequests(connection, params={**first_page_params(utc=False), "limit": 5})
    await _answered(start)
    app = _app(connection, start, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.screen.query_one(ExecutionsPane)
        await wait_for(pilot, lambda: pane.table.row_count == 50, what="the list's own first page")


async def test_refused_start_requests_end_in_the_sign_in_dialog(st2_server, tmp_path):
    connection = _connection(st2_server, "not-a-token")
    start = StartRequests(connection, params=first_page_params(utc=False))
    assert await start.answers() is None
    app = _app(connection, start, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")


async def test_the_configured_first_pane_opens_first_and_the_list_is_there_behind_it(st2_server, make_app):
    from textual.widgets import TabbedContent

    from st2tui.widgets.rules import RulesPane

    app = make_app(st2_server, default_pane="rules")
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.screen.query_one(TabbedContent).active == "rules"
        rules = app.screen.query_one(RulesPane)
        await wait_for(pilot, lambda: rules.table.row_count > 0, what="rules")
        await pilot.press("1")
        executions = app.screen.query_one(ExecutionsPane)
        await wait_for(pilot, lambda: executions.table.row_count > 0, what="executions")


async def test_keys_pressed_at_once_reach_the_parts_built_after_the_first_frame(st2_server, tmp_path):
    from textual.widgets import TabbedContent

    from st2tui.widgets.actions import ActionsPane

    connection = _connection(st2_server, _token(st2_server))
    start = StartRequests(connection, params=first_page_params(utc=False))
    await _answered(start)
    app = _app(connection, start, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "T")
        await wait_for(pilot, lambda: app.screen.query_one(TabbedContent).active == "actions", what="pane 2")
        actions = app.screen.query_one(ActionsPane)
        await wait_for(pilot, lambda: len(actions.actions_tree.root.children) > 0, what="the packs")
        await wait_for(pilot, lambda: app.screen.query_one("#tail").display, what="the tail pane")
        # The inquiries pane (mounted after the first frame) is read too: its tab counts what waits.
        await wait_for(pilot, lambda: app.screen.query_one("#inquiries-pane").loaded, what="inquiries")


async def test_a_client_made_after_the_first_frame_takes_over_the_session_signed_in_before(
    st2_server, tmp_path
):
    """The launcher's way: a password start signs in with the start requests; the app's own client, made
    when first used (after the first frame), carries on with that token instead of signing in again."""
    from st2tui.app import St2TuiApp

    connection = Connection(
        api_url=st2_server.api_url,
        auth_url=st2_server.auth_url,
        stream_url=st2_server.stream_url,
        base_url=st2_server.base_url,
        profile="test",
        username=st2_server.username,
        password=st2_server.password,
        cache_token=False,
    )
    start = StartRequests(connection, params=first_page_params(utc=False), password=st2_server.password)
    answers = await start.answers()
    assert answers is not None and answers.token is not None
    made: list[St2Client] = []

    def make_client() -> St2Client:
        made.append(St2Client.from_connection(connection, password=st2_server.password))
        return made[-1]

    app = St2TuiApp(None, connection, Settings(), make_client=make_client)
    app.crash_dir = tmp_path / "crash-reports"
    app.start_requests = start
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.screen.query_one(ExecutionsPane)
        assert pane.table.row_count == 50
        # The stream starts after the first frame, with the client made then.
        await wait_for(pilot, lambda: app.screen.query_one(StatusHeader).stream_state == "live", what="live")
        assert len(made) == 1
        assert made[0].token == answers.token.token
