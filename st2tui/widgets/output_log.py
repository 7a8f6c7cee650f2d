"""Execution output on screen: a line view that keeps the last N lines, follows the end until the user
scrolls away, tells stdout from stderr by colour, filters streams, shows timestamps, wraps and searches;
and the panel around it (search bar, status line with the "+N new lines" badge).

The view never does I/O: the execution screen feeds it `OutputLine`s in batches.

Over 800 lines because the view draws its own lines (a Textual line API widget, for floods of output)
and the panel's search and badge work on that view's state.
"""

from __future__ import annotations

import re
import time
import zlib
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import ClassVar, Literal

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from st2tui.formatting import count
from st2tui.forms import printable
from st2tui.text import without_colours
from st2tui.widgets.safe_input import SafeInput

MAX_LINES = 10_000
MAX_REDRAWS = 12  # per second, while lines keep coming
STATUS_INTERVAL = 0.25  # seconds between updates of the line count while lines keep coming
StreamFilter = Literal["all", "stdout", "stderr"]
FILTERS: tuple[StreamFilter, ...] = ("all", "stdout", "stderr")
FILTER_LABELS = {"all": "stdout+stderr", "stdout": "stdout only", "stderr": "stderr only"}
TIMESTAMP_WIDTH = 13  # "HH:MM:SS.mmm "
SOURCE_MAX_WIDTH = 24
# Task colours in follow-workflow mode: picked by a stable hash of the task's path, so a task keeps its
# colour across runs and screens.
SOURCE_COLOURS = (
    "dodger_blue1",
    "green3",
    "orange1",
    "medium_purple1",
    "cyan3",
    "gold1",
    "hot_pink",
    "spring_green2",
    "light_slate_blue",
    "dark_orange",
    "deep_sky_blue1",
    "yellow3",
)


def clean_line(raw: str) -> str:
    """A line as a terminal would leave it: the text after the last carriage return, colours dropped, other
    control characters shown (st2tui.text)."""
    raw = raw.rstrip("\r\n")
    if "\r" in raw:
        raw = next((part for part in reversed(raw.split("\r")) if part), "")
    if "\t" in raw:
        raw = raw.expandtabs(8)
    # Colours go (lines are coloured by stream); every other control is shown, never sent to the terminal.
    return raw if raw.isprintable() else without_colours(raw)


def source_colour(key: str) -> str:
    return SOURCE_COLOURS[zlib.crc32(key.encode("utf-8")) % len(SOURCE_COLOURS)]


@dataclass(slots=True)
class OutputLine:
    """One line of output. `stream` is stdout, stderr, output (orquesta progress) or notice (st2tui's
    own remarks, e.g. a task that started); `source` names the task in follow-workflow mode."""

    text: str
    stream: str = "stdout"
    timestamp: datetime | None = None
    source: str = ""
    source_key: str = ""
    seq: int = 0
    cells: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.cells = len(self.text) if self.text.isascii() else cell_len(self.text)


def shown_by(stream_filter: StreamFilter, line: OutputLine) -> bool:
    return stream_filter == "all" or line.stream == stream_filter


class OutputLog(ScrollView, can_focus=True):
    """The lines, virtualised: only the rows on screen are rendered, and at most `max_lines` are kept."""

    BINDING_GROUP_TITLE = "Output"

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "output-log--timestamp",
        "output-log--stderr",
        "output-log--failure",
        "output-log--meta",
        "output-log--notice",
        "output-log--match",
        "output-log--current",
    }
    DEFAULT_CSS = """
    OutputLog > .output-log--timestamp { color: $text-muted; }
    OutputLog > .output-log--stderr { color: $text-error; }
    OutputLog > .output-log--failure { color: $error; text-style: bold; }
    OutputLog > .output-log--meta { color: $text-muted; text-style: italic; }
    OutputLog > .output-log--notice { color: $text-accent; text-style: italic; }
    OutputLog > .output-log--match { background: $warning; color: $background; }
    OutputLog > .output-log--current { background: $accent 40%; }
    """
    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False, id="output.up", tooltip="Scroll up a line"),
        Binding("down,j", "scroll_down", "Down", show=False, id="output.down", tooltip="Scroll down a line"),
        Binding(
            "pageup,b", "page_up", "Page up", show=False, id="output.page-up", tooltip="Scroll up a page"
        ),
        Binding(
            "pagedown,space",
            "page_down",
            "Page down",
            show=False,
            id="output.page-down",
            tooltip="Scroll down a page",
        ),
        Binding("home,g", "scroll_home", "Top", show=False, id="output.top", tooltip="Go to the first line"),
    ]

    follow: reactive[bool] = reactive(True, init=False)
    wrap: reactive[bool] = reactive(False, init=False)
    timestamps: reactive[bool] = reactive(False, init=False)
    stream_filter: reactive[StreamFilter] = reactive("all", init=False)
    search: reactive[str] = reactive("", init=False)
    utc: reactive[bool] = reactive(False, init=False)
    source_width: reactive[int] = reactive(0, init=False)
    # Only the lines of this source (`source_key`), e.g. one execution in the tail pane; "" = all.
    source_filter: reactive[str] = reactive("", init=False)

    class FollowChanged(Message):
        """The user scrolled away from the end (False) or back to it (True)."""

        def __init__(self, follow: bool) -> None:
            super().__init__()
            self.follow = follow

    def __init__(self, *, max_lines: int | None = MAX_LINES, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_lines = max_lines
        self._lines: deque[OutputLine] = deque()
        # The lines that pass the filter, oldest first; entries before `_head` were evicted (dropped lazily).
        self._shown: list[OutputLine] = []
        # `_ends[i]`: the row just below `_shown[i]`, counted from the first line ever shown.
        self._ends: list[int] = []
        self._head = 0
        self._row_base = 0
        self._max_cells = 0
        self._seq = 0
        self.received = 0
        self.dropped = 0
        self.current_seq: int | None = None
        self._auto_scrolling = False
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(1024)
        self._styles: dict[str, Style] = {}
        self._removed_rows = 0
        self._redraw_timer: Timer | None = None
        self._last_redraw = 0.0

    # -- content -------------------------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        """Lines kept (whatever the filter)."""
        return len(self._lines)

    @property
    def shown_count(self) -> int:
        return len(self._shown) - self._head

    def lines(self) -> list[OutputLine]:
        """The kept lines that pass the filter, oldest first."""
        return self._shown[self._head :]

    def kept_lines(self) -> list[OutputLine]:
        """Every kept line, whatever the filter, oldest first."""
        return list(self._lines)

    def clear(self) -> None:
        self._lines.clear()
        self.received = self.dropped = 0
        self.current_seq = None
        self._rebuild()

    def append(self, lines: Iterable[OutputLine]) -> int:
        """Add lines at the end; returns how many of them pass the filter (for the "+N new lines" badge)."""
        added = 0
        removed_rows = 0
        wrap_width = self._text_width()
        for line in lines:
            self._seq += 1
            line.seq = self._seq
            self.received += 1
            if self.max_lines is not None and len(self._lines) >= self.max_lines:
                removed_rows += self._evict()
            self._lines.append(line)
            if self._passes(line):
                self._shown.append(line)
                self._ends.append(self._last_end() + self._rows_of(line, wrap_width))
                if line.cells > self._max_cells:
                    self._max_cells = line.cells
                added += 1
        self._compact()
        self._removed_rows += removed_rows
        self._schedule_redraw()
        return added

    def _passes(self, line: OutputLine) -> bool:
        return shown_by(self.stream_filter, line) and (
            not self.source_filter or line.source_key == self.source_filter
        )

    def _schedule_redraw(self) -> None:
        """Redraw soon, at most `MAX_REDRAWS` times a second: under a flood every frame costs the time the
        stream needs, and nobody reads 10,000 lines a second anyway."""
        if self._redraw_timer is not None:
            return
        wait = self._last_redraw + 1 / MAX_REDRAWS - time.monotonic()
        if wait <= 0 or not self.is_mounted:
            self._redraw()
        else:
            self._redraw_timer = self.set_timer(wait, self._redraw)

    def _redraw(self) -> None:
        self._redraw_timer = None
        self._last_redraw = time.monotonic()
        self._update_virtual_size()
        removed, self._removed_rows = self._removed_rows, 0
        if self.follow:
            self._scroll_to_end()
        elif removed:
            # Keep the same lines in view while older ones leave from the top.
            self._scroll_programmatically(self.scroll_y - removed)
        self.refresh()

    def _evict(self) -> int:
        evicted = self._lines.popleft()
        self.dropped += 1
        if self._head < len(self._shown) and self._shown[self._head] is evicted:
            rows = self._ends[self._head] - self._row_base
            self._row_base = self._ends[self._head]
            self._head += 1
            return rows
        return 0

    def _compact(self) -> None:
        if self._head > 4096 and self._head * 2 > len(self._shown):
            del self._shown[: self._head]
            del self._ends[: self._head]
            self._head = 0

    def _last_end(self) -> int:
        return self._ends[-1] if len(self._ends) > self._head else self._row_base

    def _rebuild(self) -> None:
        """Recompute what is shown and where (filter, wrap, width or prefix changed)."""
        self._cache.clear()
        self._shown = [line for line in self._lines if self._passes(line)]
        self._head = 0
        self._row_base = 0
        self._removed_rows = 0
        wrap_width = self._text_width()
        ends: list[int] = []
        total = 0
        for line in self._shown:
            total += self._rows_of(line, wrap_width)
            ends.append(total)
        self._ends = ends
        self._max_cells = max((line.cells for line in self._shown), default=0)
        self._update_virtual_size()
        if self.follow:
            self._scroll_to_end()
        self.refresh()

    # -- geometry ------------------------------------------------------------------------------------------

    @property
    def prefix_width(self) -> int:
        width = TIMESTAMP_WIDTH if self.timestamps else 0
        if self.source_width:
            width += self.source_width + 3  # "name │ "
        return width

    def _text_width(self) -> int:
        """Columns left for the text of a wrapped line."""
        return max(self.scrollable_content_region.width - self.prefix_width, 8)

    def _rows_of(self, line: OutputLine, wrap_width: int) -> int:
        if not self.wrap or line.cells <= wrap_width:
            return 1
        if line.text.isascii():
            return -(-line.cells // wrap_width)
        return len(chop_cells(line.text, wrap_width))

    def _update_virtual_size(self) -> None:
        rows = self._last_end() - self._row_base
        width = self.scrollable_content_region.width if self.wrap else self.prefix_width + self._max_cells
        size = Size(width, rows)
        if size == self.virtual_size:
            return
        scrollbars = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        if not self.is_mounted or scrollbars != self._scrollbars_for(size):
            self.virtual_size = size  # a scrollbar comes or goes: the screen lays out again
            return
        # The common case under a flood: only the scrollable length grows. Setting `virtual_size` would lay
        # out the whole screen (and repaint every widget) for each batch; the scrollbars are enough.
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _scrollbars_for(self, size: Size) -> tuple[bool, bool]:
        """Which scrollbars a content of `size` needs (overflow is auto both ways)."""
        width, height = self.container_size
        vertical = size.height > height
        horizontal = size.width > width - (self.styles.scrollbar_size_vertical if vertical else 0)
        if horizontal and not vertical:
            vertical = size.height > height - self.styles.scrollbar_size_horizontal
        return vertical, horizontal

    def on_resize(self) -> None:
        if self.wrap:
            self._rebuild()
        elif self.follow:
            self.call_after_refresh(self._follow_end)

    def on_show(self) -> None:
        # Lines that arrived while another tab was shown were laid out in no room: place the end in view.
        if self.follow:
            self.call_after_refresh(self._follow_end)

    def _follow_end(self) -> None:
        if self.follow:
            self._scroll_to_end()

    def _locate(self, row: int) -> tuple[OutputLine, int] | None:
        """The line at `row` (0 = top of the content) and which of its wrapped rows it is."""
        absolute = row + self._row_base
        index = bisect_right(self._ends, absolute, lo=self._head)
        if index >= len(self._ends) or row < 0:
            return None
        start = self._ends[index - 1] if index > self._head else self._row_base
        return self._shown[index], absolute - start

    def _row_of(self, seq: int) -> int | None:
        index = bisect_left(self._shown, seq, lo=self._head, key=lambda line: line.seq)
        if index >= len(self._shown) or self._shown[index].seq != seq:
            return None
        start = self._ends[index - 1] if index > self._head else self._row_base
        return start - self._row_base

    # -- scrolling and following ---------------------------------------------------------------------------

    def _scroll_programmatically(self, y: float) -> None:
        self._auto_scrolling = True
        try:
            # Forced: right after the first lines arrive the scrollbar (and with it scrolling) is not on yet.
            self.scroll_to(y=max(y, 0), animate=False, immediate=True, force=True)
        finally:
            self._auto_scrolling = False

    def _scroll_to_end(self) -> None:
        self._scroll_programmatically(self.max_scroll_y)

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self._scroll_to_end()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._auto_scrolling:
            return
        # A view that grew (a bar closed, zoom, a larger terminal) is clamped to its new end: still at the end,
        # so still following. Only a move that leaves the end is the user scrolling up.
        if self.follow and new_value < old_value and new_value < self.max_scroll_y:
            self.post_message(self.FollowChanged(False))
        elif not self.follow and new_value > old_value and new_value >= self.max_scroll_y:
            self.post_message(self.FollowChanged(True))

    def action_scroll_end(self) -> None:
        self.post_message(self.FollowChanged(True))

    # The user moving up stops following at once (before the next batch could pull the view back down),
    # and the move is not animated: an animation would be cut short by the next batch.

    def _stop_following(self) -> None:
        if self.follow:
            self.follow = False
            self.post_message(self.FollowChanged(False))

    def _user_scroll(self, y: float) -> None:
        if y < self.scroll_y and self.scroll_y > 0:
            self._stop_following()
        self.scroll_to(y=y, animate=False, immediate=True)

    def action_scroll_up(self) -> None:
        self._user_scroll(self.scroll_y - 1)

    def action_scroll_down(self) -> None:
        self._user_scroll(self.scroll_y + 1)

    def action_page_up(self) -> None:
        self._user_scroll(self.scroll_y - self.scrollable_content_region.height)

    def action_page_down(self) -> None:
        self._user_scroll(self.scroll_y + self.scrollable_content_region.height)

    def action_scroll_home(self) -> None:
        self._user_scroll(0)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if not (event.ctrl or event.shift):
            event.stop()
            self._user_scroll(self.scroll_y - 3)
        else:
            super()._on_mouse_scroll_up(event)

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if not (event.ctrl or event.shift):
            event.stop()
            self._user_scroll(self.scroll_y + 3)
        else:
            super()._on_mouse_scroll_down(event)

    def scroll_to_seq(self, seq: int) -> None:
        """Bring the line `seq` into the middle of the view (search results)."""
        row = self._row_of(seq)
        if row is not None:
            self.scroll_to(y=max(row - self.scrollable_content_region.height // 2, 0), animate=False)

    # -- options -------------------------------------------------------------------------------------------

    def watch_stream_filter(self) -> None:
        self._rebuild()

    def watch_source_filter(self) -> None:
        self._rebuild()

    def watch_wrap(self) -> None:
        self._rebuild()

    def watch_timestamps(self) -> None:
        self._rebuild()

    def watch_source_width(self) -> None:
        self._rebuild()

    def watch_utc(self) -> None:
        self._cache.clear()
        self.refresh()

    def watch_search(self) -> None:
        self._cache.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    # -- search --------------------------------------------------------------------------------------------

    def _pattern(self) -> re.Pattern[str] | None:
        if not self.search:
            return None
        # Smart case, as in less and vim: an upper-case letter makes the search case-sensitive.
        flags = 0 if any(ch.isupper() for ch in self.search) else re.IGNORECASE
        return re.compile(re.escape(self.search), flags)

    def match_count(self) -> int:
        pattern = self._pattern()
        if pattern is None:
            return 0
        return sum(1 for line in self.lines() if pattern.search(line.text))

    def find(self, forward: bool = True) -> bool:
        """Move to the next (or previous) line that matches the search; False when there is none."""
        pattern = self._pattern()
        lines = self.lines()
        if pattern is None or not lines:
            return False
        if self.current_seq is not None:
            anchor = bisect_left(lines, self.current_seq, key=lambda line: line.seq)
            if anchor < len(lines) and lines[anchor].seq == self.current_seq:
                anchor = anchor + 1 if forward else anchor - 1
        else:
            top = self._locate(round(self.scroll_y))
            anchor = bisect_left(lines, top[0].seq, key=lambda line: line.seq) if top else 0
            if not forward:
                anchor -= 1
        order = (
            [*range(anchor, len(lines)), *range(0, anchor)]
            if forward
            else [*range(anchor, -1, -1), *range(len(lines) - 1, anchor, -1)]
        )
        for index in order:
            if 0 <= index < len(lines) and pattern.search(lines[index].text):
                self.current_seq = lines[index].seq
                self._cache.clear()
                self.scroll_to_seq(self.current_seq)
                self.refresh()
                return True
        return False

    # -- rendering -----------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._base_style()
        found = self._locate(scroll_y + y)
        if found is None:
            return Strip.blank(width, base)
        line, part = found
        key = (line.seq, part)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(line, part)
            self._cache[key] = strip
        if self.wrap:
            return strip.crop_extend(0, width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _base_style(self) -> Style:
        # Looked up once per style change, not per row: `rich_style` walks every ancestor.
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def _pieces(self, line: OutputLine) -> list[tuple[int, int]]:
        """Character ranges of the wrapped rows of `line` (one range when not wrapping)."""
        wrap_width = self._text_width()
        if not self.wrap or line.cells <= wrap_width:
            return [(0, len(line.text))]
        if line.text.isascii():
            return [
                (start, min(start + wrap_width, len(line.text)))
                for start in range(0, len(line.text), wrap_width)
            ]
        ranges, start = [], 0
        for piece in chop_cells(line.text, wrap_width):
            ranges.append((start, start + len(piece)))
            start += len(piece)
        return ranges

    def _render_row(self, line: OutputLine, part: int) -> Strip:
        segments: list[Segment] = []
        base = self._base_style()
        first = part == 0
        if self.timestamps:
            stamp = ""
            if first and line.timestamp is not None:
                shown = line.timestamp.astimezone(timezone.utc) if self.utc else line.timestamp.astimezone()
                stamp = shown.strftime("%H:%M:%S.") + f"{shown.microsecond // 1000:03d}"
            segments.append(
                Segment(stamp.ljust(TIMESTAMP_WIDTH), base + self._style("output-log--timestamp"))
            )
        if self.source_width:
            label = line.source[: self.source_width] if first else ""
            colour = Style(color=source_colour(line.source_key or line.source), bold=True)
            segments.append(Segment(label.ljust(self.source_width), base + colour))
            segments.append(Segment(" │ ", base + Style(dim=True)))
        start, end = self._pieces(line)[part] if self.wrap else (0, len(line.text))
        piece = line.text[start:end]
        style = base + self._text_style(line)
        pattern = self._pattern()
        matches = [] if pattern is None else [m.span() for m in pattern.finditer(line.text)]
        if not matches and line.seq != self.current_seq:
            # The common case (every row of a flood): one segment, no Text to build and render.
            segments.append(Segment(piece, style))
            return Strip(segments)
        text = Text(piece, no_wrap=True, end="")
        text.stylize(style)
        if line.seq == self.current_seq:
            text.stylize(self._style("output-log--current"))
        match_style = self._style("output-log--match")
        for match_start, match_end in matches:
            left, right = max(match_start, start), min(match_end, end)
            if left < right:
                text.stylize(match_style, left - start, right - start)
        segments.extend(text.render(self.app.console))
        return Strip(segments)

    def _text_style(self, line: OutputLine) -> Style:
        if line.stream == "stderr":
            return self._style("output-log--stderr")
        if line.stream == "output":
            return self._style("output-log--meta")
        if line.stream == "notice":
            return self._style("output-log--notice")
        if line.stream == "failure":
            return self._style("output-log--failure")
        return Style()


class OutputSearchBar(SafeInput):
    """`/`: type to highlight matches, enter to jump to the next one, escape to clear."""

    BINDINGS = [
        Binding("escape", "close", "Clear search", id="output-search.close", tooltip="Clear the search"),
    ]

    class Closed(Message):
        pass

    def action_close(self) -> None:
        self.value = ""
        self.post_message(self.Closed())


FollowState = Literal["connecting", "live", "reconnecting", "ended", "failed"]
STREAM_LABELS = {
    "connecting": ("◌ connecting", "grey62"),
    "live": ("● streaming", "bold green"),
    "reconnecting": ("◍ reconnecting", "bold yellow"),
    "ended": ("■ complete", "grey62"),
    "failed": ("○ stream lost", "bold red"),
}


class OutputPanel(Vertical):
    """The output tab: the log, a search bar and a status line. `follow` is the one truth about following:
    bound down to the log, turned off by scrolling up, on again by end/G (or scrolling to the end)."""

    BINDING_GROUP_TITLE = "Output"
    BINDINGS = [
        Binding(
            "end,G", "follow", "Follow", id="output.follow", tooltip="Go to the end and follow new lines"
        ),
        Binding(
            "f",
            "toggle_follow",
            "Follow on/off",
            show=False,
            id="output.toggle-follow",
            tooltip="Stop or resume following",
        ),
        Binding(
            "o",
            "cycle_filter",
            "Streams",
            show=False,
            id="output.filter",
            tooltip="Show stdout+stderr, stdout only or stderr only",
        ),
        Binding(
            "t",
            "toggle_timestamps",
            "Times",
            show=False,
            id="output.timestamps",
            tooltip="Show when each line was printed",
        ),
        Binding("w", "toggle_wrap", "Wrap", show=False, id="output.wrap", tooltip="Wrap long lines"),
        Binding(
            "slash",
            "search",
            "Search",
            id="output.search",
            tooltip="Highlight a text; n and N move between matches",
        ),
        Binding(
            "n", "find(True)", "Next match", show=False, id="output.next", tooltip="Next line that matches"
        ),
        Binding(
            "N",
            "find(False)",
            "Previous match",
            show=False,
            id="output.previous",
            tooltip="Previous line that matches",
        ),
        Binding("ctrl+s", "save", "Save", id="output.save", tooltip="Save the full output to a file"),
    ]

    follow: reactive[bool] = reactive(True)
    pending: reactive[int] = reactive(0)
    stream_state: reactive[str] = reactive("connecting")
    wrap: reactive[bool] = reactive(False)
    timestamps: reactive[bool] = reactive(False)
    stream_filter: reactive[StreamFilter] = reactive("all")
    search: reactive[str] = reactive("")
    utc: reactive[bool] = reactive(False)
    source_width: reactive[int] = reactive(0)
    source_filter: reactive[str] = reactive("")
    # What the lines are: "output of <id>" or "every task of the workflow"; shown in the status line.
    subject: reactive[str] = reactive("")

    class SaveRequested(Message):
        """ctrl+s: the screen fetches the full output and writes it."""

    def __init__(
        self, *, max_lines: int | None = MAX_LINES, live: bool = True, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.max_lines = max_lines
        # A live panel follows a stream; a static one (a large result) starts at the top and never follows.
        self.live = live
        self._status_timer: Timer | None = None
        # What ctrl+s saves, said when older lines were dropped (the tail saves only what it kept).
        self.save_hint = "ctrl+s saves all"
        if not live:
            self.set_reactive(OutputPanel.follow, False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("follow", "toggle_follow") and not self.live:
            return False
        return True

    def compose(self) -> ComposeResult:
        yield OutputLog(max_lines=self.max_lines, id="output-log").data_bind(
            OutputPanel.follow,
            OutputPanel.wrap,
            OutputPanel.timestamps,
            OutputPanel.stream_filter,
            OutputPanel.search,
            OutputPanel.utc,
            OutputPanel.source_width,
            OutputPanel.source_filter,
        )
        yield OutputSearchBar(placeholder="search the output (smart case)", id="output-search")
        yield Static(id="output-status")

    @property
    def log_view(self) -> OutputLog:
        return self.query_one(OutputLog)

    def on_mount(self) -> None:
        self.query_one(OutputSearchBar).display = False
        self._show_status()

    def append(self, lines: list[OutputLine]) -> None:
        added = self.log_view.append(lines)
        if not self.follow and added:
            self.pending += added
        elif self._status_timer is None:
            # The line count moves with every batch: say so a few times a second, not for each batch.
            self._status_timer = self.set_timer(STATUS_INTERVAL, self._show_status)

    def clear(self) -> None:
        self.log_view.clear()
        self.pending = 0
        self._show_status()

    # -- following -----------------------------------------------------------------------------------------

    @on(OutputLog.FollowChanged)
    def _follow_changed(self, event: OutputLog.FollowChanged) -> None:
        event.stop()
        self.follow = event.follow

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self.pending = 0
        self._show_status()

    def action_follow(self) -> None:
        self.follow = True
        self.log_view.current_seq = None
        self.log_view.focus()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow

    # -- options -------------------------------------------------------------------------------------------

    def action_cycle_filter(self) -> None:
        self.stream_filter = FILTERS[(FILTERS.index(self.stream_filter) + 1) % len(FILTERS)]

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_search(self) -> None:
        bar = self.query_one(OutputSearchBar)
        bar.display = True
        bar.value = self.search
        bar.focus()

    @on(Input.Changed, "#output-search")
    def _search_typed(self, event: Input.Changed) -> None:
        event.stop()
        self.search = event.value
        self.log_view.current_seq = None

    @on(Input.Submitted, "#output-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(OutputSearchBar).display = False
        self.log_view.focus()
        if self.search:
            self.action_find(True)

    @on(OutputSearchBar.Closed)
    def _search_closed(self, event: OutputSearchBar.Closed) -> None:
        event.stop()
        self.search = ""
        self.log_view.current_seq = None
        self.query_one(OutputSearchBar).display = False
        self.log_view.focus()

    def action_find(self, forward: bool) -> None:
        if not self.search:
            self.action_search()
            return
        if self.log_view.find(forward):
            self.follow = False
        else:
            self.notify(f"No line matches “{printable(self.search)}”.", severity="warning", markup=False)
        self._show_status()

    def action_save(self) -> None:
        self.post_message(self.SaveRequested())

    def _watch_any(self) -> None:
        self._show_status()

    watch_pending = _watch_any
    watch_stream_state = _watch_any
    watch_wrap = _watch_any
    watch_timestamps = _watch_any
    watch_stream_filter = _watch_any
    watch_search = _watch_any
    watch_subject = _watch_any
    watch_source_filter = _watch_any

    # -- status line ---------------------------------------------------------------------------------------

    def status_text(self) -> Text:
        log = self.log_view
        text = Text(no_wrap=True, overflow="ellipsis")
        if not self.live:
            text.append(" ")
        elif self.follow:
            text.append(" ● following ", style="bold green")
        elif self.pending:
            noun = "line" if self.pending == 1 else "lines"
            text.append(f" +{count(self.pending)} new {noun} ", style="bold black on yellow")
            text.append(" end/G follows", style="yellow")
        else:
            text.append(" ‖ not following ", style="bold yellow")
            text.append(" end/G follows", style="yellow")
        parts = []
        if log.dropped:
            parts.append(
                Text(
                    f"last {count(log.line_count)} of {count(log.received)} lines kept · {self.save_hint}",
                    style="yellow",
                )
            )
        else:
            parts.append(Text(f"{count(log.line_count)} lines"))
        if self.subject:
            parts.append(Text(self.subject, style="dim"))
        parts.append(
            Text(FILTER_LABELS[self.stream_filter], style="bold" if self.stream_filter != "all" else "dim")
        )
        if self.source_filter:
            parts.append(Text("one execution only", style="bold"))
        if self.wrap:
            parts.append(Text("wrap", style="dim"))
        if self.timestamps:
            parts.append(Text("times UTC" if self.utc else "local times", style="dim"))
        if self.search:
            matches = log.match_count()
            parts.append(
                Text(
                    f"/{printable(self.search)}: {count(matches)} matching lines",
                    style="bold" if matches else "red",
                )
            )
        if self.live:
            label, style = STREAM_LABELS.get(self.stream_state, (self.stream_state, ""))
            parts.append(Text(label, style=style))
        for index, part in enumerate(parts):
            if index or self.live:
                text.append(" · ", style="dim")
            text.append_text(part)
        return text

    def _show_status(self) -> None:
        if self._status_timer is not None:
            self._status_timer.stop()
            self._status_timer = None
        if self.is_mounted:
            # One line whatever it says: no layout pass (under a flood this runs for every batch).
            self.query_one("#output-status", Static).update(self.status_text(), layout=False)
