"""The one-line filter prompt a pane opens with `/`: enter applies it, escape puts the old one back.

A filter the panes could not use as it is (control characters, which would reach the terminal in the
pane's title; thousands of characters, which no server takes in an address) is refused here, with a
message, and stays in the bar to be fixed.
"""

from __future__ import annotations

import re

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from st2tui.widgets.safe_input import SafeInput

# Filters go into query strings: web servers in front of st2 refuse addresses of more than a few KB.
MAX_FILTER_LENGTH = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def filter_problem(text: str, what: str = "filter") -> str | None:
    """Why `text` cannot be used as a filter (or command, `what`); None when it can."""
    if len(text) > MAX_FILTER_LENGTH:
        return f"{what.capitalize()} too long: {len(text)} characters, at most {MAX_FILTER_LENGTH}."
    if _CONTROL.search(text):
        return f"A {what} cannot contain control characters (tabs, line breaks, escapes)."
    if re.search(r"[\ud800-\udfff]", text):
        return f"A {what} cannot contain an invalid character (an unpaired surrogate)."
    return None


class FilterBar(SafeInput):
    """Hidden until a pane opens it; posts `Applied` with the text, or `Closed` on escape."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="filter.close", tooltip="Leave the filter unchanged"),
    ]

    class Applied(Message):
        def __init__(self, bar: FilterBar, value: str) -> None:
            super().__init__()
            self.bar = bar
            self.value = value

        @property
        def control(self) -> FilterBar:
            return self.bar

    class Closed(Message):
        def __init__(self, bar: FilterBar) -> None:
            super().__init__()
            self.bar = bar

        @property
        def control(self) -> FilterBar:
            return self.bar

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id, classes="filter-bar")
        self.display = False
        self._applied = ""

    def open(self) -> None:
        self.value = self._applied
        self.display = True
        # At once: the filter text typed right after `/` must land here, not in the table.
        self.screen.set_focus(self)
        self.cursor_position = len(self.value)

    def set_applied(self, value: str) -> None:
        """Record the filter in force (also when it was set another way, e.g. `:ex status:failed`)."""
        self._applied = value
        self.value = value
        self.display = bool(value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = filter_problem(self.value)
        self.set_class(problem is not None, "-invalid")
        if problem is not None:
            self.notify(problem, title="Filter", severity="error", markup=False)
            return
        self.post_message(self.Applied(self, self.value.strip()))

    def action_close(self) -> None:
        self.remove_class("-invalid")
        self.value = self._applied
        self.display = bool(self._applied)
        self.post_message(self.Closed(self))
