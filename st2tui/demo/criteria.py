"""Rule criteria as st2 evaluates them: its operators, payload paths and `{{ }}` pattern rendering.

Pure functions over a trigger payload, used to validate a rule's criteria (`rules`) and to match
trigger instances against them (`triggering`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .util import (
    utcnow,
)

# ---- criteria operators (st2common/operators.py semantics) -----------------------------------


def _strings(value: Any, pattern: Any) -> tuple[Any, Any]:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(pattern, bytes):
        pattern = pattern.decode()
    return value, pattern


def _string_op(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """An operator that is false without a pattern and compares as strings (like st2's)."""

    def operator(value: Any, pattern: Any) -> bool:
        if pattern is None:
            return False
        return test(*_strings(value, pattern))

    return operator


def _timediff(value: Any, seconds: Any) -> float:
    then = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return (utcnow() - then).total_seconds() - float(seconds)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "matchwildcard": _string_op(lambda v, p: fnmatch.fnmatch(v, p)),
    "matchregex": _string_op(lambda v, p: re.compile(p, re.DOTALL).match(v) is not None),
    "regex": _string_op(lambda v, p: re.compile(p).search(v) is not None),
    "iregex": _string_op(lambda v, p: re.compile(p, re.IGNORECASE).search(v) is not None),
    "eq": _string_op(lambda v, p: v == p),
    "equals": _string_op(lambda v, p: v == p),
    "nequals": lambda v, p: _strings(v, p)[0] != _strings(v, p)[1],
    "neq": lambda v, p: _strings(v, p)[0] != _strings(v, p)[1],
    "ieq": _string_op(lambda v, p: v.lower() == p.lower()),
    "iequals": _string_op(lambda v, p: v.lower() == p.lower()),
    "contains": _string_op(lambda v, p: p in v),
    "icontains": _string_op(lambda v, p: p.lower() in v.lower()),
    "ncontains": _string_op(lambda v, p: p not in v),
    "incontains": _string_op(lambda v, p: p.lower() not in v.lower()),
    "startswith": _string_op(lambda v, p: v.startswith(p)),
    "istartswith": _string_op(lambda v, p: v.lower().startswith(p.lower())),
    "endswith": _string_op(lambda v, p: v.endswith(p)),
    "iendswith": _string_op(lambda v, p: v.lower().endswith(p.lower())),
    "lt": lambda v, p: p is not None and v < p,
    "lessthan": lambda v, p: p is not None and v < p,
    "gt": lambda v, p: p is not None and v > p,
    "greaterthan": lambda v, p: p is not None and v > p,
    "td_lt": lambda v, p: p is not None and _timediff(v, p) < 0,
    "timediff_lt": lambda v, p: p is not None and _timediff(v, p) < 0,
    "td_gt": lambda v, p: p is not None and _timediff(v, p) > 0,
    "timediff_gt": lambda v, p: p is not None and _timediff(v, p) > 0,
    "exists": lambda v, p: v is not None,
    "nexists": lambda v, p: v is None,
    "inside": _string_op(lambda v, p: v in p),
    "in": _string_op(lambda v, p: v in p),
    "ninside": _string_op(lambda v, p: v not in p),
    "nin": _string_op(lambda v, p: v not in p),
    "search": lambda v, p: False,  # handled by `_check_criterion`, which needs the sub-criteria
}

_PATH_TOKEN = re.compile(r"[^.\[\]]+|\[\d+\]")
_MISSING = object()


def payload_value(context: dict[str, Any], key: str) -> Any:
    """The value a criteria key (`trigger.body.items[0].name`) selects, or None when absent."""
    value: Any = context
    for token in _PATH_TOKEN.findall(key):
        if token.startswith("["):
            index = int(token[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else _MISSING
        elif isinstance(value, dict):
            value = value.get(token, _MISSING)
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            value = _MISSING
        if value is _MISSING:
            return None
    return value


# ---- template rendering ----------------------------------------------------------------------

_JINJA = SandboxedEnvironment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_pattern(pattern: str, context: dict[str, Any]) -> str:
    """Render a criteria pattern that holds Jinja (`{{ trigger.body.expected }}`)."""
    if "{{" not in pattern and "{%" not in pattern:
        return pattern
    return _JINJA.from_string(pattern).render(context)
