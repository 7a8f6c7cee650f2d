"""The actions pane: actions grouped by pack; the selected one's description, runner, parameters
and latest executions."""

from __future__ import annotations

import json
from collections.abc import Iterable

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static, Tree

from st2tui import formatting
from st2tui.api_errors import St2Error
from st2tui.formatting import duration, short_timestamp, status_text
from st2tui.messages import (
    ActionDetailLoaded,
    ActionsLoaded,
    ApiFailed,
    ExecutionOpenRequested,
    RunActionRequested,
)
from st2tui.models import Action, Execution, ParameterSpec
from st2tui.widgets.filter_bar import FilterBar
from st2tui.widgets.navigable_tree import NavigableTree, tree_bindings
from st2tui.widgets.pane import Pane, PaneCommand
from st2tui.widgets.table import Column, RecordTable, TableRow

RECENT_LIMIT = 10
RECENT_COLUMNS = (
    Column("status", "Status", 11),
    Column("id", "ID", 8),
    Column("user", "User", 9, drop=1),
    Column("trigger", "Triggered by", 12, flex=1, drop=2),
    Column("started", "Started", 15),
    Column("elapsed", "Elapsed", 7, justify="right"),
)


class ActionsTree(NavigableTree):
    """Packs with their actions; a leaf's data is the action ref."""

    BINDING_GROUP_TITLE = "Actions"
    BINDINGS = [
        *tree_bindings("actions"),
        # Tree's own enter, under an id of ours: listed with st2tui's keys in the help, remappable.
        Binding(
            "enter",
            "select_cursor",
            "Open",
            show=False,
            id="actions.open",
            tooltip="The run form of the action; on a pack, unfold or fold it",
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Packs", id=id)
        self.show_root = False
        self.guide_depth = 2

    def show(self, actions: Iterable[Action], words: str) -> None:
        """Rebuild from `actions`, keeping those whose ref or description contains every word."""
        selected = self.cursor_node.data if self.cursor_node is not None else None
        wanted = words.lower().split()
        by_pack: dict[str, list[Action]] = {}
        for action in actions:
            haystack = f"{action.ref} {action.description} {action.runner_type}".lower()
            if all(word in haystack for word in wanted):
                by_pack.setdefault(action.pack, []).append(action)
        self.clear()
        # From no line, so that moving the cursor below always announces the highlighted action.
        self.cursor_line = -1
        target = None
        for pack, members in sorted(by_pack.items()):
            branch = self.root.add(Text.assemble((pack, "bold"), (f"  {len(members)}", "dim")), expand=True)
            for action in members:
                label = Text(action.name, style="" if action.enabled else "dim strike")
                leaf = branch.add_leaf(label, data=action.ref)
                if target is None or action.ref == selected:
                    target = leaf
        if target is not None:
            # Lines exist only after the next refresh; then the cursor (and the detail) follow.
            self.call_after_refresh(self.move_cursor, target)


class RecentExecutionsTable(RecordTable):
    """The latest executions of one action."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(RECENT_COLUMNS, id=id)


def _parameters_text(parameters: dict[str, ParameterSpec]) -> Text:
    """One entry per parameter: name, type, default and flags on a line, the description under it
    (reads well at any width, unlike columns)."""
    text = Text()
    for spec in parameters.values():
        if text:
            text.append("\n")
        text.append(spec.name, style="bold")
        if spec.required:
            text.append(" *", style="bold red")
        kind = spec.type or "any"
        if spec.enum:
            kind += f" ({'|'.join(str(value) for value in spec.enum)})"
        text.append(f"  {kind}", style="cyan")
        if spec.has_default:
            if spec.secret and spec.default in (None, ""):
                shown = "(empty)" if spec.default == "" else "(unset)"
            else:
                shown = formatting.SECRET_MASK if spec.secret else json.dumps(spec.default)
            text.append(f"  = {shown}", style="green")
        if spec.secret:
            text.append("  secret", style="yellow")
        if spec.immutable:
            text.append("  fixed", style="dim")
        if spec.description:
            text.append(f"\n  {spec.description}", style="dim")
    return text


class ActionsPane(Pane):
    """Browse actions by pack; `r` (or enter) opens the run form of the selected one."""

    BINDING_GROUP_TITLE = "Actions"
    MUTATING_ACTIONS = frozenset({"run"})

    BINDINGS = [
        Binding("r", "run", "Run", id="actions.run", tooltip="Open the run form of the selected action"),
        Binding(
            "slash",
            "filter",
            "Filter",
            id="actions.filter",
            tooltip="Show actions whose ref or description match",
        ),
    ]

    utc: reactive[bool] = reactive(False, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.actions: dict[str, Action] = {}
        self.words = ""
        self.loaded = False
        self.detail: ActionDetailLoaded | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="actions-list", classes="subpane"):
                yield FilterBar("words in the ref or description…", id="actions-filter")
                yield ActionsTree(id="actions-tree")
            with Vertical(id="action-detail", classes="subpane"):
                with VerticalScroll(id="action-info-scroll"):
                    yield Static("Select an action.", id="action-info")
                yield Static("Latest executions", classes="section-title")
                yield RecentExecutionsTable(id="action-recent")

    def on_mount(self) -> None:
        self.query_one("#actions-list").border_title = "Packs and actions"
        self.query_one("#action-detail").border_title = "Action"
        self.query_one(RecentExecutionsTable).empty_text = "No executions of this action yet."

    @property
    def actions_tree(self) -> ActionsTree:
        return self.query_one(ActionsTree)

    def focus_main(self) -> None:
        self.focus_now(self.actions_tree)

    @property
    def selected_ref(self) -> str | None:
        node = self.actions_tree.cursor_node
        return node.data if node is not None else None

    # -- loading -----------------------------------------------------------------------------------------

    def reload(self) -> None:
        self.loaded = True
        self.load_actions()

    def resync(self) -> None:
        """Read the actions again if they were shown (the selection, and its details, follow)."""
        if self.loaded:
            self.load_actions()

    @work(exclusive=True, group="actions-list", description="Loading actions")
    async def load_actions(self) -> None:
        try:
            page = await self.app.client.actions.list()
        except St2Error as exc:
            self.post_message(ApiFailed("Loading actions", exc))
            return
        self.post_message(ActionsLoaded(page.items))

    @work(exclusive=True, group="action-detail", description="Loading the action")
    async def load_detail(self, ref: str) -> None:
        client = self.app.client
        try:
            action = await client.actions.get(ref)
            parameters = await client.actions.parameters(ref)
            recent = await client.executions.list(
                action=ref,
                limit=RECENT_LIMIT,
                sort_desc=True,
                exclude_attributes=["result", "trigger_instance"],
            )
        except St2Error as exc:
            self.post_message(ApiFailed(f"Loading action {ref}", exc))
            return
        self.post_message(ActionDetailLoaded(action, parameters, recent))

    @on(ActionsLoaded)
    def _show_actions(self, event: ActionsLoaded) -> None:
        event.stop()
        self.actions = {action.ref: action for action in event.actions}
        self.actions_tree.show(self.actions.values(), self.words)
        self.query_one("#actions-list").border_subtitle = f"{len(self.actions)} actions"

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        ref = event.node.data
        if ref and (self.detail is None or self.detail.action.ref != ref):
            self.load_detail(ref)

    @on(ActionDetailLoaded)
    def _show_detail(self, event: ActionDetailLoaded) -> None:
        event.stop()
        self.detail = event
        self._render_detail()

    def _render_detail(self) -> None:
        if self.detail is None:
            return
        action, parameters, recent = self.detail.action, self.detail.parameters, self.detail.recent
        heading = Text(action.ref, style="bold")
        if not action.enabled:
            heading.append("  disabled", style="bold red")
        facts = Text.assemble(
            ("runner ", "dim"),
            (action.runner_type, "cyan"),
            ("  entry point ", "dim"),
            action.entry_point or "—",
        )
        parts: list[object] = [heading, Text(action.description or "No description.", style="italic"), facts]
        if parameters:
            parts += [Text("\nParameters", style="bold underline"), _parameters_text(parameters)]
        else:
            parts += [Text("No parameters.", style="dim")]
        self.query_one("#action-info", Static).update(Group(*parts))
        self.query_one("#action-detail").border_title = action.ref
        total = f"{recent.total:,}" if recent.total is not None else str(len(recent))
        self.query_one("#action-detail").border_subtitle = f"{total} executions"
        self.query_one(RecentExecutionsTable).set_rows(self._recent_row(execution) for execution in recent)

    def _recent_row(self, execution: Execution) -> TableRow:
        return TableRow(
            execution.id,
            [
                status_text(execution.status),
                Text(execution.short_id, style="dim"),
                execution.user,
                Text(execution.triggered_by, style="dim" if execution.triggered_by == "manual" else ""),
                short_timestamp(execution.start_timestamp, utc=self.utc),
                duration(execution.elapsed(formatting.now())),
            ],
        )

    def watch_utc(self) -> None:
        self._render_detail()

    # -- actions -----------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def apply_filter(self, words: str) -> bool:
        self.words = words
        self.query_one(FilterBar).set_applied(words)
        self.actions_tree.show(self.actions.values(), words)
        return True

    def action_run(self) -> None:
        if self.selected_ref:
            self.post_message(RunActionRequested(self.selected_ref))

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if event.node.data and self.check_action("run", ()):
            self.action_run()

    @on(RecordTable.RowActivated)
    def _recent_activated(self, event: RecordTable.RowActivated) -> None:
        event.stop()
        self.post_message(ExecutionOpenRequested(event.key))

    def palette_commands(self) -> Iterable[PaneCommand]:
        ref = self.selected_ref
        if ref:
            yield PaneCommand(f"Run action {ref}", "Open its run form", "run")
        yield PaneCommand("Filter actions…", "Words in the ref or description", "filter")
