"""The form screen every form shares (run an action, set a key, answer an inquiry): submit, cancel, $EDITOR."""

from __future__ import annotations

import contextlib
import shutil
from typing import Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import SuspendNotSupported
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from st2tui.forms import (
    Parsed,
    edit_externally,
    editor_command,
    printable,
)
from st2tui.screens.confirm import ConfirmDialog
from st2tui.widgets.fields import ParameterField

ResultT = TypeVar("ResultT")


class FormScreen(ModalScreen[ResultT], Generic[ResultT]):
    """What every form shares: ctrl+s or enter submits, esc cancels (asking first when something was
    typed), ctrl+o edits the focused field in $EDITOR, tab follows the fields, a banner for errors that
    belong to no field. Subclasses implement `submit` and may override `is_dirty`."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="form.submit", tooltip="Check the form and send it"),
        Binding("enter", "submit", "Submit", show=False, id="form.submit-enter", tooltip="Send the form"),
        Binding(
            "escape", "cancel", "Cancel", id="form.cancel", tooltip="Close the form (asks first if you typed)"
        ),
        Binding(
            "ctrl+o",
            "edit_externally",
            "$EDITOR",
            id="form.editor",
            tooltip="Edit the focused field in your $EDITOR",
        ),
        # Outside a text box `q` would reach the app's quit and lose the form without asking.
        Binding("q", "stay", show=False, id="form.no-quit", tooltip="q does not quit while a form is open"),
    ]

    busy = False

    @property
    def fields(self) -> list[ParameterField]:
        return list(self.query(ParameterField))

    def field(self, name: str) -> ParameterField | None:
        return next((field for field in self.fields if field.spec.name == name), None)

    def is_dirty(self) -> bool:
        return any(field.touched for field in self.fields)

    def show_banner(self, message: str | Text | None, *, error: bool = True) -> None:
        banner = self.query_one(".form-banner", Static)
        if isinstance(message, str):
            # Plain text: a server's message may quote what was typed, brackets and control characters too.
            message = Text(printable(message))
        banner.update(message or "")
        banner.set_class(error, "-error")
        banner.display = bool(message)

    def check_fields(self) -> dict[str, Parsed | None] | None:
        """Every field's value, or None (errors shown, first bad field focused) when any is refused."""
        values: dict[str, Parsed | None] = {}
        bad: list[ParameterField] = []
        for field in self.fields:
            if field.check(submitting=True) is not None:
                bad.append(field)
                continue
            values[field.spec.name] = field.read()
        if bad:
            names = ", ".join(field.label for field in bad)
            plural = "s" if len(bad) > 1 else ""
            self.show_banner(f"Nothing was sent. Fix the field{plural} marked ✘: {names}.")
            bad[0].focus_editor()
            bad[0].scroll_visible()
            return None
        return values

    def set_busy(self, busy: bool, message: str = "") -> None:
        self.busy = busy
        for button in self.query(".form-submit"):
            button.disabled = busy
        if message:
            self.show_banner(message, error=False)

    def action_stay(self) -> None:
        self.notify("Close the form first (esc), then q quits.")

    def action_submit(self) -> None:
        if not self.busy:
            self.submit()

    def submit(self) -> None:
        """Check the fields and send them (subclasses)."""

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed, ".form-submit")
    def _submit_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed, ".form-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.is_dirty():
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmDialog("Discard this form?", "What you typed is lost.", confirm_label="Discard"), answered
        )

    def _focused_field(self) -> ParameterField | None:
        node = self.focused
        while node is not None and not isinstance(node, ParameterField):
            node = node.parent
        return node

    def action_edit_externally(self) -> None:
        field = self._focused_field()
        if field is None or not field.EXTERNAL_EDIT or field.locked:
            self.notify("Move to a text field first: $EDITOR edits the field that has focus.")
            return
        command = editor_command()
        if shutil.which(command[0]) is None:
            self.notify(f"Editor “{command[0]}” not found: set $EDITOR (or $VISUAL).", severity="error")
            return
        suffix = ".json" if field.spec.type in ("object", "array") else ".txt"
        # A headless app (tests) has no terminal to hand over.
        handover = contextlib.nullcontext() if self.app.is_headless else self.app.suspend()
        edited, failure = None, None
        try:
            with handover:
                # Textual resumes only when this block ends normally: nothing may escape it.
                try:
                    edited = edit_externally(field.text, suffix=suffix)
                except OSError as exc:
                    failure = exc
        except SuspendNotSupported as exc:
            failure = exc
        if edited is None:
            self.notify(f"The editor did not finish: {failure}", severity="error")
            return
        field.set_text(edited, baseline=False)
        # A line break may have swapped the one-line editor for a text area: focus what is there then.
        self.call_after_refresh(field.focus_editor)
