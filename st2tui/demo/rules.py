"""Rules, their enforcements, trigger types, triggers and trigger instances: the CRUD routes and storage.

Matching trigger instances against rules and firing them is `triggering`; criteria operators are `criteria`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import rbac, registry
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
from .criteria import OPERATORS
from .state import DemoState
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
)

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


# ---- documents and storage -------------------------------------------------------------------


def get_rule(server: DemoState, ref_or_id: str) -> dict[str, Any]:
    return find_by_ref_or_id(server, "rules", ref_or_id)


def trigger_type_doc(server: DemoState, ref: str) -> dict[str, Any] | None:
    return server.db.doc("SELECT doc FROM triggertypes WHERE ref = ?", (ref,))


def trigger_doc(server: DemoState, ref: str) -> dict[str, Any] | None:
    return server.db.doc("SELECT doc FROM triggers WHERE ref = ?", (ref,))


def all_rules(server: DemoState) -> list[dict[str, Any]]:
    return server.db.docs("SELECT doc FROM rules")


def _store_rule(server: DemoState, doc: dict[str, Any], old_ref: str | None = None) -> None:
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


def _delete_unreferenced_triggers(server: DemoState) -> None:
    """Parameterised triggers live as long as a rule uses them (st2's trigger ref count)."""
    used = {rule["trigger"].get("ref") for rule in all_rules(server)}
    for row in server.db.query("SELECT ref FROM triggers WHERE parameters != '{}'"):
        if row["ref"] not in used:
            server.db.execute("DELETE FROM triggers WHERE ref = ?", (row["ref"],))


def _trigger_for(server: DemoState, trigger: dict[str, Any], *, creating: bool) -> dict[str, Any]:
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


def _conflict(server: DemoState, doc: dict[str, Any]) -> ApiError:
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


def with_descriptions(server: DemoState, rule: dict[str, Any]) -> dict[str, Any]:
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


def _enforcement_view(server: DemoState, doc: dict[str, Any]) -> dict[str, Any]:
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
    ]
