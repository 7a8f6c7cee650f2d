"""The app signs in, shows who and where, and keeps the executions pane live."""

from __future__ import annotations

import httpx
from support.tui import wait_for

from st2tui.screens.sign_in import SignInScreen
from st2tui.widgets.executions import ExecutionsTable
from st2tui.widgets.header import StatusHeader


async def _api(server) -> httpx.AsyncClient:
    """An API client of a second user of the server (the test plays someone else at a terminal)."""
    async with httpx.AsyncClient() as auth:
        token = (await auth.post(f"{server.auth_url}/tokens", auth=(server.username, server.password))).json()
    return httpx.AsyncClient(base_url=server.api_url, headers={"X-Auth-Token": token["token"]})


async def test_signs_in_and_shows_the_newest_executions(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one(ExecutionsTable)
        await wait_for(pilot, lambda: table.row_count > 0, what="executions to load")
        header = app.screen.query_one(StatusHeader)
        assert header.user == "st2admin"
        assert header.version == "3.10dev"
        async with await _api(st2_server) as api:
            expected = await api.get(
                "/executions", params={"parent": "null", "limit": 50, "include_attributes": "id"}
            )
        assert [row.value for row in table.rows] == [doc["id"] for doc in expected.json()]
        summary = str(app.screen.query_one("#executions-summary").render())
        assert f"of {int(expected.headers['X-Total-Count']):,}" in summary


async def test_an_execution_started_elsewhere_appears_live(fresh_server, make_app):
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one(ExecutionsTable)
        header = app.screen.query_one(StatusHeader)
        await wait_for(
            pilot, lambda: table.row_count > 0 and header.stream_state == "live", what="the live stream"
        )
        async with await _api(fresh_server) as api:
            response = await api.post(
                "/executions", json={"action": "core.local", "parameters": {"cmd": "echo from-outside"}}
            )
        created = response.json()
        await wait_for(pilot, lambda: created["id"] in table.executions, timeout=5, what="the new execution")
        assert table.get_row_index(created["id"]) == 0
        await wait_for(
            pilot,
            lambda: table.executions[created["id"]].status == "succeeded",
            what="the execution to finish",
        )


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
        await pilot.press(*"Ch@ngeMe", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SignInScreen), what="the dialog to close")
        header = app.screen.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.user == "st2admin", what="the signed-in user")
