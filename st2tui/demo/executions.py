"""`/api/v1/executions` (and its `/api/v1/actionexecutions` alias): list, get, run, cancel, pause and
resume, re-run, children, output, result, attributes, filter values.

Queries and answers follow st2's `ActionExecutionsController` and its `ResourceController` base:
filters, `parent=null`, timestamp ranges, sorting, include/exclude attributes (dotted names are
projected, the answer keeps top-level keys), paging headers and the error wording.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import jsonschema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import rbac
from .auth import Principal, authenticate
from .engine import CANCELABLE_STATES, CANCELED, DOC_ORDER, Engine
from .state import DemoState
from .util import (
    ISO8601_UTC_RE,
    ApiError,
    dumps,
    isotime,
    json_body,
    json_response,
    page_headers,
    paging,
    parse_isotime,
    query_bool,
    query_int,
    query_list,
    query_str,
    show_secrets,
    unresolved_include,
)

DEFAULT_LIMIT = 100
MAX_ID_VALUES = 100
MAX_RESULT_SIZE = 14 * 1024 * 1024
STATUSES = [
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
]
# Query filter -> column (st2's SUPPORTED_FILTERS: action.ref, runner.name, rule.name, context.user...).
FILTER_COLUMNS = {
    "action": "action_ref",
    "status": "status",
    "liveaction": "liveaction",
    "parent": "parent",
    "rule": "rule",
    "runner": "runner",
    "trigger": "trigger",
    "trigger_type": "trigger_type",
    "trigger_instance": "trigger_instance",
    "user": "user",
}
SORT_COLUMNS = {**FILTER_COLUMNS, "timestamp": "start_timestamp", "id": "id"}
# `GET /executions/views/filters`: name -> column, in st2's order (parent, timestamp, liveaction and
# trigger_instance are not offered).
VIEW_FILTERS = {
    "action": "action_ref",
    "status": "status",
    "rule": "rule",
    "runner": "runner",
    "trigger": "trigger",
    "trigger_type": "trigger_type",
    "user": "user",
}
# Top-level fields of the execution document (what `filter` may name).
EXECUTION_FIELDS = frozenset(DOC_ORDER)
# Fields st2's ActionExecutionDB stores, which are all `include_attributes` may name (mongoengine's
# `only()`): `elapsed_seconds` is computed for the answer, so asking for it is a 400 on st2. Dict and
# list fields take any sub-path; a sub-path of a scalar field is a 400 naming the sub-field.
STORED_FIELD_KINDS = {
    **dict.fromkeys(
        ("trigger", "trigger_type", "trigger_instance", "rule", "action", "runner", "liveaction"), "dict"
    ),
    **dict.fromkeys(("parameters", "result", "context"), "dict"),
    **dict.fromkeys(("children", "log"), "list"),
    **dict.fromkeys(
        (
            "id",
            "workflow_execution",
            "task_execution",
            "status",
            "start_timestamp",
            "end_timestamp",
            "result_size",
            "parent",
            "delay",
            "web_url",
        ),
        "scalar",
    ),
}
VALID_EXCLUDE_ATTRIBUTES = ["result", "trigger_instance", "status"]
VALID_ATTRIBUTES = ["action__pack", "action__uid", *VALID_EXCLUDE_ATTRIBUTES]
# Fields st2 always reads from the database with `include_attributes` (masking needs them).
MANDATORY_INCLUDE_FIELDS = [
    "action.parameters",
    "action.output_schema",
    "runner.runner_parameters",
    "runner.output_key",
    "parameters",
    "action.pack",
    "action.uid",
    "context",
]
MUTUALLY_EXCLUSIVE = (
    "exclude_fields and include_fields arguments are mutually exclusive. "
    "You need to provide either one or another, but not both."
)
MUTUALLY_EXCLUSIVE_ONE = (
    "exclude_attributes and include_attributes arguments are mutually exclusive. "
    "You need to provide either one or another, but not both."
)
_TIMESTAMP = {"type": "string", "pattern": ISO8601_UTC_RE.pattern}
_STATUS = {"type": "string", "enum": STATUSES}
_NOTIFY_SUB = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "data": {"type": "object"},
        "routes": {"type": "array"},
        "channels": {"type": "array"},
    },
    "additionalProperties": False,
}
# The spec's ExecutionRequest (LiveAction + user).
EXECUTION_REQUEST_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "status": _STATUS,
        "start_timestamp": _TIMESTAMP,
        "end_timestamp": _TIMESTAMP,
        "action": {"type": "string"},
        "action_is_workflow": {"type": "boolean"},
        "parameters": {"type": "object"},
        "result": {"type": "object"},
        "context": {"type": "object"},
        "callback": {"type": "object"},
        "runner_info": {"type": "object"},
        "notify": {
            "type": "object",
            "properties": {"on-complete": _NOTIFY_SUB, "on-failure": _NOTIFY_SUB, "on-success": _NOTIFY_SUB},
            "additionalProperties": False,
        },
        "delay": {"type": "integer"},
        "user": {"type": ["string", "null"]},
    },
    "required": ["action"],
}
EXECUTION_UPDATE_SCHEMA = {
    "type": "object",
    "properties": {"status": _STATUS, "result": {"type": "object"}},
    "additionalProperties": False,
}
RERUN_SCHEMA = {
    "type": "object",
    "properties": {
        "parameters": {"type": "object"},
        "tasks": {"type": "array"},
        "reset": {"type": "array"},
        "user": {"type": "string"},
        "delay": {"type": "integer"},
    },
}


def _server(request: Request) -> DemoState:
    return request.app.state.server


def _engine(request: Request) -> Engine:
    return request.app.state.server.engine


def validate_body(schema: dict[str, Any], body: Any) -> None:
    """Check a request body against its spec schema; the first error is the 400 (st2's router)."""
    for error in jsonschema.Draft4Validator(schema).iter_errors(body):
        raise ApiError(400, error.message)


def _mask(request: Request) -> bool:
    return not show_secrets(request)


def _uid(doc: dict[str, Any]) -> str:
    return f"execution:{doc['id']}"


def _authorize_run(principal: Principal, action: dict[str, Any], user: str | None) -> None:
    """What st2 checks before scheduling an execution: `action_execute`, then run-as `user` (admins)."""
    rbac.require(principal, rbac.ACTION_EXECUTE, action["uid"])
    rbac.require_admin_for_user(principal, user or principal.user)


def _lookup(engine: Engine, execution_id: str, *, allow_last: bool = False) -> dict[str, Any]:
    if allow_last and execution_id == "last":
        last = engine.last_execution_id()
        if last is None:
            raise ApiError(400, "No executions found in the database")
        execution_id = last
    doc = engine.get_execution(execution_id)
    if doc is None:
        raise ApiError(404, f'Unable to identify resource with id "{execution_id}".')
    return doc


# -- include / exclude attributes ------------------------------------------------------------------


def attribute_options(request: Request, *, single: bool = False) -> tuple[list[str] | None, list[str] | None]:
    """Validate `include_attributes` / `exclude_attributes` in st2's order: a list request checks that
    both were not given first, a single GET last (and says so in other words)."""
    include = query_list(request, "include_attributes")
    exclude = query_list(request, "exclude_attributes")
    if include and exclude and not single:
        raise ApiError(400, MUTUALLY_EXCLUSIVE)
    for name in exclude or []:
        if name not in VALID_EXCLUDE_ATTRIBUTES:
            raise ApiError(400, f"Invalid or unsupported exclude attribute specified: {name}")
    for name in include or []:
        top, *rest = name.split(".")
        kind = STORED_FIELD_KINDS.get(top)
        if kind is None:
            raise ApiError(400, unresolved_include(top, single=single))
        if kind == "scalar" and rest:
            raise ApiError(400, unresolved_include(rest[0], single=single))
    if include and exclude:
        raise ApiError(400, MUTUALLY_EXCLUSIVE_ONE)
    if include and _overlapping(include):
        # st2's `_validate_include_fields` drops `a.b` when `a` is retrieved whole (asked for, or
        # mandatory like `context`), but removes from the list it iterates: of two such fields in a
        # row the second stays and MongoDB 4.4+ refuses the projection ("Path collision at
        # context.user"), a 500. The order is a set's, so st2 fails on some starts only; the demo
        # always does, so that a client that depends on it fails here first.
        raise ApiError(500, "Internal Server Error")
    return include, exclude


def _overlapping(include: list[str]) -> bool:
    whole = set(include) | {f.split(".")[0] for f in MANDATORY_INCLUDE_FIELDS if "." not in f}
    dropped = [f for f in set(include) if "." in f and f.split(".")[0] in whole]
    return len(dropped) >= 2


def _retrieved_fields(include: list[str]) -> list[str]:
    """st2's `_validate_include_fields`: requested + mandatory fields, dotted ones dropped when whole."""
    fields = list(include)
    for field in MANDATORY_INCLUDE_FIELDS:
        if field.split(".")[0] not in include and field not in fields:
            fields.append(field)
    return [f for f in fields if "." not in f or f.split(".")[0] not in fields]


def _project(doc: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        path = field.split(".")
        source: Any = doc
        for part in path:
            if not isinstance(source, dict) or part not in source:
                break
            source = source[part]
        else:
            target = out
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = source
    return out


class Attributes:
    """`include_attributes` / `exclude_attributes` of one request, applied to (masked) documents."""

    def __init__(self, include: list[str] | None, exclude: list[str] | None) -> None:
        self.include = include
        self.exclude = set(exclude or ())
        self.fields = ["id", *_retrieved_fields(include)] if include else []
        self.keep = {name.split(".")[0] for name in include or ()} | {"id"}

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        if self.include:
            projected = _project(doc, self.fields)
            return {k: v for k, v in projected.items() if k in self.keep and v}
        if self.exclude:
            return {k: v for k, v in doc.items() if k not in self.exclude}
        return doc


# -- list ------------------------------------------------------------------------------------------


def _timestamp(value: str) -> str:
    if not ISO8601_UTC_RE.match(value):
        raise ApiError(400, "Datetime value does not match expected format.")
    return isotime(parse_isotime(value))


def _advanced_filter(raw: str, where: list[str], args: list[Any]) -> None:
    """`?filter=field.path:value ...`: each token matches one JSON path of the document."""
    for token in raw.split(" "):
        if ":" not in token:
            raise ApiError(400, f'invalid format for filter "{token}"')
        key, value = token.split(":", 1)
        path = key.split(".")
        if path[0] not in EXECUTION_FIELDS or not all(path):
            raise ApiError(
                400, f'Cannot resolve field "{path[0] if path[0] not in EXECUTION_FIELDS else key}"'
            )
        column = FILTER_COLUMNS.get(key) or {"action.ref": "action_ref", "context.user": "user"}.get(key)
        if column:
            where.append(f"{column} = ?")
        else:
            where.append("CAST(json_extract(doc, ?) AS TEXT) = ?")
            args.append("$." + ".".join(f'"{part}"' for part in path))
        args.append(value)


def list_query(request: Request) -> tuple[str, list[Any], str]:
    """The WHERE clause, its arguments and the ORDER BY of a list request."""
    where: list[str] = []
    args: list[Any] = []
    for name, column in FILTER_COLUMNS.items():
        value = query_str(request, name)
        if not value:
            continue
        if value.lower() == "null":
            where.append(f"{column} IS NULL")
        else:
            where.append(f"{column} = ?")
            args.append(value)
    ids = query_str(request, "id")
    if ids:
        values = ids.split(",")
        if len(values) > MAX_ID_VALUES:
            raise ApiError(400, "Maximum of 100 items can be provided for a query parameter value")
        where.append(f"id IN ({','.join('?' * len(values))})")
        args.extend(values)
    descending = True
    timestamp_lt = query_str(request, "timestamp_lt")
    timestamp_gt = query_str(request, "timestamp_gt")
    if timestamp_lt or query_str(request, "sort_desc"):
        descending = True
    elif timestamp_gt or query_str(request, "sort_asc"):
        descending = False
    if timestamp_gt:
        where.append("start_timestamp > ?")
        args.append(_timestamp(timestamp_gt))
    if timestamp_lt:
        where.append("start_timestamp < ?")
        args.append(_timestamp(timestamp_lt))
    timestamp = query_str(request, "timestamp")
    if timestamp:
        if ".." in timestamp:
            first, _, second = timestamp.partition("..")
            low, high = _timestamp(first), _timestamp(second)
            # st2 sorts a range in the direction it is written (A..B with A < B: ascending).
            descending = low > high
            where.append("start_timestamp BETWEEN ? AND ?")
            args.extend(sorted((low, high)))
        else:
            where.append("start_timestamp = ?")
            args.append(_timestamp(timestamp))
    advanced = query_str(request, "filter")
    if advanced:
        _advanced_filter(advanced, where, args)
    order = []
    for key in (query_str(request, "sort") or "").split(","):
        direction = "DESC" if key.startswith("-") else "ASC"
        column = SORT_COLUMNS.get(key.lstrip("+-"))
        if column:
            order.append(f"{column} {direction}")
    # st2 adds `action.ref` as a tie-breaker; ordering by the indexed timestamp alone keeps the
    # query on the index (two executions never share a microsecond timestamp in practice).
    order_by = ", ".join(order) or f"start_timestamp {'DESC' if descending else 'ASC'}"
    return (" WHERE " + " AND ".join(where)) if where else "", args, order_by


async def list_executions(request: Request) -> Response:
    authenticate(request, rbac.EXECUTION_LIST)
    engine = _engine(request)
    include, exclude = attribute_options(request)
    limit, offset = paging(request, DEFAULT_LIMIT)
    if offset >= 2**31:
        raise ApiError(400, f'Offset "{offset}" specified is more than 32-bit int')
    mask = _mask(request)
    where, args, order_by = list_query(request)
    db = engine.db
    total = db.scalar(f"SELECT COUNT(*) FROM executions{where}", args)
    # Pick the page on the indexes (rowids only), then read just those documents.
    rowids = [
        row[0]
        for row in db.query(
            f"SELECT rowid FROM executions{where} ORDER BY {order_by} LIMIT ? OFFSET ?",
            [*args, -1 if limit is None else limit, offset],
        )
    ]
    docs: dict[int, dict[str, Any]] = {}
    for start in range(0, len(rowids), 500):
        chunk = rowids[start : start + 500]
        for row in db.query(
            f"SELECT rowid, doc FROM executions WHERE rowid IN ({','.join('?' * len(chunk))})", chunk
        ):
            docs[row[0]] = json.loads(row[1])
    attributes = Attributes(include, exclude)
    page = [attributes.apply(engine.present(docs[r], mask=mask)) for r in rowids if r in docs]
    return json_response(page, headers=page_headers(total, limit))


# -- single execution ------------------------------------------------------------------------------


async def get_execution(request: Request) -> Response:
    principal = authenticate(request)
    engine = _engine(request)
    # st2 hands the attributes to the query, so a bad one is a 400 before the id is looked up.
    include, exclude = attribute_options(request, single=True)
    mask = _mask(request)
    max_result_size = query_int(request, "max_result_size")
    if max_result_size:  # st2 ignores 0
        if max_result_size < 0:
            raise ApiError(400, "max_result_size must be a positive number")
        if max_result_size > MAX_RESULT_SIZE:
            raise ApiError(400, "max_result_size query parameter must be smaller than 14 MB")
    doc = _lookup(engine, request.path_params["id"], allow_last=True)
    rbac.require(principal, rbac.EXECUTION_VIEW, _uid(doc))
    if max_result_size and doc.get("result_size", 0) > max_result_size:
        # The result is left out when it is larger than the client wants.
        if include:
            include = [name for name in include if name != "result"]
        else:
            exclude = [*(exclude or []), "result"]
    return json_response(Attributes(include, exclude).apply(engine.present(doc, mask=mask)))


async def create_execution(request: Request) -> Response:
    principal = authenticate(request)
    engine = _engine(request)
    mask = _mask(request)
    body = await json_body(request)
    validate_body(EXECUTION_REQUEST_SCHEMA, body)
    overrides = None
    header = request.headers.get("st2-context")
    if header:
        try:
            overrides = json.loads(header)
        except ValueError:
            overrides = header
        if not isinstance(overrides, dict):
            raise ApiError(
                400, f"Unable to convert st2-context from the headers into JSON (was {type(overrides)})."
            )
    action = engine.action(body["action"])
    # An unknown action is the engine's 400, which st2 answers before checking permissions.
    if action is not None:
        _authorize_run(principal, action, body.get("user"))
    doc = await engine.run_action(
        body["action"],
        body.get("parameters") or {},
        user=body.get("user") or principal.user,
        context=body.get("context") or {},
        delay=body.get("delay"),
        context_overrides=overrides,
    )
    return json_response(engine.present(doc, mask=mask), status=201)


async def cancel_execution(request: Request) -> Response:
    principal = authenticate(request)
    engine = _engine(request)
    mask = _mask(request)
    doc = _lookup(engine, request.path_params["id"])
    rbac.require(principal, rbac.EXECUTION_STOP, _uid(doc))
    if doc["status"] == CANCELED:
        return json_response(engine.present(doc, mask=mask))
    if doc["status"] not in CANCELABLE_STATES:
        # st2 answers 200 with a faultstring here (`abort(http_client.OK, ...)`).
        return json_response({"faultstring": f"Action cannot be canceled. State = {doc['status']}."})
    doc = await engine.request_cancellation(doc["id"], principal.user)
    return json_response(engine.present(doc, mask=mask))


async def update_execution(request: Request) -> Response:
    principal = authenticate(request)
    engine = _engine(request)
    mask = _mask(request)
    body = await json_body(request)
    validate_body(EXECUTION_UPDATE_SCHEMA, body)
    doc = _lookup(engine, request.path_params["id"])
    rbac.require(principal, rbac.EXECUTION_STOP, _uid(doc))
    status = body.get("status") or doc["status"]
    doc = await engine.update_status(doc["id"], status, body.get("result"), principal.user)
    return json_response(engine.present(doc, mask=mask))


async def re_run_execution(request: Request) -> Response:
    principal = authenticate(request)
    engine = _engine(request)
    mask = _mask(request)
    body = await json_body(request)
    validate_body(RERUN_SCHEMA, body)
    parameters = body.get("parameters") or {}
    tasks = body.get("tasks") or []
    reset = body.get("reset") or []
    if (tasks or reset) and parameters:
        raise ApiError(400, "Parameters override is not supported when re-running task(s) for a workflow.")
    if set(reset) - set(tasks):
        raise ApiError(400, "List of tasks to reset does not match the tasks to rerun.")
    doc = _lookup(engine, request.path_params["id"])
    rbac.require(principal, rbac.EXECUTION_VIEW, _uid(doc))
    action = engine.action(doc["action"]["ref"])
    # A task re-run of a non-workflow is the engine's 400, which st2 answers before the action checks.
    if action is not None and (not tasks or (doc.get("runner") or {}).get("name") == "orquesta"):
        _authorize_run(principal, action, body.get("user"))
    created = await engine.re_run(
        doc["id"],
        parameters=parameters,
        tasks=tasks,
        reset=reset,
        user=body.get("user") or principal.user,
        delay=body.get("delay"),
    )
    return json_response(engine.present(created, mask=mask), status=201)


async def get_children(request: Request) -> Response:
    principal = authenticate(request)
    engine = _engine(request)
    depth = query_int(request, "depth", -1)
    result_fmt = query_str(request, "result_fmt")
    doc = _lookup(engine, request.path_params["id"])
    rbac.require(principal, rbac.EXECUTION_VIEW, _uid(doc))
    descendants: list[dict[str, Any]] = []
    pending = [(child, 1) for child in engine.children_docs(doc["id"])]
    while pending:
        child, level = pending.pop(0)
        descendants.append(child)
        if not child.get("children") or level == depth:
            continue
        grandchildren = engine.children_docs(child["id"])
        pending[0:0] = [(grandchild, level + 1) for grandchild in grandchildren]
    if result_fmt == "sorted":
        descendants.sort(key=lambda d: d["start_timestamp"])
    return json_response([engine.present(d) for d in descendants])


async def get_output(request: Request) -> Response:
    principal = authenticate(request)
    engine = _engine(request)
    doc = _lookup(engine, request.path_params["id"], allow_last=True)
    rbac.require(principal, rbac.EXECUTION_VIEW, _uid(doc))
    output_type = query_str(request, "output_type") or "all"
    chunks = engine.output.chunks(doc["id"], None if output_type == "all" else output_type)
    body = "".join(chunk["data"] for chunk in chunks)
    # Exactly `text/plain`, without a charset parameter, as real st2 answers.
    return Response(body.encode(), headers={"Content-Type": "text/plain"})


async def get_result(request: Request) -> Response:
    authenticate(request)
    engine = _engine(request)
    execution_id = request.path_params["id"]
    download = query_bool(request, "download", False)
    compress = query_bool(request, "compress", False)
    pretty = query_bool(request, "pretty_format", False)
    doc = engine.get_execution(execution_id)
    if doc is None:
        raise ApiError(404, f"Execution with id {execution_id} not found")
    result = doc.get("result", {})
    body = (json.dumps(result, indent=2, ensure_ascii=False) if pretty else dumps(result).decode()).encode()
    headers = {"Content-Type": "text/json"}
    if download:
        filename = f"execution_{execution_id}_result.json" + (".gz" if compress else "")
        headers["Content-Disposition"] = f"attachment; filename={filename}"
    if compress:
        headers["Content-Type"] = "application/x-gzip"
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body)
    return Response(body, headers=headers)


async def get_attribute(request: Request) -> Response:
    principal = authenticate(request)
    engine = _engine(request)
    attribute = request.path_params["attribute"]
    if attribute not in VALID_ATTRIBUTES:
        raise ApiError(
            400,
            f'Invalid attribute "{attribute}" specified. Valid attributes are: {", ".join(VALID_EXCLUDE_ATTRIBUTES)}',
        )
    doc = _lookup(engine, request.path_params["id"])
    rbac.require(principal, rbac.EXECUTION_VIEW, _uid(doc))
    if "__" in attribute:
        top, _, sub = attribute.partition("__")
        value = (doc.get(top) or {}).get(sub)
    else:
        value = doc.get(attribute)
    return json_response(value)


async def get_filters(request: Request) -> Response:
    authenticate(request, rbac.EXECUTION_VIEWS_FILTERS_LIST)
    engine = _engine(request)
    types = query_list(request, "types")
    filters: dict[str, list[Any]] = {}
    for name, column in VIEW_FILTERS.items():
        if types and name not in types:
            continue
        rows = engine.db.query(
            f"SELECT DISTINCT {column} FROM executions WHERE {column} IS NOT NULL ORDER BY {column}"
        )
        filters[name] = [row[0] for row in rows]
    return json_response(filters)


def routes() -> list[Route]:
    result: list[Route] = []
    for base in ("/api/v1/executions", "/api/v1/actionexecutions"):
        result += [
            Route(base, list_executions, methods=["GET"]),
            Route(base, create_execution, methods=["POST"]),
            Route(f"{base}/views/filters", get_filters, methods=["GET"]),
            Route(base + "/{id}", get_execution, methods=["GET"]),
            Route(base + "/{id}", update_execution, methods=["PUT"]),
            Route(base + "/{id}", cancel_execution, methods=["DELETE"]),
            Route(base + "/{id}/output", get_output, methods=["GET"]),
            Route(base + "/{id}/re_run", re_run_execution, methods=["POST"]),
            Route(base + "/{id}/children", get_children, methods=["GET"]),
            Route(base + "/{id}/result", get_result, methods=["GET"]),
            Route(base + "/{id}/attribute/{attribute}", get_attribute, methods=["GET"]),
        ]
    return result
