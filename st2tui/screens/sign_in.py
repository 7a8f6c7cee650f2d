"""Sign-in dialog, shown when no usable credentials were found (or a token could not be renewed)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static


@dataclass(frozen=True)
class SignInDetails:
    username: str
    password: str
    remember: bool


class SignInScreen(ModalScreen[SignInDetails | None]):
    """Asks for a username and password; returns them, or None when the user gives up."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sign-in-cancel")]

    def __init__(self, server: str, *, username: str = "", error: str = "", keyring_note: str = "") -> None:
        super().__init__()
        self.server = server
        self.username = username
        self.error = error
        self.keyring_note = keyring_note

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-in-dialog", classes="dialog"):
            yield Label(f"Sign in to {self.server}", classes="dialog-title")
            yield Input(self.username, placeholder="username", id="sign-in-username")
            yield Input(placeholder="password", password=True, id="sign-in-password")
            yield Checkbox(
                "Remember the password in the system keyring",
                id="sign-in-remember",
                disabled=bool(self.keyring_note),
            )
            if self.keyring_note:
                yield Static(self.keyring_note, classes="dialog-note")
            yield Static(self.error, id="sign-in-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Sign in", variant="primary", id="sign-in-submit")
                yield Button("Cancel", id="sign-in-cancel")

    def on_mount(self) -> None:
        target = "#sign-in-password" if self.username else "#sign-in-username"
        self.query_one(target, Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#sign-in-submit")
    def submit(self) -> None:
        username = self.query_one("#sign-in-username", Input).value.strip()
        password = self.query_one("#sign-in-password", Input).value
        if not username or not password:
            self.query_one("#sign-in-error", Static).update("Enter both a username and a password.")
            return
        remember = self.query_one("#sign-in-remember", Checkbox).value
        self.dismiss(SignInDetails(username, password, remember))

    @on(Button.Pressed, "#sign-in-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
