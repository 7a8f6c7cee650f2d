"""Typed views of StackStorm API documents.

st2 drops falsy keys from most documents (an execution without parameters has no ``parameters`` key),
and ``include_attributes`` can trim them further, so every model is built with ``from_dict`` that
tolerates missing keys and keeps the original document in ``.raw`` for JSON/YAML views.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, TypeVar

__all__ = [
    "CANCELABLE_STATUSES",
    "STATUSES",
    "TERMINAL_STATUSES",
    "TOKEN_GRACE_SECONDS",
    "WORKFLOW_RUNNERS",
    "Action",
    "Execution",
    "Inquiry",
    "InquiryResponse",
    "KeyValuePair",
    "OutputChunk",
    "Pack",
    "Page",
    "ParameterSpec",
    "Rule",
    "RuleEnforcement",
    "RunnerType",
    "StreamEvent",
    "Token",
    "WhoAmI",
    "parse_timestamp",
]

STATUSES = (
    "requested",
    "scheduled",
    "delayed",
    "running",
    "succeeded",
    "failed",
    "timeout",
    "abandoned",
    "canceling",
    "canceled",
    "pending",
    "pausing",
    "paused",
    "resuming",
)
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "timeout", "canceled", "abandoned"})
FAILED_STATUSES = frozenset({"failed", "timeout", "abandoned"})
CANCELABLE_STATUSES = frozenset(
    {"requested", "scheduled", "delayed", "running", "pausing", "paused", "resuming"}
)
WORKFLOW_RUNNERS = frozenset({"orquesta", "action-chain"})
# Seconds before expiry at which a token counts as expired (st2client's grace period).
TOKEN_GRACE_SECONDS = 15

_TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)

T = TypeVar("T")


def parse_timestamp(value: Any) -> datetime | None:
    """Parse an st2 timestamp (``2026-01-02T03:04:05.123456Z`` and its variants) into an aware UTC datetime.

    Returns None for missing or unparsable values: a display glitch beats a crash on one odd field.
    Naive values are taken as UTC, like st2client does.
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP_RE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz)
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc)


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return None


def _require_mapping(doc: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise TypeError(f"{kind} document must be a JSON object, got {type(doc).__name__}")
    return doc


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list endpoint: the items plus the paging headers (``X-Total-Count``, ``X-Limit``).

    ``total`` is None when the server sends no ``X-Total-Count`` (the keys endpoint never does).
    """

    items: list[T]
    total: int | None
    limit: int | None
    offset: int = 0

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_more(self) -> bool:
        """True when the server reports more matches after this page."""
        if self.total is None:
            return False
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class Token:
    """An auth token (``POST /auth/v1/tokens``)."""

    token: str
    user: str
    expiry: datetime | None
    id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    service: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> Token:
        doc = _require_mapping(doc, "Token")
        token = doc.get("token")
        if not isinstance(token, str) or not token:
            raise TypeError("Token document has no 'token'")
        return cls(
            token=token,
            user=_str(doc.get("user")),
            expiry=parse_timestamp(doc.get("expiry")),
            id=_str(doc.get("id")),
            metadata=_dict(doc.get("metadata")),
            service=bool(doc.get("service", False)),
            raw=dict(doc),
        )

    @property
    def expire_timestamp(self) -> int | None:
        """Expiry as integer Unix seconds (sub-seconds dropped), the token-cache format of the st2 CLI."""
        return int(self.expiry.timestamp()) if self.expiry else None


@dataclass(frozen=True)
class WhoAmI:
    """``GET /api/v1/user``: who the server thinks we are."""

    username: str
    auth_method: str
    auth_location: str
    token_expire: datetime | None
    rbac_enabled: bool
    roles: list[str]
    is_admin: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def can_only_view(self) -> bool:
        """st2's built-in roles let this user look but change nothing (``observer``, or no role at all).
        Custom roles may grant anything, so for them the server's 403s say what is refused."""
        return self.rbac_enabled and not self.is_admin and set(self.roles) <= {"observer"}

    @classmethod
    def from_dict(cls, doc: Any) -> WhoAmI:
        doc = _require_mapping(doc, "User")
        auth = _dict(doc.get("authentication"))
        rbac = _dict(doc.get("rbac"))
        return cls(
            username=_str(doc.get("username")),
            auth_method=_str(auth.get("method")),
            auth_location=_str(auth.get("location")),
            token_expire=parse_timestamp(auth.get("token_expire")),
            rbac_enabled=bool(rbac.get("enabled", False)),
            roles=[str(role) for role in _list(rbac.get("roles"))],
            is_admin=bool(rbac.get("is_admin", False)),
            raw=dict(doc),
        )


_NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class ParameterSpec:
    """One action/runner parameter (a JSON-schema subset plus st2's ``required/secret/immutable/position``)."""

    name: str
    type: str | None = None
    description: str = ""
    default: Any = _NO_DEFAULT
    required: bool = False
    secret: bool = False
    immutable: bool = False
    position: float | None = None
    enum: list[Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, name: str, doc: Any) -> ParameterSpec:
        doc = _dict(doc)
        position = doc.get("position")
        enum = doc.get("enum")
        param_type = doc.get("type")
        return cls(
            name=name,
            type=param_type if isinstance(param_type, str) else None,
            description=_str(doc.get("description")),
            default=doc["default"] if "default" in doc else _NO_DEFAULT,
            required=bool(doc.get("required", False)),
            secret=bool(doc.get("secret", False)),
            immutable=bool(doc.get("immutable", False)),
            position=float(position)
            if isinstance(position, (int, float)) and not isinstance(position, bool)
            else None,
            enum=list(enum) if isinstance(enum, list) else None,
            raw=doc,
        )

    @property
    def has_default(self) -> bool:
        """True when the schema declares a default (which may be ``None``)."""
        return self.default is not _NO_DEFAULT

    @property
    def sort_key(self) -> tuple[int, float, str]:
        """Display order used by st2client: positional parameters first (by position), then by name."""
        if self.position is None:
            return (1, 0.0, self.name)
        return (0, self.position, self.name)

    @staticmethod
    def parse_map(doc: Any) -> dict[str, ParameterSpec]:
        """Build ``{name: ParameterSpec}`` from a ``parameters`` mapping, ordered like st2client shows it."""
        specs = [ParameterSpec.from_dict(name, spec) for name, spec in _dict(doc).items()]
        return {spec.name: spec for spec in sorted(specs, key=lambda spec: spec.sort_key)}


@dataclass(frozen=True)
class Action:
    """An action (``GET /api/v1/actions/{ref}``)."""

    id: str
    ref: str
    name: str
    pack: str
    description: str
    enabled: bool
    runner_type: str
    entry_point: str
    parameters: dict[str, ParameterSpec]
    tags: list[Any]
    uid: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> Action:
        doc = _require_mapping(doc, "Action")
        pack, name = _str(doc.get("pack")), _str(doc.get("name"))
        ref = _str(doc.get("ref")) or (f"{pack}.{name}" if pack and name else "")
        return cls(
            id=_str(doc.get("id")),
            ref=ref,
            name=name,
            pack=pack,
            description=_str(doc.get("description")),
            enabled=bool(doc.get("enabled", False)),
            runner_type=_str(doc.get("runner_type")),
            entry_point=_str(doc.get("entry_point")),
            parameters=ParameterSpec.parse_map(doc.get("parameters")),
            tags=_list(doc.get("tags")),
            uid=_str(doc.get("uid")),
            raw=dict(doc),
        )

    @property
    def is_workflow(self) -> bool:
        return self.runner_type in WORKFLOW_RUNNERS


@dataclass(frozen=True)
class RunnerType:
    """A runner type (``GET /api/v1/runnertypes/{name}``)."""

    id: str
    name: str
    description: str
    enabled: bool
    runner_package: str
    runner_module: str
    runner_parameters: dict[str, ParameterSpec]
    output_key: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> RunnerType:
        doc = _require_mapping(doc, "RunnerType")
        return cls(
            id=_str(doc.get("id")),
            name=_str(doc.get("name")),
            description=_str(doc.get("description")),
            enabled=bool(doc.get("enabled", False)),
            runner_package=_str(doc.get("runner_package")),
            runner_module=_str(doc.get("runner_module")),
            runner_parameters=ParameterSpec.parse_map(doc.get("runner_parameters")),
            output_key=_str(doc.get("output_key")),
            raw=dict(doc),
        )


@dataclass(frozen=True)
class Pack:
    """An installed pack (``GET /api/v1/packs``)."""

    id: str
    ref: str
    name: str
    description: str
    version: str
    author: str
    email: str
    keywords: list[str]
    dependencies: list[str]
    system: dict[str, Any]
    path: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> Pack:
        doc = _require_mapping(doc, "Pack")
        return cls(
            id=_str(doc.get("id")),
            ref=_str(doc.get("ref")) or _str(doc.get("name")),
            name=_str(doc.get("name")),
            description=_str(doc.get("description")),
            version=_str(doc.get("version")),
            author=_str(doc.get("author")),
            email=_str(doc.get("email")),
            keywords=[str(word) for word in _list(doc.get("keywords"))],
            dependencies=[str(dep) for dep in _list(doc.get("dependencies"))],
            system=_dict(doc.get("system")),
            path=_str(doc.get("path")),
            raw=dict(doc),
        )


@dataclass(frozen=True)
class Rule:
    """A rule (``GET /api/v1/rules/{ref}``)."""

    id: str
    ref: str
    name: str
    pack: str
    description: str
    enabled: bool
    trigger_type: str
    trigger_ref: str
    trigger_parameters: dict[str, Any]
    criteria: dict[str, Any]
    action_ref: str
    action_parameters: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> Rule:
        doc = _require_mapping(doc, "Rule")
        trigger = _dict(doc.get("trigger"))
        action = _dict(doc.get("action"))
        pack, name = _str(doc.get("pack")), _str(doc.get("name"))
        return cls(
            id=_str(doc.get("id")),
            ref=_str(doc.get("ref")) or (f"{pack}.{name}" if pack and name else ""),
            name=name,
            pack=pack,
            description=_str(doc.get("description")),
            enabled=bool(doc.get("enabled", False)),
            trigger_type=_str(trigger.get("type")),
            trigger_ref=_str(trigger.get("ref")),
            trigger_parameters=_dict(trigger.get("parameters")),
            criteria=_dict(doc.get("criteria")),
            action_ref=_str(action.get("ref")),
            action_parameters=_dict(action.get("parameters")),
            raw=dict(doc),
        )


@dataclass(frozen=True)
class RuleEnforcement:
    """One rule enforcement (``GET /api/v1/ruleenforcements``)."""

    id: str
    rule_ref: str
    rule_id: str
    status: str
    enforced_at: datetime | None
    execution_id: str | None
    trigger_instance_id: str | None
    failure_reason: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> RuleEnforcement:
        doc = _require_mapping(doc, "RuleEnforcement")
        rule = _dict(doc.get("rule"))
        return cls(
            id=_str(doc.get("id")),
            rule_ref=_str(rule.get("ref")),
            rule_id=_str(rule.get("id")),
            status=_str(doc.get("status")),
            enforced_at=parse_timestamp(doc.get("enforced_at")),
            execution_id=_opt_str(doc.get("execution_id")),
            trigger_instance_id=_opt_str(doc.get("trigger_instance_id")),
            failure_reason=_str(doc.get("failure_reason")),
            raw=dict(doc),
        )


@dataclass(frozen=True)
class KeyValuePair:
    """A datastore item (``GET /api/v1/keys/{name}``).

    For a secret read without ``decrypt`` the value is st2's hex ciphertext and ``encrypted`` is True.
    """

    name: str
    value: str
    scope: str
    secret: bool
    encrypted: bool
    user: str | None = None
    expire_timestamp: datetime | None = None
    description: str = ""
    id: str = ""
    uid: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> KeyValuePair:
        doc = _require_mapping(doc, "KeyValuePair")
        value = doc.get("value")
        return cls(
            name=_str(doc.get("name")),
            value=value if isinstance(value, str) else ("" if value is None else str(value)),
            scope=_str(doc.get("scope")) or "st2kv.system",
            secret=bool(doc.get("secret", False)),
            encrypted=bool(doc.get("encrypted", False)),
            user=_opt_str(doc.get("user")),
            expire_timestamp=parse_timestamp(doc.get("expire_timestamp")),
            description=_str(doc.get("description")),
            id=_str(doc.get("id")),
            uid=_str(doc.get("uid")),
            raw=dict(doc),
        )

    @property
    def is_user_scope(self) -> bool:
        return self.scope in ("st2kv.user", "user")


@dataclass(frozen=True)
class Inquiry:
    """A pending inquiry (``GET /api/v1/inquiries/{id}``); its id is the ``core.ask`` execution id."""

    id: str
    route: str
    ttl: int | None
    users: list[str]
    roles: list[str]
    schema: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> Inquiry:
        doc = _require_mapping(doc, "Inquiry")
        return cls(
            id=_str(doc.get("id")),
            route=_str(doc.get("route")),
            ttl=_opt_int(doc.get("ttl")),
            users=[str(user) for user in _list(doc.get("users"))],
            roles=[str(role) for role in _list(doc.get("roles"))],
            schema=_dict(doc.get("schema")),
            raw=dict(doc),
        )

    @property
    def fields(self) -> dict[str, ParameterSpec]:
        """The response fields from ``schema.properties``, as parameter specs for building a form."""
        return ParameterSpec.parse_map(self.schema.get("properties"))


@dataclass(frozen=True)
class InquiryResponse:
    """The server's answer to ``PUT /api/v1/inquiries/{id}``."""

    id: str
    response: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> InquiryResponse:
        doc = _require_mapping(doc, "InquiryResponse")
        return cls(id=_str(doc.get("id")), response=_dict(doc.get("response")), raw=dict(doc))


@dataclass(frozen=True)
class OutputChunk:
    """One piece of execution output (stream event ``st2.execution.output__create``)."""

    id: str
    execution_id: str
    output_type: str
    data: str
    timestamp: datetime | None
    action_ref: str = ""
    runner_ref: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> OutputChunk:
        doc = _require_mapping(doc, "OutputChunk")
        data = doc.get("data")
        return cls(
            id=_str(doc.get("id")),
            execution_id=_str(doc.get("execution_id")),
            output_type=_str(doc.get("output_type")),
            data=data if isinstance(data, str) else ("" if data is None else str(data)),
            timestamp=parse_timestamp(doc.get("timestamp")),
            action_ref=_str(doc.get("action_ref")),
            runner_ref=_str(doc.get("runner_ref")),
            raw=dict(doc),
        )


@dataclass(frozen=True)
class Execution:
    """An action execution (``GET /api/v1/executions/{id}``)."""

    id: str
    status: str
    action_ref: str
    runner_type: str
    parameters: dict[str, Any]
    context: dict[str, Any]
    result: Any
    start_timestamp: datetime | None
    end_timestamp: datetime | None
    elapsed_seconds: float | None
    parent: str | None
    children: list[str]
    log: list[dict[str, Any]]
    rule_ref: str | None
    trigger_type: str | None
    result_size: int | None = None
    web_url: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, doc: Any) -> Execution:
        doc = _require_mapping(doc, "Execution")
        action = _dict(doc.get("action"))
        runner = _dict(doc.get("runner"))
        liveaction = _dict(doc.get("liveaction"))
        rule = _dict(doc.get("rule"))
        trigger_type = _dict(doc.get("trigger_type"))
        elapsed = doc.get("elapsed_seconds")
        return cls(
            id=_str(doc.get("id")),
            status=_str(doc.get("status")),
            action_ref=_str(action.get("ref")) or _str(liveaction.get("action")),
            runner_type=_str(runner.get("name")) or _str(action.get("runner_type")),
            parameters=_dict(doc.get("parameters")),
            context=_dict(doc.get("context")),
            result=doc.get("result"),
            start_timestamp=parse_timestamp(doc.get("start_timestamp")),
            end_timestamp=parse_timestamp(doc.get("end_timestamp")),
            elapsed_seconds=float(elapsed)
            if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool)
            else None,
            parent=_opt_str(doc.get("parent")),
            children=[str(child) for child in _list(doc.get("children"))],
            log=[entry for entry in _list(doc.get("log")) if isinstance(entry, Mapping)],
            rule_ref=_opt_str(rule.get("ref")),
            trigger_type=_opt_str(trigger_type.get("ref")),
            result_size=_opt_int(doc.get("result_size")),
            web_url=_str(doc.get("web_url")),
            raw=dict(doc),
        )

    @property
    def short_id(self) -> str:
        """The last 8 characters of the id: ObjectIds share their leading timestamp bytes."""
        return self.id[-8:]

    @property
    def user(self) -> str:
        return _str(self.context.get("user"))

    @property
    def task_name(self) -> str | None:
        """Workflow task name (``context.orquesta.task_name`` or ``context.chain.name``), as st2client shows it."""
        orquesta = _dict(self.context.get("orquesta"))
        chain = _dict(self.context.get("chain"))
        return _opt_str(orquesta.get("task_name")) or _opt_str(chain.get("name"))

    @property
    def parent_id(self) -> str | None:
        """The parent execution id, from the top-level ``parent`` or ``context.parent.execution_id``."""
        return self.parent or _opt_str(_dict(self.context.get("parent")).get("execution_id"))

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def is_cancelable(self) -> bool:
        return self.status in CANCELABLE_STATUSES

    @property
    def is_workflow(self) -> bool:
        liveaction = _dict(self.raw.get("liveaction"))
        return self.runner_type in WORKFLOW_RUNNERS or bool(liveaction.get("action_is_workflow"))

    @property
    def can_pause(self) -> bool:
        return self.is_workflow and self.status == "running"

    @property
    def can_resume(self) -> bool:
        return self.is_workflow and self.status == "paused"

    @property
    def triggered_by(self) -> str:
        """``"manual"`` for executions a user started, else the ref of the rule that fired them."""
        if self.rule_ref:
            return self.rule_ref
        rule_context = _dict(self.context.get("rule"))
        rule_name = _opt_str(rule_context.get("name"))
        if rule_name:
            return rule_name
        return "manual"

    @property
    def rerun_of(self) -> str | None:
        """The execution this one re-ran: st2 records it as ``context.re-run.ref``."""
        return _opt_str(_dict(self.context.get("re-run")).get("ref"))

    @property
    def trace_tag(self) -> str | None:
        return _opt_str(_dict(self.context.get("trace_context")).get("trace_tag"))

    def elapsed(self, now: datetime | None = None) -> timedelta | None:
        """Run time: end - start when finished, else now - start (for a live counter); None without a start."""
        if self.start_timestamp is None:
            return None
        if self.end_timestamp is not None:
            return self.end_timestamp - self.start_timestamp
        if self.elapsed_seconds is not None and self.is_terminal:
            return timedelta(seconds=self.elapsed_seconds)
        now = now or datetime.now(timezone.utc)
        return max(now - self.start_timestamp, timedelta(0))


_EVENT_RE = re.compile(r"^st2\.(?P<resource>[a-z_.]+)__(?P<verb>.+)$")


@dataclass(frozen=True)
class StreamEvent:
    """One event from ``/stream/v1/stream`` or the execution output stream.

    ``event`` is the SSE event name (``st2.execution__update``); ``data`` the parsed JSON payload.
    """

    event: str
    data: Any

    @property
    def resource(self) -> str:
        """``execution``, ``liveaction``, ``execution.output``, ``announcement`` or ``actionalias``."""
        match = _EVENT_RE.match(self.event)
        return match.group("resource") if match else ""

    @property
    def verb(self) -> str:
        """``create``, ``update``, ``delete`` (or the announcement route)."""
        match = _EVENT_RE.match(self.event)
        return match.group("verb") if match else ""

    @property
    def execution(self) -> Execution | None:
        """The execution document carried by ``st2.execution__*`` events."""
        if self.resource == "execution" and isinstance(self.data, Mapping):
            return Execution.from_dict(self.data)
        return None

    @property
    def output(self) -> OutputChunk | None:
        """The output chunk carried by ``st2.execution.output__create`` events."""
        if self.resource == "execution.output" and isinstance(self.data, Mapping):
            return OutputChunk.from_dict(self.data)
        return None
