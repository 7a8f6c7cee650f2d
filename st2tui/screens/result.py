"""The whole result of an execution, however large: a virtual line view with search, wrap and save.

The execution screen leaves large results out of what it fetches (st2web#867: they froze the browser);
this screen is where they are read, one screenful of lines rendered at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from st2tui.messages import FileSaved
from st2tui.models import Execution
from st2tui.screens.save import SaveDialog
from st2tui.widgets.output_log import OutputLine, OutputPanel, clean_line
from st2tui.widgets.result_view import human_size


def text_lines(text: str) -> list[OutputLine]:
    return [OutputLine(clean_line(line)) for line in text.splitlines()]


class FullResultScreen(Screen):
    """escape goes back to the execution."""

    BINDING_GROUP_TITLE = "Full result"
    BINDINGS = [
        Binding("escape", "back", "Back", id="full-result.back", tooltip="Back to the execution"),
    ]

    def __init__(self, execution: Execution, text: str) -> None:
        super().__init__()
        self.execution = execution
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(id="full-result-title", classes="screen-title")
        yield OutputPanel(max_lines=None, live=False, id="full-result-panel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        title = Text.assemble(
            (" Result ", "bold reverse"),
            f"  {self.execution.action_ref}  ",
            (self.execution.id, "cyan"),
            (f"  {human_size(len(self.text.encode('utf-8')))}", "dim"),
        )
        self.query_one("#full-result-title", Static).update(title)
        self.query_one(OutputPanel).subject = "full result"
        self.load_lines()

    @work(exclusive=True, group="full-result-lines", exit_on_error=False, description="Laying out the result")
    async def load_lines(self) -> None:
        lines = await asyncio.to_thread(text_lines, self.text)
        panel = self.query_one(OutputPanel)
        panel.append(lines)
        panel.log_view.scroll_home(animate=False)
        panel.log_view.focus()

    def action_back(self) -> None:
        self.dismiss()

    @on(OutputPanel.SaveRequested)
    def _save_requested(self, event: OutputPanel.SaveRequested) -> None:
        event.stop()
        suggested = Path.cwd() / f"st2-{self.execution.id}-result.json"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.save(path)

        self.app.push_screen(SaveDialog("Save the result to", suggested), chosen)

    @work(exclusive=True, group="full-result-save", exit_on_error=False, description="Saving the result")
    async def save(self, path: Path) -> None:
        try:
            size = await asyncio.to_thread(_write, path, self.text)
        except OSError as exc:
            self.notify(f"Could not write {path}: {exc.strerror or exc}", title="Save", severity="error")
            return
        self.post_message(FileSaved("result", str(path), size))

    @on(FileSaved)
    def _saved(self, event: FileSaved) -> None:
        event.stop()
        self.notify(f"Saved the {event.what} to {event.path} ({human_size(event.size)}).", title="Saved")


def _write(path: Path, text: str) -> int:
    data = text.encode("utf-8")
    path.write_bytes(data)
    return len(data)
