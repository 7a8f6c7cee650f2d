"""Where to save a file (output, result): a path, prefilled; asks again before replacing a file."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from st2tui.forms import printable
from st2tui.widgets.safe_input import SafeInput


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
            yield SafeInput(str(self.suggested), id="save-path")
            yield Static("", id="save-warning", classes="dialog-error", markup=False)
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
        warning = self.query_one("#save-warning", Static)
        if not text:
            warning.update("Enter the path of a file.")
            return
        try:
            problem = self._problem(Path(text))
        except OSError as exc:
            # A name too long for the file system, a directory that may not be read…
            problem = f"Cannot use this path: {exc.strerror or exc}."
        except RuntimeError:
            problem = f"Cannot use this path: {_shortened(text.split('/')[0])} is no user's home."
        if problem is not None:
            # Paths are shown as typed, control characters as symbols.
            warning.update(printable(problem))
            return
        self.dismiss(Path(text).expanduser())

    def _problem(self, typed: Path) -> str | None:
        """Why the file cannot be written there (None when it can); asks once before replacing a file."""
        if "\x00" in str(typed):
            return "A path cannot contain a NUL character."
        path = typed.expanduser()
        if path.is_dir():
            return f"{_shortened(str(path))} is a directory: add a file name."
        if not path.parent.is_dir():
            return f"There is no directory {_shortened(str(path.parent))}."
        if path.exists() and self._confirmed_overwrite != path:
            self._confirmed_overwrite = path
            return f"{_shortened(path.name)} exists: press enter again to replace it."
        return None

    def action_cancel(self) -> None:
        self.dismiss(None)


def _shortened(text: str, keep: int = 60) -> str:
    """A path short enough for a one-line warning: its start and its end."""
    return text if len(text) <= 2 * keep else f"{text[:keep]}…{text[-keep:]}"
