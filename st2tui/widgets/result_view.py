"""Documents on screen: an execution's result laid out by runner (shell stdout/stderr/return code, Python
result, workflow output and errors), any document as highlighted YAML or JSON, and the notice that a
result is too large to show inline."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

import yaml
from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from st2tui.models import Execution
from st2tui.text import visible

DocumentFormat = Literal["yaml", "json"]
SHELL_RUNNERS = frozenset({"local-shell-cmd", "local-shell-script"})
REMOTE_RUNNERS = frozenset({"remote-shell-cmd", "remote-shell-script"})
PYTHON_RUNNERS = frozenset({"python-script"})
SYNTAX_THEME = "ansi_dark"
# Results larger than this (bytes, as the server counts them) are not fetched with the execution; st2web
# draws the same line at 100 KB (st2web#867: large results froze the browser).
RESULT_INLINE_LIMIT = 100_000


class _BlockDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml when present: 5 MB in 0.1 s
    """Multi-line strings as `|` blocks, so stdout in a result reads as it was printed."""


def _str_representer(dumper: yaml.BaseDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not any(ch in value for ch in "\r\t") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def dump_document(value: Any, fmt: DocumentFormat) -> str:
    if fmt == "json":
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return yaml.dump(
        value, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    ).rstrip("\n")


def highlighted(value: Any, fmt: DocumentFormat) -> Syntax:
    return Syntax(
        visible(dump_document(value, fmt)),
        fmt,
        theme=SYNTAX_THEME,
        background_color="default",
        word_wrap=True,
    )


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} bytes"


def _section(title: str, style: str = "bold") -> Rule:
    return Rule(Text(title, style=style), align="left", style="dim")


def _lines_note(text: str) -> str:
    count = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    return f"{count} line" + ("" if count == 1 else "s")


def _stream(name: str, text: Any, style: str = "") -> list[RenderableType]:
    if not isinstance(text, str) or not text:
        return [_section(f"{name}: empty", "dim")]
    return [_section(f"{name} ({_lines_note(text)})"), Text(visible(text.rstrip("\n")), style=style)]


def _outcome(code: Any, label: str, succeeded: bool | None) -> Text:
    text = Text()
    if succeeded is None:
        succeeded = code == 0
    text.append("✔ " if succeeded else "✘ ", style="green" if succeeded else "bold red")
    text.append(f"{label} {code}", style="bold")
    text.append("  succeeded" if succeeded else "  failed", style="green" if succeeded else "red")
    return text


def shell_result(result: dict[str, Any]) -> list[RenderableType]:
    parts: list[RenderableType] = [
        _outcome(result.get("return_code"), "return code", result.get("succeeded"))
    ]
    if result.get("error"):
        parts.append(Text(visible(f"error: {result['error']}"), style="bold red"))
    parts += _stream("stdout", result.get("stdout"))
    parts += _stream("stderr", result.get("stderr"), "red")
    return parts


def python_result(result: dict[str, Any], fmt: DocumentFormat) -> list[RenderableType]:
    code = result.get("exit_code")
    parts: list[RenderableType] = [_outcome(code, "exit code", None if code is not None else False)]
    parts.append(_section("result"))
    parts.append(highlighted(result.get("result"), fmt))
    parts += _stream("stdout", result.get("stdout"))
    parts += _stream("stderr", result.get("stderr"), "red")
    return parts


def workflow_result(result: dict[str, Any], fmt: DocumentFormat) -> list[RenderableType]:
    parts: list[RenderableType] = []
    errors = result.get("errors")
    if errors:
        parts.append(_section(f"errors ({len(errors)})", "bold red"))
        for error in errors if isinstance(errors, list) else [errors]:
            if isinstance(error, dict):
                where = error.get("task_id")
                line = Text("✘ ", style="bold red")
                if where:
                    line.append(visible(f"{where}: "), style="bold")
                line.append(visible(str(error.get("message", ""))), style="red")
                parts.append(line)
                extra = {
                    key: value for key, value in error.items() if key not in ("message", "task_id", "type")
                }
                if extra:
                    parts.append(highlighted(extra, fmt))
            else:
                parts.append(Text(visible(f"✘ {error}"), style="red"))
    parts.append(_section("output"))
    parts.append(highlighted(result.get("output"), fmt))
    others = {key: value for key, value in result.items() if key not in ("output", "errors")}
    if others:
        parts.append(_section("other keys"))
        parts.append(highlighted(others, fmt))
    return parts


def result_renderables(execution: Execution, fmt: DocumentFormat) -> list[RenderableType]:
    """The result laid out for its runner (falls back to the plain document)."""
    result = execution.result
    runner = execution.runner_type
    if isinstance(result, dict):
        if runner in SHELL_RUNNERS and "return_code" in result:
            return shell_result(result)
        if runner in PYTHON_RUNNERS and ("exit_code" in result or "result" in result):
            return python_result(result, fmt)
        if runner in REMOTE_RUNNERS and result and all(isinstance(value, dict) for value in result.values()):
            parts: list[RenderableType] = []
            for host, host_result in result.items():
                parts.append(_section(f"host {host}", "bold cyan"))
                parts += shell_result(host_result)
            return parts
        if execution.is_workflow and ("output" in result or "errors" in result):
            return workflow_result(result, fmt)
    return [highlighted(result, fmt)]


def result_too_large(execution: Execution) -> bool:
    """The server left the result out because it is larger than the screen asked for."""
    return "result" not in execution.raw and (execution.result_size or 0) > RESULT_INLINE_LIMIT


class DocumentView(VerticalScroll, can_focus=True):
    """A document (the raw execution) as highlighted YAML or JSON; `v` switches between them."""

    BINDING_GROUP_TITLE = "Document"
    BINDINGS: ClassVar = [
        Binding("v", "toggle_format", "YAML/JSON", id="document.format", tooltip="Show as YAML or as JSON"),
    ]

    fmt: reactive[DocumentFormat] = reactive("yaml", init=False)

    def __init__(self, *, note: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.document: Any = None
        self.note = note

    def compose(self):
        yield Static(id=f"{self.id}-note", classes="document-note")
        yield Static(id=f"{self.id}-body", classes="document-body")

    def show(self, document: Any, note: str = "") -> None:
        self.document = document
        self.note = note
        self._render_document()

    def watch_fmt(self) -> None:
        self._render_document()

    def action_toggle_format(self) -> None:
        self.fmt = "json" if self.fmt == "yaml" else "yaml"

    def _render_document(self) -> None:
        if not self.is_mounted:
            return
        note = self.query_one(f"#{self.id}-note", Static)
        note.update(Text(self.note, style="dim"))
        note.display = bool(self.note)
        body: RenderableType = (
            Text("Loading…", style="dim") if self.document is None else highlighted(self.document, self.fmt)
        )
        self.query_one(f"#{self.id}-body", Static).update(body)


class ResultView(VerticalScroll, can_focus=True):
    """The Result tab. Large results are not loaded inline: `o` opens the full result, ctrl+s saves it."""

    BINDING_GROUP_TITLE = "Result"
    BINDINGS: ClassVar = [
        Binding("v", "toggle_format", "YAML/JSON", id="result.format", tooltip="Show as YAML or as JSON"),
        Binding(
            "o", "open_full", "Full result", id="result.open", tooltip="Open the whole result in a viewer"
        ),
        Binding("ctrl+s", "save", "Save", id="result.save", tooltip="Save the whole result to a file"),
    ]

    fmt: reactive[DocumentFormat] = reactive("yaml", init=False)

    class FullResultRequested(Message):
        """`o`: show the whole result (fetched from the result endpoint)."""

    class SaveRequested(Message):
        """ctrl+s: save the whole result to a file."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.execution: Execution | None = None

    def compose(self):
        yield Static(id="result-body")

    def show(self, execution: Execution) -> None:
        self.execution = execution
        self._render_result()

    def watch_fmt(self) -> None:
        self._render_result()

    def action_toggle_format(self) -> None:
        self.fmt = "json" if self.fmt == "yaml" else "yaml"

    def action_open_full(self) -> None:
        self.post_message(self.FullResultRequested())

    def action_save(self) -> None:
        self.post_message(self.SaveRequested())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_full", "save"):
            return self.execution is not None and self.execution.is_terminal
        return True

    def _render_result(self) -> None:
        if not self.is_mounted:
            return
        body = self.query_one("#result-body", Static)
        execution = self.execution
        if execution is None:
            body.update(Text("Loading…", style="dim"))
        elif result_too_large(execution):
            size = human_size(execution.result_size or 0)
            body.update(
                Group(
                    Text(
                        f"The result is {size}: too large to show here without slowing the screen.",
                        style="bold",
                    ),
                    Text(""),
                    Text.assemble(
                        ("o", "bold cyan"),
                        " opens the full result in a viewer  ·  ",
                        ("ctrl+s", "bold cyan"),
                        " saves it to a file",
                    ),
                )
            )
        elif not execution.is_terminal and execution.result is None:
            body.update(Text(f"No result yet: the execution is {execution.status}.", style="dim"))
        else:
            body.update(Group(*result_renderables(execution, self.fmt)))
