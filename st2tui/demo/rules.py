"""Rules and the rules engine: rule CRUD, enforcements, triggers, webhooks and interval timers.

A trigger instance (a webhook call or a timer tick) is matched against the enabled rules bound to
its trigger; each matching rule gets an enforcement, which runs the rule's action through the
engine with its parameters rendered over the trigger payload, as st2's rules engine does.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import params, rbac, registry
from .actions import (
    attribute_selection,
    filter_docs,
    find_by_ref_or_id,
    get_path,
    id_filter,
    page,
    select_attributes,
    server_of,
    sort_docs,
    st2_validate,
)
from .auth import Principal, authenticate
from .content import trigger_uid
from .keys import kv_lookup
from .util import (
    ApiError,
    drop_falsy,
    isotime,
    isotime_ms,
    json_body,
    json_response,
    new_id,
    page_headers,
    paging,
    parse_isotime,
    query_bool,
    query_list,
    query_str,
    utcnow,
)

if TYPE_CHECKING:
    from .server import DemoServer

SYSTEM_USER = "stanley"
WEBHOOK_TYPE = "core.st2.webhook"
INTERVAL_TIMER_TYPE = "core.st2.IntervalTimer"
TIMER_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
# Request headers a webhook leaves out of the trigger payload: credentials, and the trace tag,
# which names the trace instead.
WEBHOOK_SKIPPED_HEADERS = {"st2-api-key", "x-auth-token", "cookie", "st2-trace-tag"}

RULE_FIELDS = {
    "id", "ref", "uid", "name", "pack", "description", "type", "trigger", "criteria", "action",
    "enabled", "context", "tags", "metadata_file",
}  # fmt: skip
ENFORCEMENT_FIELDS = {
    "id",
    "trigger_instance_id",
    "execution_id",
    "failure_reason",
    "rule",
    "enforced_at",
    "status",
}
TRIGGER_TYPE_FIELDS = {
    "id",
    "uid",
    "ref",
    "name",
    "pack",
    "description",
    "tags",
    "payload_schema",
    "parameters_schema",
}
TRIGGER_INSTANCE_FIELDS = {"id", "trigger", "occurrence_time", "status", "payload"}

# st2's `RuleAPI.schema` (the body of POST and of the full-object PUT; draft-3 style `required`).
RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "default": None},
        "ref": {"type": "string"},
        "uid": {"type": "string"},
        "name": {"type": "string", "required": True},
        "pack": {"type": "string", "default": "default"},
        "description": {"type": "string"},
        "type": {
            "type": "object",
            "properties": {"ref": {"type": "string", "required": True}, "parameters": {"type": "object"}},
            "additionalProperties": False,
        },
        "trigger": {
            "type": "object",
            "required": True,
            "properties": {
                "type": {"type": "string", "required": True},
                "description": {"type": "string"},
                "parameters": {"type": "object", "default": {}},
                "ref": {"type": "string", "required": False},
            },
            "additionalProperties": True,
        },
        "criteria": {"type": "object", "default": {}},
        "action": {
            "type": "object",
            "required": True,
            "properties": {
                "ref": {"type": "string", "required": True},
                "description": {"type": "string"},
                "parameters": {"type": "object"},
            },
            "additionalProperties": False,
        },
        "enabled": {"type": "boolean", "default": False},
        "context": {"type": "object"},
        "tags": {"type": "array", "items": {"type": "object"}},
        "metadata_file": {"type": "string", "default": ""},
    },
    "additionalProperties": False,
}


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


# ---- documents and storage -------------------------------------------------------------------


def get_rule(server: DemoServer, ref_or_id: str) -> dict[str, Any]:
    return find_by_ref_or_id(server, "rules", ref_or_id)


def trigger_type_doc(server: DemoServer, ref: str) -> dict[str, Any] | None:
    return server.db.doc("SELECT doc FROM triggertypes WHERE ref = ?", (ref,))


def trigger_doc(server: DemoServer, ref: str) -> dict[str, Any] | None:
    return server.db.doc("SELECT doc FROM triggers WHERE ref = ?", (ref,))


def all_rules(server: DemoServer) -> list[dict[str, Any]]:
    return server.db.docs("SELECT doc FROM rules")


def _store_rule(server: DemoServer, doc: dict[str, Any], old_ref: str | None = None) -> None:
    """Write a rule changed through the API and mark it as the user's (the registry keeps it)."""
    db = server.db
    with db.transaction():
        if old_ref is not None:
            db.execute("DELETE FROM rules WHERE ref = ?", (old_ref,))
        db.execute(
            "INSERT INTO rules (ref, id, pack, name, doc) VALUES (?, ?, ?, ?, ?)",
            (doc["ref"], doc["id"], doc["pack"], doc["name"], json.dumps(doc)),
        )
        for ref in {doc["ref"], old_ref} - {None}:
            db.execute(
                "INSERT INTO rule_registrations (ref, user_modified) VALUES (?, 1) "
                "ON CONFLICT(ref) DO UPDATE SET user_modified = 1",
                (ref,),
            )


def _delete_unreferenced_triggers(server: DemoServer) -> None:
    """Parameterised triggers live as long as a rule uses them (st2's trigger ref count)."""
    used = {rule["trigger"].get("ref") for rule in all_rules(server)}
    for row in server.db.query("SELECT ref FROM triggers WHERE parameters != '{}'"):
        if row["ref"] not in used:
            server.db.execute("DELETE FROM triggers WHERE ref = ?", (row["ref"],))


def _trigger_for(server: DemoServer, trigger: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validate a rule's trigger and find or create the trigger it binds to (st2's `to_model`)."""
    type_ref = trigger["type"]
    if "." not in type_ref:
        raise ApiError(400, f"Invalid resource reference: {type_ref}")
    type_pack = type_ref.split(".", 1)[0]
    parameters = trigger.get("parameters") or {}
    type_doc = trigger_type_doc(server, type_ref)
    if type_doc and type_doc.get("parameters_schema"):
        parameters = st2_validate(parameters, type_doc["parameters_schema"], full_message=True)
    row = server.db.query_one(
        "SELECT doc FROM triggers WHERE type = ? AND parameters = ?",
        (type_ref, registry.canonical(parameters)),
    )
    if row is not None:
        return json.loads(row["doc"])
    if not parameters:
        if creating:
            raise ApiError(
                400,
                f'Trigger "{type_ref}" defined in the rule does not exist in system or it\'s missing '
                'required "parameters" attribute',
            )
        spec = {"pack": type_pack, "type": type_ref, "parameters": parameters}
        raise ApiError(
            400,
            "A simple trigger should have been created when registering triggertype. "
            f"Cannot create trigger: {spec}.",
        )
    name = str(uuid.uuid4())
    uid = trigger_uid(type_pack, name, parameters)
    doc = {
        "uid": uid,
        "ref": f"{type_pack}.{name}",
        "name": name,
        "pack": type_pack,
        "type": type_ref,
        "parameters": parameters,
        "id": new_id(),
    }
    registry.store_trigger(server, doc)
    return doc


def _criteria_error(criteria: dict[str, Any]) -> str | None:
    for key, value in criteria.items():
        operator = value.get("type") if isinstance(value, dict) else None
        if operator is None:
            return f"Operator not specified for field: {key}"
        if operator not in OPERATORS:
            return (
                f"For field: {key}, operator {operator} not in list of allowed operators: {list(OPERATORS)}"
            )
        if value.get("pattern") is None:
            return f"For field: {key}, no pattern specified for operator {operator}"
    return None


async def _rule_from_body(request: Request, principal: Principal, *, creating: bool) -> dict[str, Any]:
    """Validate a POST/PUT body as st2's router and `RuleAPI.to_model` do; return the rule doc.

    Between the two, st2 checks `rule_create` / `rule_modify` on the rule the body describes.
    """
    server = server_of(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, f"{body!r} is not of type 'object'")
    rule = st2_validate(body, RULE_SCHEMA)
    permission = rbac.RULE_CREATE if creating else rbac.RULE_MODIFY
    rbac.require(principal, permission, f"rule:{rule['pack']}:{rule['name']}")
    context = dict(rule.get("context") or {})
    context["user"] = principal.user
    trigger = _trigger_for(server, rule["trigger"], creating=creating)
    criteria = dict(rule.get("criteria") or {})
    error = _criteria_error(criteria)
    if error:
        raise ApiError(400, error)
    pack, name = rule["pack"], rule["name"]
    doc: dict[str, Any] = {
        "tags": rule.get("tags") or [],
        "uid": f"rule:{pack}:{name}",
        "metadata_file": rule.get("metadata_file", ""),
        "name": name,
        "ref": f"{pack}.{name}",
    }
    if rule.get("description") is not None:
        doc["description"] = rule["description"]
    rule_type = rule.get("type") or {}
    doc.update(
        {
            "pack": pack,
            "type": {
                "ref": rule_type.get("ref", "standard"),
                "parameters": rule_type.get("parameters") or {},
            },
            "trigger": {"type": trigger["type"], "parameters": trigger["parameters"], "ref": trigger["ref"]},
            "criteria": criteria,
            "action": {"ref": rule["action"]["ref"], "parameters": rule["action"].get("parameters") or {}},
            "context": context,
            "enabled": bool(rule.get("enabled", False)),
        }
    )
    return doc


def _conflict(server: DemoServer, doc: dict[str, Any]) -> ApiError:
    existing = server.db.query_one("SELECT id FROM rules WHERE ref = ?", (doc["ref"],))
    return ApiError(
        409,
        "Tried to save duplicate unique keys (E11000 duplicate key error collection: st2.rule_d_b "
        f'index: uid_1 dup key: {{ uid: "{doc["uid"]}" }})',
        **{"conflict-id": existing["id"] if existing else None},
    )


# ---- rule routes ------------------------------------------------------------------------------


def _bool_filter(value: str) -> bool:
    # st2's `transform_to_bool`
    if value in ("1", "true", "True"):
        return True
    if value in ("0", "false", "False"):
        return False
    raise ApiError(400, f'Invalid bool representation "{value}" provided.')


def _rule_docs(request: Request, filters: tuple[str, ...]) -> list[dict[str, Any]]:
    checks: list[Callable[[dict[str, Any]], bool]] = []
    ids = id_filter(request)
    if ids:
        checks.append(lambda d: d.get("id") in ids)
    paths = {"name": "name", "pack": "pack", "action": "action.ref", "trigger": "trigger.ref"}
    for name in filters:
        value = query_str(request, name)
        if not value:
            continue
        if name == "enabled":
            wanted = _bool_filter(value)
            checks.append(lambda d, wanted=wanted: bool(d.get("enabled")) == wanted)
        else:
            checks.append(lambda d, path=paths[name], value=value: get_path(d, path) == value)
    supported = {"id": "id", "name": "name"} | {f: paths.get(f, f) for f in filters}
    return sort_docs(filter_docs(all_rules(server_of(request)), checks), request, supported, ["pack", "name"])


def _rule_list(
    request: Request, filters: tuple[str, ...]
) -> tuple[list[dict[str, Any]], dict[str, str], Any]:
    # The spec gives rule lists no `offset` (st2's router drops undeclared parameters) and no default limit.
    limit = paging(request, None)[0]
    query_bool(request, "show_secrets")
    include, exclude = attribute_selection(request, RULE_FIELDS)
    docs, headers = page(_rule_docs(request, filters), limit, 0)

    def shape(doc: dict[str, Any]) -> dict[str, Any]:
        return select_attributes(doc, include, exclude, ("id", "ref"), whole=("trigger",))

    return docs, headers, shape


async def list_rules(request: Request) -> Response:
    authenticate(request, rbac.RULE_LIST)
    docs, headers, shape = _rule_list(request, ("name", "pack", "action", "trigger", "enabled"))
    return json_response([shape(d) for d in docs], headers=headers)


def _not_a_view(ref_or_id: str) -> None:
    # The spec's `x-requirements` keep `views...` away from the single-rule routes.
    if ref_or_id.startswith("views"):
        raise ApiError(404, "The resource could not be found.")


async def get_rule_route(request: Request) -> Response:
    principal = authenticate(request)
    query_bool(request, "show_secrets")
    ref_or_id = request.path_params["ref_or_id"]
    _not_a_view(ref_or_id)
    rule = get_rule(server_of(request), ref_or_id)
    rbac.require(principal, rbac.RULE_VIEW, rule["uid"])
    return json_response(rule)


def with_descriptions(server: DemoServer, rule: dict[str, Any]) -> dict[str, Any]:
    """st2's rule view: `action.description` and `trigger.description` added."""
    rule = json.loads(json.dumps(rule))
    if "action" in rule:
        action = server.db.doc("SELECT doc FROM actions WHERE ref = ?", (rule["action"].get("ref"),))
        rule["action"]["description"] = action.get("description", "") if action else ""
    if "trigger" in rule:
        type_doc = trigger_type_doc(server, rule["trigger"].get("type", ""))
        rule["trigger"]["description"] = type_doc.get("description", "") if type_doc else ""
    return rule


async def list_rule_views(request: Request) -> Response:
    authenticate(request, rbac.RULE_LIST)
    server = server_of(request)
    docs, headers, shape = _rule_list(request, ("name", "pack"))
    return json_response([with_descriptions(server, shape(d)) for d in docs], headers=headers)


async def get_rule_view(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    rule = get_rule(server, request.path_params["ref_or_id"])
    rbac.require(principal, rbac.RULE_VIEW, rule["uid"])
    return json_response(with_descriptions(server, rule))


async def create_rule(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    doc = await _rule_from_body(request, principal, creating=True)
    if server.db.query_one("SELECT 1 FROM rules WHERE ref = ?", (doc["ref"],)):
        raise _conflict(server, doc)
    doc["id"] = new_id()
    _store_rule(server, doc)
    return json_response(doc, status=201)


async def update_rule(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    ref_or_id = request.path_params["ref_or_id"]
    # st2's router validates the body before the controller looks the rule up.
    doc = await _rule_from_body(request, principal, creating=False)
    old = get_rule(server, ref_or_id)
    # st2 stores the rule under the id given in the path; anything but the rule's id fails there.
    if ref_or_id != old["id"]:
        raise ApiError(
            400,
            f"ValidationError (RuleDB:{ref_or_id}) ('{ref_or_id}' is not a valid ObjectId, it must be a "
            "12-byte input or a 24-character hex string: ['id'])",
        )
    if doc["ref"] != old["ref"] and server.db.query_one("SELECT 1 FROM rules WHERE ref = ?", (doc["ref"],)):
        raise _conflict(server, doc)
    doc["id"] = old["id"]
    _store_rule(server, doc, old_ref=old["ref"])
    _delete_unreferenced_triggers(server)
    return json_response(doc)


async def delete_rule(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    rule = get_rule(server, request.path_params["ref_or_id"])
    rbac.require(principal, rbac.RULE_DELETE, rule["uid"])
    server.db.execute("DELETE FROM rules WHERE id = ?", (rule["id"],))
    _delete_unreferenced_triggers(server)
    return Response(status_code=204)


# ---- rule enforcements ------------------------------------------------------------------------


def _time_filter(request: Request, name: str) -> str | None:
    raw = query_str(request, name)
    if not raw:
        return None
    try:
        return isotime(parse_isotime(raw))
    except ValueError:
        raise ApiError(400, f'Unable to parse the datetime "{raw}" provided for "{name}".') from None


def _paged(
    request: Request,
    table: str,
    where: str,
    params: list[Any],
    supported: dict[str, str],
    default: list[str],
    order_sql: str,
    limit: int | None,
    offset: int,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Filter in SQL. The default order pages in SQL as well (these tables grow with every trigger
    and enforcement); an explicit `sort` orders the matches in Python."""
    db = server_of(request).db
    if any(key.lstrip("+-") in supported for key in query_list(request, "sort") or []):
        docs = db.docs(f"SELECT doc FROM {table} WHERE {where}", params)
        return page(sort_docs(docs, request, supported, default), limit, offset)
    total = db.scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)
    docs = db.docs(
        f"SELECT doc FROM {table} WHERE {where} ORDER BY {order_sql} LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    )
    return docs, page_headers(total, limit)


def _enforcement_page(
    request: Request, limit: int | None, offset: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    where = "1 = 1"
    params: list[Any] = []
    for name, column in (
        ("rule_ref", "rule_ref"),
        ("rule_id", "rule_id"),
        ("execution", "execution_id"),
        ("trigger_instance", "trigger_instance_id"),
    ):
        value = query_str(request, name)
        if value:
            where += f" AND {column} = ?"
            params.append(value)
    for name, op in (("enforced_at_gt", ">"), ("enforced_at_lt", "<")):
        value = _time_filter(request, name)
        if value:
            where += f" AND enforced_at {op} ?"
            params.append(value)
    ids = id_filter(request)
    if ids:
        where += f" AND id IN ({','.join('?' * len(ids))})"
        params += ids
    supported = {
        "id": "id",
        "rule_ref": "rule.ref",
        "rule_id": "rule.id",
        "execution": "execution_id",
        "trigger_instance": "trigger_instance_id",
        "enforced_at": "enforced_at",
    }
    default = ["-enforced_at", "rule.ref"]
    return _paged(
        request,
        "enforcements",
        where,
        params,
        supported,
        default,
        "enforced_at DESC, rule_ref",
        limit,
        offset,
    )


def _enforcement_view(server: DemoServer, doc: dict[str, Any]) -> dict[str, Any]:
    """st2's enforcement view: the trigger instance and a digest of the execution embedded."""
    instance = server.db.doc(
        "SELECT doc FROM trigger_instances WHERE id = ?", (doc.get("trigger_instance_id"),)
    )
    execution = server.db.doc("SELECT doc FROM executions WHERE id = ?", (doc.get("execution_id"),))
    digest: dict[str, Any] = {}
    if execution:
        action = execution.get("action") or {}
        runner = execution.get("runner") or {}
        digest = drop_falsy(
            {
                "id": execution["id"],
                "action": drop_falsy({"ref": action.get("ref"), "parameters": action.get("parameters")}),
                "runner": drop_falsy(
                    {"name": runner.get("name"), "runner_parameters": runner.get("runner_parameters")}
                ),
                "parameters": execution.get("parameters"),
                "status": execution.get("status"),
            }
        )
    return {**doc, "trigger_instance": instance or {}, "execution": digest}


def _enforcements(request: Request, view: bool) -> Response:
    authenticate(request, rbac.RULE_ENFORCEMENT_LIST)
    server = server_of(request)
    limit, offset = paging(request, 50)
    include, exclude = attribute_selection(request, ENFORCEMENT_FIELDS)
    docs, headers = _enforcement_page(request, limit, offset)
    docs = [select_attributes(d, include, exclude) for d in docs]
    if view:
        docs = [_enforcement_view(server, d) for d in docs]
    return json_response(docs, headers=headers)


async def list_enforcements(request: Request) -> Response:
    return _enforcements(request, view=False)


async def list_enforcement_views(request: Request) -> Response:
    return _enforcements(request, view=True)


def _get_enforcement(request: Request) -> dict[str, Any]:
    principal = authenticate(request)
    enforcement_id = request.path_params["id"]
    doc = server_of(request).db.doc("SELECT doc FROM enforcements WHERE id = ?", (enforcement_id,))
    if doc is None:
        raise ApiError(404, f'Unable to identify resource with id "{enforcement_id}".')
    # st2's enforcement model declares no resource type, so its uid reads "unknown:<id>".
    rbac.require(principal, rbac.RULE_ENFORCEMENT_VIEW, f"unknown:{enforcement_id}")
    return doc


async def get_enforcement(request: Request) -> Response:
    return json_response(_get_enforcement(request))


async def get_enforcement_view(request: Request) -> Response:
    doc = _get_enforcement(request)
    return json_response(_enforcement_view(server_of(request), doc))


# ---- trigger types, triggers, trigger instances ------------------------------------------------


async def list_trigger_types(request: Request) -> Response:
    authenticate(request)
    limit, offset = paging(request, 100)
    include, exclude = attribute_selection(request, TRIGGER_TYPE_FIELDS)
    docs = server_of(request).db.docs("SELECT doc FROM triggertypes")
    checks: list[Callable[[dict[str, Any]], bool]] = []
    ids = id_filter(request)
    if ids:
        checks.append(lambda d: d.get("id") in ids)
    names = query_list(request, "name")
    if names:
        checks.append(lambda d: d.get("name") in names)
    pack = query_str(request, "pack")
    if pack:
        checks.append(lambda d: d.get("pack") == pack)
    supported = {"id": "id", "name": "name", "pack": "pack"}
    docs, headers = page(sort_docs(filter_docs(docs, checks), request, supported, ["ref"]), limit, offset)
    return json_response(
        [select_attributes(d, include, exclude, ("id", "ref")) for d in docs], headers=headers
    )


async def get_trigger_type(request: Request) -> Response:
    authenticate(request)
    return json_response(
        find_by_ref_or_id(server_of(request), "triggertypes", request.path_params["ref_or_id"])
    )


async def list_triggers(request: Request) -> Response:
    authenticate(request)
    return json_response(server_of(request).db.docs("SELECT doc FROM triggers ORDER BY rowid"))


async def get_trigger(request: Request) -> Response:
    authenticate(request)
    doc = server_of(request).db.doc("SELECT doc FROM triggers WHERE id = ?", (request.path_params["id"],))
    if doc is None:
        raise ApiError(404, "The resource could not be found.")
    return json_response(doc)


async def list_trigger_instances(request: Request) -> Response:
    authenticate(request)
    server = server_of(request)
    limit, offset = paging(request, 100)
    include, exclude = attribute_selection(request, TRIGGER_INSTANCE_FIELDS)
    where = "1 = 1"
    params: list[Any] = []
    triggers = query_list(request, "trigger")
    trigger_type = query_str(request, "trigger_type")
    if trigger_type:
        # st2 turns a trigger type into the refs of its triggers.
        refs = [
            row["ref"] for row in server.db.query("SELECT ref FROM triggers WHERE type = ?", (trigger_type,))
        ]
        triggers = (triggers or []) + refs if refs else ["\x00no-trigger"]
    if triggers:
        where += f" AND trigger IN ({','.join('?' * len(triggers))})"
        params += triggers
    for name, op in (("timestamp_gt", ">"), ("timestamp_lt", "<")):
        value = _time_filter(request, name)
        if value:
            where += f" AND occurrence_time {op} ?"
            params.append(isotime_ms(parse_isotime(value)))
    ids = id_filter(request)
    if ids:
        where += f" AND id IN ({','.join('?' * len(ids))})"
        params += ids
    supported = {
        "id": "id",
        "trigger": "trigger",
        "timestamp_gt": "occurrence_time",
        "timestamp_lt": "occurrence_time",
    }
    default = ["-occurrence_time", "trigger"]
    order_sql = "occurrence_time DESC, trigger"
    docs, headers = _paged(
        request, "trigger_instances", where, params, supported, default, order_sql, limit, offset
    )
    return json_response([select_attributes(d, include, exclude) for d in docs], headers=headers)


async def get_trigger_instance(request: Request) -> Response:
    authenticate(request)
    instance_id = request.path_params["id"]
    doc = server_of(request).db.doc("SELECT doc FROM trigger_instances WHERE id = ?", (instance_id,))
    if doc is None:
        raise ApiError(404, f'Unable to identify resource with id "{instance_id}".')
    return json_response(doc)


# ---- the rules engine --------------------------------------------------------------------------


def _match(rule: dict[str, Any], instance: dict[str, Any]) -> tuple[bool, str | None]:
    """Does `rule` apply to the trigger instance? A broken criterion yields a failure reason instead."""
    criteria = rule.get("criteria") or {}
    payload = instance.get("payload")
    if criteria and not payload:
        return False, None
    return _check_criteria(criteria, {"trigger": payload}, rule, instance)


def _check_criteria(
    criteria: dict[str, Any], context: dict[str, Any], rule: dict[str, Any], instance: dict[str, Any]
) -> tuple[bool, str | None]:
    def failure(reason: str, exc: Exception) -> tuple[bool, str]:
        return False, (
            f'Failed to match rule "{rule["ref"]}" against trigger instance "{instance["id"]}": {reason}: {exc}'
        )

    for key, criterion in criteria.items():
        if "type" not in criterion:
            return False, None
        operator = str(criterion["type"]).lower()
        pattern = criterion.get("pattern")
        try:
            pattern = render_pattern(pattern, context) if isinstance(pattern, str) else pattern
        except jinja2.TemplateError as exc:
            return failure(f'Failed to render pattern value "{pattern}" for key "{key}"', exc)
        value = payload_value(context, key.split("#", 1)[0])
        try:
            if operator == "search":
                matched = _search(value, pattern, criterion.get("condition"), rule, instance)
            elif operator in OPERATORS:
                matched = OPERATORS[operator](value, pattern)
            else:
                raise ValueError(f"Invalid operator: {operator}")
        except Exception as exc:
            return failure(f"There might be a problem with the criteria in rule {rule['ref']}", exc)
        if not matched:
            return False, None
    return True, None


def _search(value: Any, pattern: Any, condition: Any, rule: dict[str, Any], instance: dict[str, Any]) -> bool:
    """st2's `search` operator: match sub-criteria (keys `item.<path>`) against list items."""
    items = [value] if isinstance(value, dict) else value
    if condition not in ("any", "all", "all2any", "any2any"):
        raise ValueError(
            f"The '{condition}' condition is not recognized for type search, 'any', 'all', 'any2any' and 'all2any' are allowed"
        )
    over_items = any if condition in ("any", "any2any") else all
    over_patterns = any if condition in ("all2any", "any2any") else all
    return over_items(
        over_patterns(
            _check_criteria({key: criterion}, {"item": item}, rule, instance)[0]
            for key, criterion in pattern.items()
        )
        for item in items
    )


def _live_parameters(
    server: DemoServer, rule: dict[str, Any], action: dict[str, Any], payload: Any, context: dict[str, Any]
) -> dict[str, Any]:
    """The rule's action parameters rendered over the trigger payload and cast (st2's
    `render_live_params` with the `trigger` context)."""
    runner = server.db.doc("SELECT doc FROM runnertypes WHERE name = ?", (action.get("runner_type"),)) or {}
    lookup = kv_lookup(server, SYSTEM_USER)
    return params.render_live_parameters(
        runner.get("runner_parameters") or {},
        action.get("parameters") or {},
        rule.get("action", {}).get("parameters") or {},
        lookup,
        action_context=context,
        extra_context={"trigger": payload},
        decrypt=lookup.decrypt,
    )


async def enforce(
    server: DemoServer,
    rule: dict[str, Any],
    trigger: dict[str, Any],
    trigger_type: dict[str, Any] | None,
    instance: dict[str, Any],
    trace_context: dict[str, Any],
) -> dict[str, Any] | None:
    """Match one rule against a trigger instance and, if it applies, run its action.

    Returns the stored enforcement document, or None when the rule did not match.
    """
    if not rule.get("enabled"):
        return None
    matched, failure = _match(rule, instance)
    if not matched and failure is None:
        return None
    enforcement: dict[str, Any] = {
        "trigger_instance_id": instance["id"],
        "execution_id": None,
        "failure_reason": failure,
        "rule": {"ref": rule["ref"], "id": rule["id"], "uid": rule["uid"]},
        "enforced_at": isotime(utcnow()),
        "status": "failed",
        "id": new_id(),
    }
    if failure is None:
        try:
            execution = await _invoke(server, rule, trigger, trigger_type, instance, trace_context)
        except ApiError as exc:
            enforcement["failure_reason"] = exc.faultstring
        except Exception as exc:
            enforcement["failure_reason"] = str(exc) or type(exc).__name__
        else:
            enforcement["execution_id"] = execution["id"]
            enforcement["status"] = "succeeded"
    doc = drop_falsy(enforcement)
    server.db.execute(
        "INSERT INTO enforcements (id, rule_ref, rule_id, execution_id, trigger_instance_id, enforced_at, doc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            doc["id"],
            rule["ref"],
            rule["id"],
            doc.get("execution_id"),
            instance["id"],
            doc["enforced_at"],
            json.dumps(doc),
        ),
    )
    return doc


async def _invoke(
    server: DemoServer,
    rule: dict[str, Any],
    trigger: dict[str, Any],
    trigger_type: dict[str, Any] | None,
    instance: dict[str, Any],
    trace_context: dict[str, Any],
) -> dict[str, Any]:
    action_ref = rule["action"]["ref"]
    action = server.db.doc("SELECT doc FROM actions WHERE ref = ?", (action_ref,))
    if action is None:
        raise ValueError(f'Action "{action_ref}" doesn\'t exist')
    context = {
        "trigger_instance": {"id": instance["id"], "name": None},
        "rule": {"id": rule["id"], "name": rule["name"]},
        "user": SYSTEM_USER,
        "pack": action["pack"],
        "trace_context": trace_context,
    }
    parameters = _live_parameters(server, rule, action, instance.get("payload"), context)
    return await server.engine.run_action(
        action_ref,
        parameters,
        user=SYSTEM_USER,
        context=context,
        rule=rule,
        trigger=trigger,
        trigger_type=trigger_type,
        trigger_instance=instance,
    )


async def dispatch(
    server: DemoServer, trigger: dict[str, Any], payload: Any, trace_tag: str
) -> dict[str, Any]:
    """Record a trigger instance and enforce every enabled rule bound to its trigger."""
    instance = {
        "trigger": trigger["ref"],
        "occurrence_time": isotime_ms(utcnow()),
        "status": "processing",
        "id": new_id(),
        "payload": payload,
    }
    server.db.execute(
        "INSERT INTO trigger_instances (id, trigger, occurrence_time, doc) VALUES (?, ?, ?, ?)",
        (instance["id"], instance["trigger"], instance["occurrence_time"], json.dumps(instance)),
    )
    trace_context = {"id_": new_id(), "trace_tag": trace_tag}
    trigger_type = trigger_type_doc(server, trigger["type"])
    rules = [r for r in all_rules(server) if r.get("trigger", {}).get("ref") == trigger["ref"]]
    for rule in sorted(rules, key=lambda r: r["ref"]):
        await enforce(server, rule, trigger, trigger_type, dict(instance), trace_context)
    instance["status"] = "processed"
    server.db.execute(
        "UPDATE trigger_instances SET doc = ? WHERE id = ?", (json.dumps(instance), instance["id"])
    )
    return instance


# ---- webhooks ---------------------------------------------------------------------------------


def webhook_triggers(server: DemoServer, hook: str | None = None) -> list[dict[str, Any]]:
    """Webhook triggers that some rule uses (st2 listens on exactly those), optionally for one URL."""
    refs = sorted(
        {
            rule["trigger"]["ref"]
            for rule in all_rules(server)
            if rule.get("trigger", {}).get("type") == WEBHOOK_TYPE
        }
    )
    triggers = [doc for doc in (trigger_doc(server, ref) for ref in refs) if doc]
    if hook is not None:
        triggers = [t for t in triggers if str(t["parameters"].get("url", "")).strip("/") == hook]
    return triggers


def _webhook_headers(request: Request) -> dict[str, str]:
    """Request headers as WebOb presents them (`Content-Type`), without credentials."""
    headers = {}
    for name, value in request.headers.items():
        if name.lower() not in WEBHOOK_SKIPPED_HEADERS:
            headers["-".join(part.capitalize() for part in name.split("-"))] = value
    return headers


async def post_webhook(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    hook = request.path_params["hook"].strip("/")
    body = await json_body(request)
    if not isinstance(body, (dict, list)):
        raise ApiError(400, f"{body!r} is not of type 'object', 'array'")
    rbac.require(principal, rbac.WEBHOOK_SEND, f"webhook:{hook}")
    trace_tag = request.headers.get("st2-trace-tag") or f"webhook-{hook}-{uuid.uuid4().hex}"
    if hook == "st2":
        await _generic_webhook(server, body, trace_tag)
        return json_response(body, status=202)
    triggers = webhook_triggers(server, hook)
    if not triggers:
        raise ApiError(404, f"Webhook {hook} not registered with st2")
    headers = _webhook_headers(request)
    payload = {"headers": headers, "headers_lower": {k.lower(): v for k, v in headers.items()}, "body": body}
    for trigger in triggers:
        await dispatch(server, trigger, payload, trace_tag)
    return json_response(body, status=202)


async def _generic_webhook(server: DemoServer, body: Any, trace_tag: str) -> None:
    """`POST /webhooks/st2` with `{"trigger": <ref>, "payload": {...}}` dispatches any trigger."""
    if not isinstance(body, dict):
        kind = "array" if isinstance(body, list) else type(body).__name__
        raise ApiError(400, f"Webhook body needs to be an object, got: {kind}")
    ref = body.get("trigger")
    if not ref:
        raise ApiError(400, "Trigger not specified.")
    payload = body.get("payload")
    trigger = trigger_doc(server, ref) if isinstance(ref, str) else None
    type_doc = trigger_type_doc(server, trigger["type"] if trigger else str(ref))
    if type_doc is None:
        raise ApiError(
            400,
            f'Trigger payload validation failed and validation is enabled, not dispatching a trigger "{ref}" '
            f'({payload}): Trigger type with reference "{ref}" doesn\'t exist in the database',
        )
    if type_doc.get("payload_schema"):
        try:
            payload = st2_validate(payload, type_doc["payload_schema"])
        except ApiError as exc:
            raise ApiError(
                400,
                "Trigger payload validation failed and validation is enabled, not dispatching a trigger "
                f'"{ref}" ({payload}): {exc.faultstring}',
            ) from None
    if trigger is None:
        trigger = trigger_doc(server, type_doc["ref"])
    if trigger is not None:
        await dispatch(server, trigger, payload, trace_tag)


async def list_webhooks(request: Request) -> Response:
    authenticate(request, rbac.WEBHOOK_LIST)
    return json_response(webhook_triggers(server_of(request)))


async def get_webhook(request: Request) -> Response:
    principal = authenticate(request)
    url = request.path_params["url"].strip("/")
    triggers = webhook_triggers(server_of(request), url)
    if not triggers:
        raise ApiError(404, "The resource could not be found.")
    rbac.require(principal, rbac.WEBHOOK_VIEW, f"webhook:{url}")
    return json_response(triggers[0])


# ---- interval timers ------------------------------------------------------------------------


class IntervalTimers:
    """Service firing `core.st2.IntervalTimer` triggers on schedule (only when `server.timers`).

    Each tick of a timer trigger goes through the normal enforcement path. st2 schedules every timer
    trigger a rule uses; this schedules only those of enabled rules, so that a disabled rule's timer
    does not fill the database with trigger instances nothing acts on. `server.timer_interval`
    (seconds), when set, replaces every timer's own interval (tests use it to fire quickly).
    """

    TICK = 0.5

    def __init__(self, server: DemoServer) -> None:
        self.server = server
        self._task: asyncio.Task[None] | None = None
        self._due: dict[str, float] = {}

    async def start(self) -> None:
        if self.server.timers:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _interval(self, trigger: dict[str, Any]) -> float:
        override = getattr(self.server, "timer_interval", None)
        if override:
            return float(override)
        parameters = trigger.get("parameters") or {}
        return float(parameters.get("delta", 0)) * TIMER_UNITS.get(parameters.get("unit", ""), 0)

    def _timer_triggers(self) -> list[dict[str, Any]]:
        refs = {
            rule["trigger"]["ref"]
            for rule in all_rules(self.server)
            if rule.get("enabled") and rule.get("trigger", {}).get("type") == INTERVAL_TIMER_TYPE
        }
        return [doc for doc in (trigger_doc(self.server, ref) for ref in sorted(refs)) if doc]

    async def tick(self, now: float) -> None:
        triggers = self._timer_triggers()
        current = {t["ref"] for t in triggers}
        for ref in set(self._due) - current:
            del self._due[ref]
        for trigger in triggers:
            interval = self._interval(trigger)
            if interval <= 0:
                continue
            due = self._due.setdefault(trigger["ref"], now + interval)
            if now >= due:
                self._due[trigger["ref"]] = now + interval
                payload = {"executed_at": str(utcnow()), "schedule": None}
                await dispatch(self.server, trigger, payload, f"st2.IntervalTimer-{trigger['name']}")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.tick(loop.time())
            interval = getattr(self.server, "timer_interval", None)
            await asyncio.sleep(min(self.TICK, interval) if interval else self.TICK)


def routes() -> list[Route]:
    return [
        Route("/api/v1/rules", list_rules, methods=["GET"]),
        Route("/api/v1/rules", create_rule, methods=["POST"]),
        Route("/api/v1/rules/views", list_rule_views, methods=["GET"]),
        Route("/api/v1/rules/views/{ref_or_id}", get_rule_view, methods=["GET"]),
        Route("/api/v1/rules/{ref_or_id}", get_rule_route, methods=["GET"]),
        Route("/api/v1/rules/{ref_or_id}", update_rule, methods=["PUT"]),
        Route("/api/v1/rules/{ref_or_id}", delete_rule, methods=["DELETE"]),
        Route("/api/v1/ruleenforcements", list_enforcements, methods=["GET"]),
        Route("/api/v1/ruleenforcements/views", list_enforcement_views, methods=["GET"]),
        Route("/api/v1/ruleenforcements/views/{id}", get_enforcement_view, methods=["GET"]),
        Route("/api/v1/ruleenforcements/{id}", get_enforcement, methods=["GET"]),
        Route("/api/v1/triggertypes", list_trigger_types, methods=["GET"]),
        Route("/api/v1/triggertypes/{ref_or_id}", get_trigger_type, methods=["GET"]),
        Route("/api/v1/triggers", list_triggers, methods=["GET"]),
        Route("/api/v1/triggers/{id}", get_trigger, methods=["GET"]),
        Route("/api/v1/triggerinstances", list_trigger_instances, methods=["GET"]),
        Route("/api/v1/triggerinstances/{id}", get_trigger_instance, methods=["GET"]),
        Route("/api/v1/webhooks", list_webhooks, methods=["GET"]),
        Route("/api/v1/webhooks/{url}", get_webhook, methods=["GET"]),
        Route("/api/v1/webhooks/{hook:path}", post_webhook, methods=["POST"]),
    ]
