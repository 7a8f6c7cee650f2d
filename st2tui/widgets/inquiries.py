"""The inquiries pane: questions workflows are waiting on, with the workflow that asks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Static

from st2tui import formatting
from st2tui.api_errors import St2Error
from st2tui.formatting import duration
from st2tui.messages import (
    ApiFailed,
    ExecutionOpenRequested,
    InquiriesLoaded,
    InquiryResponseRequested,
    PendingInquiry,
)
from st2tui.models import Execution, Inquiry
from st2tui.widgets.pane import Pane, PaneCommand
from st2tui.widgets.table import Column, RecordTable, TableRow

# st2 accepts at most this many ids in one `id=` filter.
IDS_PER_REQUEST = 100
INQUIRY_FIELDS = ["id", "status", "parent", "context", "action", "start_timestamp"]
INQUIRY_COLUMNS = (
    Column("id", "Inquiry", 8),
    Column("workflow", "Workflow", 18, flex=1),
    Column("task", "Task", 12, drop=2),
    Column("question", "Question", 20, flex=2),
    Column("who", "Who", 10, drop=1),
    Column("waiting", "Waiting", 7, justify="right"),
)


def question(inquiry: Inquiry) -> str:
    """What the inquiry asks: the schema's description, else its fields with their descriptions."""
    described = inquiry.schema.get("description")
    if isinstance(described, str) and described:
        return described
    fields = [
        f"{spec.name}{' (' + spec.type + ')' if spec.type else ''}: {spec.description}".rstrip(": ")
        for spec in inquiry.fields.values()
    ]
    return "; ".join(fields) or "(no fields)"


async def _executions_by_id(client, ids: list[str]) -> dict[str, Execution]:
    found: dict[str, Execution] = {}
    for start in range(0, len(ids), IDS_PER_REQUEST):
        chunk = ids[start : start + IDS_PER_REQUEST]
        page = await client.executions.list(id=chunk, include_attributes=INQUIRY_FIELDS, limit=len(chunk))
        found.update((execution.id, execution) for execution in page)
    return found


class InquiriesTable(RecordTable):
    BINDINGS = [
        Binding("enter", "activate", "Respond", id="inquiries.respond", tooltip="Answer the selected inquiry")
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(INQUIRY_COLUMNS, id=id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "activate" and self.app.settings.readonly:
            return False
        return True


class InquiriesPane(Pane):
    """Pending inquiries; enter answers one, `o` opens the workflow that asks."""

    BINDING_GROUP_TITLE = "Inquiries"
    MUTATING_ACTIONS = frozenset({"respond"})

    BINDINGS = [
        Binding(
            "o", "open_workflow", "Open workflow", id="inquiries.open", tooltip="Open the waiting workflow"
        ),
    ]

    count: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pending: dict[str, PendingInquiry] = {}
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield InquiriesTable(id="inquiries-table")
        yield Static(id="inquiry-detail", classes="subpane")

    def on_mount(self) -> None:
        self.border_title = "Pending inquiries"
        self.table.empty_text = "Loading inquiries…"
        self.set_interval(1.0, self._tick)

    @property
    def table(self) -> InquiriesTable:
        return self.query_one(InquiriesTable)

    def focus_main(self) -> None:
        self.focus_now(self.table)

    @property
    def selected(self) -> PendingInquiry | None:
        key = self.table.cursor_key
        return self.pending.get(key) if key else None

    def reload(self) -> None:
        self.loaded = True
        self.load_inquiries()

    def resync(self) -> None:
        self.reload()

    @work(exclusive=True, group="inquiries", description="Loading inquiries")
    async def load_inquiries(self) -> None:
        client = self.app.client
        try:
            inquiries = (await client.inquiries.list()).items
            asks = await _executions_by_id(client, [inquiry.id for inquiry in inquiries])
            parents = sorted({ask.parent_id for ask in asks.values() if ask.parent_id})
            workflows = await _executions_by_id(client, parents)
        except St2Error as exc:
            self.post_message(ApiFailed("Loading inquiries", exc))
            return
        pending = []
        for inquiry in inquiries:
            ask = asks.get(inquiry.id)
            workflow = workflows.get(ask.parent_id) if ask is not None and ask.parent_id else None
            pending.append(PendingInquiry(inquiry, ask, workflow))
        self.post_message(InquiriesLoaded(pending))

    @on(InquiriesLoaded)
    def _show(self, event: InquiriesLoaded) -> None:
        event.stop()
        self.pending = {item.inquiry.id: item for item in event.inquiries}
        self.count = len(self.pending)
        self.table.empty_text = "No inquiries are waiting for an answer."
        self.table.set_rows(self._row(item) for item in self.pending.values())
        self.border_subtitle = f"{self.count} pending"
        self._show_detail()

    @on(RecordTable.CursorMoved)
    def _moved(self, event: RecordTable.CursorMoved) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        """The whole question of the selected inquiry: the table only has room for its start."""
        detail = self.query_one("#inquiry-detail", Static)
        item = self.selected
        detail.display = item is not None
        if item is None:
            return
        inquiry, workflow = item.inquiry, item.workflow
        lines = Text()
        if workflow is not None:
            lines.append("Workflow ", style="dim")
            lines.append(f"{workflow.action_ref} {workflow.short_id}", style="bold")
            lines.append(f"  ({workflow.status})", style="dim")
        else:
            lines.append("Standalone inquiry", style="dim")
        if inquiry.route:
            lines.append(f"  route {inquiry.route}", style="dim")
        if inquiry.ttl:
            lines.append(f"  times out after {duration(timedelta(minutes=inquiry.ttl))}", style="dim")
        description = inquiry.schema.get("description")
        if isinstance(description, str) and description:
            lines.append(f"\n{description}", style="italic")
        for spec in inquiry.fields.values():
            lines.append("\n• ")
            lines.append(spec.name, style="bold")
            lines.append(f" {spec.type or 'any'}{', required' if spec.required else ''}", style="cyan")
            if spec.enum:
                lines.append(f" one of {', '.join(map(str, spec.enum))}", style="cyan")
            if spec.description:
                lines.append(f"  {spec.description}")
        detail.update(lines)
        detail.border_title = f"Inquiry {inquiry.id}"

    def _row(self, item: PendingInquiry) -> TableRow:
        inquiry, ask, workflow = item.inquiry, item.execution, item.workflow
        who = ", ".join([*inquiry.users, *(f"@{role}" for role in inquiry.roles)]) or "anyone"
        started = ask.start_timestamp if ask is not None else None
        waited = formatting.now() - started if started is not None else None
        return TableRow(
            inquiry.id,
            [
                Text(inquiry.id[-8:], style="dim"),
                workflow.action_ref if workflow is not None else Text("standalone", style="dim italic"),
                (ask.task_name or "") if ask is not None else "",
                question(inquiry),
                who,
                duration(waited),
            ],
        )

    def _tick(self) -> None:
        for item in self.pending.values():
            self.table.update_row(self._row(item))

    def action_respond(self) -> None:
        item = self.selected
        if item is not None:
            self.post_message(InquiryResponseRequested(item.inquiry))

    @on(RecordTable.RowActivated)
    def _activated(self, event: RecordTable.RowActivated) -> None:
        event.stop()
        self.action_respond()

    def action_open_workflow(self) -> None:
        item = self.selected
        if item is not None:
            target = item.workflow.id if item.workflow is not None else item.inquiry.id
            self.post_message(ExecutionOpenRequested(target))

    def palette_commands(self) -> Iterable[PaneCommand]:
        item = self.selected
        if item is not None:
            short = item.inquiry.id[-8:]
            yield PaneCommand(f"Respond to inquiry {short}", question(item.inquiry), "respond")
            if item.workflow is not None:
                yield PaneCommand(
                    f"Open workflow {item.workflow.short_id} ({item.workflow.action_ref})",
                    "The execution waiting on this inquiry",
                    "open_workflow",
                )
