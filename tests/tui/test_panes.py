"""The actions, rules, keys and inquiries panes against the embedded server."""

from __future__ import annotations

import io
from datetime import timedelta

from rich.console import Console
from support.tui import wait_for

from st2tui import formatting
from st2tui.formatting import SECRET_MASK
from st2tui.messages import ExecutionOpenRequested, InquiryResponseRequested, RunActionRequested
from st2tui.screens.confirm import ConfirmDialog
from st2tui.screens.main import MainScreen
from st2tui.widgets.actions import ActionsPane, RecentExecutionsTable
from st2tui.widgets.header import StatusHeader
from st2tui.widgets.inquiries import InquiriesPane
from st2tui.widgets.keys import KeysPane
from st2tui.widgets.rules import EnforcementsTable, RulesPane


def _distinct(messages, kind) -> list:
    """Messages of `kind` seen by the hook, once each (the hook sees a message at every level it bubbles)."""
    return list({id(message): message for message in messages if isinstance(message, kind)}.values())


async def _back_to_main(pilot) -> None:
    """Close whatever screen a request opened (execution screen, forms) and return to the panes."""
    app = pilot.app
    for _ in range(5):
        if isinstance(app.screen, MainScreen):
            return
        await pilot.press("escape")
        await pilot.pause()
    assert isinstance(app.screen, MainScreen)


def _text(static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text()


def _cell(table, key: str, column: int) -> str:
    row = table.rows[table.row_index(key)]
    return str(row.cells[column])


# -- actions ------------------------------------------------------------------------------------------


async def test_actions_are_grouped_by_pack_with_details_of_the_selected_one(st2_server, make_app, rest):
    api = rest(st2_server)
    app = make_app(st2_server)
    messages = []
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        await pilot.press("2")
        pane = app.screen.query_one(ActionsPane)
        tree = pane.actions_tree
        await wait_for(pilot, lambda: len(tree.root.children) > 0, what="the packs")
        actions = api.get("/actions").json()
        packs = sorted({action["pack"] for action in actions})
        assert [str(node.label).split()[0] for node in tree.root.children] == packs
        assert sorted(leaf.data for node in tree.root.children for leaf in node.children) == sorted(
            action["ref"] for action in actions
        )

        await pilot.press("slash", *"deploy", "enter")
        leaves = [leaf.data for node in tree.root.children for leaf in node.children]
        assert leaves == ["examples.deploy", "examples.deploy-step"]

        await wait_for(pilot, lambda: pane.detail is not None and pane.detail.action.ref == "examples.deploy")
        info = _text(pane.query_one("#action-info"))
        for name in api.get("/actions/views/parameters/examples.deploy").json()["parameters"]:
            assert name in info
        recent = api.get("/executions", action="examples.deploy", limit=10, include_attributes="id").json()
        table = pane.query_one(RecentExecutionsTable)
        assert [row.key for row in table.rows] == [doc["id"] for doc in recent]

        await pilot.press("r")
        await pilot.pause()
        assert [m.action_ref for m in _distinct(messages, RunActionRequested)] == ["examples.deploy"]
        await _back_to_main(pilot)


# -- rules --------------------------------------------------------------------------------------------


async def test_rules_filter_on_the_server_and_toggle_after_confirmation(fresh_server, make_app, rest):
    api = rest(fresh_server)
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        pane = app.screen.query_one(RulesPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0, what="the rules")
        assert [row.key for row in pane.table.rows] == [rule["ref"] for rule in api.get("/rules").json()]

        await pilot.press("slash", *"enabled:false", "enter")
        disabled = [rule["ref"] for rule in api.get("/rules", enabled="false").json()]
        await wait_for(pilot, lambda: [row.key for row in pane.table.rows] == disabled)
        await pilot.press("slash", "ctrl+u", "enter")
        await wait_for(pilot, lambda: pane.table.row_count == len(api.get("/rules").json()))

        pane.table.move_to("examples.every-minute")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(
            pilot, lambda: not pane.rules["examples.every-minute"].enabled, what="the disabled rule"
        )
        assert api.get("/rules/examples.every-minute").json()["enabled"] is False
        assert _cell(pane.table, "examples.every-minute", 0) == "✘"

        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await pilot.pause()
        assert api.get("/rules/examples.every-minute").json()["enabled"] is False


async def test_rule_details_link_enforcements_to_executions(st2_server, make_app, rest):
    api = rest(st2_server)
    app = make_app(st2_server)
    messages = []
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        await pilot.press("3")
        pane = app.screen.query_one(RulesPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0)
        pane.table.move_to("examples.deploy_on_webhook")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: pane.detail is not None and pane.detail.rule.ref == "examples.deploy_on_webhook"
        )
        info = _text(pane.query_one("#rule-info"))
        for text in (
            "core.st2.webhook",
            "trigger.body.env",
            "regex",
            "examples.deploy",
            "{{trigger.body.version}}",
        ):
            assert text in info
        enforcements = api.get("/ruleenforcements", rule_ref="examples.deploy_on_webhook", limit=20).json()
        table = pane.query_one(EnforcementsTable)
        assert [row.key for row in table.rows] == [doc["execution_id"] for doc in enforcements]
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert [m.execution_id for m in _distinct(messages, ExecutionOpenRequested)] == [
            enforcements[0]["execution_id"]
        ]
        await _back_to_main(pilot)
        await pilot.press("escape")
        assert not pane.query_one("#rule-detail").display


async def test_a_server_error_is_a_notification_with_its_faultstring(fresh_server, make_app, rest):
    api = rest(fresh_server)
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        pane = app.screen.query_one(RulesPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0)
        assert api.client.delete("/api/v1/rules/examples.every-minute").status_code == 204
        fault = api.client.get("/api/v1/rules/examples.every-minute").json()["faultstring"]
        pane.table.move_to("examples.every-minute")
        await pilot.press("e", "y")
        await wait_for(pilot, lambda: any(n.message == fault for n in app._notifications), what="the fault")
        assert app.is_running
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "examples.every-minute" not in pane.rules)


# -- keys ---------------------------------------------------------------------------------------------


async def test_keys_by_scope_and_prefix_with_secrets_revealed_only_on_request(fresh_server, make_app, rest):
    api = rest(fresh_server)
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        pane = app.screen.query_one(KeysPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0, what="the keys")
        system = api.get("/keys").json()
        assert sorted(key.name for key in pane.keys.values()) == sorted(doc["name"] for doc in system)

        secret = "st2kv.system//api_password"
        plain = api.get("/keys/api_password", decrypt="true").json()["value"]
        assert _cell(pane.table, secret, 1) == SECRET_MASK
        assert not any(plain in str(cell) for row in pane.table.rows for cell in row.cells)
        pane.table.move_to(secret)
        await pilot.press("v")
        await wait_for(pilot, lambda: _cell(pane.table, secret, 1) == plain, what="the decrypted value")
        await pilot.press("v")
        assert _cell(pane.table, secret, 1) == SECRET_MASK

        await pilot.press("s")
        user_keys = api.get("/keys", scope="st2kv.user").json()
        await wait_for(
            pilot, lambda: pane.scope == "user" and len(pane.keys) == len(user_keys) and pane.loaded
        )
        await wait_for(
            pilot, lambda: sorted(k.name for k in pane.keys.values()) == sorted(d["name"] for d in user_keys)
        )
        await pilot.press("s")
        await pilot.press("slash", *"deploy", "enter")
        await wait_for(pilot, lambda: pane.prefix == "deploy" and pane.scope == "all")
        expected = api.get("/keys", scope="all", prefix="deploy").json()
        await wait_for(
            pilot, lambda: sorted(k.name for k in pane.keys.values()) == sorted(d["name"] for d in expected)
        )
        assert all(key.name.startswith("deploy") for key in pane.keys.values())


async def test_keys_are_listed_by_name(st2_server, make_app, rest):
    api = rest(st2_server)
    names = ["zz_sorted_last", "aa_sorted_first", "mm_sorted_middle"]
    for name in names:  # stored out of order
        assert api.client.put(f"/api/v1/keys/{name}", json={"name": name, "value": "v"}).status_code == 200
    app = make_app(st2_server)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("4")
            pane = app.screen.query_one(KeysPane)
            await wait_for(pilot, lambda: pane.loaded and "st2kv.system//zz_sorted_last" in pane.keys)
            shown = [str(row.cells[0]) for row in pane.table.rows]
            assert shown == sorted(shown), shown
            assert (
                shown.index("aa_sorted_first")
                < shown.index("mm_sorted_middle")
                < shown.index("zz_sorted_last")
            )
    finally:
        for name in names:
            api.client.delete(f"/api/v1/keys/{name}")


async def test_a_key_is_deleted_after_confirmation(fresh_server, make_app, rest):
    api = rest(fresh_server)
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        pane = app.screen.query_one(KeysPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0)
        pane.table.move_to("st2kv.system//slack_channel")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: "st2kv.system//slack_channel" not in pane.keys)
        assert api.client.get("/api/v1/keys/slack_channel").status_code == 404


async def test_key_expiry_counts_down(fresh_server, make_app, rest, monkeypatch):
    api = rest(fresh_server)
    api.client.put("/api/v1/keys/short_lived", json={"name": "short_lived", "value": "x", "ttl": 3600})
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        pane = app.screen.query_one(KeysPane)
        row = "st2kv.system//short_lived"
        await wait_for(pilot, lambda: pane.table.has_row(row))
        expiry = pane.keys[row].expire_timestamp
        monkeypatch.setattr(formatting, "now", lambda: expiry - timedelta(minutes=2, seconds=5))
        await wait_for(pilot, lambda: _cell(pane.table, row, 5) == "in 2m05s")
        monkeypatch.setattr(formatting, "now", lambda: expiry + timedelta(seconds=1))
        await wait_for(pilot, lambda: _cell(pane.table, row, 5) == "expired")


# -- inquiries ----------------------------------------------------------------------------------------


async def test_pending_inquiries_with_their_workflow_and_a_badge(fresh_server, make_app, rest, add_inquiry):
    api = rest(fresh_server)
    workflow_id, inquiry_id = add_inquiry(fresh_server)
    app = make_app(fresh_server)
    messages = []
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        header = app.screen.query_one(StatusHeader)
        await wait_for(pilot, lambda: header.pending_inquiries == 1, what="the badge")
        assert "1 inquiry" in str(header.render())
        await pilot.press("5")
        pane = app.screen.query_one(InquiriesPane)
        await wait_for(pilot, lambda: pane.table.row_count == 1)
        cells = [str(cell) for cell in pane.table.rows[0].cells]
        assert cells[:4] == [
            inquiry_id[-8:],
            "examples.orquesta-ask-basic",
            "get_approval",
            "approved (boolean): Continue?",
        ]
        await pilot.press("enter")
        await pilot.pause()
        assert [m.inquiry.id for m in _distinct(messages, InquiryResponseRequested)] == [inquiry_id]
        await _back_to_main(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert [m.execution_id for m in _distinct(messages, ExecutionOpenRequested)] == [workflow_id]
        await _back_to_main(pilot)

        # Answered elsewhere: the stream says so and the inquiry goes.
        started = api.run("examples.orquesta-ask-basic")
        await wait_for(pilot, lambda: header.pending_inquiries == 2, what="a second inquiry", timeout=15)
        second = next(key for key in pane.pending if key != inquiry_id)
        response = api.client.put(
            f"/api/v1/inquiries/{second}", json={"id": second, "response": {"approved": True}}
        )
        assert response.status_code == 200, response.text
        await wait_for(pilot, lambda: header.pending_inquiries == 1, what="the answered inquiry to go")
        assert (await api.finished(started["id"]))["status"] == "succeeded"
