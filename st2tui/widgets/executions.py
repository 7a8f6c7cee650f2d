"""The executions pane: a live, filterable, pageable table of executions whose workflows unfold in place.

Over 800 lines because paging, live updates, unfolding and marking all work on one table's rows; the query
language lives in `execution_query` and the activity strip in `activity`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Static

from st2tui import formatting
from st2tui.api_errors import St2Error
from st2tui.formatting import count, duration, short_timestamp, status_text
from st2tui.forms import printable
from st2tui.messages import (
    ActivityLoaded,
    ApiFailed,
    ConfirmationRequested,
    ExecutionChildrenLoaded,
    ExecutionOpenRequested,
    ExecutionsCanceled,
    ExecutionsLoaded,
    ExecutionsRerun,
)
from st2tui.models import Execution, Page
from st2tui.widgets.activity import ActivityStrip
from st2tui.widgets.execution_query import (
    DEFAULT_SORT,
    FILTER_HELP,
    LIST_ATTRIBUTES,
    LIST_FIELDS,
    PAGE_SIZE,
    SORT_KEYS,
    ExecutionQuery,
    QueryError,
    list_params,
    toggle_filter,
)
from st2tui.widgets.filter_bar import FilterBar
from st2tui.widgets.pane import Pane, PaneCommand
from st2tui.widgets.table import Column, RecordTable, TableRow

# A poll or resync re-reads what is loaded, up to this many rows (the rest is kept as it was).
REFRESH_LIMIT = 500
# Page size of the reads that fetch everything of a kind (a workflow's children, the last hour).
API_PAGE = 100
ACTIVITY_WINDOW = timedelta(hours=1)
# The strip counts at most this many executions of the last hour (20 requests); beyond that it is a floor.
ACTIVITY_LIMIT = 2000
ACTIVITY_FIELDS = ["id", "status", "start_timestamp"]

COLUMNS = (
    Column("status", "Status", 11),
    Column("id", "ID", 8),
    Column("action", "Action", 20, flex=2),
    Column("task", "Task", 10, drop=2),
    Column("user", "User", 9, drop=1),
    Column("trigger", "Triggered by", 18, flex=1, drop=3),
    Column("started", "Started", 15),
    Column("elapsed", "Elapsed", 7, justify="right"),
)
SORT_CYCLE = tuple(SORT_KEYS)

LoadMode = Literal["replace", "append", "refresh"]


def slim_document(doc: dict[str, Any], paths: Iterable[str] = LIST_FIELDS) -> dict[str, Any]:
    """`doc` reduced to the dotted `paths`, as the list answers are (stream events carry whole results)."""
    projected: dict[str, Any] = {}
    for path in paths:
        source: Any = doc
        target = projected
        *parents, leaf = path.split(".")
        for part in parents:
            source = source.get(part) if isinstance(source, dict) else None
            if not isinstance(source, dict):
                break
            target = target.setdefault(part, {})
        else:
            if leaf in source:
                target[leaf] = source[leaf]
    return projected


@dataclass(frozen=True)
class VisibleRow:
    """One line of the tree: `key` is the path of ids from the top row, so an execution shown twice
    (as a child and, with show-all, on its own) has two distinct rows."""

    key: str
    execution_id: str
    depth: int
    guides: str
    parent_key: str | None


class ExecutionTree:
    """What the pane knows: the loaded top rows in server order, children of expanded workflows,
    which rows are expanded and which executions are marked."""

    def __init__(self) -> None:
        self.top: list[str] = []
        self.executions: dict[str, Execution] = {}
        self.children: dict[str, list[str]] = {}
        self.expanded: set[str] = set()
        self.loading: set[str] = set()
        self.marked: dict[str, None] = {}

    def reset(self, executions: Iterable[Execution]) -> None:
        self.top = []
        self.children.clear()
        self.expanded.clear()
        self.loading.clear()
        self.executions = {}
        self.extend(executions)
        # Marks stay on the executions still listed (cancel and re-run act on what can be seen).
        self.marked = {eid: None for eid in self.marked if eid in self.executions}

    def extend(self, executions: Iterable[Execution]) -> list[str]:
        """Append a page (ids already loaded, e.g. shifted down by new executions, are skipped);
        returns the ids that were added."""
        present = set(self.top)
        added = []
        for execution in executions:
            self.executions[execution.id] = execution
            if execution.id not in present:
                self.top.append(execution.id)
                present.add(execution.id)
                added.append(execution.id)
        return added

    def refresh_head(self, executions: list[Execution], *, newest_first: bool) -> int:
        """Replace the first rows with a fresh read of them; rows further down stay.

        With newest first, rows newer than the read (the stream brought them while it was under way)
        stay on top; returns how many, as the server's total did not count them.
        """
        head = [execution.id for execution in executions]
        seen = set(head)
        newer: list[str] = []
        if newest_first and executions and executions[0].start_timestamp is not None:
            first = executions[0].start_timestamp
            newer = [
                eid
                for eid in self.top
                if eid not in seen and (self.executions[eid].start_timestamp or first) > first
            ]
        kept = seen | set(newer)
        tail = [eid for eid in self.top[len(head) + len(newer) :] if eid not in kept]
        for execution in executions:
            self.executions[execution.id] = execution
        self.top = newer + head + tail
        return len(newer)

    def insert_top(self, execution: Execution, *, complete: bool) -> bool:
        """Place a new execution among the top rows by start time (newest first).

        Returns False when it falls after the last loaded row and more rows wait on the server:
        paging will bring it in its place.
        """
        self.executions[execution.id] = execution
        started = execution.start_timestamp
        for index, eid in enumerate(self.top):
            other = self.executions[eid].start_timestamp
            if started is None or other is None or started >= other:
                self.top.insert(index, execution.id)
                return True
        if complete:
            self.top.append(execution.id)
            return True
        return False

    def add_child(self, execution: Execution) -> bool:
        """Record a new child of a workflow whose children are loaded; True when it was new there."""
        siblings = self.children.get(execution.parent_id or "")
        if siblings is None:
            return False
        self.executions[execution.id] = execution
        if execution.id in siblings:
            return False
        siblings.append(execution.id)
        siblings.sort(key=lambda eid: self.executions[eid].start_timestamp or formatting.now())
        return True

    def remove(self, execution_id: str) -> None:
        if execution_id in self.top:
            self.top.remove(execution_id)
        for siblings in self.children.values():
            if execution_id in siblings:
                siblings.remove(execution_id)
        self.marked.pop(execution_id, None)

    def is_expandable(self, execution: Execution) -> bool:
        return bool(execution.children) or execution.is_workflow

    def flatten(
        self, include_top: Callable[[Execution], bool], top: Iterable[str] | None = None
    ) -> list[VisibleRow]:
        """The rows of the tree (of the `top` ids only when given), in the order shown."""
        rows: list[VisibleRow] = []

        def walk(eid: str, key: str, depth: int, lead: str, last: bool, parent_key: str | None) -> None:
            guides = "" if depth == 0 else lead + ("└─" if last else "├─")
            rows.append(VisibleRow(key, eid, depth, guides, parent_key))
            if key not in self.expanded:
                return
            kids = [kid for kid in self.children.get(eid, []) if kid in self.executions]
            below = "" if depth == 0 else lead + ("  " if last else "│ ")
            for position, kid in enumerate(kids):
                walk(kid, f"{key}/{kid}", depth + 1, below, position == len(kids) - 1, key)

        for eid in self.top if top is None else top:
            execution = self.executions.get(eid)
            if execution is not None and include_top(execution):
                walk(eid, eid, 0, "", True, None)
        return rows


class ExecutionsTable(RecordTable):
    """The executions, one row each; workflows unfold into their children in place."""

    BINDINGS = [
        Binding("enter", "activate", "Open", id="executions.open", tooltip="Open the execution screen")
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)


class ExecutionsPane(Pane):
    """Executions, newest first, live from the stream; `/` filters on the server."""

    BINDING_GROUP_TITLE = "Executions"
    MUTATING_ACTIONS = frozenset({"cancel", "rerun"})
    # Marks only gather rows for cancel and re-run: where those are hidden, so are they.
    MARKING_ACTIONS = frozenset({"mark", "unmark"})

    BINDINGS = [
        Binding(
            "right,l",
            "expand",
            "Expand",
            key_display="→",
            id="executions.expand",
            tooltip="Unfold a workflow into its children",
        ),
        Binding(
            "left,h",
            "collapse",
            "Collapse",
            show=False,
            key_display="←",
            id="executions.collapse",
            tooltip="Fold a workflow up, or go to the parent row",
        ),
        Binding("space", "mark", "Mark", id="executions.mark", tooltip="Mark the row for cancel or re-run"),
        Binding(
            "c",
            "cancel",
            "Cancel",
            id="executions.cancel",
            tooltip="Cancel the marked (or selected) executions",
        ),
        Binding(
            "R",
            "rerun",
            "Re-run",
            id="executions.rerun",
            tooltip="Re-run the marked (or selected) executions",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            id="executions.filter",
            tooltip=f"Filter on the server: {FILTER_HELP}",
        ),
        Binding("f", "failures", "Failures", id="executions.failures", tooltip="Show only failed executions"),
        Binding(
            "a",
            "show_all",
            "All/top",
            show=False,
            id="executions.all",
            tooltip="Show child executions too, or top-level only",
        ),
        Binding("s", "sort", "Sort", id="executions.sort", tooltip="Sort by the next column"),
        Binding(
            "S", "reverse", "Reverse", show=False, id="executions.reverse", tooltip="Reverse the sort order"
        ),
        Binding("U", "unmark", "Unmark all", show=False, id="executions.unmark", tooltip="Clear all marks"),
    ]

    utc: reactive[bool] = reactive(False, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.listing = ExecutionTree()
        self.query_text = ""
        self.filter_query = ExecutionQuery()
        self.top_level_only = True
        self.sort = DEFAULT_SORT
        self.total: int | None = None
        self.loaded = False
        self.loading_more = False
        self.new_unsorted = 0
        self._generation = 0
        self._visible: dict[str, VisibleRow] = {}
        self._rows_for: dict[str, list[str]] = {}
        self._summary = ""
        self._title = ""
        # Row key -> (execution, other inputs, row): what each row was built from; see `_table_row`.
        self._built: dict[str, tuple[Execution, tuple[object, ...], TableRow]] = {}

    def compose(self) -> ComposeResult:
        yield Static("Executions", id="executions-summary", classes="pane-summary")
        yield ActivityStrip(id="activity")
        yield FilterBar("status:failed action:core.local user:alice since:1h words…", id="executions-filter")
        yield ExecutionsTable(id="executions-table")

    @property
    def table(self) -> ExecutionsTable:
        return self.query_one(ExecutionsTable)

    @property
    def activity(self) -> ActivityStrip:
        return self.query_one(ActivityStrip)

    def on_mount(self) -> None:
        self.table.empty_text = "Loading executions…"
        self.table.show_sort(*self.sort)
        # Elapsed time of running executions ticks; finished ones are fixed.
        self.set_interval(1.0, self._tick)

    def focus_main(self) -> None:
        self.focus_now(self.table)

    # -- what is selected --------------------------------------------------------------------------------

    @property
    def visible_rows(self) -> list[VisibleRow]:
        """The rows in the order shown."""
        return list(self._visible.values())

    @property
    def selected_row(self) -> VisibleRow | None:
        key = self.table.cursor_key
        return self._visible.get(key) if key else None

    @property
    def selected_execution(self) -> Execution | None:
        row = self.selected_row
        return self.listing.executions.get(row.execution_id) if row else None

    def _targets(self) -> list[Execution]:
        """The marked executions, else the selected one."""
        if self.listing.marked:
            return [
                self.listing.executions[eid] for eid in self.listing.marked if eid in self.listing.executions
            ]
        selected = self.selected_execution
        return [selected] if selected else []

    # -- loading -----------------------------------------------------------------------------------------

    def reload(self, first_page: tuple[dict[str, Any], Page[Execution]] | None = None) -> None:
        """Read the executions again from the first page (new filter, sort or a manual reload).
        `first_page`: a first page already asked for (on start), shown if it answers this query."""
        self._generation += 1
        self.loaded = True
        self.new_unsorted = 0
        self.loading_more = False
        self.workers.cancel_group(self, "executions-more")
        self.table.empty_text = "Loading executions…"
        if first_page is not None and first_page[0] == {"limit": PAGE_SIZE, **self._list_params()}:
            self.workers.cancel_group(self, "executions-list")
            # Shown now, not posted: on start this puts the rows in the first frame; the activity strip's
            # request waits until that frame is drawn.
            self._show_page(ExecutionsLoaded(first_page[1], self._generation, "replace"))
            self.call_after_refresh(self.load_activity)
        else:
            self.load_page("replace")
            self.load_activity()

    def resync(self) -> None:
        """Re-read what is on screen (polling, or after the stream came back)."""
        if not self.loaded:
            return
        self.load_page("refresh")
        self.load_activity()
        for execution_id in {key.rsplit("/", 1)[-1] for key in self.listing.expanded}:
            self._fetch_children(execution_id)

    def _list_params(self) -> dict[str, object]:
        return list_params(
            self.filter_query,
            top_level_only=self.top_level_only,
            sort=self.sort,
            now=formatting.now(),
            utc=self.utc,
        )

    def load_page(self, mode: LoadMode) -> None:
        # Paging has a group of its own: a poll re-reading the first rows must not cancel it.
        group = "executions-more" if mode == "append" else "executions-list"
        # A callable, not a coroutine: a worker replaced before it starts then leaves nothing un-awaited.
        self.run_worker(
            partial(self._load_page, mode, self._generation),
            group=group,
            exclusive=True,
            description="Loading executions",
        )

    async def _load_page(self, mode: LoadMode, generation: int) -> None:
        loaded = len(self.listing.top)
        if mode == "append":
            offset, limit = loaded, PAGE_SIZE
        elif mode == "refresh":
            offset, limit = 0, max(PAGE_SIZE, min(loaded, REFRESH_LIMIT))
        else:
            offset, limit = 0, PAGE_SIZE
        try:
            page = await self.app.client.executions.list(
                limit=limit, offset=offset or None, **self._list_params()
            )
        except St2Error as exc:
            self.loading_more = False
            self.post_message(ApiFailed("Loading executions", exc))
            return
        self.post_message(ExecutionsLoaded(page, generation, mode))

    @work(exclusive=True, group="executions-activity", description="Counting activity")
    async def load_activity(self) -> None:
        since = formatting.now() - ACTIVITY_WINDOW
        found: list[Execution] = []
        try:
            while len(found) < ACTIVITY_LIMIT:
                page = await self.app.client.executions.list(
                    parent="null",
                    timestamp_gt=since,
                    include_attributes=ACTIVITY_FIELDS,
                    limit=API_PAGE,
                    offset=len(found) or None,
                )
                found += page.items
                if not page.items or not page.has_more:
                    break
        except St2Error as exc:
            self.post_message(ApiFailed("Counting the last hour's executions", exc))
            return
        self.post_message(ActivityLoaded(found))

    @on(ActivityLoaded)
    def _show_activity(self, event: ActivityLoaded) -> None:
        event.stop()
        self.activity.reset(event.executions)

    def _fetch_children(self, parent_id: str) -> None:
        # One exclusive group per workflow: unfolding another workflow must not cancel this one.
        self.listing.loading.add(parent_id)
        self.run_worker(
            partial(self._load_children, parent_id),
            group=f"execution-children:{parent_id}",
            exclusive=True,
            description=f"Loading the children of {parent_id}",
        )

    async def _load_children(self, parent_id: str) -> None:
        children: list[Execution] = []
        try:
            while True:
                page = await self.app.client.executions.list(
                    parent=parent_id,
                    sort_asc=True,
                    limit=API_PAGE,
                    offset=len(children) or None,
                    include_attributes=LIST_ATTRIBUTES,
                )
                children += page.items
                if not page.items or not page.has_more:
                    break
        except St2Error as exc:
            self.post_message(ApiFailed("Loading child executions", exc))
            self.post_message(ExecutionChildrenLoaded(parent_id, None))
            return
        self.post_message(ExecutionChildrenLoaded(parent_id, children))

    @on(ExecutionsLoaded)
    def _show_page(self, event: ExecutionsLoaded) -> None:
        event.stop()
        if event.mode == "append":
            self.loading_more = False
        if event.generation != self._generation:
            return  # an answer to a filter or sort that was replaced since
        page = event.page
        items = [self._slim(execution) for execution in page]
        newer = 0
        if event.mode == "append":
            added = self.listing.extend(items)
            if page.total is not None:
                self.total = page.total
            # The rows above stay as they are: only the page's own rows are drawn (a rebuild of every
            # loaded row made each page slower than the one before).
            self._append(added)
            for execution_id in {execution.id for execution in items} - set(added):
                self._redraw(execution_id)
            return
        if event.mode == "refresh":
            newer = self.listing.refresh_head(items, newest_first=self.sort == DEFAULT_SORT)
            self.activity.record(items)
        else:
            listed = {execution.id for execution in items}
            # A reload keeps what was unfolded when it is still listed, and reads its children again.
            expanded = {key for key in self.listing.expanded if key.split("/", 1)[0] in listed}
            self.listing.reset(items)
            self.listing.expanded = expanded
            for execution_id in {key.rsplit("/", 1)[-1] for key in expanded}:
                self._fetch_children(execution_id)
        if page.total is not None:
            self.total = page.total + (newer if event.mode == "refresh" else 0)
        filtered = bool(self.filter_query.source) or not self.top_level_only
        self.table.empty_text = "No executions match this filter." if filtered else "No executions yet."
        self._rebuild()

    @on(ExecutionChildrenLoaded)
    def _show_children(self, event: ExecutionChildrenLoaded) -> None:
        event.stop()
        self.listing.loading.discard(event.parent_id)
        if event.children is None:
            # The load failed (already reported): fold the rows back up.
            self.listing.expanded = {
                key for key in self.listing.expanded if not key.endswith(event.parent_id)
            }
        else:
            for child in event.children:
                self.listing.executions[child.id] = self._slim(child)
            self.listing.children[event.parent_id] = [child.id for child in event.children]
        self._rebuild()

    # -- live updates ------------------------------------------------------------------------------------

    def apply_updates(self, changed: dict[str, Execution], deleted: set[str]) -> None:
        """Apply a burst of stream (or poll) changes; the table is rebuilt at most once."""
        if not self.loaded:
            return
        now = formatting.now()
        structural = False
        touched: list[str] = []
        for execution in changed.values():
            if execution.id in self.listing.executions:
                self.listing.executions[execution.id] = execution
                touched.append(execution.id)
                structural |= self.listing.add_child(execution)
                continue
            if execution.parent_id and self.listing.add_child(execution):
                structural = True
            if self._belongs_on_top(execution, now):
                if self.sort != DEFAULT_SORT:
                    # Another order: a new row has no sure place among the loaded ones; say so instead.
                    self.new_unsorted += 1
                elif self.listing.insert_top(execution, complete=self._complete):
                    structural = True
                    if self.total is not None:
                        self.total += 1
        for execution_id in deleted:
            if execution_id in self.listing.executions:
                self.listing.remove(execution_id)
                structural = True
        if structural:
            self._rebuild()
        else:
            for execution_id in touched:
                self._redraw(execution_id)
            self._update_summary()
        self.activity.record(changed.values())

    @property
    def _complete(self) -> bool:
        """True when every listed execution is loaded (nothing further down on the server)."""
        return self.total is not None and len(self.listing.top) >= self.total

    def _slim(self, execution: Execution) -> Execution:
        # Servers may answer more than was asked for (whole sub-documents for dotted fields): keep
        # only what is shown, so every loaded row stays small.
        return Execution.from_dict(slim_document(execution.raw, self.stream_fields))

    @property
    def stream_fields(self) -> list[str]:
        """What the pane needs of each streamed execution: the table's fields and the filter's paths."""
        return [*LIST_FIELDS, *self.filter_query.paths]

    def _belongs_on_top(self, execution: Execution, now: datetime) -> bool:
        if execution.parent_id and self.top_level_only and not self.filter_query.has_parent_filter:
            return False
        return self.filter_query.matches(execution, now=now, utc=self.utc)

    def _tick(self) -> None:
        for execution_id in list(self._rows_for):
            execution = self.listing.executions.get(execution_id)
            if execution is not None and not execution.is_terminal and execution.start_timestamp is not None:
                self._redraw(execution_id)

    # -- drawing -----------------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        rows = self.listing.flatten(self.filter_query.matches_words)
        self._visible = {row.key: row for row in rows}
        self._rows_for = {}
        for row in rows:
            self._rows_for.setdefault(row.execution_id, []).append(row.key)
        utc = self.utc
        self.table.set_rows([self._table_row(row, utc) for row in rows])
        self._built = {row.key: self._built[row.key] for row in rows if row.key in self._built}
        self._update_summary()

    def _append(self, top: list[str]) -> None:
        """Draw the rows of the top-level executions `top`, just added after all the others."""
        rows = self.listing.flatten(self.filter_query.matches_words, top)
        for row in rows:
            self._visible[row.key] = row
            self._rows_for.setdefault(row.execution_id, []).append(row.key)
        utc = self.utc
        self.table.append_rows([self._table_row(row, utc) for row in rows])
        self._update_summary()

    def _redraw(self, execution_id: str) -> None:
        for key in self._rows_for.get(execution_id, ()):
            self.table.update_row(self._table_row(self._visible[key], self.utc, fresh=True))

    def _table_row(self, row: VisibleRow, utc: bool, *, fresh: bool = False) -> TableRow:
        """The table row of `row`; rebuilt only when what it shows changed (a new execution among a
        thousand loaded ones must not rebuild them all), or when `fresh` (elapsed time ticks)."""
        execution = self.listing.executions[row.execution_id]
        listing = self.listing
        marked = execution.id in listing.marked
        inputs = (row.guides, row.key in listing.expanded, execution.id in listing.loading, marked, utc)
        built = self._built.get(row.key)
        # The same Execution object means the same state (updates replace the object); checked before
        # anything is worked out, as every loaded row passes here on each rebuild.
        if built is not None and not fresh and built[0] is execution and built[1] == inputs:
            return built[2]
        _, expanded, loading, _, _ = inputs
        if loading:
            marker = "… "
        elif listing.is_expandable(execution):
            marker = "▾ " if expanded else "▸ "
        else:
            marker = "  " if row.depth == 0 else "─ "
        table_row = self._build_row(row, execution, marker, marked)
        self._built[row.key] = (execution, inputs, table_row)
        return table_row

    def _build_row(self, row: VisibleRow, execution: Execution, marker: str, marked: bool) -> TableRow:
        action = Text.assemble((row.guides, "dim"), (marker, "bold"), execution.action_ref)
        trigger = execution.triggered_by
        cells = [
            status_text(execution.status),
            Text(execution.short_id, style="dim"),
            action,
            execution.task_name or "",
            execution.user,
            Text(trigger, style="dim" if trigger == "manual" else ""),
            short_timestamp(execution.start_timestamp, utc=self.utc),
            duration(execution.elapsed(formatting.now())),
        ]
        return TableRow(row.key, cells, marked=marked)

    def _update_summary(self) -> None:
        shown = len(self.listing.top)
        total = self.total if self.total is not None else shown
        parts = [
            "top-level" if self.top_level_only else "all executions",
            f"1-{count(shown)} of {count(total)}" if shown else f"0 of {count(total)}",
        ]
        if self.filter_query.words:
            matching = sum(1 for row in self._visible.values() if row.depth == 0)
            parts.append(f"{matching} loaded match “{' '.join(self.filter_query.words)}”")
        column, reverse = self.sort
        parts.append(f"by {column} {'▼' if reverse else '▲'}")
        parts.append("UTC" if self.utc else "local time")
        if self.listing.marked:
            parts.append(f"{len(self.listing.marked)} marked")
        if self.new_unsorted:
            parts.append(f"{self.new_unsorted} new: ctrl+r")
        summary = " · ".join(parts)
        if summary == self._summary:
            return  # a burst of updates mostly leaves it as it was: no redraw then
        self._summary = summary
        # One line, fixed height: no layout pass needed (bursts arrive many times a second).
        self.query_one("#executions-summary", Static).update(Text(summary), layout=False)
        title = "Executions" + (
            f"  {printable(self.filter_query.source)}" if self.filter_query.source else ""
        )
        if title != self._title:
            self._title = title
            self.border_title = Text(title)  # as typed: a filter is not markup

    def watch_utc(self) -> None:
        label = "Started UTC" if self.utc else "Started"
        self.table.set_columns([replace(c, label=label) if c.key == "started" else c for c in COLUMNS])
        self._rebuild()

    # -- filter and sort ---------------------------------------------------------------------------------

    def apply_filter(self, text: str) -> bool:
        """Use `text` as the filter (server-side words reload); False and a notice when it is wrong."""
        try:
            query = ExecutionQuery.parse(text, now=formatting.now(), utc=self.utc)
        except QueryError as exc:
            self.notify(printable(str(exc)), title="Filter", severity="error", markup=False)
            return False
        only_words_changed = (
            query.filters == self.filter_query.filters
            and query.paths == self.filter_query.paths
            and (query.since, query.until) == (self.filter_query.since, self.filter_query.until)
        )
        self.query_text, self.filter_query = text, query
        self.query_one(FilterBar).set_applied(text)
        if only_words_changed and self.loaded:
            self._rebuild()
        else:
            self.reload()
        return True

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_failures(self) -> None:
        self.apply_filter(toggle_filter(self.query_text, "status", "failed"))

    def action_show_all(self) -> None:
        self.top_level_only = not self.top_level_only
        self.reload()

    def _sort_by(self, column: str, reverse: bool) -> None:
        self.sort = (column, reverse)
        self.table.show_sort(column, reverse)
        self.reload()

    def action_sort(self) -> None:
        column, _ = self.sort
        following = SORT_CYCLE[(SORT_CYCLE.index(column) + 1) % len(SORT_CYCLE)]
        self._sort_by(following, following == "started")

    def action_reverse(self) -> None:
        column, reverse = self.sort
        self._sort_by(column, not reverse)

    @on(RecordTable.HeaderClicked)
    def _header_clicked(self, event: RecordTable.HeaderClicked) -> None:
        event.stop()
        if event.column not in SORT_KEYS:
            self.notify(f"The server cannot sort by {event.column}.", severity="warning")
            return
        column, reverse = self.sort
        self._sort_by(event.column, not reverse if column == event.column else event.column == "started")

    @on(RecordTable.NearEnd)
    def _near_end(self, event: RecordTable.NearEnd) -> None:
        event.stop()
        if (
            self.loaded
            and not self.loading_more
            and self.total is not None
            and len(self.listing.top) < self.total
        ):
            self.loading_more = True
            self.load_page("append")

    # -- tree --------------------------------------------------------------------------------------------

    def action_expand(self) -> None:
        row, execution = self.selected_row, self.selected_execution
        if row is None or execution is None or not self.listing.is_expandable(execution):
            return
        if row.key in self.listing.expanded:
            self.table.action_cursor_down()
            return
        self.listing.expanded.add(row.key)
        if execution.id not in self.listing.children:
            self._fetch_children(execution.id)
        self._rebuild()

    def action_collapse(self) -> None:
        row = self.selected_row
        if row is None:
            return
        if row.key in self.listing.expanded:
            self.listing.expanded.discard(row.key)
            self._rebuild()
        elif row.parent_key is not None:
            self.table.move_to(row.parent_key)

    # -- marks and actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MARKING_ACTIONS and self.readonly:
            return False
        return super().check_action(action, parameters)

    def action_mark(self) -> None:
        execution = self.selected_execution
        if execution is None:
            return
        if execution.id in self.listing.marked:
            del self.listing.marked[execution.id]
        else:
            self.listing.marked[execution.id] = None
        self._redraw(execution.id)
        self._update_summary()
        self.table.action_cursor_down()

    def action_unmark(self) -> None:
        marked = list(self.listing.marked)
        self.listing.marked.clear()
        for execution_id in marked:
            self._redraw(execution_id)
        self._update_summary()

    def action_open(self) -> None:
        execution = self.selected_execution
        if execution is not None:
            self.post_message(ExecutionOpenRequested(execution.id))

    @on(RecordTable.RowActivated)
    def _row_activated(self, event: RecordTable.RowActivated) -> None:
        event.stop()
        self.action_open()

    @staticmethod
    def _listing(executions: list[Execution]) -> str:
        lines = [f"  {e.short_id}  {e.action_ref}  ({e.status})" for e in executions[:8]]
        if len(executions) > 8:
            lines.append(f"  … and {len(executions) - 8} more")
        return "\n".join(lines)

    def action_cancel(self) -> None:
        targets = [execution for execution in self._targets() if execution.is_cancelable]
        if not targets:
            self.notify("Nothing to cancel: the chosen executions have finished.", severity="warning")
            return
        noun = "execution" if len(targets) == 1 else f"{len(targets)} executions"

        def answered(yes: bool | None) -> None:
            if yes:
                self.cancel_executions([execution.id for execution in targets])

        self.post_message(
            ConfirmationRequested(f"Cancel {noun}?", self._listing(targets), "Cancel them", answered)
        )

    def action_rerun(self) -> None:
        targets = self._targets()
        if not targets:
            return
        noun = "execution" if len(targets) == 1 else f"{len(targets)} executions"

        def answered(yes: bool | None) -> None:
            if yes:
                self.rerun_executions([execution.id for execution in targets])

        body = self._listing(targets) + "\n\nEach runs again with its original parameters."
        self.post_message(ConfirmationRequested(f"Re-run {noun}?", body, "Re-run", answered))

    @work(exclusive=True, group="executions-control", description="Canceling executions")
    async def cancel_executions(self, execution_ids: list[str]) -> None:
        canceled, failed = [], {}
        for execution_id in execution_ids:
            try:
                await self.app.client.executions.cancel(execution_id)
            except St2Error as exc:
                failed[execution_id] = exc
            else:
                canceled.append(execution_id)
        self.post_message(ExecutionsCanceled(canceled, failed))

    @work(exclusive=True, group="executions-control", description="Re-running executions")
    async def rerun_executions(self, execution_ids: list[str]) -> None:
        started, failed = [], {}
        for execution_id in execution_ids:
            try:
                started.append(await self.app.client.executions.rerun(execution_id))
            except St2Error as exc:
                failed[execution_id] = exc
        self.post_message(ExecutionsRerun(started, failed))

    def _report(self, verb: str, done: int, failed: dict[str, Exception], detail: str = "") -> None:
        if done:
            self.notify(
                f"{verb} {done} execution{'s' if done != 1 else ''}" + (f": {detail}." if detail else ".")
            )
        for execution_id, error in failed.items():
            reason = getattr(error, "faultstring", str(error))
            self.notify(
                f"{execution_id[-8:]}: {reason}", title=f"{verb} failed", severity="error", timeout=10
            )
        self.action_unmark()

    @on(ExecutionsCanceled)
    def _canceled(self, event: ExecutionsCanceled) -> None:
        event.stop()
        self._report("Canceled", len(event.canceled), event.failed)

    @on(ExecutionsRerun)
    def _rerun(self, event: ExecutionsRerun) -> None:
        event.stop()
        # Which execution each new one re-ran (st2's context.re-run.ref), as the pane shows ids.
        pairs = [f"{new.rerun_of[-8:]} as {new.short_id}" for new in event.started if new.rerun_of]
        self._report("Re-ran", len(event.started), event.failed, ", ".join(pairs))
        self.apply_updates({execution.id: execution for execution in event.started}, set())

    # -- palette -----------------------------------------------------------------------------------------

    def palette_commands(self) -> Iterable[PaneCommand]:
        execution = self.selected_execution
        if execution is not None:
            label = f"{execution.short_id} ({execution.action_ref})"
            yield PaneCommand(f"Open execution {label}", "Output, workflow tree and result", "open")
            if self.listing.is_expandable(execution):
                yield PaneCommand(f"Expand workflow {label}", "Show its child executions in place", "expand")
        marked = len(self.listing.marked)
        if marked:
            yield PaneCommand(f"Cancel {marked} marked executions", "After one confirmation", "cancel")
            yield PaneCommand(f"Re-run {marked} marked executions", "After one confirmation", "rerun")
            yield PaneCommand("Unmark all executions", "Clear the marks", "unmark")
        elif execution is not None:
            if execution.is_cancelable:
                yield PaneCommand(f"Cancel execution {label}", "After a confirmation", "cancel")
            yield PaneCommand(f"Re-run execution {label}", "With its original parameters", "rerun")
        failures = "status:failed" in self.query_text.split()
        yield PaneCommand(
            "Show all statuses" if failures else "Show only failed executions",
            "Toggle the failures filter",
            "failures",
        )
        yield PaneCommand(
            "Show child executions too" if self.top_level_only else "Show top-level executions only",
            "Toggle between top-level and all executions",
            "show_all",
        )
        yield PaneCommand("Filter executions…", FILTER_HELP, "filter")
