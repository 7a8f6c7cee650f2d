"""What the execution screen says about one execution: the facts at the top (status, action, id, who and
what triggered it, times, parameters), the Parameters tab and the Log tab (status transitions)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from st2tui import formatting
from st2tui.formatting import SECRET_MASK, duration, status_text, timestamp
from st2tui.models import Execution, ParameterSpec, parse_timestamp

# How st2 masks secret parameters in the documents it sends.
SERVER_MASK = "********"


def is_secret(name: str, value: Any, specs: dict[str, ParameterSpec]) -> bool:
    spec = specs.get(name)
    return (spec is not None and spec.secret) or value == SERVER_MASK


def format_value(value: Any) -> str:
    """One-line rendering of a parameter value (strings as typed, the rest as compact JSON)."""
    if isinstance(value, str):
        return value.replace("\n", "⏎")
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def parameter_summary(execution: Execution, specs: dict[str, ParameterSpec]) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if not execution.parameters:
        text.append("none", style="dim")
    for index, (name, value) in enumerate(execution.parameters.items()):
        if index:
            text.append("  ")
        text.append(f"{name}=", style="dim")
        if is_secret(name, value, specs):
            text.append(SECRET_MASK, style="yellow")
        else:
            text.append(format_value(value))
    return text


class ExecutionFacts(Static):
    """The top of the execution screen. Elapsed time ticks while the execution runs (the screen refreshes it)."""

    execution: reactive[Execution | None] = reactive(None, always_update=True, layout=True)
    utc: reactive[bool] = reactive(False)
    specs: reactive[dict[str, ParameterSpec]] = reactive(dict, always_update=True)
    # st2web's page of the execution, built from the configured URLs (the screen sets it).
    web_link: reactive[str] = reactive("")
    # Said beside the status while the execution (or a task of the workflow) waits for an inquiry's answer.
    waiting: reactive[str] = reactive("")

    def render(self) -> RenderableType:
        execution = self.execution
        if execution is None:
            return Text("Loading the execution…", style="dim")
        grid = Table.grid(padding=(0, 2), expand=True)
        grid.add_column(style="dim", no_wrap=True, width=12)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        headline = Text.assemble(status_text(execution.status), "  ")
        headline.stylize("bold")
        headline.append(execution.action_ref, style="bold")
        if execution.runner_type:
            headline.append(f"  ({execution.runner_type})", style="dim")
        if self.waiting:
            headline.append("  ")
            headline.append(self.waiting, style="bold magenta")
        grid.add_row("status", headline)
        ident = Text(execution.id, style="bold cyan")
        if execution.task_name:
            ident.append("  task ", style="dim")
            ident.append(execution.task_name, style="bold")
        if execution.parent_id:
            ident.append("  parent ", style="dim")
            ident.append(execution.parent_id[-8:])
        if self.web_link:
            ident.append("  st2web ", style="dim")
            ident.append(self.web_link, style="dim underline")
        grid.add_row("id", ident)
        who = Text(execution.user or "-")
        who.append("  triggered by ", style="dim")
        who.append_text(self._trigger(execution))
        if execution.rerun_of:
            who.append("  re-run of ", style="dim")
            who.append(execution.rerun_of, style="bold")
        if execution.trace_tag:
            who.append("  trace ", style="dim")
            who.append(execution.trace_tag)
        grid.add_row("user", who)
        grid.add_row("time", self._times(execution))
        grid.add_row("parameters", parameter_summary(execution, self.specs))
        return grid

    def _trigger(self, execution: Execution) -> Text:
        if execution.triggered_by == "manual":
            return Text("manual", style="dim")
        text = Text("rule ", style="dim")
        text.append(execution.triggered_by, style="bold magenta")
        if execution.trigger_type:
            text.append("  trigger ", style="dim")
            text.append(execution.trigger_type)
        instance = execution.raw.get("trigger_instance")
        if isinstance(instance, dict) and instance.get("id"):
            text.append(f" ({str(instance['id'])[-8:]})", style="dim")
        return text

    def _times(self, execution: Execution) -> Text:
        text = Text()
        text.append("started ", style="dim")
        text.append(timestamp(execution.start_timestamp, utc=self.utc) or "-")
        if execution.end_timestamp is not None:
            text.append("  ended ", style="dim")
            text.append(timestamp(execution.end_timestamp, utc=self.utc))
        elapsed = duration(execution.elapsed(formatting.now()))
        if elapsed:
            text.append("  elapsed ", style="dim")
            text.append(elapsed, style="bold" if not execution.is_terminal else "")
        return text


class ParametersView(VerticalScroll, can_focus=True):
    """Every parameter the execution was given, secrets masked, with the action's defaults beside them."""

    def compose(self):
        yield Static(id="parameters-body")

    def show(self, execution: Execution, specs: dict[str, ParameterSpec]) -> None:
        table = Table(expand=True, box=None, pad_edge=False, header_style="bold")
        table.add_column("Parameter", no_wrap=True, style="bold")
        table.add_column("Value", ratio=3, overflow="fold")
        table.add_column("Default", ratio=1, style="dim", overflow="fold")
        names = [name for name in specs if name in execution.parameters]
        names += [name for name in execution.parameters if name not in specs]
        for name in names:
            value = execution.parameters[name]
            spec = specs.get(name)
            default = ""
            if spec is not None and spec.has_default and not spec.secret:
                default = format_value(spec.default)
            if is_secret(name, value, specs):
                shown = Text(f"{SECRET_MASK}  (secret)", style="yellow")
            else:
                changed = spec is None or not spec.has_default or spec.default != value
                shown = Text(
                    json.dumps(value, indent=2, ensure_ascii=False, default=str)
                    if isinstance(value, (dict, list))
                    else format_value(value),
                    style="bold" if changed else "",
                )
            table.add_row(name, shown, default)
        parts: list[RenderableType] = [table] if names else [Text("No parameters were given.", style="dim")]
        unset = [
            spec for name, spec in specs.items() if name not in execution.parameters and not spec.immutable
        ]
        if unset:
            parts.append(Text(""))
            parts.append(
                Text("Not given (defaults apply): " + ", ".join(spec.name for spec in unset), style="dim")
            )
        self.query_one("#parameters-body", Static).update(Group(*parts))


class StatusLogView(VerticalScroll, can_focus=True):
    """The Log tab: each status the execution went through, when, and how long after it was requested."""

    def compose(self):
        yield Static(id="status-log-body")

    def show(self, execution: Execution, *, utc: bool) -> None:
        table = Table(expand=False, box=None, pad_edge=False, header_style="bold")
        table.add_column("When", no_wrap=True)
        table.add_column("Status", no_wrap=True)
        table.add_column("After", justify="right", style="dim")
        first = None
        for entry in execution.log:
            at = parse_timestamp(entry.get("timestamp"))
            first = first or at
            after = duration(at - first) if at is not None and first is not None else ""
            table.add_row(timestamp(at, utc=utc), status_text(str(entry.get("status", ""))), after)
        body: RenderableType = table if execution.log else Text("No status changes recorded.", style="dim")
        self.query_one("#status-log-body", Static).update(body)
