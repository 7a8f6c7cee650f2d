"""RBAC: a role that can only view gets a screen without commands that change anything (from
`GET /api/v1/user`); for other roles, a 403 says which permission is missing (st2's faultstring) where
the user acted, and a refused form keeps what was typed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.rest import api_client
from support.tui import wait_for
from textual.widgets import Input

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread
from st2tui.messages import RunActionRequested
from st2tui.screens.confirm import ConfirmDialog
from st2tui.screens.run_action import RunActionScreen
from st2tui.widgets.actions import ActionsPane
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.header import StatusHeader
from st2tui.widgets.rules import RulesPane

USERS = {"st2admin": "Ch@ngeMe", "watcher": "watch-pw", "deployer": "deploy-pw"}
ROLES = {"st2admin": ["system_admin"], "watcher": ["observer"], "deployer": ["observer", "deployers"]}


@pytest.fixture(scope="module")
def rbac_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    db = tmp_path_factory.mktemp("st2-rbac") / "st2.sqlite"
    server = start_in_thread(DemoServer(db, users=USERS, roles=ROLES, timers=False))
    yield server
    server.stop()


def _footer(app) -> str:
    bindings = app.screen.active_bindings.values()
    return " ".join(
        active.binding.description for active in bindings if active.enabled and active.binding.show
    )


def _notified(app, fragment: str) -> bool:
    return any(fragment in notification.message for notification in app._notifications)


async def _signed_in(pilot) -> None:
    app = pilot.app
    pane = app.main_screen.query_one(ExecutionsPane)
    await wait_for(pilot, lambda: app.main_screen.signed_in and pane.table.row_count > 0, what="sign-in")


async def test_an_observer_sees_everything_and_is_offered_nothing_that_changes_it(rbac_server, make_app):
    app = make_app(rbac_server, username="watcher", password="watch-pw")
    async with app.run_test(size=(160, 36)) as pilot:
        await _signed_in(pilot)
        header = app.main_screen.query_one(StatusHeader)
        text = header.render().plain
        assert "watcher (observer)" in text and "READ-ONLY" in text
        executions = app.main_screen.query_one(ExecutionsPane)
        assert executions.check_action("cancel", ()) is False
        await pilot.press("2")
        actions = app.main_screen.query_one(ActionsPane)
        await wait_for(pilot, lambda: actions.loaded)
        assert actions.check_action("run", ()) is False
        assert "Run" not in _footer(app)
        app.post_message(RunActionRequested("core.local"))
        await wait_for(pilot, lambda: _notified(app, "role observer can only view"))
        assert not isinstance(app.screen, RunActionScreen)


async def test_a_refused_run_names_the_missing_permission_and_keeps_the_form(rbac_server, make_app):
    app = make_app(rbac_server, username="deployer", password="deploy-pw")
    admin = api_client(rbac_server)
    before = admin.get("/api/v1/executions", params={"action": "core.local", "limit": 1}).headers[
        "X-Total-Count"
    ]
    async with app.run_test(size=(160, 40)) as pilot:
        await _signed_in(pilot)
        assert "READ-ONLY" not in app.main_screen.query_one(StatusHeader).render().plain
        await pilot.press("2")
        await wait_for(pilot, lambda: app.main_screen.query_one(ActionsPane).loaded)
        assert "Run" in _footer(app), "a custom role keeps the commands; the server decides"
        app.post_message(RunActionRequested("core.local"))
        await wait_for(pilot, lambda: isinstance(app.screen, RunActionScreen) and app.screen.loaded)
        form = app.screen
        form.field("cmd").focus_editor()
        await pilot.pause()
        editor = form.field("cmd").editor
        assert isinstance(editor, Input)
        editor.value = "uptime"
        await pilot.press("ctrl+s")
        missing = 'doesn\'t have required permission "action_execute" on resource "action:core:local"'
        await wait_for(pilot, lambda: missing in str(form.query_one(".form-banner").render()), what="the 403")
        assert app.screen is form and editor.value == "uptime"
    after = admin.get("/api/v1/executions", params={"action": "core.local", "limit": 1}).headers[
        "X-Total-Count"
    ]
    admin.close()
    assert after == before


async def test_a_refused_rule_toggle_says_why_and_the_rule_stays(rbac_server, make_app):
    app = make_app(rbac_server, username="deployer", password="deploy-pw")
    admin = api_client(rbac_server)
    async with app.run_test(size=(160, 40)) as pilot:
        await _signed_in(pilot)
        await pilot.press("3")
        rules = app.main_screen.query_one(RulesPane)
        await wait_for(pilot, lambda: rules.loaded and rules.selected_rule is not None, what="rules")
        rule = rules.selected_rule
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: _notified(app, 'required permission "rule_modify"'), what="the 403")
        assert rules.selected_rule.enabled == rule.enabled
    doc = admin.get(f"/api/v1/rules/{rule.ref}").json()
    admin.close()
    assert doc.get("enabled", False) == rule.enabled


def test_the_users_file_of_the_demo_server_can_give_roles(tmp_path: Path) -> None:
    from st2tui.cli import load_users

    path = tmp_path / "users.yaml"
    path.write_text(
        "st2admin: {password: pw, roles: [system_admin]}\nwatcher: {password: pw2, roles: [observer]}\n"
    )
    users, roles = load_users(str(path))
    assert users == {"st2admin": "pw", "watcher": "pw2"}
    assert roles == {"st2admin": ["system_admin"], "watcher": ["observer"]}
