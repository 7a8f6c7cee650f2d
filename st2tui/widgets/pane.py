"""What every main-screen pane shares: read-only filtering of bindings and palette commands."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.containers import Vertical
from textual.widget import Widget

from st2tui.api_errors import St2Error
from st2tui.messages import ApiFailed
from st2tui.widgets.filter_bar import FilterBar


@dataclass(frozen=True)
class PaneCommand:
    """A command-palette entry offered by a pane for its current selection; `action` runs on the pane."""

    title: str
    help: str
    action: str


class Pane(Vertical):
    """A main-screen pane. `MUTATING_ACTIONS` name the actions that change anything on the server:
    in read-only mode their bindings vanish (footer, help, palette) and their keys do nothing."""

    MUTATING_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    @property
    def readonly(self) -> bool:
        return bool(self.app.settings.readonly)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MUTATING_ACTIONS and self.readonly:
            return False
        return True

    def allowed(self, command: PaneCommand) -> bool:
        return self.check_action(command.action, ()) is not False

    def focus_now(self, widget: Widget) -> None:
        """Focus `widget` at once rather than after the events already queued, so keys typed right
        after a pane switch (`3` then enter) reach the new pane."""
        self.screen.set_focus(widget)

    def focus_main(self) -> None:
        """Focus the pane's main list (after a pane switch, or when its filter bar closes); panes name it,
        else the first part that takes focus."""
        target = next((widget for widget in self.query("*") if widget.focusable), None)
        if target is not None:
            self.focus_now(target)

    def apply_filter(self, text: str) -> bool:
        """Show what matches `text` (a pane's own filter grammar); False when it was refused, with the
        reason shown (the filter bar then stays open)."""
        return False

    @on(FilterBar.Applied)
    def _filter_applied(self, event: FilterBar.Applied) -> None:
        event.stop()
        if self.apply_filter(event.value):
            self.focus_main()

    @on(FilterBar.Closed)
    def _filter_closed(self, event: FilterBar.Closed) -> None:
        event.stop()
        self.focus_main()

    @on(ApiFailed)
    def _show_load_failure(self, event: ApiFailed) -> None:
        # Not stopped: the screen notifies too. An empty list says why it is empty and how to try
        # again, where the user looks, rather than "Loading…" for ever.
        table = getattr(self, "table", None)
        if table is None or table.rows or not event.what.startswith("Loading"):
            return
        error = event.error
        detail = error.faultstring if isinstance(error, St2Error) else str(error)
        table.empty_text = f"{event.what} failed: {detail}  ({self._reload_key()} tries again)"

    def show_unreachable(self, detail: str) -> None:
        """Not signed in because the server does not answer: an empty list says so (not "Loading…")."""
        table = getattr(self, "table", None)
        if table is not None and not table.rows:
            table.empty_text = f"Not connected: {detail}. st2tui tries again by itself."

    def _reload_key(self) -> str:
        for active in self.screen.active_bindings.values():
            if active.binding.id == "refresh":
                return active.binding.key.split(",")[0]  # as typed: "ctrl+r", not "^r"
        return "ctrl+r"

    def back(self) -> bool:
        """Close an open detail view; False when none was open (the screen then goes back a pane)."""
        return False

    def palette_commands(self) -> Iterable[PaneCommand]:
        """Commands for the palette, given what is selected; panes add theirs."""
        return ()
