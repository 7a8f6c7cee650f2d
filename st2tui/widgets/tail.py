"""The tail pane: every line of the executions it follows, as they are printed, each labelled with who wrote
it (a stable colour, the last 4 characters of the id and the action, or the task path in a workflow).

What it follows (`mode`): every running execution, those matching the executions list's filter (and their
descendants), or one pinned execution with its descendants at any depth. The main screen feeds it every
execution the event stream reports (`consider`); output comes from one output stream per execution, at most
`MAX_STREAMS` at a time, in named workers posting messages. The pane never imports screens.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Literal

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from st2tui import formatting
from st2tui.api_errors import St2Error
from st2tui.following import ChunkBatcher, LineAssembler, follow_execution_output
from st2tui.forms import printable
from st2tui.messages import ExecutionOpenRequested, FileSaved, OutputReceived, TailExecutionFinished
from st2tui.models import Execution, OutputChunk
from st2tui.widgets.output_log import OutputLine, OutputLog, OutputPanel, clean_line
from st2tui.widgets.workflow_tree import task_label

TailMode = Literal["running", "filter", "pinned"]
MODES: tuple[TailMode, ...] = ("running", "filter", "pinned")
MODE_LABELS = {"running": "every running execution", "filter": "the list's filter", "pinned": "pinned"}
# Output streams open at once; the others wait for a slot (their output is replayed then, none is lost).
MAX_STREAMS = 20
MAX_LINES = 10_000
# Executions remembered for labels and parent chains (oldest forgotten first).
MAX_KNOWN = 5_000
LABEL_WIDTH = 32
TERMINAL = frozenset({"succeeded", "failed", "timeout", "canceled", "abandoned"})
FAILED = frozenset({"failed", "timeout", "abandoned"})
FINISHED_SOURCE = "■"
# What the tail needs of stream events beyond the list's fields: the item of a with-items task.
TAIL_FIELDS = ("context.orquesta.item_id",)
WORKFLOW_RUNNERS = frozenset({"orquesta", "action-chain", "mistral-v2"})


def _stream_of(chunk: OutputChunk) -> str:
    """The line's stream as the log colours it: stdout, stderr, or other output (a runner's own)."""
    return chunk.output_type if chunk.output_type in ("stdout", "stderr") else "output"


def short_action(ref: str) -> str:
    return ref.rsplit(".", 1)[-1] or ref


class TailPane(Vertical):
    """The live tail: a heading (what it follows, how many), then the output panel (follow mode, search,
    streams filter, save) with the lines of every followed execution."""

    BINDING_GROUP_TITLE = "Tail"
    BINDINGS = [
        Binding(
            "m",
            "cycle_mode",
            "Follows",
            id="tail.mode",
            tooltip="Follow every running execution, those matching the list's filter, or the pinned one",
        ),
        Binding("p", "toggle_pause", "Pause", id="tail.pause", tooltip="Hold new lines, or show them again"),
        Binding("x", "clear", "Clear", id="tail.clear", tooltip="Clear the lines shown"),
        Binding(
            "e",
            "only_execution",
            "One execution",
            id="tail.only",
            tooltip="Only the selected line's execution, or every one again",
        ),
        Binding("enter", "open", "Open", id="tail.open", tooltip="Open the selected line's execution"),
    ]

    mode: reactive[TailMode] = reactive("running")
    paused: reactive[bool] = reactive(False)
    # Executions whose output streams are open (or waiting for a slot); `done`: followed and finished.
    followed: reactive[int] = reactive(0)
    done: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Filter mode asks the main screen whether the list would show an execution.
        self.filter_matches: Callable[[Execution], bool] = lambda execution: True
        self.pinned_id: str | None = None
        self.known: dict[str, Execution] = {}
        self._following: set[str] = set()
        self._generation = 0
        self._batcher = self._output_batcher(self._generation)
        self._slots = asyncio.Semaphore(MAX_STREAMS)
        self._assembler = LineAssembler()
        self._held: deque[OutputLine] = deque(maxlen=MAX_LINES)
        self._held_total = 0
        self.active = False

    def compose(self) -> ComposeResult:
        yield Static(id="tail-heading")
        yield OutputPanel(max_lines=MAX_LINES, id="tail-output")

    @property
    def panel(self) -> OutputPanel:
        return self.query_one(OutputPanel)

    @property
    def log_view(self) -> OutputLog:
        return self.panel.log_view

    def on_mount(self) -> None:
        self.panel.subject = "tail"
        self.panel.save_hint = "older ones dropped"
        self._show_heading()

    def focus_main(self) -> None:
        self.log_view.focus()

    # -- what it follows -----------------------------------------------------------------------------------

    def start(self, executions: Iterable[Execution]) -> None:
        """Begin following (the pane was shown): `executions` are those already known to the list."""
        self.active = True
        self.consider(executions)

    def stop(self) -> None:
        """Stop every output stream (the pane was hidden or the session ended)."""
        self.active = False
        self._restart()

    def _restart(self) -> None:
        self.workers.cancel_group(self, "tail-output")
        self._generation += 1
        self._batcher = self._output_batcher(self._generation)
        self._slots = asyncio.Semaphore(MAX_STREAMS)
        self._following.clear()
        self._assembler.clear()
        self.followed = 0
        self.done = 0

    def _output_batcher(self, generation: int) -> ChunkBatcher:
        """Output batches as `OutputReceived` messages of this following (`generation`)."""
        return ChunkBatcher(
            lambda chunks, taken: self.post_message(OutputReceived(generation, chunks, taken))
        )

    def consider(self, executions: Iterable[Execution]) -> None:
        """Executions created or changed (from the event stream or a list read): follow those that belong."""
        executions = list(executions)
        # All first: a child may come before its parent, whose chain decides whether it belongs.
        for execution in executions:
            self._remember(execution)
        for execution in executions:
            if self.active and execution.id not in self._following and self._wants(execution):
                self._follow(execution)

    def _remember(self, execution: Execution) -> None:
        self.known.pop(execution.id, None)
        self.known[execution.id] = execution
        while len(self.known) > MAX_KNOWN:
            del self.known[next(iter(self.known))]

    def _ancestors(self, execution: Execution) -> Iterable[str]:
        seen: set[str] = set()
        parent = execution.parent_id
        while parent and parent not in seen:
            seen.add(parent)
            yield parent
            above = self.known.get(parent)
            parent = above.parent_id if above is not None else None

    def _wants(self, execution: Execution) -> bool:
        if self.mode == "pinned":
            return self.pinned_id is not None and (
                execution.id == self.pinned_id or self.pinned_id in self._ancestors(execution)
            )
        # A descendant of a followed workflow belongs, even finished by the time it is seen (replayed).
        if any(parent in self._following for parent in self._ancestors(execution)):
            return True
        if execution.status in TERMINAL:
            return False
        return self.mode == "running" or self.filter_matches(execution)

    def pin(self, execution: Execution) -> None:
        """Follow `execution` and all its descendants at any depth (finished ones are replayed)."""
        self.pinned_id = execution.id
        self._remember(execution)
        if self.mode != "pinned":
            self.mode = "pinned"  # the watcher restarts and follows what is known
        else:
            self._restart()
            self.consider(list(self.known.values()))
        self._load_descendants(execution.id)

    def _load_descendants(self, execution_id: str) -> None:
        self.run_worker(
            partial(self._read_descendants, execution_id, self._generation),
            name="tail-descendants",
            group="tail-output",
            description="Reading the pinned execution's descendants",
            exit_on_error=False,
        )

    async def _read_descendants(self, execution_id: str, generation: int) -> None:
        try:
            descendants = await self.app.client.executions.children(execution_id)
        except St2Error as exc:
            self.notify(
                f"Descendants of {execution_id}: {exc}", title="Tail", severity="warning", markup=False
            )
            return
        if generation == self._generation:
            self.consider(descendants)

    def resync(self) -> None:
        """The event stream came back: st2 replays nothing, so what started meanwhile is read over REST."""
        if self.active:
            self.run_worker(
                partial(self._read_missed, self._generation),
                name="tail-resync",
                group="tail-output",
                description="Reading what started while the stream was down",
                exit_on_error=False,
            )

    async def _read_missed(self, generation: int) -> None:
        client = self.app.client
        found: list[Execution] = []
        if generation != self._generation:
            return
        try:
            for status in ("requested", "scheduled", "running"):
                found.extend((await client.executions.list(status=status, limit=100)).items)
            self.consider(found)
            candidates = [self.known[eid] for eid in self._following if eid in self.known]
            workflows = {e.id for e in candidates if e.children or e.runner_type in WORKFLOW_RUNNERS}
            if self.mode == "pinned" and self.pinned_id:
                workflows.add(self.pinned_id)
            for workflow in workflows:
                found.extend(await client.executions.children(workflow))
        except St2Error as exc:
            self.notify(f"Tail: {exc}", title="Tail", severity="warning", markup=False)
        if generation == self._generation:
            self.consider(found)

    def watch_mode(self) -> None:
        self._restart()
        if self.is_mounted:
            self.consider(list(self.known.values()))
            self._show_heading()

    def _follow(self, execution: Execution) -> None:
        self._following.add(execution.id)
        self.followed += 1
        # A callable, not a coroutine: a worker cancelled (mode change, clear) before it starts leaves nothing
        # un-awaited.
        self.run_worker(
            partial(self._stream_output, execution.id, execution.status in TERMINAL, self._generation),
            name=f"tail-output-{execution.id}",
            group="tail-output",
            description=f"Following the output of {execution.id}",
            exit_on_error=False,
        )

    async def _stream_output(self, execution_id: str, finished: bool, generation: int) -> None:
        client = self.app.client
        batcher = self._batcher
        try:
            async with self._slots:
                await follow_execution_output(client, execution_id, batcher, finished=finished)
            execution = await client.executions.get(
                execution_id,
                include_attributes=[
                    "id",
                    "status",
                    "result",
                    "start_timestamp",
                    "end_timestamp",
                    "action",
                    "context",
                    "parent",
                ],
            )
        except St2Error as exc:
            self.post_message(TailExecutionFinished(generation, execution_id, None, str(exc)))
            return
        self.post_message(TailExecutionFinished(generation, execution_id, execution))

    # -- lines ---------------------------------------------------------------------------------------------

    @on(OutputReceived)
    def _output_received(self, event: OutputReceived) -> None:
        event.stop()
        event.taken.set()
        if event.generation != self._generation:
            return
        self._show(self._lines_of(event.chunks))

    def _lines_of(self, chunks: list[OutputChunk]) -> list[OutputLine]:
        """Whole lines; a line split across chunks waits for its end (per execution and stream)."""
        lines: list[OutputLine] = []
        labels: dict[str, str] = {}
        for text, chunk in self._assembler.lines(chunks):
            label = labels.get(chunk.execution_id)
            if label is None:
                label = labels[chunk.execution_id] = self.label(chunk.execution_id, chunk.action_ref)
            lines.append(
                OutputLine(
                    clean_line(text),
                    _stream_of(chunk),
                    chunk.timestamp,
                    source=label,
                    source_key=chunk.execution_id,
                )
            )
        return lines

    def label(self, execution_id: str, action_ref: str = "") -> str:
        """`1a2b deploy > migrate` : the id's last 4 characters, then the task path from the top workflow
        (or the action's name for a top-level execution)."""
        execution = self.known.get(execution_id)
        path: list[str] = []
        seen: set[str] = set()
        while execution is not None and execution.id not in seen:
            seen.add(execution.id)
            if execution.parent_id and execution.task_name:
                path.append(task_label(execution))
                parent = self.known.get(execution.parent_id)
                if parent is None:
                    break
                execution = parent
            else:
                path.append(short_action(execution.action_ref))
                break
        if not path:
            path.append(short_action(action_ref) or "?")
        return printable(f"{execution_id[-4:]} {' > '.join(reversed(path))}")

    def _show(self, lines: list[OutputLine]) -> None:
        if not lines:
            return
        if self.paused:
            self._held_total += len(lines)
            self._held.extend(lines)
            self._show_heading()
            return
        widest = max(len(line.source) for line in lines)
        if widest > self.panel.source_width:
            self.panel.source_width = min(widest, LABEL_WIDTH)
        self.panel.append(lines)

    @on(TailExecutionFinished)
    def _finished(self, event: TailExecutionFinished) -> None:
        event.stop()
        if event.generation != self._generation:
            return
        lines: list[OutputLine] = []
        label = self.label(event.execution_id)
        for rest, chunk in self._assembler.flush(event.execution_id):
            lines.append(OutputLine(clean_line(rest), _stream_of(chunk), None, label, chunk.execution_id))
        execution = event.execution
        if execution is None:
            lines.append(
                OutputLine(
                    f"{FINISHED_SOURCE} status unknown: {event.error}",
                    "failure",
                    None,
                    label,
                    event.execution_id,
                )
            )
        else:
            self._remember(execution)
            lines.append(
                OutputLine(
                    finished_text(execution),
                    "failure" if execution.status in FAILED else "notice",
                    execution.end_timestamp,
                    label,
                    execution.id,
                )
            )
        self._show(lines)
        self.followed = max(self.followed - 1, 0)
        self.done += 1
        if execution is not None and execution.status not in TERMINAL:
            # Paused or resuming: the stream ended there; follow again when it runs (the event says so).
            self._following.discard(event.execution_id)

    # -- keys ----------------------------------------------------------------------------------------------

    def action_cycle_mode(self) -> None:
        modes = [mode for mode in MODES if mode != "pinned" or self.pinned_id]
        self.mode = modes[(modes.index(self.mode) + 1) % len(modes)] if self.mode in modes else modes[0]

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def watch_paused(self, paused: bool) -> None:
        if not paused and self._held:
            held = list(self._held)
            self._held.clear()
            self._held_total = 0
            self._show(held)
        self._show_heading()

    def action_clear(self) -> None:
        self._held.clear()
        self._held_total = 0
        self.panel.clear()

    def selected_line(self) -> OutputLine | None:
        """The line picked by a click or a search match, else the last line in view."""
        log = self.log_view
        lines = log.lines()
        if not lines:
            return None
        if log.current_seq is not None:
            for line in reversed(lines):
                if line.seq == log.current_seq:
                    return line
        located = log._locate(round(log.scroll_y) + max(log.scrollable_content_region.height - 1, 0))
        return located[0] if located else lines[-1]

    def action_only_execution(self) -> None:
        if self.panel.source_filter:
            self.panel.source_filter = ""
            return
        line = self.selected_line()
        if line is not None and line.source_key:
            self.panel.source_filter = line.source_key

    def action_open(self) -> None:
        line = self.selected_line()
        if line is not None and line.source_key:
            self.post_message(ExecutionOpenRequested(line.source_key))

    def on_click(self, event: events.Click) -> None:
        log = self.log_view
        if event.widget is not log:
            return
        offset = event.get_content_offset(log)
        if offset is None:
            return
        located = log._locate(offset.y + round(log.scroll_y))
        if located is not None:
            log.current_seq = located[0].seq
            log.refresh()

    def save(self, path: Path) -> None:
        """Write the lines kept (all streams, whatever is shown), each with its label."""
        text = "".join(f"[{line.source}] {line.text}\n" for line in self.log_view.kept_lines())
        self.run_worker(
            partial(self._write, path, text),
            name="tail-save",
            group="tail-save",
            description="Saving the tail",
        )

    async def _write(self, path: Path, text: str) -> None:
        data = text.encode("utf-8")
        try:
            await asyncio.to_thread(path.write_bytes, data)
        except OSError as exc:
            self.notify(f"Could not write {path}: {exc.strerror or exc}", title="Save", severity="error")
            return
        self.post_message(FileSaved("tail", str(path), len(data)))

    @on(FileSaved)
    def _saved(self, event: FileSaved) -> None:
        event.stop()
        self.notify(f"Saved the tail to {event.path} ({formatting.count(event.size)} bytes).", title="Saved")

    # -- heading -------------------------------------------------------------------------------------------

    def watch_followed(self) -> None:
        self._show_heading()

    watch_done = watch_followed

    def _show_heading(self) -> None:
        if not self.is_mounted:
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" Tail ", style="bold reverse")
        text.append(" follows ")
        if self.mode == "pinned" and self.pinned_id:
            text.append(f"{self.label(self.pinned_id)} and its descendants", style="bold")
        else:
            text.append(MODE_LABELS[self.mode], style="bold")
        noun = "execution" if self.followed == 1 else "executions"
        text.append(f" · {self.followed} {noun} running")
        if self.done:
            text.append(f", {self.done} finished", style="dim")
        if self.paused:
            text.append(" · ‖ paused", style="bold yellow")
            if self._held_total:
                text.append(f", {formatting.count(self._held_total)} lines held", style="yellow")
        text.append("  m: follows · p: pause · x: clear · e: one execution · enter: open", style="dim")
        self.query_one("#tail-heading", Static).update(text)


def finished_text(execution: Execution) -> str:
    """`■ succeeded · exit 0 · 3.2 s`"""
    parts = [f"{FINISHED_SOURCE} {execution.status}"]
    result = execution.result
    if isinstance(result, dict) and isinstance(result.get("return_code"), int):
        parts.append(f"exit {result['return_code']}")
    if execution.start_timestamp is not None and execution.end_timestamp is not None:
        parts.append(formatting.duration(execution.end_timestamp - execution.start_timestamp))
    return " · ".join(parts)
