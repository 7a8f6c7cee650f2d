"""The executions pane: a live table of executions, newest first."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from st2tui.formatting import duration, status_text, timestamp
from st2tui.models import Execution, Page

COLUMNS = (
    ("status", "Status", 13),
    ("id", "ID", 10),
    ("action", "Action", 30),
    ("user", "User", 10),
    ("trigger", "Triggered by", 28),
    ("started", "Started", 19),
    ("elapsed", "Elapsed", 8),
)


class ExecutionsTable(DataTable):
    """Rows keyed by execution id; updated in place as executions change."""

    utc: reactive[bool] = reactive(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.executions: dict[str, Execution] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        # Elapsed time of running executions ticks; finished ones are fixed.
        self.set_interval(1.0, self._tick)

    def _cells(self, execution: Execution) -> list[object]:
        return [
            status_text(execution.status),
            Text(execution.short_id, style="dim"),
            execution.action_ref,
            execution.user,
            Text(execution.triggered_by, style="dim" if execution.triggered_by == "manual" else "italic"),
            timestamp(execution.start_timestamp, utc=self.utc),
            duration(execution.elapsed()),
        ]

    def show_page(self, page: Page[Execution]) -> None:
        selected = self._selected_id()
        self.clear()
        self.executions = {}
        for execution in page:
            self.executions[execution.id] = execution
            self.add_row(*self._cells(execution), key=execution.id)
        self._restore_selection(selected)

    def upsert(self, execution: Execution) -> None:
        """Show a new or changed execution; new ones go to the top (newest first)."""
        if execution.id in self.executions:
            self.executions[execution.id] = execution
            for (key, _, _), value in zip(COLUMNS, self._cells(execution), strict=True):
                self.update_cell(execution.id, key, value)
            return
        selected = self._selected_id()
        self.executions[execution.id] = execution
        self.add_row(*self._cells(execution), key=execution.id)
        # DataTable cannot insert at a position: re-sort by start time (the column sorts as text).
        self.sort("started", reverse=True)
        self._restore_selection(selected)

    def _selected_id(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def _restore_selection(self, execution_id: str | None) -> None:
        if execution_id is not None and execution_id in self.executions:
            self.move_cursor(row=self.get_row_index(execution_id))

    @property
    def selected_execution(self) -> Execution | None:
        execution_id = self._selected_id()
        return self.executions.get(execution_id) if execution_id else None

    def _tick(self) -> None:
        now = datetime.now(timezone.utc)
        for execution in self.executions.values():
            if not execution.is_terminal and execution.start_timestamp is not None:
                self.update_cell(execution.id, "elapsed", duration(execution.elapsed(now)))

    def watch_utc(self) -> None:
        for execution in self.executions.values():
            self.update_cell(execution.id, "started", timestamp(execution.start_timestamp, utc=self.utc))


class ExecutionsPane(Vertical):
    """Executions table with the paging summary above it."""

    total: reactive[int | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield Static("Executions", id="executions-summary", classes="pane-title")
        yield ExecutionsTable(id="executions-table")

    @property
    def table(self) -> ExecutionsTable:
        return self.query_one(ExecutionsTable)

    def show_page(self, page: Page[Execution]) -> None:
        self.table.show_page(page)
        self.total = page.total
        self._update_summary()

    def upsert(self, execution: Execution, *, is_new: bool) -> None:
        self.table.upsert(execution)
        if is_new and self.total is not None:
            self.total += 1
        self._update_summary()

    def _update_summary(self) -> None:
        shown = self.table.row_count
        total = self.total if self.total is not None else shown
        span = f"1-{shown}" if shown else "0"
        self.query_one("#executions-summary", Static).update(f"Executions  {span} of {total:,}")
