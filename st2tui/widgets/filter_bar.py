"""The one-line filter prompt a pane opens with `/`: enter applies it, escape puts the old one back."""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
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
        self.post_message(self.Applied(self, self.value.strip()))

    def action_close(self) -> None:
        self.value = self._applied
        self.display = bool(self._applied)
        self.post_message(self.Closed(self))
