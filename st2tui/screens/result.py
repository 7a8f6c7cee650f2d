"""The whole result of an execution, however large: YAML (multi-line strings such as stdout as blocks) or
JSON in a virtual line view with search, wrap and save.

The execution screen leaves large results out of what it fetches (st2web#867: they froze the browser);
this screen is where they are read, one screenful of lines rendered at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

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
from st2tui.widgets.result_view import DocumentFormat, dump_document, human_size


def document_lines(result: Any, fmt: DocumentFormat) -> tuple[str, list[OutputLine]]:
    text = dump_document(result, fmt)
    return text, [OutputLine(clean_line(line)) for line in text.splitlines()]


class FullResultScreen(Screen):
    """escape goes back to the execution; `v` switches between YAML and JSON."""

    BINDING_GROUP_TITLE = "Full result"
    BINDINGS = [
        Binding("escape", "back", "Back", id="full-result.back", tooltip="Back to the execution"),
        Binding(
            "v", "toggle_format", "YAML/JSON", id="full-result.format", tooltip="Show as YAML or as JSON"
        ),
    ]

    def __init__(self, execution: Execution, result: Any) -> None:
        super().__init__()
        self.execution = execution
        self.result = result
        self.fmt: DocumentFormat = "yaml"
        self.text = ""

    def compose(self) -> ComposeResult:
        yield Static(id="full-result-title")
        yield OutputPanel(max_lines=None, live=False, id="full-result-panel")
        yield Footer(compact=True)

    @property
    def panel(self) -> OutputPanel:
        return self.query_one(OutputPanel)

    def on_mount(self) -> None:
        self.lay_out()

    def _show_title(self) -> None:
        title = Text.assemble(
            (" Result ", "bold reverse"),
            f"  {self.execution.action_ref}  ",
            (self.execution.id, "cyan"),
            (f"  {human_size(len(self.text.encode('utf-8')))} as {self.fmt.upper()}", "dim"),
        )
        self.query_one("#full-result-title", Static).update(title)

    @work(exclusive=True, group="full-result-lines", description="Laying out the result")
    async def lay_out(self) -> None:
        self.panel.subject = f"full result ({self.fmt.upper()})"
        self.text, lines = await asyncio.to_thread(document_lines, self.result, self.fmt)
        self.panel.clear()
        self.panel.append(lines)
        self.panel.log_view.scroll_home(animate=False)
        self.panel.log_view.focus()
        self._show_title()

    def action_toggle_format(self) -> None:
        self.fmt = "json" if self.fmt == "yaml" else "yaml"
        self.lay_out()

    def action_back(self) -> None:
        self.dismiss()

    @on(OutputPanel.SaveRequested)
    def _save_requested(self, event: OutputPanel.SaveRequested) -> None:
        event.stop()
        suggested = Path.cwd() / f"st2-{self.execution.id}-result.{self.fmt}"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.save(path)

        self.app.push_screen(SaveDialog("Save the result to", suggested), chosen)

    @work(exclusive=True, group="full-result-save", description="Saving the result")
    async def save(self, path: Path) -> None:
        data = self.text.encode("utf-8")
        try:
            await asyncio.to_thread(path.write_bytes, data)
        except OSError as exc:
            self.notify(f"Could not write {path}: {exc.strerror or exc}", title="Save", severity="error")
            return
        self.post_message(FileSaved("result", str(path), len(data)))

    @on(FileSaved)
    def _saved(self, event: FileSaved) -> None:
        event.stop()
        self.notify(f"Saved the {event.what} to {event.path} ({human_size(event.size)}).", title="Saved")
