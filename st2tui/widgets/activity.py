"""A two-line bar strip: top-level executions per minute over the last hour, succeeded above, failed below."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from rich.text import Text
from textual.widget import Widget

from st2tui import formatting
from st2tui.models import Execution

WINDOW = timedelta(hours=1)
MINUTES = 60
BARS = " ▁▂▃▄▅▆▇█"
LABEL_WIDTH = 9
CAPTION_WIDTH = 26


class ActivityStrip(Widget):
    """Counts finished executions by the minute they started; the window slides with the clock."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # id -> (start, succeeded?): the newest state of each execution wins, so updates never double count.
        self._outcomes: dict[str, tuple[datetime, bool]] = {}
        self.tooltip = "Executions per minute over the last hour (oldest left): succeeded above, failed below"

    def on_mount(self) -> None:
        self.set_interval(30, self._slide)

    def reset(self, executions: Iterable[Execution]) -> None:
        self._outcomes.clear()
        self.record(executions)

    def record(self, executions: Iterable[Execution]) -> None:
        """Count the top-level executions among `executions` that finished (succeeded or failed)."""
        horizon = formatting.now() - WINDOW
        changed = False
        for execution in executions:
            started = execution.start_timestamp
            if execution.parent_id or started is None or started < horizon:
                continue
            if execution.status == "succeeded" or execution.is_failed:
                outcome = (started, execution.status == "succeeded")
                changed |= self._outcomes.get(execution.id) != outcome
                self._outcomes[execution.id] = outcome
        if changed:
            self.refresh()

    def _slide(self) -> None:
        horizon = formatting.now() - WINDOW
        self._outcomes = {key: value for key, value in self._outcomes.items() if value[0] >= horizon}
        self.refresh()

    def counts(self) -> tuple[list[int], list[int]]:
        """Succeeded and failed counts per minute, oldest minute first."""
        now = formatting.now()
        succeeded, failed = [0] * MINUTES, [0] * MINUTES
        for started, ok in self._outcomes.values():
            minute = MINUTES - 1 - int((now - started).total_seconds() // 60)
            if 0 <= minute < MINUTES:
                (succeeded if ok else failed)[minute] += 1
        return succeeded, failed

    def render(self) -> Text:
        succeeded, failed = self.counts()
        width = self.size.width
        # On a narrow terminal several minutes share a cell, leaving room for the caption.
        cells = max(min(MINUTES, width - LABEL_WIDTH - CAPTION_WIDTH), 1)
        per_cell = -(-MINUTES // cells)
        ok_bars = [sum(succeeded[i : i + per_cell]) for i in range(0, MINUTES, per_cell)]
        fail_bars = [sum(failed[i : i + per_cell]) for i in range(0, MINUTES, per_cell)]
        peak = max(ok_bars + fail_bars + [0])

        def bars(values: list[int]) -> str:
            return "".join(BARS[-(-value * 8 // peak)] if value else "·" for value in values)

        unit = "min" if per_cell == 1 else f"{per_cell} min"
        captions = (f"  last hour, peak {peak}/{unit}" if peak else "  last hour: none finished", "")
        lines = []
        for symbol, total, values, style, caption in (
            ("✔", sum(succeeded), ok_bars, "green", captions[0]),
            ("✘", sum(failed), fail_bars, "red", captions[1]),
        ):
            line = Text.assemble((f"{symbol} {total:>5}  ", style), (bars(values), style), (caption, "dim"))
            line.truncate(width, overflow="crop")
            lines.append(line)
        return Text("\n").join(lines)
