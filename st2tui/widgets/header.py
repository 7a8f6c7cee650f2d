"""The app header: where and who (server, user, version, role) on the left; on the right whether what
is shown is live, how many inquiries wait, and READ-ONLY."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

STREAM_STATES = {
    "connecting": ("◌ connecting", "grey62"),
    "live": ("● live", "bold green"),
    "reconnecting": ("◍ reconnecting", "bold yellow"),
    "polling": ("◎ polling", "bold dark_orange"),
    "offline": ("○ cannot reach", "bold red"),
}
# States in which what the panes show may be out of date.
STALE_STATES = frozenset({"reconnecting", "offline"})


class StatusHeader(Static):
    """One line that tells an operator where they are and whether what they see is live."""

    server: reactive[str] = reactive("")
    user: reactive[str] = reactive("")
    version: reactive[str] = reactive("")
    role: reactive[str] = reactive("")
    stream_state: reactive[str] = reactive("connecting")
    pending_inquiries: reactive[int] = reactive(0)
    readonly: reactive[bool] = reactive(False)
    insecure: reactive[bool] = reactive(False)
    # Where the client tried to go, for "cannot reach <target>".
    target: reactive[str] = reactive("")
    # The last time the server answered; shown while the data may be stale.
    last_contact: reactive[datetime | None] = reactive(None)

    def _identity(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" st2tui ", style="bold reverse")
        text.append(f" {self.server}", style="bold")
        if self.version:
            text.append(f"  st2 {self.version}", style="dim")
        if self.user:
            text.append(f"  {self.user}", style="bold cyan")
            if self.role:
                text.append(f" ({self.role})", style="cyan")
        return text

    def _state(self) -> Text:
        text = Text(no_wrap=True)
        if self.pending_inquiries:
            noun = "inquiry" if self.pending_inquiries == 1 else "inquiries"
            text.append(f" ? {self.pending_inquiries} {noun} ", style="bold black on magenta")
            text.append(" ")
        label, style = STREAM_STATES.get(self.stream_state, (self.stream_state, ""))
        if self.stream_state == "offline" and self.target:
            label = f"{label} {self.target}"
        text.append(label, style=style)
        if self.stream_state in STALE_STATES and self.last_contact is not None:
            seen = self.last_contact.astimezone().strftime("%H:%M:%S")
            text.append(f" · stale, last answer {seen}", style="yellow")
        if self.readonly:
            text.append("  ")
            text.append(" READ-ONLY ", style="bold black on yellow")
        if self.insecure:
            text.append("  ")
            text.append(" TLS NOT VERIFIED ", style="bold white on red")
        text.append(" ")
        return text

    def render(self) -> Text:
        right = self._state()
        left = self._identity()
        # The state on the right always shows in full; the identity gives way on a narrow terminal.
        room = max(self.size.width - right.cell_len - 1, 0)
        left.truncate(room, overflow="ellipsis", pad=True)
        return Text.assemble(left, " ", right)
