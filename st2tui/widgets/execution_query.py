"""The `/` filter of the executions pane: `status:failed action:core.local since:1h deploy`.

`key:value` words become the API's server-side filters of `GET /executions`, so paging and totals
stay exact; a dotted `field.path:value` goes to st2's `filter` parameter; other words match the
loaded rows as text (id, action, task, user, rule, status).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from st2tui.models import STATUSES, Execution

# Filter word -> `GET /executions` parameter.
SERVER_FILTERS = {
    "status": "status",
    "action": "action",
    "user": "user",
    "rule": "rule",
    "runner": "runner",
    "trigger_type": "trigger_type",
    "parent": "parent",
    "id": "id",
}
# The list's first page; also what `st2tui` asks for before the UI is built (st2tui.prefetch).
PAGE_SIZE = 50
# Only what the table shows: pages stay small however big results and parameters get, and the
# client keeps a few hundred bytes per loaded execution (`slim_document` to these paths).
LIST_FIELDS = [
    "id",
    "status",
    "action.ref",
    "action.runner_type",
    "runner.name",
    "liveaction.action",
    "liveaction.action_is_workflow",
    "context.user",
    "context.orquesta.task_name",
    "context.chain.name",
    "context.parent.execution_id",
    "context.rule.name",
    "rule.ref",
    "trigger_type.ref",
    "start_timestamp",
    "end_timestamp",
    "parent",
    "children",
]
# What the list asks StackStorm for: stored fields only (`elapsed_seconds` is computed for the answer
# and st2 refuses it, 400), and `context` whole rather than its parts. st2 always reads `context`
# (RBAC needs it) and drops `context.x` when it does, but of two such fields in a row it keeps one,
# which MongoDB refuses ("Path collision at context", a 500 on some starts). Elapsed time comes from
# the timestamps.
LIST_ATTRIBUTES = [
    *(path for path in LIST_FIELDS if not path.startswith("context.")),
    "context",
]
# Table column -> the API's sort key (elapsed and task cannot be sorted by the server).
SORT_KEYS = {
    "started": "timestamp",
    "status": "status",
    "action": "action",
    "user": "user",
    "trigger": "rule",
    "id": "id",
}
DEFAULT_SORT = ("started", True)
TIME_FILTERS = ("since", "until")
FILTER_HELP = (
    "status:failed  action:core.local  user:alice  rule:pack.rule  runner:orquesta  "
    "since:1h  until:2026-03-01T12:00  parameters.cmd:uptime  words"
)
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


class QueryError(ValueError):
    """The filter text cannot be used; the message says which word and why."""


def parse_moment(value: str, *, now: datetime, utc: bool) -> datetime:
    """`90s`, `15m`, `1h`, `2d`, `1w` ago, or a date/time (in UTC or local time, as the pane shows times)."""
    match = _DURATION_RE.match(value)
    if match:
        amount, unit = match.groups()
        try:
            return now - timedelta(**{_UNITS[unit]: float(amount)})
        except OverflowError:
            raise QueryError(f"{value!r} reaches back before the year 1") from None
    text = value.rstrip("Z")
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if utc or value.endswith("Z"):
            return parsed.replace(tzinfo=timezone.utc)
        try:
            return parsed.astimezone(timezone.utc)
        except (OverflowError, ValueError):
            raise QueryError(f"{value!r} is too close to the year 1 or 9999") from None
    raise QueryError(f"{value!r} is neither a duration (30m, 1h, 2d) nor a date (2026-03-01T12:00)")


def _split(source: str) -> list[str]:
    try:
        return shlex.split(source)
    except ValueError:
        # An unbalanced quote: take the words as they are rather than refuse the whole filter.
        return source.split()


def _json_path(doc: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(part)
    return doc


@dataclass(frozen=True)
class ExecutionQuery:
    """A parsed filter. `since`/`until` keep their text: `1h` means an hour before each reload."""

    source: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    since: str | None = None
    until: str | None = None
    paths: dict[str, str] = field(default_factory=dict)
    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, source: str, *, now: datetime, utc: bool) -> ExecutionQuery:
        filters: dict[str, str] = {}
        paths: dict[str, str] = {}
        times: dict[str, str] = {}
        words: list[str] = []
        for token in _split(source):
            key, sep, value = token.partition(":")
            if not sep or not key:
                words.append(token.lower())
                continue
            if not value:
                raise QueryError(f"{key}: needs a value, e.g. {key}:something")
            key = key.lower()
            if key in TIME_FILTERS:
                parse_moment(value, now=now, utc=utc)
                times[key] = value
            elif key in SERVER_FILTERS:
                if key == "status" and value not in STATUSES:
                    raise QueryError(f"status:{value}: unknown status (one of {', '.join(STATUSES)})")
                filters[key] = value
            elif "." in key:
                if "" in key.split("."):
                    raise QueryError(
                        f"{key}: a field path needs a name between its dots, e.g. parameters.cmd"
                    )
                if any(character.isspace() for character in value):
                    # st2 splits its `filter` parameter at spaces.
                    raise QueryError(f"{key}:{value}: a field path's value cannot contain spaces")
                paths[key] = value
            else:
                known = ", ".join([*SERVER_FILTERS, *TIME_FILTERS])
                raise QueryError(f"{key}: unknown filter (use {known}, or a dotted field path)")
        return cls(
            source=source.strip(),
            filters=filters,
            since=times.get("since"),
            until=times.get("until"),
            paths=paths,
            words=tuple(words),
        )

    def api_params(self, *, now: datetime, utc: bool) -> dict[str, Any]:
        """Keyword arguments for `client.executions.list` (without paging, sorting or `parent`)."""
        params: dict[str, Any] = {}
        for key, value in self.filters.items():
            if key == "rule":
                # st2 filters on the rule's name; people type the ref (pack.name).
                value = value.split(".", 1)[-1]
            if key == "id":
                params["id"] = value.split(",")
                continue
            params[SERVER_FILTERS[key]] = value
        if self.since:
            params["timestamp_gt"] = parse_moment(self.since, now=now, utc=utc)
        if self.until:
            params["timestamp_lt"] = parse_moment(self.until, now=now, utc=utc)
        if self.paths:
            params["filter"] = " ".join(f"{path}:{value}" for path, value in self.paths.items())
        return params

    @property
    def has_parent_filter(self) -> bool:
        return "parent" in self.filters or "id" in self.filters

    def matches(self, execution: Execution, *, now: datetime, utc: bool) -> bool:
        """Would the server list `execution` for this query (and does it contain the words)?"""
        checks = {
            "status": execution.status,
            "action": execution.action_ref,
            "user": execution.user,
            "runner": execution.runner_type,
            "trigger_type": execution.trigger_type or "",
            "parent": execution.parent_id or "",
        }
        for key, value in self.filters.items():
            if key == "rule":
                name = value.split(".", 1)[-1]
                if (execution.rule_ref or "").split(".", 1)[-1] != name:
                    return False
            elif key == "id":
                if execution.id not in value.split(","):
                    return False
            elif checks[key] != value:
                return False
        started = execution.start_timestamp
        if self.since and (started is None or started <= parse_moment(self.since, now=now, utc=utc)):
            return False
        if self.until and (started is None or started >= parse_moment(self.until, now=now, utc=utc)):
            return False
        for path, value in self.paths.items():
            if str(_json_path(execution.raw, path.split("."))) != value:
                return False
        return self.matches_words(execution)

    def matches_words(self, execution: Execution) -> bool:
        if not self.words:
            return True
        haystack = " ".join(
            (
                execution.id,
                execution.action_ref,
                execution.task_name or "",
                execution.user,
                execution.triggered_by,
                execution.status,
            )
        ).lower()
        return all(word in haystack for word in self.words)


def toggle_filter(source: str, key: str, value: str) -> str:
    """The filter text with `key:value` added, or removed when it was there (other `key:` words go)."""
    tokens = _split(source)
    present = f"{key}:{value}" in tokens
    kept = [token for token in tokens if not token.lower().startswith(f"{key}:")]
    if not present:
        kept.append(f"{key}:{value}")
    return " ".join(shlex.quote(token) if " " in token else token for token in kept)


def list_params(
    query: ExecutionQuery, *, top_level_only: bool, sort: tuple[str, bool], now: datetime, utc: bool
) -> dict[str, Any]:
    """Keyword arguments of `client.executions.list` for the list's rows, without paging."""
    params: dict[str, Any] = dict(query.api_params(now=now, utc=utc))
    if top_level_only and not query.has_parent_filter:
        params["parent"] = "null"
    column, reverse = sort
    if column == "started":
        # sort_desc/sort_asc: st2 otherwise orders a `since` (timestamp_gt) query oldest first.
        params["sort_desc" if reverse else "sort_asc"] = True
    else:
        params["sort"] = ("-" if reverse else "") + SORT_KEYS[column]
    params["include_attributes"] = LIST_ATTRIBUTES
    return params


def first_page_params(*, utc: bool) -> dict[str, Any]:
    """What the executions list asks for first when it opens (no filter, top level, newest first)."""
    now = datetime.now(timezone.utc)
    params = list_params(ExecutionQuery(), top_level_only=True, sort=DEFAULT_SORT, now=now, utc=utc)
    return {"limit": PAGE_SIZE, **params}
