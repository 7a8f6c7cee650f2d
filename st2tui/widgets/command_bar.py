"""The `:` command bar (k9s style): `:ex status:failed`, `:kv deploy`, `:ctx prod`, `:q`."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from st2tui.forms import printable
from st2tui.widgets.filter_bar import filter_problem
from st2tui.widgets.safe_input import SafeInput

# How much of an unknown command the message repeats.
SHOWN_WORD = 40


@dataclass(frozen=True)
class BarCommand:
    name: str
    aliases: tuple[str, ...]
    argument: str
    help: str


COMMANDS = (
    BarCommand("executions", ("ex", "exec"), "[filter]", "Executions, optionally filtered (status:failed …)"),
    BarCommand("actions", ("ac", "act"), "[words]", "Actions, optionally filtered"),
    BarCommand("rules", ("ru", "rule"), "[filter]", "Rules, optionally filtered (pack:x enabled:false)"),
    BarCommand("keys", ("kv", "key"), "[prefix]", "Key-value pairs, optionally by name prefix"),
    BarCommand("inquiries", ("inq", "inquiry"), "", "Pending inquiries"),
    BarCommand(
        "ctx", ("context", "profile"), "<profile>", "Switch to another profile (StackStorm installation)"
    ),
    BarCommand(
        "tail", ("tl", "tf"), "[running|filter|pin]", "Show or hide the live tail pane; what it follows"
    ),
    BarCommand("help", ("h",), "", "Keys and commands"),
    BarCommand("quit", ("q", "q!"), "", "Leave st2tui"),
)
ALIASES = {alias: command.name for command in COMMANDS for alias in (command.name, *command.aliases)}


class CommandBar(Horizontal):
    """Hidden until `:`; enter runs the command, escape closes it."""

    BINDINGS = [Binding("escape", "close", "Close", id="command-bar.close", tooltip="Close the command bar")]

    class Entered(Message):
        """A known command (its full name) with the rest of the line as its argument."""

        def __init__(self, command: str, argument: str) -> None:
            super().__init__()
            self.command = command
            self.argument = argument

    class Closed(Message):
        """The bar closed without a command."""

    def compose(self) -> ComposeResult:
        yield Label(":", id="command-prompt")
        suggestions = [
            f"{alias} " if command.argument else alias
            for command in COMMANDS
            for alias in (command.name, *command.aliases)
        ]
        yield SafeInput(
            placeholder="ex [filter] · ac · ru · kv [prefix] · inq · tail · ctx <profile> · help · q",
            suggester=SuggestFromList(sorted(suggestions, key=len)),
            id="command-input",
        )

    def on_mount(self) -> None:
        self.display = False

    def open(self, text: str = "") -> None:
        entry = self.query_one(Input)
        entry.value = text
        self.display = True
        # At once: the command typed right after `:` must land here.
        self.screen.set_focus(entry)
        entry.cursor_position = len(text)

    def close(self) -> None:
        self.query_one(Input).value = ""
        self.display = False

    def action_close(self) -> None:
        self.close()
        self.post_message(self.Closed())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        # The argument becomes a filter or a profile name: the same limits as the filter bar's.
        problem = filter_problem(event.value, "command")
        if problem is not None:
            self.notify(problem, title="Command", severity="error", markup=False)
            return
        word, _, argument = event.value.strip().lstrip(":").partition(" ")
        if not word:
            self.action_close()
            return
        command = ALIASES.get(word.lower())
        if command is None:
            known = ", ".join(f":{c.aliases[0]}" for c in COMMANDS)
            shown = word if len(word) <= SHOWN_WORD else word[: SHOWN_WORD - 1] + "…"
            self.notify(
                f"Unknown command :{printable(shown)}. Try {known}.",
                title="Command",
                severity="error",
                markup=False,
            )
            return
        self.close()
        self.post_message(self.Entered(command, argument.strip()))
