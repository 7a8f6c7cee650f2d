"""The app header: where and who (server, user, auth, version), stream state, role, read-only."""

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
    "offline": ("○ cannot reach server", "bold red"),
}


class StatusHeader(Static):
    """One line that tells an operator where they are and whether what they see is live."""

    server: reactive[str] = reactive("")
    user: reactive[str] = reactive("")
    auth_method: reactive[str] = reactive("")
    token_expiry: reactive[datetime | None] = reactive(None)
    version: reactive[str] = reactive("")
    role: reactive[str] = reactive("")
    stream_state: reactive[str] = reactive("connecting")
    readonly: reactive[bool] = reactive(False)
    insecure: reactive[bool] = reactive(False)

    def render(self) -> Text:
        text = Text()
        text.append(" st2tui ", style="bold reverse")
        text.append(f"  {self.server}", style="bold")
        if self.version:
            text.append(f"  st2 {self.version}", style="dim")
        if self.user:
            text.append(f"  {self.user}", style="bold cyan")
            detail = self.auth_method
            if self.token_expiry is not None:
                detail += f", expires {self.token_expiry.astimezone().strftime('%H:%M')}"
            if detail:
                text.append(f" ({detail})", style="dim")
        if self.role:
            text.append(f"  role {self.role}", style="dim")
        label, style = STREAM_STATES.get(self.stream_state, (self.stream_state, ""))
        text.append(f"  {label}", style=style)
        if self.readonly:
            text.append("  READ-ONLY ", style="bold black on yellow")
        if self.insecure:
            text.append("  TLS NOT VERIFIED ", style="bold white on red")
        return text
