"""What real StackStorm showed the panes getting wrong (issue 15), against the demo, which now refuses
and streams as st2 does: the list asks only for what st2 accepts, a failed load says so in the pane,
keys changed elsewhere appear without a reload, and a secret with nothing stored does not look full."""

from __future__ import annotations

from support.faults import FaultInjector
from support.tui import wait_for

from st2tui.widgets.executions import LIST_ATTRIBUTES, ExecutionsPane
from st2tui.widgets.keys import KeysPane

SIZE = (120, 36)


def _cell(table, key: str, column: int) -> str:
    return str(table.rows[table.row_index(key)].cells[column])


async def test_executions_list_loads_with_elapsed_times_from_the_timestamps(st2_server, make_app):
    # st2 refuses `elapsed_seconds` in include_attributes (400): the column is worked out instead.
    assert "elapsed_seconds" not in LIST_ATTRIBUTES
    assert not [field for field in LIST_ATTRIBUTES if field.startswith("context.")]
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(ExecutionsPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0, what="the first page")
        finished = [
            execution
            for execution in pane.listing.executions.values()
            if execution.is_terminal and execution.end_timestamp is not None
        ]
        assert finished
        elapsed_column = [column.key for column in pane.table.columns].index("elapsed")
        shown = [str(row.cells[elapsed_column]).strip() for row in pane.table.rows]
        assert sum(1 for text in shown if text) >= len(finished) // 2


async def test_a_failed_first_page_says_why_and_how_to_retry_instead_of_loading(st2_server, make_app):
    faults = FaultInjector()
    refusal = faults.add("status", "/api/v1/executions", status=400)
    app = make_app(st2_server, transport=faults)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one(ExecutionsPane)
        await wait_for(pilot, lambda: refusal.hits > 0, what="the refused list")
        await wait_for(pilot, lambda: "failed" in pane.table.empty_text, what="the failure in the pane")
        assert "Loading executions failed" in pane.table.empty_text
        assert "ctrl+r" in pane.table.empty_text
        faults.clear()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: pane.table.row_count > 0, what="the rows after retrying")


async def test_keys_set_and_deleted_elsewhere_appear_without_a_reload(fresh_server, make_app, rest):
    api = rest(fresh_server)
    app = make_app(fresh_server, refresh_interval=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        pane = app.screen.query_one(KeysPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0, what="the keys")
        key = "st2kv.system//set_by_cli"
        assert key not in pane.keys

        put = api.client.put("/api/v1/keys/set_by_cli", json={"name": "set_by_cli", "value": "hello"})
        assert put.status_code == 200, put.text
        await wait_for(pilot, lambda: key in pane.keys, what="the new key, unasked")
        assert _cell(pane.table, key, 1) == "hello"

        api.client.delete("/api/v1/keys/set_by_cli")
        await wait_for(pilot, lambda: key not in pane.keys, what="the deleted key gone, unasked")


async def test_a_secret_with_nothing_stored_is_shown_empty_not_masked(fresh_server, make_app, rest):
    api = rest(fresh_server)
    put = api.client.put(
        "/api/v1/keys/blank_secret", json={"name": "blank_secret", "value": "", "secret": True}
    )
    assert put.status_code == 200, put.text
    app = make_app(fresh_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        pane = app.screen.query_one(KeysPane)
        key = "st2kv.system//blank_secret"
        await wait_for(pilot, lambda: key in pane.keys, what="the keys")
        stored = pane.keys[key]
        if stored.value:
            # The server sent ciphertext: the pane cannot know it is empty, and must mask it.
            assert _cell(pane.table, key, 1) != "(empty)"
        else:
            assert _cell(pane.table, key, 1) == "(empty)"
