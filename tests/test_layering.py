"""The client-side service layer stays independent of the UI toolkit and of the demo server."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_MODULES = [
    "st2tui.api",
    "st2tui.models",
    "st2tui.config",
    "st2tui.credentials",
    "st2tui.redact",
    "st2tui.crash",
    "st2tui.prefetch",  # runs while Textual is imported
]
PACKAGE_DIR = Path(__file__).resolve().parent.parent / "st2tui"


def _loaded_modules_after_import(module: str) -> list[str]:
    code = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("module", SERVICE_MODULES)
def test_service_module_imports_without_textual_or_demo(module: str) -> None:
    loaded = _loaded_modules_after_import(module)
    assert module in loaded
    assert [name for name in loaded if name == "textual" or name.startswith("textual.")] == []
    assert [name for name in loaded if name == "st2tui.demo" or name.startswith("st2tui.demo.")] == []


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = "st2tui." + base if base else "st2tui"
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("module", SERVICE_MODULES)
def test_service_module_source_never_imports_textual_or_demo(module: str) -> None:
    # Also catches imports inside functions, which a sys.modules check only sees when they run.
    names = _imported_names(PACKAGE_DIR / f"{module.split('.')[-1]}.py")
    offending = sorted(
        name
        for name in names
        if name.split(".")[0] == "textual" or name == "st2tui.demo" or name.startswith("st2tui.demo.")
    )
    assert offending == []
