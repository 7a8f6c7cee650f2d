"""The execution screen: one execution in detail, kept live.

Facts at the top (status, action, id, user, trigger, times, parameters), then tabs: Output (live, or the
output of every task of a workflow interleaved), Result, Workflow (the task tree to any depth), Parameters,
Log (status transitions) and Raw. Controls: cancel, pause/resume, re-run (whole, or from a task), respond
to an inquiry; each hidden in read-only mode.

Every server call runs in a named worker and answers with a message. Two streams feed the screen: the
event stream (status changes of the execution and its descendants) and the output stream(s), followed by
`st2tui.following`.

Over 800 lines because every handler here works on one shared state (the execution, its tree, the streams'
generation, the controls); what stands alone lives elsewhere: the tabs in `st2tui.widgets`, the dialogs
in `execution_dialogs`, stream following in `st2tui.following`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from st2tui import formatting
from st2tui.api_errors import St2Error
from st2tui.api_stream_states import StreamConnected, StreamDisconnected, StreamReconnected
from st2tui.commands import PaletteCommand, ScreenCommands
from st2tui.following import ChunkBatcher, LineAssembler, WorkflowOutputFollower, follow_execution_output
from st2tui.messages import (
    ApiFailed,
    ExecutionControlled,
    ExecutionDescendantsLoaded,
    ExecutionLoaded,
    ExecutionsUpdated,
    FileSaved,
    FullResultLoaded,
    InquiryResponseRequested,
    OutputReceived,
    OutputStateChanged,
    ParameterSpecsLoaded,
    RunActionRequested,
    StreamStateChanged,
    TaskOutputLoaded,
    TasksRerunStarted,
)
from st2tui.models import Execution, OutputChunk, ParameterSpec, StreamEvent
from st2tui.screens.confirm import ConfirmDialog
from st2tui.screens.execution_dialogs import ExecutionKeysScreen, RerunTasksDialog
from st2tui.screens.help import help_entries, typed_key
from st2tui.screens.result import FullResultScreen
from st2tui.screens.save import SaveDialog
from st2tui.widgets.execution_info import (
    ExecutionFacts,
    ParametersView,
    StatusLogView,
)
from st2tui.widgets.header import STREAM_STATES
from st2tui.widgets.output_log import (
    SOURCE_MAX_WIDTH,
    OutputLine,
    OutputLog,
    OutputPanel,
    clean_line,
)
from st2tui.widgets.result_view import RESULT_INLINE_LIMIT, DocumentView, ResultView, human_size
from st2tui.widgets.workflow_tree import TaskPreview, WorkflowTree, task_label

EXECUTION_EVENTS = ("st2.execution__create", "st2.execution__update", "st2.execution__delete")
INQUIRY_RUNNER = "inquirer"
# Seconds between status reads of a single (non-workflow) execution while it runs.
STATUS_POLL = 2.0
# The header's stream states for the output stream's own ("ended" is as good as live: nothing is missed).
OUTPUT_TO_HEADER_STATE = {"ended": "live", "failed": "offline"}
# How the workflow's own lines (orquesta's progress messages) are labelled in follow-workflow mode.
WORKFLOW_SOURCE = "(workflow)"
TABS = (
    ("output", "Output"),
    ("result", "Result"),
    ("workflow", "Workflow"),
    ("parameters", "Parameters"),
    ("log", "Log"),
    ("raw", "Raw"),
)
CRUMB_SEPARATOR = " \u203a "  # a single right-pointing angle quote


@dataclass(frozen=True)
class Crumb:
    """A screen the user came through (shown in the breadcrumb; escape goes back to it)."""

    execution_id: str
    label: str


class ExecutionScreen(Screen):
    """One execution, live. `execution_id` may be `last` (the newest execution)."""

    COMMANDS = {ScreenCommands}
    BINDING_GROUP_TITLE = "Execution"
    BINDINGS = [
        Binding("escape", "back", "Back", id="execution.back", tooltip="Back to where you came from"),
        *(
            Binding(
                str(number),
                f"show_tab('{name}')",
                title,
                show=False,
                id=f"execution.tab-{name}",
                tooltip=f"Show the {title.lower()} tab",
            )
            for number, (name, title) in enumerate(TABS, start=1)
        ),
        Binding(
            "W",
            "toggle_workflow_output",
            "All tasks",
            id="execution.workflow-output",
            tooltip="Output of this execution only, or of every task of the workflow interleaved",
        ),
        Binding(
            "c",
            "cancel",
            "Cancel",
            id="execution.cancel",
            tooltip="Cancel the execution (after a confirmation)",
        ),
        Binding("p", "pause", "Pause", id="execution.pause", tooltip="Pause the workflow"),
        Binding("p", "resume", "Resume", id="execution.resume", tooltip="Resume the paused workflow"),
        Binding(
            "R",
            "rerun",
            "Re-run",
            id="execution.rerun",
            tooltip="Run the action again, starting from this execution's parameters",
        ),
        Binding("a", "respond", "Respond", id="execution.respond", tooltip="Answer the pending inquiry"),
        Binding(
            "u", "parent", "Parent", show=False, id="execution.parent", tooltip="Open the parent workflow"
        ),
        Binding(
            "y", "copy_id", "Copy id", show=False, id="execution.copy-id", tooltip="Copy the execution id"
        ),
        Binding(
            "ctrl+r",
            "reload",
            "Reload",
            show=False,
            id="execution.reload",
            tooltip="Read the execution again",
        ),
        Binding("question_mark,f1", "help", "Help", id="execution.help", tooltip="The keys that work here"),
    ]
    MUTATING_ACTIONS = frozenset({"cancel", "pause", "resume", "rerun", "respond"})

    def __init__(self, execution_id: str, *, trail: tuple[Crumb, ...] = ()) -> None:
        super().__init__()
        self.execution_id = execution_id
        self.trail = trail
        self.execution: Execution | None = None
        self.specs: dict[str, ParameterSpec] = {}
        self.workflow_output = False
        self.stream_state = "connecting"
        # The execution and everything below it that the screen knows of (the event filter reads it).
        self._family: set[str] = {execution_id}
        self._generation = 0
        self._assembler = LineAssembler()
        self._follower: WorkflowOutputFollower | None = None
        self._events_started = False
        self._first_load = True
        self._announced: dict[str, str] = {}
        self._task_tails: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="execution-breadcrumb")
        yield ExecutionFacts(id="execution-facts")
        with TabbedContent(id="execution-tabs"):
            with TabPane("1 Output", id="tab-output"):
                yield OutputPanel(id="output-panel")
            with TabPane("2 Result", id="tab-result"):
                yield ResultView(id="result-view")
            with TabPane("3 Workflow", id="tab-workflow"), Horizontal(id="workflow-split"):
                yield WorkflowTree(id="workflow-tree")
                yield TaskPreview(id="task-preview")
            with TabPane("4 Parameters", id="tab-parameters"):
                yield ParametersView(id="parameters-view")
            with TabPane("5 Log", id="tab-log"):
                yield StatusLogView(id="status-log-view")
            with TabPane("6 Raw", id="tab-raw"):
                yield DocumentView(id="raw-view")
        yield Footer(compact=True)

    # -- parts ---------------------------------------------------------------------------------------------

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#execution-tabs", TabbedContent)

    @property
    def output(self) -> OutputPanel:
        return self.query_one(OutputPanel)

    @property
    def tree(self) -> WorkflowTree:
        return self.query_one(WorkflowTree)

    @property
    def facts(self) -> ExecutionFacts:
        return self.query_one(ExecutionFacts)

    @property
    def utc(self) -> bool:
        return self.app.settings.timezone == "utc"

    def on_mount(self) -> None:
        self.facts.utc = self.utc
        self._show_breadcrumb()
        # The tabs' contents are mounted by then; everything that follows (loads, streams) may touch them.
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        self.output.utc = self.utc
        self.tabs.hide_tab("tab-workflow")
        self.action_show_tab("output")
        self.set_interval(1.0, self._tick)
        self.load_execution()

    def _tick(self) -> None:
        """Elapsed times move while the execution runs."""
        execution = self.execution
        if execution is not None and not execution.is_terminal:
            self.facts.refresh()
        if execution is not None and execution.is_workflow:
            self.tree.tick()
            self._preview()

    def _show_breadcrumb(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" st2tui ", style="bold reverse")
        text.append(" Executions", style="dim")
        for crumb in self.trail:
            text.append(CRUMB_SEPARATOR, style="dim")
            text.append(crumb.label, style="dim")
        text.append(CRUMB_SEPARATOR, style="dim")
        execution = self.execution
        if execution is None:
            text.append(self.execution_id, style="bold")
        else:
            text.append(execution.task_name or execution.action_ref, style="bold")
            text.append(f" {execution.short_id}", style="dim")
        right = Text(no_wrap=True)
        label, style = STREAM_STATES.get(self.stream_state, (self.stream_state, ""))
        right.append(label, style=style)
        if self.app.settings.readonly:
            right.append("  ")
            right.append(" READ-ONLY ", style="bold black on yellow")
        right.append(" ")
        width = self.size.width or 120
        text.truncate(max(width - right.cell_len - 1, 0), overflow="ellipsis", pad=True)
        self.query_one("#execution-breadcrumb", Static).update(Text.assemble(text, " ", right))

    def on_resize(self) -> None:
        self._show_breadcrumb()

    def crumb(self) -> Crumb:
        execution = self.execution
        if execution is None:
            return Crumb(self.execution_id, self.execution_id)
        return Crumb(execution.id, f"{execution.task_name or execution.action_ref} {execution.short_id}")

    # -- loading -------------------------------------------------------------------------------------------

    @work(exclusive=True, group="execution-load", description="Reading the execution")
    async def load_execution(self) -> None:
        client = self.app.client
        try:
            # Large results stay on the server (st2web#867); the Result tab offers them on request.
            execution = await client.executions.get(self.execution_id, max_result_size=RESULT_INLINE_LIMIT)
        except St2Error as exc:
            self.post_message(ApiFailed(f"Reading execution {self.execution_id}", exc))
            return
        self.post_message(ExecutionLoaded(execution))
        if execution.is_workflow:
            try:
                descendants = await client.executions.children(execution.id, depth=-1)
            except St2Error as exc:
                self.post_message(ApiFailed("Reading the workflow's tasks", exc))
                return
            self.post_message(ExecutionDescendantsLoaded(execution.id, descendants))

    @work(exclusive=True, group="execution-specs", description="Reading the action")
    async def load_specs(self, action_ref: str) -> None:
        try:
            specs = await self.app.client.actions.parameters(action_ref)
        except St2Error:
            return  # the action may be gone; parameters then show without defaults
        self.post_message(ParameterSpecsLoaded(action_ref, specs))

    @on(ExecutionLoaded)
    def _loaded(self, event: ExecutionLoaded) -> None:
        event.stop()
        execution = event.execution
        first = self._first_load
        self._first_load = False
        if self.execution_id == "last":
            self.execution_id = execution.id
        self._family.add(execution.id)
        self._apply(execution)
        if first:
            self.load_specs(execution.action_ref)
            if execution.is_workflow:
                # Every task's output, once the tasks are known (their replays merge by time). A running
                # workflow is watched on the Output tab; a finished one opens on its tree (failures first).
                self.tabs.show_tab("tab-workflow")
                self.workflow_output = True
                if execution.is_terminal:
                    # After a refresh: the tabs' own first activation (still queued) would undo it.
                    self.call_after_refresh(self.action_show_tab, "workflow")
            else:
                self._restart_output()
        if not self._events_started:
            self._events_started = True
            if execution.is_workflow:
                self.watch_events()
            else:
                # One execution: its output stream says when it ends, and its status is read every few
                # seconds meanwhile. The event stream would bring the whole final document, result and all
                # (megabytes for a chatty command), once more besides the main screen's copy.
                self.set_interval(STATUS_POLL, self._poll_status)

    def _apply(self, execution: Execution) -> None:
        """Show a newer state of the execution itself."""
        previous = self.execution
        if previous is not None and previous.is_terminal and not execution.is_terminal:
            return  # an event that overtook the REST answer
        self.execution = execution
        self.facts.web_link = self.app.connection.st2web_url(execution.id)
        self.facts.execution = execution
        self.query_one(ResultView).show(execution)
        self.query_one(ParametersView).show(execution, self.specs)
        self.query_one(StatusLogView).show(execution, utc=self.utc)
        note = ""
        if "result" not in execution.raw and (execution.result_size or 0) > RESULT_INLINE_LIMIT:
            note = f"result ({human_size(execution.result_size or 0)}) left out: see the Result tab"
        self.query_one(DocumentView).show(execution.raw, note)
        if execution.is_workflow:
            self.tree.set_root(execution)
        self._show_breadcrumb()
        self._show_waiting()
        self.refresh_bindings()

    @on(ParameterSpecsLoaded)
    def _specs_loaded(self, event: ParameterSpecsLoaded) -> None:
        event.stop()
        self.specs = event.specs
        self.facts.specs = event.specs
        if self.execution is not None:
            self.query_one(ParametersView).show(self.execution, self.specs)

    @on(ExecutionDescendantsLoaded)
    def _descendants_loaded(self, event: ExecutionDescendantsLoaded) -> None:
        event.stop()
        self._add_descendants(event.descendants, announce=False)
        if self._generation == 0:
            self._restart_output()
        if not self.tree.cursor_node or self.tree.cursor_line <= 0:
            failures = self.tree.failed_tasks()
            if failures:
                self.tree.select(failures[0].id)

    def _add_descendants(self, executions: Iterable[Execution], *, announce: bool) -> None:
        executions = list(executions)
        self._family.update(execution.id for execution in executions)
        added = self.tree.update(executions)
        if announce and self.workflow_output:
            self._announce(executions)
        else:
            self._announced.update({execution.id: execution.status for execution in executions})
        if self._follower is not None:
            for execution in executions:
                self._follower.add(execution)
        if added:
            self._fit_source_width()
        selected = self.tree.selected_execution
        if selected is not None and any(execution.id == selected.id for execution in executions):
            self._preview(fresh=True)
        if self._show_waiting():
            self.refresh_bindings()  # `a` (respond) comes or goes with the pending inquiry

    # -- the task preview beside the tree ------------------------------------------------------------------

    @on(WorkflowTree.NodeHighlighted, "#workflow-tree")
    def _task_highlighted(self) -> None:
        self._preview(fresh=True)

    def _preview(self, *, fresh: bool = False) -> None:
        """Show the highlighted task; a running one also shows the end of its output so far."""
        execution = self.tree.selected_execution
        if execution is not None and execution.id == self.tree.root_id:
            execution = None
        preview = self.query_one(TaskPreview)
        if fresh or execution is None or execution.is_terminal:
            tail = self._task_tails.get(execution.id) if execution is not None else None
            preview.show(execution, tail)
        if execution is not None and not execution.is_terminal:
            self.load_task_output(execution.id)

    @work(
        exclusive=True,
        group="execution-task-output",
        description="Reading a task's output",
    )
    async def load_task_output(self, execution_id: str) -> None:
        await asyncio.sleep(0.2)  # the cursor may be on its way elsewhere
        try:
            text = await self.app.client.executions.output(execution_id)
        except St2Error:
            return  # the preview keeps what it showed; the output tab reports stream errors
        self.post_message(TaskOutputLoaded(execution_id, text))

    @on(TaskOutputLoaded)
    def _task_output_loaded(self, event: TaskOutputLoaded) -> None:
        event.stop()
        self._task_tails = {event.execution_id: event.text}
        selected = self.tree.selected_execution
        if selected is not None and selected.id == event.execution_id:
            self.query_one(TaskPreview).show(selected, event.text)

    # -- the event stream: status changes of the execution and of its descendants -------------------------

    def _poll_status(self) -> None:
        if self.execution is not None and not self.execution.is_terminal:
            self.load_execution()

    @work(exclusive=True, group="execution-events", description="Following the workflow")
    async def watch_events(self) -> None:
        self.post_message(StreamStateChanged("connecting"))
        # Unfiltered: the workflow's descendants are only known when they appear.
        stream = self.app.client.streams.events(events=EXECUTION_EVENTS)
        async with aclosing(stream) as items:
            async for item in items:
                if isinstance(item, StreamEvent):
                    execution = item.execution
                    if execution is None or item.verb == "delete":
                        continue
                    if execution.id in self._family or execution.parent_id in self._family:
                        self._family.add(execution.id)
                        self.post_message(ExecutionsUpdated({execution.id: execution}))
                elif isinstance(item, StreamConnected):
                    self.post_message(StreamStateChanged("live"))
                    # st2 replays nothing: what changed before the stream (re)opened is read over REST.
                    self.load_execution()
                elif isinstance(item, StreamDisconnected):
                    self.post_message(StreamStateChanged("reconnecting", item.reason))
                elif isinstance(item, StreamReconnected):
                    self.post_message(StreamStateChanged("live"))

    @on(StreamStateChanged)
    def _stream_state(self, event: StreamStateChanged) -> None:
        event.stop()
        self.stream_state = event.state
        self._show_breadcrumb()

    @on(ExecutionsUpdated)
    def _updated(self, event: ExecutionsUpdated) -> None:
        event.stop()
        root_id = self.execution.id if self.execution is not None else self.execution_id
        descendants = []
        for execution in event.changed.values():
            if execution.id == root_id:
                self._root_updated(execution)
            else:
                descendants.append(execution)
        if descendants:
            self._add_descendants(descendants, announce=True)

    def _root_updated(self, execution: Execution) -> None:
        previous = self.execution
        # Events carry the whole document: a large result is left for the Result tab to offer.
        raw = {key: value for key, value in execution.raw.items() if key != "result"}
        self._apply(
            Execution.from_dict(raw)
            if previous is None or "result" not in previous.raw
            else Execution.from_dict({**raw, "result": previous.raw["result"]})
        )
        if execution.is_terminal or (previous is not None and previous.status != execution.status):
            if execution.is_terminal:
                self.load_execution()  # the final document, result included when it is small
            if self._follower is not None and execution.status == "running":
                self._follower.add(execution)

    def _announce(self, executions: list[Execution]) -> None:
        """In follow-workflow mode, say when tasks start and finish (between their output lines)."""
        lines = []
        for execution in executions:
            before = self._announced.get(execution.id)
            self._announced[execution.id] = execution.status
            if before == execution.status:
                continue
            label = task_label(execution)
            if execution.status == "running":
                text = f"▶ {label} started ({execution.action_ref})"
            elif execution.is_terminal:
                elapsed = formatting.duration(execution.elapsed(formatting.now()))
                symbol = formatting.STATUS_STYLES.get(execution.status, ("·", ""))[0]
                text = f"{symbol} {label} {execution.status}" + (f" after {elapsed}" if elapsed else "")
            else:
                continue
            lines.append(
                OutputLine(
                    text,
                    "notice",
                    formatting.now(),
                    source=label,
                    source_key=self._source_key(execution),
                )
            )
        if lines:
            self.output.append(lines)

    # -- output ----------------------------------------------------------------------------------------------

    def _restart_output(self) -> None:
        """Start the output view again: this execution's own output, or every task's in workflow mode."""
        self._generation += 1
        self._assembler.clear()
        self._follower = None
        self.output.clear()
        self.output.stream_state = "connecting"
        self.output.follow = True
        if self.workflow_output:
            self.output.subject = "every task of the workflow"
            self._fit_source_width()
            self.follow_workflow_output(self._generation)
        else:
            self.output.subject = ""
            self.output.source_width = 0
            self.follow_output(self._generation)

    @work(exclusive=True, group="execution-output", description="Following the output")
    async def follow_output(self, generation: int) -> None:
        state = "ended"
        # Finished before the stream opened: the stream replays everything, nothing to reconcile.
        finished = self.execution is not None and self.execution.is_terminal

        def stream_changed(item: StreamConnected | StreamDisconnected | StreamReconnected) -> None:
            if isinstance(item, StreamConnected):
                self.post_message(OutputStateChanged(generation, "live"))
            elif isinstance(item, StreamDisconnected):
                self.post_message(OutputStateChanged(generation, "reconnecting", item.reason))
            else:
                self.load_execution()  # what changed while the stream was down

        try:
            await follow_execution_output(
                self.app.client,
                self.execution_id,
                self._output_batcher(generation),
                finished=finished,
                on_stream=stream_changed,
            )
        except St2Error as exc:
            state = "failed"
            self.post_message(ApiFailed("Following the output", exc))
        self.post_message(OutputStateChanged(generation, state))

    def _output_batcher(self, generation: int) -> ChunkBatcher:
        """Output batches as `OutputReceived` messages of this output view (`generation`)."""
        return ChunkBatcher(
            lambda chunks, taken: self.post_message(OutputReceived(generation, chunks, taken))
        )

    @work(
        exclusive=True,
        group="execution-output",
        description="Following every task's output",
    )
    async def follow_workflow_output(self, generation: int) -> None:
        batcher = self._output_batcher(generation)

        def failed(execution_id: str, error: Exception) -> None:
            self.post_message(ApiFailed(f"Following the output of {execution_id[-8:]}", error))

        def complete() -> bool:
            return self.execution is not None and all(
                execution.is_terminal for execution in [self.execution, *self.tree.descendants()]
            )

        follower = WorkflowOutputFollower(self.app.client, batcher, failed, complete)
        self._follower = follower
        self.post_message(OutputStateChanged(generation, "live"))
        initial = [self.execution, *self.tree.descendants()] if self.execution is not None else []
        await follower.run(initial)
        self.post_message(OutputStateChanged(generation, "ended"))

    @on(OutputStateChanged)
    def _output_state(self, event: OutputStateChanged) -> None:
        event.stop()
        if event.generation != self._generation:
            return
        if self.execution is not None and not self.execution.is_workflow:
            # The output stream is this screen's only stream: the header shows its state.
            self.stream_state = OUTPUT_TO_HEADER_STATE.get(event.state, event.state)
            self._show_breadcrumb()
            if event.state == "ended":
                self.load_execution()  # the final document
        if event.state in ("ended", "failed"):
            self._flush_partials()
        self.output.stream_state = event.state

    @on(OutputReceived)
    def _output_received(self, event: OutputReceived) -> None:
        event.stop()
        event.taken.set()
        if event.generation != self._generation:
            return
        self.output.append(self._lines_of(event.chunks))

    def _lines_of(self, chunks: list[OutputChunk]) -> list[OutputLine]:
        return [self._line(text, chunk) for text, chunk in self._assembler.lines(chunks)]

    def _flush_partials(self) -> None:
        lines = [self._line(text, chunk) for text, chunk in self._assembler.flush()]
        if lines:
            self.output.append(lines)

    def _line(self, text: str, chunk: OutputChunk) -> OutputLine:
        line = OutputLine(clean_line(text), chunk.output_type or "stdout", chunk.timestamp)
        if self.workflow_output:
            execution = self.tree.executions.get(chunk.execution_id)
            if execution is not None:
                line.source = WORKFLOW_SOURCE if execution.id == self.tree.root_id else task_label(execution)
                line.source_key = self._source_key(execution)
            else:
                line.source = chunk.execution_id[-8:]
        return line

    def _source_key(self, execution: Execution) -> str:
        return "/".join(task_label(step) for step in self.tree.path_of(execution.id)) or WORKFLOW_SOURCE

    def _fit_source_width(self) -> None:
        if not self.workflow_output:
            return
        labels = [task_label(execution) for execution in self.tree.descendants()]
        width = min(max((len(label) for label in labels), default=10), SOURCE_MAX_WIDTH)
        if width > self.output.source_width:
            self.output.source_width = max(width, 10)

    def action_toggle_workflow_output(self) -> None:
        self.workflow_output = not self.workflow_output
        self._restart_output()
        self.action_show_tab("output")
        self.refresh_bindings()

    # -- saving --------------------------------------------------------------------------------------------

    @on(OutputPanel.SaveRequested)
    def _save_output_requested(self, event: OutputPanel.SaveRequested) -> None:
        event.stop()
        if self.execution is None:
            return
        kind = "workflow-output" if self.workflow_output else "output"
        suggested = Path.cwd() / f"st2-{self.execution.id}-{kind}.log"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.save_output(path)

        self.app.push_screen(SaveDialog("Save the full output to", suggested), chosen)

    @work(exclusive=True, group="execution-save", description="Saving the output")
    async def save_output(self, path: Path) -> None:
        client = self.app.client
        try:
            if self.workflow_output and self.execution is not None:
                parts = []
                for execution in [self.execution, *self.tree.descendants()]:
                    text = await client.executions.output(execution.id)
                    label = WORKFLOW_SOURCE if execution.id == self.execution.id else task_label(execution)
                    parts += [f"[{label}] {line}" for line in text.splitlines()]
                text = "\n".join(parts) + ("\n" if parts else "")
            else:
                text = await client.executions.output(self.execution_id)
        except St2Error as exc:
            self.post_message(ApiFailed("Reading the output", exc))
            return
        await self._write(path, text, "output")

    @on(ResultView.SaveRequested)
    def _save_result_requested(self, event: ResultView.SaveRequested) -> None:
        event.stop()
        if self.execution is None:
            return
        suggested = Path.cwd() / f"st2-{self.execution.id}-result.json"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.save_result(path)

        self.app.push_screen(SaveDialog("Save the whole result to", suggested), chosen)

    @work(exclusive=True, group="execution-save", description="Saving the result")
    async def save_result(self, path: Path) -> None:
        try:
            text = await self.app.client.executions.result_text(self.execution_id)
        except St2Error as exc:
            self.post_message(ApiFailed("Reading the result", exc))
            return
        await self._write(path, text, "result")

    async def _write(self, path: Path, text: str, what: str) -> None:
        data = text.encode("utf-8")
        try:
            await asyncio.to_thread(path.write_bytes, data)
        except OSError as exc:
            self.notify(f"Could not write {path}: {exc.strerror or exc}", title="Save", severity="error")
            return
        self.post_message(FileSaved(what, str(path), len(data)))

    @on(FileSaved)
    def _saved(self, event: FileSaved) -> None:
        event.stop()
        self.notify(f"Saved the {event.what} to {event.path} ({human_size(event.size)}).", title="Saved")

    # -- the full result -------------------------------------------------------------------------------------

    @on(ResultView.FullResultRequested)
    def _full_result_requested(self, event: ResultView.FullResultRequested) -> None:
        event.stop()
        self.notify("Fetching the full result…", timeout=2)
        self.load_full_result()

    @work(exclusive=True, group="execution-result", description="Reading the full result")
    async def load_full_result(self) -> None:
        try:
            result = await self.app.client.executions.result(self.execution_id)
        except St2Error as exc:
            self.post_message(ApiFailed("Reading the result", exc))
            return
        self.post_message(FullResultLoaded(self.execution_id, result))

    @on(FullResultLoaded)
    def _full_result_loaded(self, event: FullResultLoaded) -> None:
        event.stop()
        if self.execution is not None and self.app.screen is self:
            self.app.push_screen(FullResultScreen(self.execution, event.result))

    # -- tabs and navigation ---------------------------------------------------------------------------------

    def action_show_tab(self, name: str) -> None:
        self.tabs.active = f"tab-{name}"
        self._focus_tab(name)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        name = (event.pane.id or "tab-output").removeprefix("tab-")
        if self.focused is None or event.pane not in self.focused.ancestors_with_self:
            self._focus_tab(name)

    def _focus_tab(self, name: str) -> None:
        targets = {
            "output": OutputLog,
            "result": ResultView,
            "workflow": WorkflowTree,
            "parameters": ParametersView,
            "log": StatusLogView,
            "raw": DocumentView,
        }
        self.query_one(targets[name]).focus()
        self.refresh_bindings()

    def action_back(self) -> None:
        self.dismiss()

    @on(WorkflowTree.ChildOpened)
    def _child_opened(self, event: WorkflowTree.ChildOpened) -> None:
        event.stop()
        self.open_execution(event.execution.id)

    def open_execution(self, execution_id: str) -> None:
        """Show another execution on top of this one; escape comes back here."""
        self.app.push_screen(ExecutionScreen(execution_id, trail=(*self.trail, self.crumb())))

    def action_parent(self) -> None:
        parent = self.execution.parent_id if self.execution is not None else None
        if parent is None:
            return
        if self.trail and self.trail[-1].execution_id == parent:
            self.dismiss()
        else:
            self.open_execution(parent)

    def action_copy_id(self) -> None:
        if self.execution is not None:
            self.app.copy_to_clipboard(self.execution.id)
            self.notify(f"Copied {self.execution.id}.", timeout=3)

    def action_reload(self) -> None:
        self.load_execution()

    def action_help(self) -> None:
        self.app.push_screen(ExecutionKeysScreen(help_entries(self)))

    # -- controls --------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MUTATING_ACTIONS and self.app.settings.readonly:
            return False
        execution = self.execution
        if execution is None:
            return action in ("back", "show_tab", "help", "reload")
        if action == "cancel":
            return execution.is_cancelable
        if action == "pause":
            return execution.can_pause
        if action == "resume":
            return execution.can_resume
        if action == "respond":
            return self._pending_inquiry() is not None
        if action == "parent":
            return execution.parent_id is not None
        if action == "toggle_workflow_output":
            return execution.is_workflow
        if action == "show_tab" and parameters == ("workflow",):
            return execution.is_workflow
        return True

    def action_cancel(self) -> None:
        execution = self.execution
        if execution is None or not execution.is_cancelable:
            return
        body = f"{execution.action_ref} ({execution.short_id}) is {execution.status}."
        if execution.is_workflow:
            body += "\nTasks that are running finish; no new task starts."

        def answered(yes: bool | None) -> None:
            if yes:
                self.control("cancel")

        self.app.push_screen(
            ConfirmDialog("Cancel this execution?", body, confirm_label="Cancel it"), answered
        )

    def action_pause(self) -> None:
        self.control("pause")

    def action_resume(self) -> None:
        self.control("resume")

    @work(exclusive=True, group="execution-control", description="Changing the execution")
    async def control(self, verb: str) -> None:
        client = self.app.client
        calls = {
            "cancel": client.executions.cancel,
            "pause": client.executions.pause,
            "resume": client.executions.resume,
        }
        try:
            execution = await calls[verb](self.execution_id)
        except St2Error as exc:
            self.post_message(ApiFailed(f"{verb.capitalize()} {self.execution_id[-8:]}", exc))
            return
        self.post_message(ExecutionControlled(verb, execution))

    @on(ExecutionControlled)
    def _controlled(self, event: ExecutionControlled) -> None:
        event.stop()
        done = {"cancel": "Cancel requested", "pause": "Pause requested", "resume": "Resume requested"}
        self.notify(f"{done[event.verb]}: {event.execution.status}.", title=event.execution.action_ref)
        self._root_updated(event.execution)

    def action_rerun(self) -> None:
        """Open the run form prefilled from this execution (the form never sends masked secrets back)."""
        execution = self.execution
        if execution is not None:
            self.post_message(
                RunActionRequested(execution.action_ref, dict(execution.parameters), rerun_of=execution.id)
            )

    @on(WorkflowTree.RerunTaskRequested)
    def _rerun_task_requested(self, event: WorkflowTree.RerunTaskRequested) -> None:
        event.stop()
        if self.app.settings.readonly:
            return
        workflow, task = event.workflow, event.execution

        def answered(reset: bool | None) -> None:
            if reset is not None and task.task_name:
                self.rerun_tasks(workflow.id, [task.task_name], [task.task_name] if reset else [])

        self.app.push_screen(RerunTasksDialog(workflow, task), answered)

    @work(exclusive=True, group="execution-control", description="Re-running from a task")
    async def rerun_tasks(self, workflow_id: str, tasks: list[str], reset: list[str]) -> None:
        # No parameters: st2 re-runs from tasks with the original ones (and a mask must never go back).
        try:
            execution = await self.app.client.executions.rerun(workflow_id, tasks=tasks, reset=reset)
        except St2Error as exc:
            self.post_message(ApiFailed(f"Re-running from {', '.join(tasks)}", exc))
            return
        self.post_message(TasksRerunStarted(workflow_id, tasks, execution))

    @on(TasksRerunStarted)
    def _tasks_rerun(self, event: TasksRerunStarted) -> None:
        event.stop()
        self.notify(
            f"Re-running {event.execution.action_ref} from {', '.join(event.tasks)}: {event.execution.short_id}.",
            title="Re-run",
        )
        self.open_execution(event.execution.id)

    def _pending_inquiry(self) -> Execution | None:
        candidates = [self.execution] if self.execution is not None else []
        if self.execution is not None and self.execution.is_workflow:
            candidates += self.tree.descendants()
        return next(
            (
                execution
                for execution in candidates
                if execution.runner_type == INQUIRY_RUNNER and execution.status == "pending"
            ),
            None,
        )

    def _show_waiting(self) -> bool:
        """Beside the status: what waits for an answer, and the key that answers (when it may be used).
        True when that changed."""
        before = self.facts.waiting
        pending = self._pending_inquiry()
        if pending is None:
            self.facts.waiting = ""
            return before != ""
        what = f" (task {pending.task_name})" if pending is not self.execution and pending.task_name else ""
        keys = [
            typed_key(key)
            for key, bindings in self._bindings.key_to_bindings.items()
            if any(binding.action == "respond" for binding in bindings)
        ]
        answers = f": {keys[0]} answers" if keys and not self.app.settings.readonly else ""
        self.facts.waiting = f"waiting for a response{what}{answers}"
        return before != self.facts.waiting

    def action_respond(self) -> None:
        pending = self._pending_inquiry()
        if pending is not None:
            self.load_inquiry(pending.id)

    @work(exclusive=True, group="execution-inquiry", description="Reading the inquiry")
    async def load_inquiry(self, inquiry_id: str) -> None:
        try:
            inquiry = await self.app.client.inquiries.get(inquiry_id)
        except St2Error as exc:
            self.post_message(ApiFailed("Reading the inquiry", exc))
            return
        self.post_message(InquiryResponseRequested(inquiry))

    @on(ApiFailed)
    def _failed(self, event: ApiFailed) -> None:
        event.stop()
        error = event.error
        detail = error.faultstring if isinstance(error, St2Error) else str(error)
        status = getattr(error, "status", None)
        title = f"{event.what} failed" + (f" (HTTP {status})" if status else "")
        self.notify(detail, title=title, severity="error", timeout=10)

    # -- palette ---------------------------------------------------------------------------------------------

    def palette_commands(self) -> list[PaletteCommand]:
        execution = self.execution
        commands: list[PaletteCommand] = []
        if execution is None:
            return commands

        def offer(action: str, title: str, help: str, run: Callable[[], object]) -> None:
            if self.check_action(action, ()) is not False:
                commands.append(PaletteCommand(title, help, run))

        offer("cancel", "Cancel this execution", "After a confirmation (c)", self.action_cancel)
        offer("pause", "Pause this workflow", "(p)", self.action_pause)
        offer("resume", "Resume this workflow", "(p)", self.action_resume)
        offer(
            "rerun", "Re-run this execution…", "Opens the run form with its parameters (R)", self.action_rerun
        )
        offer("respond", "Respond to the pending inquiry", "(a)", self.action_respond)
        offer("parent", "Open the parent workflow", "(u)", self.action_parent)
        if execution.rerun_of:
            commands.append(
                PaletteCommand(
                    f"Open {execution.rerun_of[-8:]}, the execution this one re-ran",
                    "Re-run of",
                    partial(self.open_execution, execution.rerun_of),
                )
            )
        commands.append(PaletteCommand(f"Copy the id {execution.id}", "(y)", self.action_copy_id))
        link = self.app.connection.st2web_url(execution.id)
        commands.append(PaletteCommand("Copy the st2web link", link, partial(self._copy, link, "the link")))
        if execution.rule_ref:
            commands.append(
                PaletteCommand(
                    f"Show rule {execution.rule_ref}",
                    "In the rules pane",
                    partial(self._show_rule, execution.rule_ref),
                )
            )
        if execution.is_workflow:
            commands.append(
                PaletteCommand(
                    "Output of this execution only"
                    if self.workflow_output
                    else "Output of every task (follow workflow)",
                    "(W)",
                    self.action_toggle_workflow_output,
                )
            )
            commands.append(
                PaletteCommand("Jump to the failed task", "Workflow tab (f)", self._jump_to_failed)
            )
        for number, (name, title) in enumerate(TABS, start=1):
            if self.check_action("show_tab", (name,)) is not False:
                commands.append(
                    PaletteCommand(f"Show {title}", f"Tab {number}", partial(self.action_show_tab, name))
                )
        commands.append(
            PaletteCommand("Save the full output…", "(ctrl+s on the output)", self.output.action_save)
        )
        commands.append(PaletteCommand("Help: keys on this screen", "(? or F1)", self.action_help))
        return commands

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {what}.", timeout=3)

    def _jump_to_failed(self) -> None:
        self.action_show_tab("workflow")
        self.tree.action_next_failed()

    def _show_rule(self, rule_ref: str) -> None:
        """Back to the main screen, on the rules pane, filtered to this rule."""
        main = self.app.main_screen
        while self.app.screen is not main:
            self.app.pop_screen()
        main.action_show_pane("rules")
        main.pane("rules").apply_filter(rule_ref)
