"""The Textual application: signs in, then hands over to the main screen."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import App
from textual.binding import Binding

from st2tui.api import NetworkError, St2Client, St2Error, Unauthorized
from st2tui.config import Connection, Settings
from st2tui.credentials import KeyringUnavailable, SecretStore
from st2tui.messages import SignedIn, StreamStateChanged
from st2tui.screens.main import MainScreen
from st2tui.screens.sign_in import SignInScreen

RETRY_SECONDS = 5.0


class St2TuiApp(App[None]):
    """st2tui: one StackStorm installation, driven from the keyboard."""

    CSS_PATH = "app.tcss"
    TITLE = "st2tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave st2tui"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-now"),
    ]

    def __init__(
        self,
        client: St2Client,
        connection: Connection,
        settings: Settings,
        *,
        secrets: SecretStore | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.connection = connection
        self.settings = settings
        self.secrets = secrets
        if settings.keybindings:
            self.set_keymap(settings.keybindings)

    def on_mount(self) -> None:
        self.theme = self.settings.theme
        self.push_screen(MainScreen())
        self.sign_in()

    @work(exclusive=True, group="sign-in", exit_on_error=False, description="Signing in")
    async def sign_in(self) -> None:
        """Authenticate (asking when there are no usable credentials), then announce who we are."""
        error = ""
        while True:
            if not self.client.has_credentials or error:
                details = await self.push_screen_wait(
                    SignInScreen(
                        self.connection.display_name,
                        username=self.client.username or "",
                        error=error,
                        keyring_note=self._keyring_note(),
                    )
                )
                if details is None:
                    self.exit(message="Not signed in.")
                    return
                self.client.set_token(None)
                self.client.set_credentials(username=details.username, password=details.password)
                if details.remember and self.secrets is not None:
                    self._remember_password(details.username, details.password)
            try:
                whoami = await self.client.auth.whoami()
                version = await self.client.server.version()
            except Unauthorized as exc:
                error = f"Sign-in failed: {exc.faultstring or exc}"
                continue
            except NetworkError as exc:
                self.screen.post_message(StreamStateChanged("offline", str(exc)))
                self.notify(
                    f"Cannot reach {self.connection.api_url}: {exc}. Retrying every {RETRY_SECONDS:g} s.",
                    severity="error",
                    timeout=RETRY_SECONDS,
                )
                await asyncio.sleep(RETRY_SECONDS)
                continue
            except St2Error as exc:
                self.notify(f"Signing in failed: {exc}", severity="error")
                await asyncio.sleep(RETRY_SECONDS)
                continue
            break
        self.screen.post_message(SignedIn(whoami, self.connection.display_name, version))

    def _keyring_note(self) -> str:
        if self.secrets is None:
            return "No keyring: the password is used for this session only."
        status = self.secrets.status()
        return (
            ""
            if status.available
            else f"No usable keyring ({status.reason}): the password is not remembered."
        )

    def _remember_password(self, username: str, password: str) -> None:
        try:
            self.secrets.set_password(self.connection.keyring_service, username, password)
        except KeyringUnavailable as exc:
            self.notify(f"Could not store the password in the keyring: {exc}", severity="warning")
