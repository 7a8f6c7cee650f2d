"""A keyboard-first table drawn with Textual's line API: fixed header, cursor, marks, columns that fit.

Every pane lists records with it. Rows are replaced wholesale (`set_rows`) or one by one
(`update_row`); only visible lines are rendered and each rendered row is cached until it changes,
so tables of thousands of rows and floods of updates stay cheap. Columns have a minimum width, a
share of the spare width (`flex`) and a `drop` rank: on a narrow terminal the highest ranks go first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from st2tui.text import UNSAFE_RE, visible

# How close to the last row (in rows) the cursor or the scroll position must come to ask for more.
NEAR_END_ROWS = 5
MARK = "●"
# Rendered rows kept, in screens' worth: enough to scroll back and forth without rendering again.
CACHED_SCREENS = 3


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    flex: int = 0
    drop: int = 0
    justify: Literal["left", "right"] = "left"


@dataclass(frozen=True)
class TableRow:
    key: str
    cells: Sequence[Text | str]
    marked: bool = False


@dataclass(frozen=True)
class _Placed:
    index: int
    column: Column
    x: int
    width: int


def _cell_text(cell: Text | str) -> Text:
    """A cell on one line: names and values come from the server, so every control character is shown
    (st2tui.text) and a line break or tab, which would break the row, too."""
    plain = cell.plain if isinstance(cell, Text) else str(cell)
    if UNSAFE_RE.search(plain) is None and "\n" not in plain and "\t" not in plain:
        return cell.copy() if isinstance(cell, Text) else Text(plain)
    shown = visible(plain).replace("\n", "⏎").replace("\t", "␉")
    return Text(shown, style=cell.style) if isinstance(cell, Text) else Text(shown)


class RecordTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Rows of records with a cursor; posts messages when the cursor moves, a row or header is clicked,
    or the end comes near (to load the next page). Horizontal scrolling keys are not inherited: the
    columns always fit, and left/right belong to the panes (e.g. to fold workflows)."""

    BINDING_GROUP_TITLE = "Rows"

    DEFAULT_CSS = """
    RecordTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $surface;
        & > .record-table--header { text-style: bold; color: $text-accent; background: $panel; }
        & > .record-table--cursor { background: $block-cursor-blurred-background; }
        & > .record-table--marked { background: $secondary 25%; }
        & > .record-table--mark { color: $secondary; text-style: bold; }
        & > .record-table--empty { color: $text-muted; text-style: italic; }
        &:focus > .record-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: bold;
        }
    }
    """

    COMPONENT_CLASSES = {
        "record-table--header",
        "record-table--cursor",
        "record-table--marked",
        "record-table--mark",
        "record-table--empty",
    }

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up", tooltip="Move to the previous row"),
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down", tooltip="Move to the next row"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page-up", tooltip="One page up"),
        Binding(
            "pagedown", "page_down", "Page down", show=False, id="table.page-down", tooltip="One page down"
        ),
        Binding("home,g", "first", "First", show=False, id="table.first", tooltip="Go to the first row"),
        Binding("end,G", "last", "Last", show=False, id="table.last", tooltip="Go to the last row"),
        Binding("enter", "activate", "Open", show=False, id="table.open", tooltip="Open the selected row"),
    ]

    cursor: reactive[int] = reactive(0, init=False)
    empty_text: reactive[str] = reactive("")

    class CursorMoved(Message):
        """The cursor is on another row (`key` None when the table is empty)."""

        def __init__(self, table: RecordTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> RecordTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RecordTable.CursorMoved) and message.table is self.table

    class RowActivated(Message):
        """A row was chosen (enter or a double click)."""

        def __init__(self, table: RecordTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> RecordTable:
            return self.table

    class HeaderClicked(Message):
        """A column header was clicked (panes sort by it)."""

        def __init__(self, table: RecordTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> RecordTable:
            return self.table

    class NearEnd(Message):
        """The cursor or the view came close to the last row."""

        def __init__(self, table: RecordTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> RecordTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RecordTable.NearEnd) and message.table is self.table

    def __init__(
        self, columns: Sequence[Column], *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self.rows: list[TableRow] = []
        self._index: dict[str, int] = {}
        self._layout: list[_Placed] = []
        self._layout_width = -1
        self._sort: tuple[str, bool] | None = None
        self._cache: dict[str, tuple[TableRow, Strip]] = {}
        self._base_style: Style | None = None  # while render_lines draws
        self._announced: str | None = None

    # -- data ----------------------------------------------------------------------------------------

    def set_rows(self, rows: Iterable[TableRow]) -> None:
        """Replace all rows; the cursor stays on the row it was on when that row is still there."""
        selected = self.cursor_key
        self.rows = list(rows)
        self._index = {row.key: index for index, row in enumerate(self.rows)}
        self._cache = {key: cached for key, cached in self._cache.items() if key in self._index}
        self._update_virtual_size()
        if selected is not None and selected in self._index:
            self._set_cursor(self._index[selected], scroll=False)
        else:
            self._set_cursor(min(self.cursor, max(len(self.rows) - 1, 0)), scroll=False)
        if self.rows and len(self.rows) <= self._visible_rows:
            # Nothing to scroll: ask for more now, or a short first page would be all there is.
            self.post_message(self.NearEnd(self))
        self.refresh()

    def append_rows(self, rows: Iterable[TableRow]) -> None:
        """Add rows after the last one: the rows above, the cursor and the scroll position stay."""
        start = len(self.rows)
        self.rows.extend(rows)
        for index in range(start, len(self.rows)):
            self._index[self.rows[index].key] = index
        self._update_virtual_size()
        if self.rows and len(self.rows) <= self._visible_rows:
            self.post_message(self.NearEnd(self))
        self.refresh()

    def update_row(self, row: TableRow) -> None:
        """Replace one row's cells in place (no layout work; only that line is redrawn)."""
        index = self._index.get(row.key)
        if index is None:
            return
        self.rows[index] = row
        self.refresh_line(index + 1)

    def has_row(self, key: str) -> bool:
        return key in self._index

    def row_index(self, key: str) -> int | None:
        return self._index.get(key)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_key(self) -> str | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor].key
        return None

    def move_to(self, key: str) -> None:
        index = self._index.get(key)
        if index is not None:
            self._set_cursor(index)

    def set_columns(self, columns: Sequence[Column]) -> None:
        self.columns = list(columns)
        self._layout_width = -1
        self.refresh()

    def show_sort(self, column: str | None, reverse: bool = False) -> None:
        """Mark the column the rows are sorted by (▲ ascending, ▼ descending) in the header."""
        self._sort = (column, reverse) if column else None
        self.refresh_line(0)

    # -- cursor ----------------------------------------------------------------------------------------

    def _set_cursor(self, index: int, *, scroll: bool = True) -> None:
        index = max(0, min(index, len(self.rows) - 1)) if self.rows else 0
        previous = self.cursor
        self.set_reactive(RecordTable.cursor, index)
        if previous != index:
            self.refresh_line(previous + 1)
            self.refresh_line(index + 1)
        if scroll:
            self._scroll_cursor_into_view()
        if self.cursor_key != self._announced:
            self._announced = self.cursor_key
            self.post_message(self.CursorMoved(self, self.cursor_key))
        if scroll and self.rows and index >= len(self.rows) - NEAR_END_ROWS:
            self.post_message(self.NearEnd(self))

    def watch_cursor(self, index: int) -> None:
        self._set_cursor(index)

    @property
    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self._visible_rows:
            self.scroll_to(y=self.cursor - self._visible_rows + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self._set_cursor(self.cursor - self._visible_rows)

    def action_page_down(self) -> None:
        self._set_cursor(self.cursor + self._visible_rows)

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self.rows) - 1)

    def action_activate(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.RowActivated(self, self.cursor_key))

    # -- events ----------------------------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.rows and new_value + self._visible_rows >= len(self.rows) - NEAR_END_ROWS:
            self.post_message(self.NearEnd(self))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            for placed in self._layout:
                if placed.x <= offset.x < placed.x + placed.width + 1:
                    self.post_message(self.HeaderClicked(self, placed.column.key))
                    return
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self.rows):
            self._set_cursor(index)
            if event.chain == 2:
                self.post_message(self.RowActivated(self, self.rows[index].key))

    def on_resize(self) -> None:
        self._update_virtual_size()

    def on_focus(self) -> None:
        self.refresh_line(self.cursor + 1)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor + 1)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._layout_width = -1

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width
        self.virtual_size = Size(width, len(self.rows) + 1)

    # -- layout and rendering --------------------------------------------------------------------------

    def _place_columns(self, width: int) -> list[_Placed]:
        """Fit the columns into `width`: drop the highest `drop` ranks first, then share the rest."""
        available = width - 1  # the mark gutter
        chosen = list(enumerate(self.columns))

        def needed() -> int:
            return sum(column.width + 1 for _, column in chosen)

        while needed() > available and any(column.drop for _, column in chosen):
            victim = max((item for item in chosen if item[1].drop), key=lambda item: item[1].drop)
            chosen.remove(victim)
        spare = available - needed()
        flex_total = sum(column.flex for _, column in chosen)
        widths = []
        for _, column in chosen:
            extra = spare * column.flex // flex_total if flex_total and spare > 0 else 0
            widths.append(column.width + extra)
        if flex_total and spare > 0:
            # Integer shares leave a remainder: the last flexible column takes it.
            last_flex = max(i for i, (_, column) in enumerate(chosen) if column.flex)
            widths[last_flex] += available - sum(width + 1 for width in widths)
        placed, x = [], 1
        for (index, column), cell_width in zip(chosen, widths, strict=True):
            placed.append(_Placed(index, column, x, cell_width))
            x += cell_width + 1
        return placed

    def _ensure_layout(self, width: int) -> None:
        if width != self._layout_width:
            self._layout = self._place_columns(width)
            self._layout_width = width
            self._cache.clear()

    def _line(self, cells: Sequence[Text | str], gutter: Text) -> Text:
        line = Text(no_wrap=True, end="")
        line.append_text(gutter)
        for placed in self._layout:
            cell = cells[placed.index] if placed.index < len(cells) else ""
            text = _cell_text(cell)
            text.no_wrap = True
            text.truncate(placed.width, overflow="ellipsis")
            padding = " " * (placed.width - text.cell_len)
            if placed.column.justify == "right":
                line.append(padding)
                line.append_text(text)
            else:
                line.append_text(text)
                line.append(padding)
            line.append(" ")
        return line

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's style walks its ancestors (~1 ms a call): worked out once for all lines drawn now.
        self._base_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._base_style = None

    def _strip(self, line: Text, width: int, style: Style) -> Strip:
        line.truncate(width, overflow="crop", pad=True)
        base = self._base_style if self._base_style is not None else self.rich_style
        segments = Segment.apply_style(line.render(self.app.console, end=""), base + style)
        return Strip(list(segments), width)

    def _header(self, width: int) -> Strip:
        labels: list[Text | str] = []
        for column in self.columns:
            label = column.label
            if self._sort is not None and self._sort[0] == column.key:
                label += " ▲" if not self._sort[1] else " ▼"
            labels.append(label)
        style = self.get_component_rich_style("record-table--header")
        return self._strip(self._line(labels, Text(" ")), width, style)

    def _row_strip(self, index: int, width: int) -> Strip:
        row = self.rows[index]
        is_cursor = index == self.cursor
        cached = self._cache.get(row.key)
        if cached is not None and cached[0] is row and not is_cursor:
            return cached[1]
        gutter = (
            Text(MARK, style=self.get_component_rich_style("record-table--mark")) if row.marked else Text(" ")
        )
        style = Style()
        if row.marked:
            style += self.get_component_rich_style("record-table--marked")
        if is_cursor:
            style += self.get_component_rich_style("record-table--cursor")
        strip = self._strip(self._line(row.cells, gutter), width, style)
        if not is_cursor:
            if len(self._cache) > CACHED_SCREENS * self._visible_rows:
                # Rows scrolled far away are unlikely to be drawn again soon; start afresh.
                self._cache.clear()
            self._cache[row.key] = (row, strip)
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        self._ensure_layout(width)
        if y == 0:
            return self._header(width)
        index = int(self.scroll_y) + y - 1
        if index < len(self.rows):
            return self._row_strip(index, width)
        if not self.rows and y == 1 and self.empty_text:
            style = self.get_component_rich_style("record-table--empty")
            return self._strip(Text(f"  {self.empty_text}"), width, style)
        base = self._base_style if self._base_style is not None else self.rich_style
        return Strip([Segment(" " * width, base)], width)

    def watch_empty_text(self) -> None:
        self.refresh()
