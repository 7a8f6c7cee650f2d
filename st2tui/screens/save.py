"""Where to save a file (output, result): a path, prefilled; asks again before replacing a file."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class SaveDialog(ModalScreen[Path | None]):
    """Dismisses with the chosen path, or None when the user backs out."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="save.cancel", tooltip="Do not save"),
    ]

    def __init__(self, title: str, suggested: Path) -> None:
        super().__init__()
        self.title_text = title
        self.suggested = suggested
        self._confirmed_overwrite: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="save-dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(str(self.suggested), id="save-path")
            yield Static("", id="save-warning", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (enter)", variant="primary", id="save-yes")
                yield Button("Cancel (esc)", id="save-no")

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._save()

    @on(Input.Changed)
    def _changed(self) -> None:
        self._confirmed_overwrite = None
        self.query_one("#save-warning", Static).update("")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save-yes":
            self._save()
        else:
            self.dismiss(None)

    def _save(self) -> None:
        text = self.query_one("#save-path", Input).value.strip()
        if not text:
            return
        path = Path(text).expanduser()
        warning = self.query_one("#save-warning", Static)
        if path.is_dir():
            warning.update(f"{path} is a directory: add a file name.")
            return
        if not path.parent.is_dir():
            warning.update(f"There is no directory {path.parent}.")
            return
        if path.exists() and self._confirmed_overwrite != path:
            self._confirmed_overwrite = path
            warning.update(f"{path.name} exists: press enter again to replace it.")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
