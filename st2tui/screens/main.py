"""The main screen: header, executions pane, footer; kept live from the event stream."""

from __future__ import annotations

from contextlib import aclosing

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from st2tui.api import St2Error, StreamConnected, StreamDisconnected, StreamReconnected
from st2tui.messages import ApiFailed, ExecutionsLoaded, ExecutionUpdated, SignedIn, StreamStateChanged
from st2tui.models import StreamEvent
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.header import StatusHeader

PAGE_SIZE = 50
EXECUTION_EVENTS = ("st2.execution__create", "st2.execution__update", "st2.execution__delete")


class MainScreen(Screen):
    """What an operator watches all day."""

    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Reload the executions from the API"),
        Binding("t", "toggle_utc", "UTC/local", id="toggle-utc", tooltip="Show times in UTC or local time"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._poll_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="status-header")
        yield ExecutionsPane(id="executions-pane")
        yield Footer()

    @property
    def header(self) -> StatusHeader:
        return self.query_one(StatusHeader)

    @property
    def executions(self) -> ExecutionsPane:
        return self.query_one(ExecutionsPane)

    def on_mount(self) -> None:
        app = self.app
        self.header.server = app.connection.display_name
        self.header.readonly = app.settings.readonly
        self.header.insecure = app.connection.insecure

    @on(SignedIn)
    def start_session(self, event: SignedIn) -> None:
        who = event.whoami
        self.header.user = who.username
        self.header.auth_method = who.auth_method
        self.header.token_expiry = who.token_expire
        self.header.version = event.version
        self.header.role = "admin" if who.is_admin else ", ".join(who.roles)
        self.load_executions()
        self.follow_stream()

    # -- executions ----------------------------------------------------------------------------------

    @work(exclusive=True, group="executions-list", exit_on_error=False, description="Loading executions")
    async def load_executions(self) -> None:
        try:
            page = await self.app.client.executions.list(
                limit=PAGE_SIZE, parent="null", exclude_attributes=["result", "trigger_instance"]
            )
        except St2Error as exc:
            self.post_message(ApiFailed("loading executions", exc))
            return
        self.post_message(ExecutionsLoaded(page))

    @on(ExecutionsLoaded)
    def show_executions(self, event: ExecutionsLoaded) -> None:
        self.executions.show_page(event.page)

    @on(ExecutionUpdated)
    def update_execution(self, event: ExecutionUpdated) -> None:
        execution = event.execution
        if execution.parent_id:
            return  # the pane shows top-level executions
        is_new = execution.id not in self.executions.table.executions
        self.executions.upsert(execution, is_new=is_new)

    # -- the event stream, with a polling fallback while it is down ---------------------------------

    @work(exclusive=True, group="event-stream", exit_on_error=False, description="Following the event stream")
    async def follow_stream(self) -> None:
        self.post_message(StreamStateChanged("connecting"))
        stream = self.app.client.streams.events(events=EXECUTION_EVENTS)
        async with aclosing(stream) as items:
            async for item in items:
                if isinstance(item, StreamEvent):
                    execution = item.execution
                    if execution is not None:
                        self.post_message(ExecutionUpdated(execution))
                elif isinstance(item, StreamConnected):
                    self.post_message(StreamStateChanged("live"))
                elif isinstance(item, StreamDisconnected):
                    self.post_message(StreamStateChanged("polling", item.reason))
                elif isinstance(item, StreamReconnected):
                    # st2 replays nothing after a reconnect: resync what is on screen over REST.
                    self.load_executions()

    @on(StreamStateChanged)
    def show_stream_state(self, event: StreamStateChanged) -> None:
        self.header.stream_state = event.state
        if event.state == "polling" and self._poll_timer is None:
            interval = self.app.settings.refresh_interval
            self._poll_timer = self.set_interval(interval, self.load_executions)
        elif event.state == "live" and self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None

    @on(ApiFailed)
    def report_failure(self, event: ApiFailed) -> None:
        self.notify(f"{event.what.capitalize()} failed: {event.error}", severity="error", timeout=8)

    # -- actions -------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.load_executions()

    def action_toggle_utc(self) -> None:
        table = self.executions.table
        table.utc = not table.utc
