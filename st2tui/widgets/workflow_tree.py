"""A workflow's tasks and their child executions, to any depth, kept live: children appear as they
start and statuses change in place. The tree never does I/O; the execution screen feeds it executions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.widgets.tree import TreeNode

from st2tui import formatting
from st2tui.formatting import SECRET_MASK, duration, status_symbol
from st2tui.models import Execution
from st2tui.widgets.execution_info import SERVER_MASK, format_value
from st2tui.widgets.navigable_tree import NavigableTree, tree_bindings

# Children without a start time yet (requested, scheduled) sort after those that started.
_NOT_STARTED = datetime.max.replace(tzinfo=timezone.utc)


def item_index(execution: Execution) -> int | None:
    """The item number of one iteration of a with-items task; None for other executions."""
    orquesta = execution.context.get("orquesta")
    item = orquesta.get("item_id") if isinstance(orquesta, dict) else None
    return item if isinstance(item, int) and not isinstance(item, bool) else None


def task_label(execution: Execution) -> str:
    """The task name, with the item number of a with-items task (`deploy[1]`); the action when there is no task."""
    name = execution.task_name or execution.action_ref
    item = item_index(execution)
    return f"{name}[{item}]" if item is not None else name


def is_with_items(execution: Execution) -> bool:
    return item_index(execution) is not None


def _order(execution: Execution) -> tuple[datetime, str]:
    return (execution.start_timestamp or _NOT_STARTED, execution.id)


class WorkflowTree(NavigableTree):
    """Node data is the execution id; the root is the workflow the screen shows."""

    BINDING_GROUP_TITLE = "Workflow"
    BINDINGS = [
        Binding("enter", "open", "Open", id="workflow.open", tooltip="Open the selected task's execution"),
        Binding(
            "f", "next_failed", "Failed task", id="workflow.failed", tooltip="Jump to the (next) failed task"
        ),
        Binding(
            "T",
            "rerun_task",
            "Re-run from task",
            id="workflow.rerun-task",
            tooltip="Re-run the workflow from the selected task (after a confirmation)",
        ),
        *tree_bindings("workflow"),
    ]

    class ChildOpened(Message):
        """Enter on a task: show its execution."""

        def __init__(self, execution: Execution) -> None:
            super().__init__()
            self.execution = execution

    class RerunTaskRequested(Message):
        """Re-run the task's workflow from this task."""

        def __init__(self, execution: Execution, workflow: Execution) -> None:
            super().__init__()
            self.execution = execution
            self.workflow = workflow

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.auto_expand = False
        self.guide_depth = 3
        self.executions: dict[str, Execution] = {}
        self._by_id: dict[str, TreeNode[str]] = {}
        # Children whose parent has not arrived yet (events can overtake the REST answer).
        self._orphans: dict[str, list[Execution]] = {}
        self._failed_cursor: str | None = None

    # -- content -------------------------------------------------------------------------------------------

    def set_root(self, execution: Execution) -> None:
        if self.root.data != execution.id:
            self.clear()
            self.executions.clear()
            self._by_id.clear()
            self._orphans.clear()
            self.root.data = execution.id
            self._by_id[execution.id] = self.root
        self.executions[execution.id] = execution
        self.root.set_label(self._label(execution, root=True))
        self.root.expand()

    @property
    def root_id(self) -> str | None:
        return self.root.data

    def update(self, executions: Iterable[Execution]) -> list[Execution]:
        """Add or refresh descendants; returns those that were new (and placed in the tree)."""
        added: list[Execution] = []
        for execution in executions:
            if execution.id in self._by_id:
                if execution.id == self.root_id:
                    self.set_root(execution)
                else:
                    self.executions[execution.id] = execution
                    self._by_id[execution.id].set_label(self._label(execution))
            else:
                added += self._place(execution)
        return added

    def _place(self, execution: Execution) -> list[Execution]:
        parent = self._by_id.get(execution.parent_id or "")
        if parent is None:
            self._orphans.setdefault(execution.parent_id or "", []).append(execution)
            return []
        self.executions[execution.id] = execution
        key = _order(execution)
        before = next(
            (node for node in parent.children if node.data and _order(self.executions[node.data]) > key), None
        )
        node = parent.add(
            self._label(execution),
            execution.id,
            before=before,
            expand=True,
            allow_expand=execution.is_workflow,
        )
        self._by_id[execution.id] = node
        placed = [execution]
        for orphan in self._orphans.pop(execution.id, []):
            placed += self._place(orphan)
        return placed

    def descendants(self) -> list[Execution]:
        """Every execution below the root, in tree order."""
        found: list[Execution] = []

        def walk(node: TreeNode[str]) -> None:
            for child in node.children:
                if child.data in self.executions:
                    found.append(self.executions[child.data])
                walk(child)

        walk(self.root)
        return found

    def path_of(self, execution_id: str) -> list[Execution]:
        """The executions from the root's child down to `execution_id`."""
        node = self._by_id.get(execution_id)
        path: list[Execution] = []
        while node is not None and node is not self.root and node.data:
            path.append(self.executions[node.data])
            node = node.parent
        return list(reversed(path))

    def tick(self) -> None:
        """Refresh the elapsed time of what is still running."""
        for execution_id, node in self._by_id.items():
            execution = self.executions.get(execution_id)
            if execution is not None and not execution.is_terminal:
                node.set_label(self._label(execution, root=node is self.root))

    def _label(self, execution: Execution, *, root: bool = False) -> Text:
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append_text(status_symbol(execution.status))
        label.append(" ")
        if root:
            label.append(execution.action_ref, style="bold")
        else:
            label.append(task_label(execution), style="bold")
            label.append(f"  {execution.action_ref}", style="dim")
        style = formatting.STATUS_STYLES.get(execution.status, ("", ""))[1]
        label.append(f"  {execution.status}", style=style)
        elapsed = duration(execution.elapsed(formatting.now()))
        if elapsed:
            label.append(f"  {elapsed}", style="dim")
        if root:
            label.append(f"  {execution.short_id}", style="dim")
        return label

    # -- selection -----------------------------------------------------------------------------------------

    @property
    def selected_execution(self) -> Execution | None:
        node = self.cursor_node
        return self.executions.get(node.data) if node is not None and node.data else None

    def parent_workflow(self, execution: Execution) -> Execution | None:
        return self.executions.get(execution.parent_id or "")

    def select(self, execution_id: str) -> bool:
        """Put the cursor on `execution_id`, unfolding its ancestors."""
        node = self._by_id.get(execution_id)
        if node is None:
            return False
        ancestor = node.parent
        while ancestor is not None:
            ancestor.expand()
            ancestor = ancestor.parent
        self.get_node_at_line(0)  # lay the lines out again, so the node knows its line
        self.move_cursor(node)
        return True

    def failed_tasks(self) -> list[Execution]:
        """Failed executions with no failed child: where each failure started, in tree order."""
        failed = [execution for execution in self.descendants() if execution.is_failed]
        parents_of_failures = {execution.parent_id for execution in failed}
        return [execution for execution in failed if execution.id not in parents_of_failures]

    def action_next_failed(self) -> None:
        failures = self.failed_tasks()
        if not failures:
            self.notify("No task has failed.", severity="information")
            return
        ids = [execution.id for execution in failures]
        current = self.selected_execution
        start = ids.index(current.id) + 1 if current is not None and current.id in ids else 0
        self.select(ids[start % len(ids)])

    def action_open(self) -> None:
        execution = self.selected_execution
        if execution is not None and execution.id != self.root_id:
            self.post_message(self.ChildOpened(execution))

    def action_rerun_task(self) -> None:
        execution = self.selected_execution
        if execution is None or execution.id == self.root_id or not execution.task_name:
            self.notify("Choose a task of the workflow first.", severity="warning")
            return
        workflow = self.parent_workflow(execution)
        if workflow is None or workflow.runner_type != "orquesta":
            self.notify("Only tasks of Orquesta workflows can be re-run on their own.", severity="warning")
            return
        self.post_message(self.RerunTaskRequested(execution, workflow))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rerun_task" and self.app.settings.readonly:
            return False
        return True


PREVIEW_LINES = 12


def _tail(text: str, lines: int = PREVIEW_LINES) -> str:
    kept = text.rstrip("\n").split("\n")
    if len(kept) <= lines:
        return "\n".join(kept)
    return "\n".join([f"… {len(kept) - lines} earlier lines", *kept[-lines:]])


class TaskPreview(VerticalScroll):
    """Beside the tree: the selected task at a glance (status, inputs, the end of its output or its errors),
    so a failure reads without leaving the tree."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[Execution | None, str | None] = (None, None)

    def compose(self):
        yield Static(id="task-preview-body")

    def on_mount(self) -> None:
        self._render_shown()

    def show(self, execution: Execution | None, output_tail: str | None = None) -> None:
        """Show a task; before the body is mounted (a busy machine mounts the tab's parts in any order)
        the task is kept and drawn on mount."""
        self._shown = (execution, output_tail)
        self._render_shown()

    def _render_shown(self) -> None:
        found = self.query("#task-preview-body")
        if not found:
            return
        body = found.first(Static)
        execution, output_tail = self._shown
        if execution is None:
            body.update(Text("Choose a task to see its inputs and output.", style="dim"))
            return
        parts: list[RenderableType] = []
        title = Text.assemble(status_symbol(execution.status), " ", (task_label(execution), "bold"))
        title.append(f"  {execution.action_ref}", style="dim")
        parts.append(title)
        facts = Text(style="dim")
        facts.append(f"{execution.status}", style=formatting.STATUS_STYLES.get(execution.status, ("", ""))[1])
        elapsed = duration(execution.elapsed(formatting.now()))
        if elapsed:
            facts.append(f" · {elapsed}")
        facts.append(f" · {execution.id}")
        parts.append(facts)
        parts.append(Text("inputs", style="bold underline"))
        if execution.parameters:
            for name, value in execution.parameters.items():
                line = Text(f"  {name} = ", style="dim")
                if value == SERVER_MASK:
                    line.append(SECRET_MASK, style="yellow")
                else:
                    line.append(format_value(value))
                parts.append(line)
        else:
            parts.append(Text("  none", style="dim"))
        parts += self._outcome(execution, output_tail)
        parts.append(Text(""))
        hint = "enter opens its screen" + (
            "" if self.app.settings.readonly else " · T re-runs the workflow from here"
        )
        parts.append(Text(hint, style="dim"))
        body.update(Group(*parts))

    def _outcome(self, execution: Execution, output_tail: str | None) -> list[RenderableType]:
        result = execution.result if isinstance(execution.result, dict) else {}
        parts: list[RenderableType] = []
        code = result.get("return_code", result.get("exit_code"))
        if code is not None:
            parts.append(Text(f"return code {code}", style="bold red" if code else "green"))
        errors = result.get("errors")
        if isinstance(errors, list) and errors:
            parts.append(Text("errors", style="bold underline red"))
            for error in errors:
                message = error.get("message", error) if isinstance(error, dict) else error
                where = error.get("task_id") if isinstance(error, dict) else None
                parts.append(Text(f"  {where + ': ' if where else ''}{message}", style="red"))
        for stream, style in (("stderr", "red"), ("stdout", "")):
            text = result.get(stream)
            if isinstance(text, str) and text.strip():
                parts.append(Text(f"{stream} (end)", style="bold underline"))
                parts.append(Text(_tail(text), style=style))
        if not execution.is_terminal:
            parts.append(Text("output so far", style="bold underline"))
            if output_tail:
                parts.append(Text(_tail(output_tail)))
            else:
                parts.append(Text("  nothing yet", style="dim"))
        return parts
