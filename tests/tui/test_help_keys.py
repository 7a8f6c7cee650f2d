"""F1 and ? open the help on every screen; the help lists st2tui's keys first, as they are typed; the
command palette lists st2tui's commands before Textual's system commands."""

from __future__ import annotations

from support.tui import wait_for
from textual.command import CommandList, CommandPalette

from st2tui.messages import ExecutionOpenRequested
from st2tui.screens.execution import ExecutionKeysScreen, ExecutionScreen
from st2tui.screens.help import HelpScreen
from st2tui.widgets.executions import ExecutionsPane


def textual_last(entries) -> bool:
    """Textual's generic entries (focus moves, copy, ctrl+q, its tree's extra keys: the ones without
    st2tui's explanation), if any, come after every one of st2tui's."""
    flags = [not entry.tooltip or entry.tooltip.startswith("Quit the app and return") for entry in entries]
    return not flags[0] and flags == sorted(flags)


async def _ready(pilot, app) -> ExecutionsPane:
    pane = app.screen.query_one(ExecutionsPane)
    await wait_for(pilot, lambda: pane.table.row_count > 0, what="executions")
    return pane


async def test_f1_opens_the_help_and_lists_st2tuis_keys_first_as_typed(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await _ready(pilot, app)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        entries = app.screen.entries
        keys = {entry.description: entry.keys for entry in entries}
        # Keys as typed, each once: not the arrow shown twice.
        assert keys["Expand"] == "→/l" and keys["Collapse"] == "←/h", keys
        assert keys["Up"] == "↑/k" and keys["Help"] == "?/F1", keys
        assert keys["Open"] == "enter" and keys["Reload"] == "ctrl+r", keys
        assert not any("→ →" in entry.keys for entry in entries)
        # st2tui's areas first; Textual's generic bindings (focus moves, copy) only after all of them.
        assert textual_last(entries), " | ".join(f"{e.group}:{e.description}" for e in entries)
        await pilot.press("f1")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="the help to close")


async def test_f1_opens_the_help_on_the_execution_screen(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await _ready(pilot, app)
        app.post_message(ExecutionOpenRequested(pane.selected_execution.id))
        await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen), what="the execution screen")
        await wait_for(pilot, lambda: app.screen.execution is not None, what="the execution")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, ExecutionKeysScreen), what="the keys sheet")
        keys = {entry.description: entry.keys for entry in app.screen.entries}
        assert keys["Help"] == "?/F1" and keys["Back"] == "escape", keys
        assert textual_last(app.screen.entries), " | ".join(
            f"{e.group}:{e.description}" for e in app.screen.entries
        )


async def test_palette_lists_st2tuis_commands_before_textuals(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await _ready(pilot, app)
        ours = {command.title for command in app.screen.palette_commands()}
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")

        def titles() -> list[str]:
            options = app.screen.query_one(CommandList).options
            return [str(option.hit.text) for option in options if getattr(option, "hit", None)]

        # Textual's system commands (Theme, Screenshot, Quit) are listed too, after st2tui's.
        await wait_for(pilot, lambda: "Theme" in titles() and ours <= set(titles()), what="every command")
        listed = titles()
        assert all(title in ours for title in listed[: len(ours)]), listed
        assert "Keys" not in listed  # Textual's key panel: st2tui's help replaces it
        await pilot.press(*"the")
        await wait_for(pilot, lambda: 0 < len(titles()) < len(listed), what="the search")
        searched = titles()
        assert "Theme" in searched and searched[0] in ours, searched


async def test_enter_in_the_actions_tree_is_one_of_st2tuis_keys(st2_server, make_app):
    """The README lists `enter` for the actions pane: it opens the run form and the help lists it there
    (it was Tree's own binding, listed among Textual's)."""
    from st2tui.screens.run_action import RunActionScreen
    from st2tui.widgets.actions import ActionsPane, ActionsTree

    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        tree = app.screen.query_one(ActionsPane).query_one(ActionsTree)
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data, what="actions")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        assert any(e.group == "Actions" and e.keys == "enter" for e in app.screen.entries)
        await pilot.press("escape")
        chosen = tree.cursor_node.data
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunActionScreen), what="the run form")
        assert app.screen.action_ref == chosen
