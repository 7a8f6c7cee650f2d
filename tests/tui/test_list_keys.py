"""The README's promise: in every list `k`/`j`, `g`/`G` move the cursor (the actions tree too: a user who
pressed `j` there stayed on the first action and opened the wrong form), and `escape` with nothing open
leaves the pane where it is."""

from __future__ import annotations

from support.tui import wait_for

from st2tui.screens.run_action import RunActionScreen
from st2tui.widgets.actions import ActionsPane, ActionsTree
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.keys import KeysPane
from st2tui.widgets.rules import RulesPane


async def test_j_and_k_move_in_the_actions_tree_and_r_opens_the_action_under_the_cursor(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        pane = app.screen.query_one(ActionsPane)
        tree = pane.query_one(ActionsTree)
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data, what="actions")
        assert app.screen.focused is tree
        first = tree.cursor_node.data
        await pilot.press("j", "j")
        third = tree.cursor_node.data
        assert third and third != first
        await pilot.press("k")
        second = tree.cursor_node.data
        assert second not in (first, third)
        await pilot.press("G")
        assert tree.cursor_line == tree.last_line
        await pilot.press("g")
        assert tree.cursor_line == 0
        # h folds the pack the cursor is in (first to the pack row, then folded), l unfolds it again.
        await pilot.press("j", "h")
        assert tree.cursor_node.children and tree.cursor_node.data is None
        await pilot.press("h")
        assert not tree.cursor_node.is_expanded
        await pilot.press("l")
        assert tree.cursor_node.is_expanded
        await pilot.press("j", "j")
        chosen = tree.cursor_node.data
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunActionScreen), what="the run form")
        assert app.screen.action_ref == chosen


async def test_j_k_g_and_shift_g_move_in_every_table(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 40)) as pilot:
        for key, pane_type in (("1", ExecutionsPane), ("3", RulesPane), ("4", KeysPane)):
            await pilot.press(key)
            pane = app.screen.query_one(pane_type)
            table = pane.table
            await wait_for(
                pilot, lambda table=table: len(table.rows) > 2, what=f"rows in {pane_type.__name__}"
            )
            await pilot.press("g")
            assert table.cursor == 0
            await pilot.press("j", "j", "k")
            assert table.cursor == 1, pane_type.__name__
            shown = len(table.rows)
            await pilot.press("G")
            # (the executions list then reads its next page: the cursor stays on what was the last row)
            assert table.cursor == shown - 1, pane_type.__name__
            await pilot.press("g")
            assert table.cursor == 0
