"""The execution screen's own dialogs: confirming a re-run from a task, and its keys (`?`)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from st2tui.models import Execution
from st2tui.screens.help import HelpEntry
from st2tui.widgets.tickbox import Tickbox
from st2tui.widgets.workflow_tree import is_with_items


class RerunTasksDialog(ModalScreen[bool | None]):
    """Confirms a re-run from a task; for a with-items task, offers to run all its items again (reset).
    Dismisses with the reset choice, or None for no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="rerun-task.yes", tooltip="Re-run from this task"),
        Binding("n,escape", "answer(False)", "No", id="rerun-task.no", tooltip="Leave everything as it is"),
    ]

    def __init__(self, workflow: Execution, task: Execution) -> None:
        super().__init__()
        self.workflow = workflow
        self.target = task

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rerun-task-dialog"):
            yield Label(f"Re-run from task {self.target.task_name}?", classes="dialog-title")
            yield Static(
                f"Workflow {self.workflow.action_ref} ({self.workflow.short_id}) starts again as a new "
                f"execution, from task {self.target.task_name}; the tasks before it are not run again.",
                classes="dialog-body",
            )
            if is_with_items(self.target):
                yield Tickbox("Run every item of this with-items task again (reset)", True, id="rerun-reset")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Re-run (y)", variant="warning", id="rerun-yes")
                yield Button("No (n)", id="rerun-no")

    def on_mount(self) -> None:
        self.query_one("#rerun-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "rerun-yes")

    def action_answer(self, yes: bool) -> None:
        if not yes:
            self.dismiss(None)
            return
        boxes = self.query("#rerun-reset").results(Tickbox)
        self.dismiss(any(box.value for box in boxes))


class ExecutionKeysScreen(ModalScreen[None]):
    """`?` on the execution screen: the keys that work here, from the live bindings."""

    BINDINGS = [
        Binding(
            "escape,q,question_mark,f1",
            "dismiss",
            "Close",
            id="execution-keys.close",
            tooltip="Close the help",
        ),
    ]

    def __init__(self, entries: list[HelpEntry]) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, pad_edge=False, expand=True)
        table.add_column(style="bold cyan", no_wrap=True, min_width=12)
        table.add_column(no_wrap=True, min_width=18)
        table.add_column(style="dim", ratio=1)
        group = None
        for entry in self.entries:
            if entry.group != group:
                group = entry.group
                table.add_row(Text(group, style="bold underline"), "", "")
            table.add_row(entry.keys, entry.description, entry.tooltip)
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label("Keys on the execution screen", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(table)
            yield Static(
                "escape closes · keys can be remapped in settings.keybindings", classes="dialog-note"
            )
