"""Sign-in dialog, shown when no usable credentials were found (or a token could not be renewed)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from st2tui.forms import InvalidValue, check_text, printable
from st2tui.widgets.safe_input import SafeInput
from st2tui.widgets.tickbox import Tickbox

# Username and password travel in one HTTP header (Basic auth, base64): web servers in front of st2
# refuse headers of more than a few kilobytes, so a longer sign-in could never be sent.
CREDENTIALS_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_credentials(username: str, password: str) -> str | None:
    """Why these cannot be sent to sign in (in words), or None when they can."""
    if not username or not password:
        return "Enter both a username and a password."
    try:
        check_text(username)
        check_text(password)
    except InvalidValue as exc:
        return exc.message
    if "\x00" in username or "\x00" in password:
        # Sign-in backends (PAM, LDAP, htpasswd) read C strings: a NUL could never match.
        return "A username or password cannot contain a NUL character."
    if ":" in username:
        # Basic auth separates the username from the password with the first colon.
        return "A username cannot contain “:”."
    if _CONTROL.search(username):
        return "A username cannot contain control characters (tabs, line breaks, escapes)."
    size = len(f"{username}:{password}".encode())
    if size > CREDENTIALS_BYTES:
        return f"Too long: the username and password may take {CREDENTIALS_BYTES} bytes together, not {size}."
    return None


@dataclass(frozen=True)
class SignInDetails:
    username: str
    password: str
    remember: bool


class SignInScreen(ModalScreen[SignInDetails | None]):
    """Asks for a username and password; returns them, or None when the user gives up.

    With `quits=True` (no session yet: giving up ends st2tui) escape asks once more before it answers None,
    so a stray escape does not close the app."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="sign-in-cancel"),
        Binding("escape", "give_up", "Quit st2tui", id="sign-in-give-up"),
        Binding("tab", "app.focus_next", "Next field", id="sign-in-next-field"),
        # Ahead of the fields' own enter, so the footer says what it does: the next field, then sign in.
        Binding("enter", "enter", "Sign in", id="sign-in-submit", priority=True),
    ]

    def __init__(
        self,
        server: str,
        *,
        username: str = "",
        error: str = "",
        keyring_note: str = "",
        quits: bool = False,
    ) -> None:
        super().__init__()
        self.server = server
        self.username = username
        self.error = error
        self.keyring_note = keyring_note
        self.quits = quits
        self._escape_pressed = False
        # Focus is given while the dialog is composed, before its first frame: a key typed as soon as it
        # shows goes to the field the cursor is drawn in (a tab typed too early used to land on nothing and
        # then move to the username field, so the password was typed there, in clear).
        self.AUTO_FOCUS = "#sign-in-password" if username else "#sign-in-username"

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-in-dialog", classes="dialog"):
            yield Label(f"Sign in to {self.server}", classes="dialog-title")
            yield SafeInput(self.username, placeholder="username", id="sign-in-username")
            yield SafeInput(placeholder="password", password=True, id="sign-in-password")
            yield Tickbox(
                "Remember the password in the system keyring",
                id="sign-in-remember",
                disabled=bool(self.keyring_note),
            )
            if self.keyring_note:
                yield Static(self.keyring_note, classes="dialog-note")
            # The server's reason, as written (not markup, no control characters).
            yield Static(printable(self.error), id="sign-in-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Sign in", variant="primary", id="sign-in-submit")
                yield Button("Quit st2tui" if self.quits else "Cancel", id="sign-in-cancel")
        # The dialog's own keys, not those of the screen below.
        yield Footer()

    def on_mount(self) -> None:
        if self.focused is None:
            self.set_focus(self.query_one(self.AUTO_FOCUS, Input))

    def action_enter(self) -> None:
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
        elif (
            focused is self.query_one("#sign-in-username")
            and not self.query_one("#sign-in-password", Input).value
        ):
            # Enter in the username field moves on to the password, as tab does (it used to submit).
            self.set_focus(self.query_one("#sign-in-password", Input))
        else:
            self.action_submit()

    @on(Button.Pressed, "#sign-in-submit")
    def action_submit(self) -> None:
        username = self.query_one("#sign-in-username", Input).value.strip()
        password = self.query_one("#sign-in-password", Input).value
        problem = check_credentials(username, password)
        if problem is not None:
            self.query_one("#sign-in-error", Static).update(problem)
            return
        remember = self.query_one("#sign-in-remember", Tickbox).value
        self.dismiss(SignInDetails(username, password, remember))

    @on(Button.Pressed, "#sign-in-cancel")
    def quit_pressed(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One escape binding is live: "Cancel" over a session, "Quit st2tui" when there is none yet.
        if action == "cancel":
            return not self.quits
        if action == "give_up":
            return self.quits
        return True

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_give_up(self) -> None:
        if not self._escape_pressed:
            # Nothing is signed in yet, so giving up ends st2tui: one escape is too easy to press by mistake.
            self._escape_pressed = True
            self.query_one("#sign-in-error", Static).update(
                "Not signed in: escape again quits st2tui (or fill in the fields and press enter)."
            )
            return
        self.dismiss(None)
