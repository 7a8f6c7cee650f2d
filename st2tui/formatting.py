"""How values look on screen: status symbols and colours, short durations, timestamps, the clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rich.text import Text

# Symbol + colour per status, so status reads without colour too (colour-blind users, mono terminals).
STATUS_STYLES: dict[str, tuple[str, str]] = {
    "requested": ("○", "grey62"),
    "scheduled": ("○", "grey62"),
    "delayed": ("◔", "grey62"),
    "running": ("▶", "bold dodger_blue1"),
    "pending": ("?", "bold magenta"),
    "pausing": ("‖", "yellow"),
    "paused": ("‖", "bold yellow"),
    "resuming": ("▶", "yellow"),
    "canceling": ("⊘", "dark_orange"),
    "canceled": ("⊘", "dark_orange"),
    "succeeded": ("✔", "green"),
    "failed": ("✘", "bold red"),
    "timeout": ("⌛", "bold red"),
    "abandoned": ("✘", "red"),
}
# How a secret shows on screen: as st2 itself masks secrets (README: `********`). A secret being typed
# into a form shows as • per character instead.
SECRET_MASK = "********"


def now() -> datetime:
    """The current time (aware, UTC). Everything on screen that ages reads this one clock,
    so tests can freeze it for byte-stable snapshots."""
    return datetime.now(timezone.utc)


def status_text(status: str) -> Text:
    symbol, style = STATUS_STYLES.get(status, ("·", ""))
    return Text(f"{symbol} {status}", style=style)


def status_symbol(status: str) -> Text:
    symbol, style = STATUS_STYLES.get(status, ("·", ""))
    return Text(symbol, style=style)


def duration(delta: timedelta | None) -> str:
    """`4s`, `2m05s`, `1h02m`, `3d04h`: compact, and fixed-ish width for a column."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def countdown(until: datetime | None, at: datetime | None = None) -> Text:
    """Time left until `until` (`in 3h05m`), or `expired`; empty when there is no deadline."""
    if until is None:
        return Text("")
    left = until - (at or now())
    if left.total_seconds() <= 0:
        return Text("expired", style="bold red")
    style = "yellow" if left < timedelta(hours=1) else ""
    return Text(f"in {duration(left)}", style=style)


def timestamp(value: datetime | None, *, utc: bool = False) -> str:
    if value is None:
        return ""
    shown = value.astimezone(timezone.utc) if utc else value.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M:%S") + ("Z" if utc else "")


def short_timestamp(value: datetime | None, *, utc: bool = False) -> str:
    """`03-02 11:49:14` (`Z` appended in UTC): narrow enough for a table column."""
    if value is None:
        return ""
    shown = value.astimezone(timezone.utc) if utc else value.astimezone()
    return shown.strftime("%m-%d %H:%M:%S") + ("Z" if utc else "")


def count(value: int) -> str:
    """`12,345`: thousands separated, as the paging summary shows totals."""
    return f"{value:,}"
