"""The layers of st2tui, enforced from the import graph (see ARCHITECTURE.md).

entry (cli, launch, app) -> screens -> widgets -> shared UI parts (messages, commands, formatting) -> the
service layer (api, models, config, following, ...). A module imports only its own layer or lower ones,
nothing imports in a circle, and the demo server is a separate house that shares no code with the client.

The graph is read from the source (every `import`, also inside functions and under `if TYPE_CHECKING:`,
as each is a dependency a reader follows), and checked once more by importing the service modules.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "st2tui"

# Layers, lowest first. A module may import modules of its own layer or of lower layers only.
SERVICE = "service"  # HTTP, models, configuration, credentials, stream following: no Textual
SHARED_UI = "shared UI"  # messages, palette commands, formatting: used by widgets and screens alike
WIDGETS = "widgets"
SCREENS = "screens"
ENTRY = "entry"
LAYER_ORDER = [SERVICE, SHARED_UI, WIDGETS, SCREENS, ENTRY]

SERVICE_MODULES = {
    "st2tui",
    "st2tui.api",
    "st2tui.api_errors",
    "st2tui.api_endpoints",
    "st2tui.api_transport",
    "st2tui.api_resources",
    "st2tui.api_streams",
    "st2tui.api_stream_states",
    "st2tui.models",
    "st2tui.config",
    "st2tui.credentials",
    "st2tui.redact",
    "st2tui.crash",
    "st2tui.following",
    "st2tui.prefetch",  # runs while Textual is imported
    "st2tui.demo_paths",
}
SHARED_UI_MODULES = {
    "st2tui.messages",
    "st2tui.commands",
    "st2tui.formatting",
    "st2tui.forms",
    "st2tui.text",
}
ENTRY_MODULES = {"st2tui.__main__", "st2tui.cli", "st2tui.launch", "st2tui.app"}
# `st2tui --demo` and `st2tui demo-server` start the demo server: only these entry modules may import it.
DEMO_STARTERS = {"st2tui.cli", "st2tui.launch"}
UI_TOOLKITS = {"textual"}
# Widgets show and ask; they never talk HTTP themselves (workers call the service layer).
HTTP_LIBRARIES = {"httpx", "httpcore", "h11"}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # a module of st2tui, or the top-level name of another distribution
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} (line {self.line})"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def imports_of(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def add(target: str, line: int) -> None:
        if target.split(".")[0] != "st2tui":
            found.append(Import(name, target.split(".")[0], line))
            return
        # The longest st2tui module the dotted name starts with (`st2tui.api.St2Client` -> `st2tui.api`).
        while target not in known:
            target = target.rpartition(".")[0]
        if target != name:
            found.append(Import(name, target, line))

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                # `from . import actions` imports a module; `from .api import St2Client` a name of one.
                add(f"{module}.{alias.name}", node.lineno)
    return found


@cache
def graph() -> tuple[Import, ...]:
    known = modules()
    return tuple(found for name, path in known.items() for found in imports_of(name, path, known))


def layer_of(name: str) -> str | None:
    if name in SERVICE_MODULES:
        return SERVICE
    if name in SHARED_UI_MODULES:
        return SHARED_UI
    if name == "st2tui.widgets" or name.startswith("st2tui.widgets."):
        return WIDGETS
    if name == "st2tui.screens" or name.startswith("st2tui.screens."):
        return SCREENS
    if name in ENTRY_MODULES:
        return ENTRY
    return None


def is_demo(name: str) -> bool:
    return name == "st2tui.demo" or name.startswith("st2tui.demo.")


def is_internal(name: str) -> bool:
    return name == "st2tui" or name.startswith("st2tui.")


def test_every_client_module_has_a_layer() -> None:
    """A new module is placed in a layer here (and in ARCHITECTURE.md) before it can be imported."""
    unplaced = [name for name in modules() if not is_demo(name) and layer_of(name) is None]
    assert unplaced == []


def test_imports_never_go_up_a_layer() -> None:
    upward = [
        str(found)
        for found in graph()
        if is_internal(found.imported)
        and not is_demo(found.importer)
        and not is_demo(found.imported)
        and None not in (layer_of(found.importer), layer_of(found.imported))  # unplaced: the test above
        and LAYER_ORDER.index(layer_of(found.imported)) > LAYER_ORDER.index(layer_of(found.importer))
    ]
    assert upward == []


def test_widgets_import_no_screen_and_no_http() -> None:
    offending = [
        str(found)
        for found in graph()
        if layer_of(found.importer) == WIDGETS
        and (layer_of(found.imported) in (SCREENS, ENTRY) or found.imported in HTTP_LIBRARIES)
    ]
    assert offending == []


def test_service_layer_imports_no_ui_toolkit_screen_or_widget() -> None:
    offending = [
        str(found)
        for found in graph()
        if layer_of(found.importer) == SERVICE
        and (
            found.imported in UI_TOOLKITS
            or (is_internal(found.imported) and layer_of(found.imported) != SERVICE)
        )
    ]
    assert offending == []


def test_the_demo_server_shares_no_code_with_the_client() -> None:
    demo_to_client = [
        str(found)
        for found in graph()
        if is_demo(found.importer) and is_internal(found.imported) and not is_demo(found.imported)
    ]
    client_to_demo = [
        str(found)
        for found in graph()
        if not is_demo(found.importer) and is_demo(found.imported) and found.importer not in DEMO_STARTERS
    ]
    assert demo_to_client == []
    assert client_to_demo == []


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return cycles


def test_no_module_imports_in_a_circle() -> None:
    # Every import counts, lazy ones in functions too: none is needed to break a circle today.
    edges: dict[str, set[str]] = {}
    for found in graph():
        if is_internal(found.imported):
            edges.setdefault(found.importer, set()).add(found.imported)
    assert find_cycles(edges) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


MAX_LINES = 800


def test_a_module_over_800_lines_says_why_in_its_docstring() -> None:
    unexplained = [
        name
        for name, path in modules().items()
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
        and "Over 800 lines because"
        not in (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "")
    ]
    assert unexplained == []


def _loaded_modules_after_import(module: str) -> list[str]:
    code = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("module", sorted(SERVICE_MODULES - {"st2tui"}))
def test_service_module_imports_without_textual_or_demo(module: str) -> None:
    loaded = _loaded_modules_after_import(module)
    assert module in loaded
    assert [name for name in loaded if name == "textual" or name.startswith("textual.")] == []
    assert [name for name in loaded if is_demo(name)] == []
