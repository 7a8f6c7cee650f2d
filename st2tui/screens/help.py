"""`?`: the keys that work where the user is, generated from the live bindings, plus the `:` commands
and the filter grammar."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from st2tui.widgets.command_bar import COMMANDS
from st2tui.widgets.execution_query import FILTER_HELP


@dataclass(frozen=True)
class HelpEntry:
    group: str
    keys: str
    description: str
    tooltip: str


# Textual's own bindings (focus moves, copy, ctrl+q) have no id; they are listed last, under this title.
TEXTUAL_GROUP = "Textual"
# Keys written the way the README writes them; arrows as arrows, letters as letters.
_KEY_NAMES = {"up": "↑", "down": "↓", "left": "←", "right": "→", "enter": "enter", "escape": "escape"}


def typed_key(key: str) -> str:
    """A key as the user types it: `l`, `→`, `enter`, `ctrl+r`, `F1` (never a binding's shared display)."""
    *modifiers, name = key.split("+")
    if name in _KEY_NAMES:
        shown = _KEY_NAMES[name]
    elif len(name) > 1 and name[0] == "f" and name[1:].isdigit():
        shown = name.upper()
    else:
        shown = format_key(name)
    return "+".join([*modifiers, shown])


def help_entries(screen: Screen) -> list[HelpEntry]:
    """The keys in force on `screen`, one line per action (`↑/k`: the keys that share it, as typed).

    st2tui's areas come first, in the order of the binding chain (the focused widget's keys first);
    Textual's generic bindings (no id) follow under "Textual".
    """
    lines: dict[tuple[str, str], list[str]] = {}
    described: dict[tuple[str, str], tuple[str, str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.system or not binding.description:
            continue
        if binding.id is None:
            group = TEXTUAL_GROUP
        else:
            group = getattr(active.node, "BINDING_GROUP_TITLE", None) or type(active.node).__name__
        line = (group, binding.action)
        keys = lines.setdefault(line, [])
        if typed_key(binding.key) not in keys:
            keys.append(typed_key(binding.key))
        described[line] = (binding.description, binding.tooltip)
    # Each area's lines together, areas in the order they first appear; Textual's last.
    groups = list(dict.fromkeys(group for group, _ in lines))
    groups.sort(key=lambda group: group == TEXTUAL_GROUP)
    return [
        HelpEntry(group, "/".join(keys), *described[(group, action)])
        for wanted in groups
        for (group, action), keys in lines.items()
        if group == wanted
    ]


class HelpScreen(ModalScreen[None]):
    """A scrollable sheet of keys by area; any of escape, q, ? or F1 closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, entries: list[HelpEntry]) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label("Keys that work here", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(self._sheet(), id="help-sheet")
            yield Static(
                "escape closes · keys can be remapped in settings.keybindings", classes="dialog-note"
            )

    def _sheet(self) -> Group:
        parts: list[object] = []
        groups: dict[str, list[HelpEntry]] = {}
        for entry in self.entries:
            groups.setdefault(entry.group, []).append(entry)
        for group, entries in groups.items():
            table = Table(box=None, show_header=False, pad_edge=False, expand=True, title_justify="left")
            table.add_column(style="bold cyan", no_wrap=True, min_width=12)
            table.add_column(no_wrap=True, min_width=16)
            table.add_column(style="dim", ratio=1)
            for entry in entries:
                table.add_row(entry.keys, entry.description, entry.tooltip)
            parts += [Text(group, style="bold underline"), table, Text("")]
        commands = Table(box=None, show_header=False, pad_edge=False, expand=True)
        commands.add_column(style="bold cyan", no_wrap=True, min_width=12)
        commands.add_column(no_wrap=True, min_width=16)
        commands.add_column(style="dim", ratio=1)
        for command in COMMANDS:
            names = " ".join(f":{name}" for name in (command.aliases[0], command.name))
            commands.add_row(names, command.argument, command.help)
        parts += [Text("Command bar (:)", style="bold underline"), commands, Text("")]
        parts += [Text("Executions filter (/)", style="bold underline"), Text(FILTER_HELP, style="dim")]
        return Group(*parts)
