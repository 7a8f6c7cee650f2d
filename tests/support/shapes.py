"""The SHAPE of a JSON value, as `shared/contract/golden/real-st2-shapes.json` records it, and comparisons.

The golden file's conventions (inferred from the file itself):
- scalars become their JSON type name: `"string"`, `"bool"`, `"number"` (ints and floats alike), `"null"`;
- objects keep their keys (sorted) with the shape of each value; an empty object is `{}`;
- arrays become `[<union of the elements' shapes>]`; an empty array is `[]`;
- the union of two object shapes has every key of either (no "optional" marker);
- anything nested 7 levels below the body is written `"..."` (e.g. the `anyOf` items of the orquesta
  runner's `output_schema`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import Any

TRUNCATED = "..."
MAX_DEPTH = 7

Shape = Any
Path = tuple[str, ...]


def shape(value: Any, depth: int = 0) -> Shape:
    if depth >= MAX_DEPTH:
        return TRUNCATED
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return {key: shape(value[key], depth + 1) for key in sorted(value)}
    if isinstance(value, list):
        if not value:
            return []
        return [reduce(union, (shape(item, depth + 1) for item in value))]
    raise TypeError(f"not a JSON value: {value!r}")


def union(a: Shape, b: Shape) -> Shape:
    if a == b:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        merged = {
            key: union(a[key], b[key]) if key in a and key in b else a.get(key, b.get(key))
            for key in {*a, *b}
        }
        return {key: merged[key] for key in sorted(merged)}
    if isinstance(a, list) and isinstance(b, list):
        if not a or not b:
            return a or b
        return [union(a[0], b[0])]
    if TRUNCATED in (a, b):
        return TRUNCATED
    # Differently typed values at one place: kept visible so a comparison reports them.
    parts = {*str(a).split("|"), *str(b).split("|")}
    return "|".join(sorted(parts))


def kind(s: Shape) -> str:
    if isinstance(s, dict):
        return "object"
    if isinstance(s, list):
        return "array"
    return str(s)


def describe(path: Path) -> str:
    return ".".join(path) or "<body>"


def differences(
    expected: Shape, actual: Shape, *, loose: Callable[[Path], bool] = lambda path: False, path: Path = ()
) -> list[str]:
    """Where `actual` departs from `expected`: missing/extra keys and different JSON types.

    At paths where `loose(path)` is true only the kind of value (object/array/scalar type) is compared,
    not what is inside: those hold content (parameter names, criteria, ...) rather than server behaviour.
    """
    if expected == TRUNCATED or actual == TRUNCATED:
        return []
    if kind(expected) != kind(actual):
        return [f"{describe(path)}: real st2 has {kind(expected)}, got {kind(actual)}"]
    if loose(path):
        return []
    found: list[str] = []
    if isinstance(expected, dict):
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        if missing:
            found.append(f"{describe(path)}: keys missing (real st2 has them): {missing}")
        if extra:
            found.append(f"{describe(path)}: unexpected keys (real st2 has none): {extra}")
        for key in sorted(set(expected) & set(actual)):
            found += differences(expected[key], actual[key], loose=loose, path=(*path, key))
    elif isinstance(expected, list):
        if expected and actual:
            found += differences(expected[0], actual[0], loose=loose, path=(*path, "[]"))
        elif expected and not actual:
            found.append(f"{describe(path)}: real st2 has a non-empty array, got an empty one")
        elif actual and not expected:
            found.append(f"{describe(path)}: real st2 has an empty array, got a non-empty one")
    return found
