"""The Textual application: signs in, then hands over to the main screen; switches profiles."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter
from textual.screen import ModalScreen, Screen
from textual.worker import WorkerFailed

from st2tui.api_errors import NetworkError, St2Error, Unauthorized
from st2tui.commands import ScreenCommands
from st2tui.config import ConfigError, Connection, Settings, app_config_path, load_app_config, resolve
from st2tui.crash import default_crash_dir, describe, write_crash_report
from st2tui.credentials import KeyringUnavailable, SecretStore, TokenCache
from st2tui.messages import (
    ExecutionOpenRequested,
    InquiryResponseRequested,
    KeyEditRequested,
    RunActionRequested,
    SignedIn,
    StreamStateChanged,
)
from st2tui.models import Execution, Page, Token, WhoAmI
from st2tui.screens.main import MainScreen
from st2tui.text import UNSAFE_RE, visible

if TYPE_CHECKING:
    from textual.color import Color

    from st2tui.api import St2Client
    from st2tui.prefetch import StartRequests
    from st2tui.screens.key_form import KeyFormOutcome
    from st2tui.screens.sign_in import SignInDetails

RETRY_SECONDS = 5.0

logger = logging.getLogger("st2tui.app")


class ControlFilter(LineFilter):
    """The last guard before the terminal: a control character that reached a drawn line anyway (a widget
    that forgot st2tui.text.visible) is dropped; it takes no cell, so the layout stays as drawn."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not any(not segment.control and UNSAFE_RE.search(segment.text) for segment in segments):
            return segments
        return [
            segment
            if segment.control or not UNSAFE_RE.search(segment.text)
            else Segment(UNSAFE_RE.sub("", segment.text), segment.style)
            for segment in segments
        ]


class St2TuiApp(App[None]):
    """st2tui: one StackStorm installation at a time, driven from the keyboard."""

    CSS_PATH = "app.tcss"
    TITLE = "st2tui"
    BINDING_GROUP_TITLE = "Application"
    # One provider: the screen's commands first, then Textual's system commands (see st2tui.commands).
    COMMANDS = {ScreenCommands}
    BINDINGS = [
        Binding("q", "leave", "Quit", id="quit", tooltip="Leave st2tui"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            show=False,
            priority=True,
            id="command-palette",
            tooltip="Search the commands for what is selected",
        ),
        Binding(
            "ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-now", tooltip="Leave st2tui now"
        ),
    ]

    # An execution to show as soon as the session is signed in (`--execution`); the launcher sets it.
    open_on_start: str | None = None
    # The start's requests, sent before the UI was built (st2tui.prefetch); the launcher sets them.
    start_requests: StartRequests | None = None
    # Said once on start (e.g. a token cache others can write); the launcher sets them.
    startup_warnings: list[str] = []  # replaced, never changed in place
    # Where a crash report goes; the path of the one written, if the app crashed.
    crash_dir: Path = default_crash_dir()
    crash_report: Path | None = None

    def __init__(
        self,
        client: St2Client | None,
        connection: Connection,
        settings: Settings,
        *,
        secrets: SecretStore | None = None,
        make_client: Callable[[], St2Client] | None = None,
    ) -> None:
        """`client`, or `make_client` to make it when first used: the launcher's way, so that httpx (the
        client's ~60 ms of imports) loads after the first frame, which shows answers asked for before."""
        super().__init__()
        self._filters.append(ControlFilter())
        if client is None and make_client is None:
            raise ValueError("St2TuiApp needs a client or a way to make one")
        self._client = client
        self._make_client = make_client
        # Taken over from the start requests before the client exists; handed to it when it is made.
        self._session_token: Token | None = None
        self._session_started = False
        self.connection = connection
        # `settings` as configured; `self.settings` may also be read-only because of the user's role.
        self.configured_settings = settings
        self.settings = settings
        self.readonly_reason = "read-only mode" if settings.readonly else ""
        self.secrets = secrets
        if settings.keybindings:
            self.set_keymap(settings.keybindings)

    @property
    def client(self) -> St2Client:
        if self._client is None:
            assert self._make_client is not None
            client = self._make_client()
            if self._session_token is not None:
                client.set_token(self._session_token)
            if self._session_started:
                client.prompt_credentials = self._ask_credentials
            self._client = client
        return self._client

    @client.setter
    def client(self, client: St2Client) -> None:
        self._client = client

    def notify(self, message: str, *, title: str = "", markup: bool = False, **kwargs: Any) -> None:
        # Notifications carry server text (faultstrings, names): never markup (widgets pass markup=True by
        # default), every control character shown.
        del markup
        super().notify(visible(message), title=visible(title), markup=False, **kwargs)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In a dialog or form, `q` is a letter or a no-op, never "quit and lose what was typed".
        if action == "leave" and isinstance(self.screen, ModalScreen):
            return False
        return True

    async def action_command_palette(self) -> None:
        # Over the main screen only once it is complete (see MainScreen.build_rest_later).
        screens = [screen for screen in self.screen_stack if isinstance(screen, MainScreen)]
        if screens:
            await screens[0].complete.wait()
        super().action_command_palette()

    def action_leave(self) -> None:
        self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's "Keys" panel lists Textual's generic keys: st2tui's help (? or F1) replaces it.
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command

    # -- failures ------------------------------------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        # Textual's handler exits on any error and prints the traceback with local variables (which may
        # hold a password or a token). A failed worker is one task gone wrong: say so and carry on. Anything
        # else is a crash: write a report without secrets, restore the terminal and print where it is.
        if isinstance(error, WorkerFailed):
            logger.error("background task failed", exc_info=error.error)
            self.notify(
                f"{describe(error.error)}\nst2tui carries on; details are in the log file.",
                title="Unexpected error",
                severity="error",
                timeout=15,
            )
            return
        logger.critical("st2tui crashed", exc_info=error)
        context = {
            "server": self.connection.display_name,
            "screens": " > ".join(
                type(screen).__name__ for screen in self.screen_stack if type(screen) is not Screen
            ),
        }
        try:
            self.crash_report = write_crash_report(error, self.crash_dir, context)
            where = f"A report without secrets is in {self.crash_report}"
        except OSError as exc:
            where = f"The crash report could not be written ({exc}); see the log file"
        self._return_code = 1
        if self._exception is None:
            self._exception = error  # so that `run_test` re-raises it in tests
            self._exception_event.set()
        self.panic(f"st2tui crashed: {describe(error)}\n{where}.")

    def on_mount(self) -> None:
        self.theme = self.settings.theme
        main = MainScreen()
        # A start with credentials: the rest of the main screen is built after the first frame (unless a
        # screen of its own opens at once), and a sign-in dialog, if it comes to that, waits for it.
        main.build_rest_later = self.start_requests is not None and not self.open_on_start
        answers = self.start_requests.ready() if self.start_requests is not None else None
        if answers is not None:
            # The start requests were answered while the UI loaded: the main screen starts signed in, and
            # its first frame shows their rows.
            self.start_requests = None
            main.signed_in_on_mount = self._signed_in(
                answers.whoami, answers.version, answers.token, (answers.params, answers.page)
            )
        self.push_screen(main)
        for warning in self.startup_warnings:
            self.notify(warning, title="Security", severity="warning", timeout=15)
        if answers is None:
            self.sign_in()
        self.call_after_refresh(self._started)

    def _started(self) -> None:
        # `st2tui` starts with garbage collection off (see cli.main); what start-up made stays for the
        # session, so it is moved out of the collector's way before collection resumes. (An app run with
        # collection on, as in tests, leaves the collector alone.)
        if not gc.isenabled():
            gc.freeze()
            gc.enable()

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    @work(exclusive=True, group="sign-in", description="Signing in")
    async def sign_in(self) -> None:
        await self._authenticate()

    async def _authenticate(self) -> None:
        """Authenticate (asking when there are no usable credentials), then announce who we are."""
        start, self.start_requests = self.start_requests, None
        answers = await start.answers() if start is not None else None
        if answers is not None:
            # Asked before the UI was built: nothing left to ask before the rows show.
            message = self._signed_in(
                answers.whoami, answers.version, answers.token, (answers.params, answers.page)
            )
        else:
            signed_in = await self._sign_in()
            if signed_in is None:
                return
            message = self._signed_in(*signed_in, None, None)
        self.main_screen.post_message(message)

    def _signed_in(
        self,
        whoami: WhoAmI,
        version: str,
        token: Token | None,
        first_page: tuple[dict[str, Any], Page[Execution]] | None,
    ) -> SignedIn:
        """Take the session over (role, expiry prompt) and make the message that starts the main screen's."""
        # From now on an expired session asks on top of whatever is on screen, then carries on. (A client
        # not made yet gets both when it is.)
        self._session_started = True
        if self._client is None:
            self._session_token = token
        else:
            if token is not None:
                self._client.set_token(token)
            self._client.prompt_credentials = self._ask_credentials
        self._apply_role(whoami)
        if self.open_on_start:
            # `st2tui --execution ID|last`: straight to that execution, once signed in.
            execution_id, self.open_on_start = self.open_on_start, None
            self.post_message(ExecutionOpenRequested(execution_id))
        return SignedIn(whoami, self.connection.display_name, version, first_page=first_page)

    async def _sign_in(self) -> tuple[WhoAmI, str] | None:
        """Ask who we are until the server answers (asking for credentials when it refuses); None when
        the user gave up signing in."""
        error = ""
        told_unreachable = False
        while True:
            if not self.client.has_credentials or error:
                from st2tui.screens.sign_in import SignInScreen

                await self.main_screen.complete.wait()
                details = await self.push_screen_wait(
                    SignInScreen(
                        self.connection.display_name,
                        username=self.client.username or "",
                        error=error,
                        keyring_note=self._keyring_note(),
                        quits=True,
                    )
                )
                if details is None:
                    self.exit(message="Not signed in.")
                    return None
                self.client.set_token(None)
                self.client.set_credentials(username=details.username, password=details.password)
                if details.remember and self.secrets is not None:
                    self._remember_password(details.username, details.password)
            try:
                whoami, version = await asyncio.gather(
                    self.client.auth.whoami(), self.client.server.version()
                )
            except Unauthorized as exc:
                error = f"Sign-in failed: {exc.faultstring or exc}"
                continue
            except NetworkError as exc:
                self.main_screen.post_message(StreamStateChanged("offline", str(exc)))
                if not told_unreachable:
                    # Once; from then on the header says it until the server answers.
                    told_unreachable = True
                    self.notify(
                        f"{exc}. Retrying every {RETRY_SECONDS:g} s.",
                        severity="error",
                        timeout=10,
                    )
                await asyncio.sleep(RETRY_SECONDS)
                continue
            except St2Error as exc:
                self.notify(f"Signing in failed: {exc}", severity="error")
                await asyncio.sleep(RETRY_SECONDS)
                continue
            return whoami, version

    def _apply_role(self, whoami: WhoAmI) -> None:
        """Hide what the user's role cannot do (st2's `observer`), as `--readonly` hides everything that
        changes state; other roles keep every command and the server's 403 says what is refused."""
        configured = self.configured_settings
        role_only_views = whoami.can_only_view and not configured.readonly
        self.settings = replace(configured, readonly=configured.readonly or whoami.can_only_view)
        if role_only_views:
            self.readonly_reason = f"role {', '.join(whoami.roles) or 'none'} can only view"
        else:
            self.readonly_reason = "read-only mode" if configured.readonly else ""
        self.refresh_bindings()

    async def _ask_credentials(self, reason: str) -> tuple[str, str] | None:
        """The client's prompt when a session cannot be renewed silently: the sign-in dialog opens over
        the current screen (a half-filled form stays as it is beneath) and the request that failed is
        sent again after signing in."""
        from st2tui.screens.sign_in import SignInScreen

        await self.main_screen.complete.wait()
        answered: asyncio.Future[SignInDetails | None] = asyncio.get_running_loop().create_future()
        dialog = SignInScreen(
            self.connection.display_name,
            username=self.client.username or "",
            error=f"Session expired ({reason}). Sign in to carry on where you were.",
            keyring_note=self._keyring_note(),
        )
        self.push_screen(dialog, lambda details: answered.done() or answered.set_result(details))
        details = await answered
        if details is None:
            return None
        if details.remember and self.secrets is not None:
            self._remember_password(details.username, details.password)
        return details.username, details.password

    @property
    def main_screen(self) -> MainScreen:
        return next(screen for screen in self.screen_stack if isinstance(screen, MainScreen))

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

    # -- profiles (`:ctx`) ---------------------------------------------------------------------------------

    def profile_names(self) -> list[str]:
        """The profiles of st2tui's config file (none when it cannot be read)."""
        try:
            return sorted(load_app_config(app_config_path(os.environ)).profiles)
        except ConfigError:
            return []

    @work(exclusive=True, group="sign-in", description="Switching profile")
    async def switch_profile(self, name: str) -> None:
        """Leave this installation and sign in to the one of profile `name`."""
        try:
            connection = resolve({"profile": name}).connection
        except ConfigError as exc:
            self.notify(str(exc), title="Profile", severity="error")
            return
        password = None
        if self.secrets is not None and connection.username and not connection.password:
            try:
                password = self.secrets.get_password(connection.keyring_service, connection.username)
            except KeyringUnavailable:
                pass  # the sign-in dialog asks instead
        from st2tui.api import St2Client

        client = St2Client.from_connection(
            connection,
            password=password,
            token_cache=TokenCache.for_home(Path.home()),
            **self.configured_settings.client_limits(),
        )
        self.main_screen.end_session()
        previous, self.client, self.connection = self.client, client, connection
        await previous.aclose()
        self.notify(f"Switching to {connection.display_name}…", title="Profile")
        await self._authenticate()

    # -- screens of their own (execution detail, forms), imported when first shown: the main screen comes up
    # sooner without them --------------------------------------------------------------------------------

    @on(ExecutionOpenRequested)
    def _open_execution(self, event: ExecutionOpenRequested) -> None:
        """Show the execution on a screen of its own; from another execution's screen, escape goes back there."""
        from st2tui.screens.execution import ExecutionScreen

        if not self.screen_stack:
            return  # st2tui is closing: a form's last answer came in after its screens were gone
        current = self.screen
        if isinstance(current, ExecutionScreen) and event.execution_id in (
            current.execution_id,
            current.execution.id if current.execution else None,
        ):
            return
        trail = (*current.trail, current.crumb()) if isinstance(current, ExecutionScreen) else ()
        self.push_screen(ExecutionScreen(event.execution_id, trail=trail))

    @on(RunActionRequested)
    def _run_action(self, event: RunActionRequested) -> None:
        """The run (or re-run) form; once the server started the execution, its screen opens."""
        if self.settings.readonly:
            self.notify(f"Actions cannot be run ({self.readonly_reason}).", severity="warning")
            return

        def started(execution_id: str | None) -> None:
            if execution_id:
                self.notify(f"Started execution {execution_id}.", title=event.action_ref)
                self.post_message(ExecutionOpenRequested(execution_id))

        from st2tui.screens.run_action import RunActionScreen

        form = RunActionScreen(event.action_ref, parameters=event.parameters, rerun_of=event.rerun_of)
        self.push_screen(form, started)

    @on(KeyEditRequested)
    def _edit_key(self, event: KeyEditRequested) -> None:
        """The key form; the keys pane reads the datastore again after a save or delete."""
        if self.settings.readonly:
            self.notify(f"Keys cannot be changed ({self.readonly_reason}).", severity="warning")
            return

        def done(outcome: KeyFormOutcome | None) -> None:
            if outcome is None:
                return
            verb = "Deleted" if outcome.deleted else "Saved"
            self.notify(f"{verb} key {outcome.key.name}.")
            for pane in self.main_screen.query("KeysPane"):
                pane.resync()

        from st2tui.screens.key_form import KeyFormScreen

        self.push_screen(KeyFormScreen(event.key), done)

    @on(InquiryResponseRequested)
    def _respond(self, event: InquiryResponseRequested) -> None:
        """The inquiry's response form; the inquiries pane reads the pending ones again after an answer."""
        if self.settings.readonly:
            self.notify(f"Inquiries cannot be answered ({self.readonly_reason}).", severity="warning")
            return

        def answered(response: dict | None) -> None:
            if response is None:
                return
            self.notify(f"Answered inquiry {event.inquiry.id[-8:]}: the workflow resumes.")
            for pane in self.main_screen.query("InquiriesPane"):
                pane.resync()

        from st2tui.screens.inquiry_form import InquiryFormScreen

        self.push_screen(InquiryFormScreen(event.inquiry), answered)
