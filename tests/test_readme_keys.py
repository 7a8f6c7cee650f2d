"""The README's key tables name a binding id for each key: every such binding exists and is bound to the
keys the README shows (so `F1`, `→`/`l` and the rest are what the code binds)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from textual.binding import Binding

import st2tui.screens
import st2tui.widgets

# How the README writes keys -> Textual's key names.
KEY_NAMES = {
    "↑": "up",
    "↓": "down",
    "←": "left",
    "→": "right",
    "/": "slash",
    "?": "question_mark",
    ":": "colon",
    "pgup": "pageup",
    "pgdn": "pagedown",
}


def _bound_keys() -> dict[str, set[str]]:
    """Binding id -> its keys, over every class of st2tui's screens, widgets and app."""
    modules = [importlib.import_module("st2tui.app")]
    for package in (st2tui.screens, st2tui.widgets):
        for info in pkgutil.iter_modules(package.__path__):
            modules.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    keys: dict[str, set[str]] = {}
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            for item in cls.__dict__.get("BINDINGS", []):
                if isinstance(item, Binding) and item.id:
                    for binding in Binding.make_bindings([item]):
                        keys.setdefault(item.id, set()).add(binding.key)
    return keys


def _readme_rows() -> list[tuple[str, str, str]]:
    """(keys cell, binding ids cell, the row) of the key tables: rows whose last cell names ids."""
    rows = []
    for line in (Path(__file__).resolve().parent.parent / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"(`[\w.-]+`(, )?)+", cells[-1]):
            rows.append((cells[-3], cells[-1], line))
    return rows


def _keys(group: str) -> set[str]:
    names = set()
    for key in re.findall(r"`([^`]+)`", group):
        key = KEY_NAMES.get(key, key)
        names.add(key.lower() if re.fullmatch(r"F\d+", key) else key)
    return names


def test_every_key_the_readme_lists_is_bound_under_its_id():
    bound = _bound_keys()
    rows = _readme_rows()
    assert len(rows) > 40, "the README's key tables were not found"
    checked = 0
    for keys_cell, ids_cell, line in rows:
        ids = re.findall(r"`([^`]+)`", ids_cell)
        groups = keys_cell.split(", ")
        if len(groups) == len(ids):
            pairs = [(_keys(group), [binding_id]) for group, binding_id in zip(groups, ids, strict=True)]
        elif len(groups) == 1:
            pairs = [(_keys(groups[0]), ids)]
        elif len(ids) == 1:
            pairs = [(_keys(keys_cell), ids)]
        else:
            continue
        for keys, binding_ids in pairs:
            for binding_id in binding_ids:
                assert binding_id in bound, f"no binding {binding_id!r}: {line}"
                assert keys <= bound[binding_id], f"{binding_id} is bound to {bound[binding_id]}: {line}"
                checked += 1
    assert checked > 40
