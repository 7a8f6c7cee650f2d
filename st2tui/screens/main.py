"""The main screen: header, five panes behind tabs and number keys, command bar, footer; kept live from
the event stream, with polling while the stream is down.

Only what the first frame shows is built before it (header, the first pane, footer); the other panes, the
tail pane and the command bar are imported and mounted right after it, so st2tui shows its rows sooner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, TabbedContent, TabPane

from st2tui import formatting
from st2tui.api_errors import NetworkError, ServerError, St2Error
from st2tui.api_stream_states import StreamConnected, StreamDisconnected
from st2tui.commands import PaletteCommand, ScreenCommands
from st2tui.messages import ApiFailed, ConfirmationRequested, ExecutionsUpdated, SignedIn, StreamStateChanged
from st2tui.models import Execution, StreamEvent
from st2tui.widgets.command_bar import CommandBar
from st2tui.widgets.executions import ExecutionsPane, slim_document
from st2tui.widgets.header import STALE_STATES, StatusHeader
from st2tui.widgets.pane import Pane

if TYPE_CHECKING:
    from st2tui.widgets.inquiries import InquiriesPane
    from st2tui.widgets.output_log import OutputPanel
    from st2tui.widgets.tail import TailPane

EXECUTION_EVENTS = ("st2.execution__create", "st2.execution__update", "st2.execution__delete")
PANES = (
    ("executions", "Executions"),
    ("actions", "Actions"),
    ("rules", "Rules"),
    ("keys", "Keys"),
    ("inquiries", "Inquiries"),
)
INQUIRY_RUNNER = "inquirer"


def new_pane(name: str) -> Pane:
    """The pane widget `name`, its module imported on first use."""
    if name == "executions":
        return ExecutionsPane(id="executions-pane").data_bind(MainScreen.utc)
    if name == "actions":
        from st2tui.widgets.actions import ActionsPane

        return ActionsPane(id="actions-pane").data_bind(MainScreen.utc)
    if name == "rules":
        from st2tui.widgets.rules import RulesPane

        return RulesPane(id="rules-pane").data_bind(MainScreen.utc)
    if name == "keys":
        from st2tui.widgets.keys import KeysPane

        return KeysPane(id="keys-pane")
    from st2tui.widgets.inquiries import InquiriesPane

    return InquiriesPane(id="inquiries-pane")


class MainScreen(Screen):
    """What an operator watches all day."""

    COMMANDS = {ScreenCommands}
    BINDING_GROUP_TITLE = "Everywhere"
    BINDINGS = [
        *(
            Binding(
                str(number),
                f"show_pane('{name}')",
                title,
                show=False,
                id=f"pane.{name}",
                tooltip=f"Show the {title.lower()} pane",
            )
            for number, (name, title) in enumerate(PANES, start=1)
        ),
        Binding("question_mark,f1", "help", "Help", id="help", tooltip="The keys that work here"),
        Binding(
            "colon",
            "command_bar",
            "Command",
            id="command-bar",
            tooltip=":ex :ac :ru :kv :inq :ctx <profile> :q",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            show=False,
            id="back",
            tooltip="Close the details",
        ),
        Binding(
            "ctrl+r",
            "reload",
            "Reload",
            show=False,
            id="refresh",
            tooltip="Read this pane again from the server",
        ),
        Binding(
            "T",
            "toggle_tail",
            "Tail",
            show=False,
            id="tail.toggle",
            tooltip="Show or hide the live tail pane (output of running executions)",
        ),
        Binding(
            "Z",
            "zoom_tail",
            "Tail full screen",
            show=False,
            id="tail.zoom",
            tooltip="Give the tail pane the whole screen, or share it with the panes again",
        ),
        Binding(
            "P",
            "pin_tail",
            "Pin to tail",
            show=False,
            id="tail.pin",
            tooltip="Tail the selected execution and all its descendants",
        ),
        Binding(
            "t",
            "toggle_utc",
            "UTC/local",
            show=False,
            id="toggle-utc",
            tooltip="Show times in UTC or local time",
        ),
    ]

    utc: reactive[bool] = reactive(False)

    def __init__(self) -> None:
        super().__init__()
        self._poll_timer: Timer | None = None
        self.signed_in = False
        # Set once the parts built after the first frame are mounted (see `_mount_rest`); what was asked
        # of them before (a key pressed in that instant) waits in `_waiting` until then.
        self.complete = asyncio.Event()
        self._waiting: list[Callable[[], object]] = []
        # Set by the app when the session was ready before this screen: started on mount, before the
        # first frame.
        self.signed_in_on_mount: SignedIn | None = None
        # Set by the app when nothing will open over this screen before the first frame's rows (a fast
        # start): the other panes, the tail and the command bar are then built right after that frame.
        self.build_rest_later = False

    def compose(self) -> ComposeResult:
        first = self._first_pane_name()
        # Widgets mounted while another screen is over this one are not composed in time (a dialog that
        # opens at once): only a fast start builds the rest later, and dialogs wait for it (`complete`).
        later = self.build_rest_later
        yield StatusHeader(id="status-header")
        with TabbedContent(id="panes", initial=first):
            for number, (name, title) in enumerate(PANES, start=1):
                with TabPane(f"{number} {title}", id=name):
                    # The executions pane always: the start requests fill it, and the stream feeds it.
                    if not later or name in (first, "executions"):
                        yield new_pane(name)
        if not later:
            yield self._new_tail()
            yield CommandBar(id="command-bar")
        yield Footer(compact=True)

    def _first_pane_name(self) -> str:
        default = self.app.settings.default_pane
        return default if default in dict(PANES) else PANES[0][0]

    async def _mount_rest(self) -> None:
        """After the first frame: the other panes, the tail pane and the command bar."""
        if not self.query("#tail"):
            await self.mount(self._new_tail(), CommandBar(id="command-bar"), before=self.query_one(Footer))
        await asyncio.gather(
            *(
                self.query_one(f"TabPane#{name}", TabPane).mount(new_pane(name))
                for name in self._missing_panes()
            )
        )
        self.tail.panel.stream_state = self.header.stream_state
        self.watch(self.inquiries, "count", self._show_inquiry_count)
        if self.signed_in:
            self.inquiries.reload()
        self.complete.set()
        for call in self._waiting:
            call()
        self._waiting.clear()

    def _after_rest(self, call: Callable[[], object]) -> bool:
        """True when the rest is not mounted yet: `call` then runs once it is."""
        if self.complete.is_set():
            return False
        self._waiting.append(call)
        return True

    def _new_tail(self) -> TailPane:
        from st2tui.widgets.tail import TailPane

        tail = TailPane(id="tail")
        tail.display = False  # `T` shows it
        tail.filter_matches = self._list_would_show
        return tail

    def _missing_panes(self) -> list[str]:
        return [name for name, _ in PANES if not self.query(f"#{name}-pane")]

    def _panes(self) -> list[Pane]:
        """The panes mounted so far."""
        return list(self.query_one(TabbedContent).query(Pane))

    # -- parts ---------------------------------------------------------------------------------------------

    @property
    def header(self) -> StatusHeader:
        return self.query_one(StatusHeader)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one(TabbedContent)

    @property
    def executions(self) -> ExecutionsPane:
        return self.query_one(ExecutionsPane)

    @property
    def tail(self) -> TailPane:
        return self.query_one("#tail")  # type: ignore[return-value]

    @property
    def inquiries(self) -> InquiriesPane:
        return self.query_one("#inquiries-pane")  # type: ignore[return-value]

    def pane(self, name: str) -> Pane:
        return self.query_one(f"#{name}-pane", Pane)

    @property
    def current_name(self) -> str:
        return self.tabs.active or PANES[0][0]

    @property
    def current_pane(self) -> Pane:
        return self.pane(self.current_name)

    def on_mount(self) -> None:
        app = self.app
        self.header.server = app.connection.display_name
        self.header.readonly = app.settings.readonly
        self.header.insecure = app.connection.insecure
        self.header.target = urlsplit(app.connection.api_url).netloc
        self.utc = app.settings.timezone == "utc"
        self._activate(self._first_pane_name())
        if self.signed_in_on_mount is not None:
            self.start_session(self.signed_in_on_mount)
            self.signed_in_on_mount = None
        if self.build_rest_later:
            self.call_after_refresh(self._mount_rest)
        else:
            self.call_next(self._mount_rest)  # all mounted already: only the wiring

    # -- session -------------------------------------------------------------------------------------------

    @on(SignedIn)
    def start_session(self, event: SignedIn) -> None:
        who = event.whoami
        self.header.server = event.server
        self.header.user = who.username
        self.header.version = event.version
        self.header.role = (
            "admin" if who.is_admin else ", ".join(who.roles) or ("no roles" if who.rbac_enabled else "")
        )
        self.header.readonly = self.app.settings.readonly
        self.signed_in = True
        for pane in self._panes():
            pane.loaded = False
        self.executions.reload(first_page=event.first_page)
        if self.complete.is_set():
            self.inquiries.reload()  # else once mounted (the badge counts pending inquiries)
        if self.current_name not in ("executions", "inquiries"):
            self.current_pane.reload()
        # On a fast start, after the first frame: the stream's client (httpx) would hold that frame back.
        if not self._after_rest(self.follow_stream):
            self.follow_stream()

    def end_session(self) -> None:
        """Stop everything that talks to the server (before the app switches to another profile)."""
        self.signed_in = False
        self.workers.cancel_node(self)
        for pane in self._panes():
            self.workers.cancel_node(pane)
        self._stop_polling()
        self.header.user = ""
        self.header.version = ""
        self.header.role = ""
        self.header.stream_state = "connecting"
        if self.complete.is_set():
            self.tail.stop()

    # -- panes ---------------------------------------------------------------------------------------------

    def action_show_pane(self, name: str) -> None:
        if not self.query(f"#{name}-pane") and self._after_rest(partial(self.action_show_pane, name)):
            return
        self.tabs.active = name
        self._activate(name)

    def _activate(self, name: str) -> None:
        pane = self.pane(name)
        if self.signed_in and not pane.loaded:
            pane.reload()
        pane.focus_main()
        self.refresh_bindings()

    @on(TabbedContent.TabActivated)
    def _tab_clicked(self, event: TabbedContent.TabActivated) -> None:
        name = event.pane.id or PANES[0][0]
        if not self.query(f"#{name}-pane") and self._after_rest(partial(self._activate, name)):
            return
        if self.focused is None or self.pane(name) not in self.focused.ancestors_with_self:
            self._activate(name)

    def action_back(self) -> None:
        # Only what is open closes: escape never changes the pane, or the next `/` filter would go to a pane
        # the operator is not looking at.
        self.current_pane.back()

    def action_reload(self) -> None:
        self.current_pane.reload()

    def action_toggle_utc(self) -> None:
        self.utc = not self.utc

    # -- the tail pane ---------------------------------------------------------------------------------------

    def action_toggle_tail(self) -> None:
        if self._after_rest(self.action_toggle_tail):
            return
        self.show_tail(not self.tail.display)

    def show_tail(self, shown: bool, mode: str = "") -> None:
        from st2tui.widgets.tail import MODES

        if self._after_rest(partial(self.show_tail, shown, mode)):
            return
        tail = self.tail
        if mode == "pinned":
            self.action_pin_tail()
            return
        if mode in MODES:
            tail.mode = mode  # type: ignore[assignment]
        if shown and not tail.display:
            tail.display = True
            tail.start(self.executions.listing.executions.values())
            tail.focus_main()
        elif not shown and tail.display:
            tail.display = False
            tail.stop()
            self.set_class(False, "-tail-zoomed")
            self.current_pane.focus_main()
        elif shown:
            tail.focus_main()
        self.refresh_bindings()

    def action_zoom_tail(self) -> None:
        if self._after_rest(self.action_zoom_tail):
            return
        if not self.tail.display:
            self.show_tail(True)
        zoomed = not self.has_class("-tail-zoomed")
        self.set_class(zoomed, "-tail-zoomed")
        if zoomed:
            self.tail.focus_main()
        else:
            self.current_pane.focus_main()

    def action_pin_tail(self) -> None:
        if self._after_rest(self.action_pin_tail):
            return
        execution = self.executions.selected_execution
        if execution is None:
            self.notify("Select an execution in the list to pin it.", title="Tail", severity="warning")
            return
        self.show_tail(True)
        self.tail.pin(execution)

    @on(ConfirmationRequested)
    def _confirm(self, event: ConfirmationRequested) -> None:
        from st2tui.screens.confirm import ConfirmDialog

        event.stop()
        dialog = ConfirmDialog(event.title, event.body, confirm_label=event.confirm_label)
        self.app.push_screen(dialog, event.answered)

    def on_output_panel_save_requested(self, event: OutputPanel.SaveRequested) -> None:
        # Named, not @on: the tail's module is imported after the first frame.
        from st2tui.screens.save import SaveDialog

        event.stop()
        suggested = Path.cwd() / f"st2-tail-{formatting.now():%Y%m%d-%H%M%S}.log"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.tail.save(path)

        self.app.push_screen(SaveDialog("Save the tail's lines to", suggested), chosen)

    def _list_would_show(self, execution: Execution) -> bool:
        return self.executions.filter_query.matches(execution, now=formatting.now(), utc=self.utc)

    def _show_inquiry_count(self, count: int) -> None:
        self.header.pending_inquiries = count
        self.tabs.get_tab("inquiries").label = Text.assemble(
            "5 Inquiries", (f" {count}", "bold magenta") if count else ""
        )

    # -- the event stream, with a polling fallback while it is down ---------------------------------------

    @work(exclusive=True, group="event-stream", description="Following the event stream")
    async def follow_stream(self) -> None:
        tail_fields: list[str] | None = None  # the tail's module is imported at the first event, not before
        stream = self.app.client.streams.events(events=EXECUTION_EVENTS)
        async with aclosing(stream) as items:
            async for item in items:
                if isinstance(item, StreamEvent):
                    if item.resource != "execution" or not isinstance(item.data, dict):
                        continue
                    if tail_fields is None:
                        from st2tui.widgets.tail import TAIL_FIELDS

                        tail_fields = list(TAIL_FIELDS)
                    # Only what the panes show is kept: results can be megabytes.
                    execution = Execution.from_dict(
                        slim_document(item.data, [*self.executions.stream_fields, *tail_fields])
                    )
                    if item.verb == "delete":
                        self.post_message(ExecutionsUpdated({}, {execution.id}))
                    else:
                        self.post_message(ExecutionsUpdated({execution.id: execution}))
                elif isinstance(item, StreamConnected):
                    self.post_message(StreamStateChanged("live"))
                elif isinstance(item, StreamDisconnected) and self.header.stream_state not in (
                    "offline",
                    "polling",
                ):
                    # Once polls say whether REST still answers, they set the state instead.
                    self.post_message(StreamStateChanged("reconnecting", item.reason))

    @on(ExecutionsUpdated)
    def _executions_updated(self, event: ExecutionsUpdated) -> None:
        self.executions.apply_updates(event.changed, event.deleted)
        if not self.complete.is_set():
            return  # the tail and the inquiries are mounted after the first frame, and read then
        if self.tail.display:
            self.tail.consider(event.changed.values())
        if any(
            execution.runner_type == INQUIRY_RUNNER or execution.status == "pending"
            for execution in event.changed.values()
        ):
            self.inquiries.reload()

    @on(StreamStateChanged)
    def _stream_state(self, event: StreamStateChanged) -> None:
        self.header.stream_state = event.state
        if self.complete.is_set():
            self.tail.panel.stream_state = event.state
        self.header.last_contact = self.app.client.last_contact
        # What the panes show stays, dimmed, until the server answers again.
        self.set_class(event.state in STALE_STATES and self.signed_in, "-stale")
        if event.state == "offline" and not self.signed_in and event.detail:
            for pane in self._panes():
                pane.show_unreachable(event.detail)
        if (
            event.state in ("reconnecting", "polling", "offline")
            and self.signed_in
            and self._poll_timer is None
        ):
            self._poll_timer = self.set_interval(self.app.settings.refresh_interval, self._poll)
        elif event.state == "live":
            self._stop_polling()
            # st2 replays nothing: what changed before the stream (re)opened is read over REST
            # (each pane only if it was shown; the inquiries always, for the badge).
            for pane in self._panes():
                pane.resync()
            if self.complete.is_set():
                self.tail.resync()

    def _stop_polling(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None

    @work(exclusive=True, group="poll", description="Checking the server while the stream is down")
    async def _poll(self) -> None:
        """While the stream is down: is the API there? Then read what changed over REST (`polling`);
        if not, say the server cannot be reached and keep what is on screen, marked stale."""
        try:
            await self.app.client.server.version()
        except (NetworkError, ServerError) as exc:
            if self.header.stream_state != "live":
                self.post_message(StreamStateChanged("offline", str(exc)))
            return
        if self.header.stream_state == "live":
            return
        if self.header.stream_state == "offline":
            # The server answers again: try the stream now rather than when its backoff (up to 30 s) says.
            self.follow_stream()
        self.post_message(StreamStateChanged("polling"))
        # Dialogs on top: the user is deciding something; do not shift rows under them.
        if self.app.screen is self:
            self.executions.resync()
            self.inquiries.reload()

    @on(ApiFailed)
    def report_failure(self, event: ApiFailed) -> None:
        error = event.error
        if isinstance(error, NetworkError) and self.header.stream_state != "live":
            return  # the header already says the server cannot be reached, and since when
        detail = error.faultstring if isinstance(error, St2Error) else str(error)
        status = getattr(error, "status", None)
        title = f"{event.what} failed" + (f" (HTTP {status})" if status else "")
        self.notify(detail, title=title, severity="error", timeout=10)

    # -- command bar, help, palette -----------------------------------------------------------------------

    def action_command_bar(self) -> None:
        if self._after_rest(self.action_command_bar):
            return
        self.query_one(CommandBar).open()

    @on(CommandBar.Closed)
    def _command_bar_closed(self) -> None:
        self.current_pane.focus_main()

    @on(CommandBar.Entered)
    def run_command(self, event: CommandBar.Entered) -> None:
        from st2tui.forms import printable

        command, argument = event.command, event.argument
        if command in dict(PANES):
            self.action_show_pane(command)
            if argument and command != "inquiries":
                self.pane(command).apply_filter(argument)
        elif command == "tail":
            word = {"running": "running", "filter": "filter", "pin": "pinned", "pinned": "pinned"}.get(
                argument.lower(), ""
            )
            if argument and not word:
                self.notify(
                    f"Tail follows running, filter or pin, not {printable(argument)!r}.",
                    title=":tail",
                    severity="error",
                    markup=False,
                )
                return
            self.show_tail(bool(word) or not self.tail.display, word)
        elif command == "ctx":
            self._switch_profile(argument)
        elif command == "help":
            self.current_pane.focus_main()
            self.action_help()
        elif command == "quit":
            self.app.exit()

    def _switch_profile(self, name: str) -> None:
        from st2tui.forms import printable

        self.current_pane.focus_main()
        profiles = self.app.profile_names()
        if not name:
            listed = ", ".join(profiles) or "none (add profiles to the config file)"
            self.notify(
                f"Profiles: {listed}. Now: {self.app.connection.display_name}.", title=":ctx", markup=False
            )
        elif name not in profiles:
            listed = ", ".join(profiles) or "none are configured"
            self.notify(
                f"No profile {printable(name)!r}; profiles: {listed}.",
                title=":ctx",
                severity="error",
                markup=False,
            )
        else:
            self.app.switch_profile(name)

    def action_help(self) -> None:
        if self._after_rest(self.action_help):
            return
        from st2tui.screens.help import HelpScreen, help_entries

        self.app.push_screen(HelpScreen(help_entries(self)))

    def palette_commands(self) -> list[PaletteCommand]:
        pane = self.current_pane
        commands = [
            PaletteCommand(
                command.title, command.help, partial(pane.call_later, pane.run_action, command.action)
            )
            for command in pane.palette_commands()
            if pane.allowed(command)
        ]
        for number, (name, title) in enumerate(PANES, start=1):
            if name != self.current_name:
                commands.append(
                    PaletteCommand(f"Go to {title}", f"Pane {number}", partial(self.action_show_pane, name))
                )
        commands.append(
            PaletteCommand(
                "Show times in local time" if self.utc else "Show times in UTC",
                "Toggle (t)",
                self.action_toggle_utc,
            )
        )
        commands.append(
            PaletteCommand(f"Reload {self.current_name}", "Read the pane again (ctrl+r)", self.action_reload)
        )
        commands.append(
            PaletteCommand(
                "Hide the tail pane"
                if self.complete.is_set() and self.tail.display
                else "Show the tail pane",
                "Live output of running executions (T, :tail)",
                self.action_toggle_tail,
            )
        )
        commands.append(PaletteCommand("Tail pane full screen, or back", "(Z)", self.action_zoom_tail))
        if self.executions.selected_execution is not None:
            commands.append(
                PaletteCommand(
                    "Tail the selected execution and its descendants", "Pin (P)", self.action_pin_tail
                )
            )
        commands.append(PaletteCommand("Help: keys and commands", "(? or F1)", self.action_help))
        for profile in self.app.profile_names():
            if profile != self.app.connection.profile:
                commands.append(
                    PaletteCommand(
                        f"Switch to profile {profile}",
                        "Sign in there (:ctx)",
                        partial(self.app.switch_profile, profile),
                    )
                )
        return commands
