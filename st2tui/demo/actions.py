"""Pack content routes: actions (and their views), runner types and packs.

Also helpers shared with the key, rule and inquiry routes: the list handling st2's
`ResourceController` applies (attribute selection, `sort`, paging) and st2's schema validation.
"""

from __future__ import annotations

import copy
import mimetypes
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.validators import Draft3Validator, Draft4Validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import rbac
from .auth import authenticate
from .params import merge_parameters
from .state import DemoState
from .util import ApiError, json_response, page_headers, paging, query_list, query_str, unresolved_include

OBJECT_ID_RE = re.compile(r"^[0-9a-fA-F]{24}$")

ACTION_FIELDS = {
    "id", "uid", "ref", "name", "pack", "description", "enabled", "entry_point", "runner_type",
    "parameters", "output_schema", "tags", "notify", "metadata_file",
}  # fmt: skip
RUNNER_FIELDS = {
    "id", "uid", "name", "description", "enabled", "runner_package", "runner_module", "query_module",
    "runner_parameters", "output_key", "output_schema",
}  # fmt: skip
PACK_FIELDS = {
    "id", "uid", "ref", "name", "description", "keywords", "version", "stackstorm_version",
    "python_versions", "author", "email", "contributors", "files", "dependencies", "system", "path",
}  # fmt: skip


def _st2_validator_class() -> type[jsonschema.protocols.Validator]:
    """st2's `CustomValidator`: draft 4, except that `required` is a boolean inside `properties`
    (draft 3 style) and a draft-4 `required` list is not enforced."""
    validators = {k: v for k, v in Draft4Validator.VALIDATORS.items() if k != "required"}
    validators["properties"] = Draft3Validator.VALIDATORS["properties"]
    return jsonschema.validators.create(
        meta_schema=Draft4Validator.META_SCHEMA,
        validators=validators,
        type_checker=Draft4Validator.TYPE_CHECKER,
        id_of=Draft4Validator.ID_OF,
    )


St2Validator = _st2_validator_class()


def _with_defaults(instance: Any, schema: dict[str, Any]) -> Any:
    """Fill in `default`s of object properties that are missing or null (st2's `use_default`)."""
    if isinstance(instance, dict) and schema.get("type") == "object":
        for name, sub in (schema.get("properties") or {}).items():
            if not isinstance(sub, dict):
                continue
            if "default" in sub and instance.get(name) is None:
                instance[name] = copy.deepcopy(sub["default"])
            if instance.get(name) is not None:
                instance[name] = _with_defaults(instance[name], sub)
    elif (
        isinstance(instance, list) and schema.get("type") == "array" and isinstance(schema.get("items"), dict)
    ):
        return [_with_defaults(item, schema["items"]) for item in instance]
    return instance


def _allow_default_none(schema: Any) -> Any:
    """A property whose default is null also accepts null (st2's `allow_default_none`)."""
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    if "properties" in schema and isinstance(schema["properties"], dict):
        schema["properties"] = {k: _allow_default_none(v) for k, v in schema["properties"].items()}
    if "default" in schema and schema["default"] is None and isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    return schema


def st2_validate(instance: Any, schema: dict[str, Any], *, full_message: bool = False) -> Any:
    """Validate as st2's `util.schema.validate` does (defaults first); return the cleaned copy.

    A failure is a 400 with jsonschema's best-matching error: its one-line message, or with
    `full_message` its whole text (where st2 answers with `str(error)`).
    """
    instance = _with_defaults(copy.deepcopy(instance), schema)
    error = jsonschema.exceptions.best_match(St2Validator(_allow_default_none(schema)).iter_errors(instance))
    if error is not None:
        raise ApiError(400, str(error) if full_message else error.message)
    return instance


def server_of(request: Request) -> DemoState:
    return request.app.state.server


def get_path(doc: Any, dotted: str) -> Any:
    """`doc["a"]["b"]` for `a.b`, None when any part is missing."""
    value = doc
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def attribute_selection(
    request: Request, known: set[str], valid_exclude: Iterable[str] = (), *, single: bool = False
) -> tuple[list[str] | None, list[str] | None]:
    """Validate `include_attributes` / `exclude_attributes` as st2's `_get_all` / `_get_one` do (400s).

    st2 hands the names to mongoengine's `only()` / `exclude()`; a list request reports the field
    mongoengine could not resolve (`get_field_name_from_mongoengine_error`), a single GET its whole
    message (`Cannot resolve field "x"`). A controller without `valid_exclude_attributes` leaves
    exclude names to mongoengine too.
    """
    include = query_list(request, "include_attributes")
    exclude = query_list(request, "exclude_attributes")
    if include and exclude:
        raise ApiError(
            400,
            "exclude_fields and include_fields arguments are mutually exclusive. "
            "You need to provide either one or another, but not both.",
        )
    valid_exclude = list(valid_exclude)
    for field in exclude or []:
        top = field.split(".")[0]
        if (valid_exclude and field not in valid_exclude) or (not valid_exclude and top not in known):
            raise ApiError(400, f"Invalid or unsupported exclude attribute specified: {field}")
    for field in include or []:
        top = field.split(".")[0]
        if top not in known:
            raise ApiError(400, unresolved_include(top, single=single))
    return include, exclude


def _project(value: Any, paths: list[list[str]]) -> Any:
    """Keep only the listed sub-paths of a nested document (MongoDB's field projection)."""
    if not isinstance(value, dict) or any(not path for path in paths):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = [path[1:] for path in paths if path[0] == key]
        if sub:
            out[key] = _project(item, sub)
    return out


def select_attributes(
    doc: dict[str, Any],
    include: list[str] | None,
    exclude: list[str] | None,
    mandatory: Iterable[str] = ("id",),
    whole: Iterable[str] = (),
) -> dict[str, Any]:
    """Apply attribute selection to one document.

    Included top-level attributes are kept plus the `mandatory` ones; a dotted include (`action.ref`)
    keeps only that part of the sub-document, except for `whole` attributes that st2 rebuilds
    completely. An excluded attribute, dotted or not, drops its whole top-level key.
    """
    if include:
        paths: dict[str, list[list[str]]] = {}
        for field in include:
            head, *rest = field.split(".")
            paths.setdefault(head, []).append(rest)
        for field in mandatory:
            paths.setdefault(field, []).append([])
        whole = set(whole)
        return {
            key: value if key in whole else _project(value, paths[key])
            for key, value in doc.items()
            if key in paths
        }
    if exclude:
        dropped = {field.split(".")[0] for field in exclude}
        return {key: value for key, value in doc.items() if key not in dropped}
    return doc


def sort_docs(
    docs: list[dict[str, Any]], request: Request, supported: dict[str, str], default: list[str]
) -> list[dict[str, Any]]:
    """Order by `?sort=a,-b` (keys outside `supported` are skipped, as st2 does) or by `default`."""
    wanted = []
    for key in query_list(request, "sort") or []:
        direction = "-" if key.startswith("-") else ""
        key = key.lstrip("+-")
        if key in supported:
            wanted.append(direction + supported[key])
    for spec in reversed(wanted or default):
        field = spec.lstrip("-")
        docs = sorted(docs, key=lambda d: _sort_key(get_path(d, field)), reverse=spec.startswith("-"))
    return docs


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value))


def page(
    docs: list[dict[str, Any]], limit: int | None, offset: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    end = None if limit is None else offset + limit
    return docs[offset:end], page_headers(len(docs), limit)


def is_reference(ref_or_id: str) -> bool:
    """st2's `ResourceReference.is_resource_reference`: a value with a dot is `pack.name`."""
    return "." in ref_or_id


def find_by_ref_or_id(server: DemoState, table: str, ref_or_id: str) -> dict[str, Any]:
    """An action or rule by `pack.name` or id; 404 with st2's message otherwise."""
    column = "ref" if is_reference(ref_or_id) else "id"
    doc = server.db.doc(f"SELECT doc FROM {table} WHERE {column} = ?", (ref_or_id,))
    if doc is None:
        raise ApiError(404, f'Resource with a reference or id "{ref_or_id}" not found')
    return doc


def id_filter(request: Request) -> list[str] | None:
    ids = query_list(request, "id")
    if ids and len(ids) > 100:
        raise ApiError(400, "Maximum of 100 items can be provided for a query parameter value")
    return ids


def filter_docs(
    docs: list[dict[str, Any]], checks: list[Callable[[dict[str, Any]], bool]]
) -> list[dict[str, Any]]:
    return [doc for doc in docs if all(check(doc) for check in checks)]


# ---- actions ---------------------------------------------------------------------------------


def _action_docs(request: Request, *, with_content_filters: bool) -> list[dict[str, Any]]:
    server = server_of(request)
    docs = server.db.docs("SELECT doc FROM actions")
    checks: list[Callable[[dict[str, Any]], bool]] = []
    ids = id_filter(request)
    if ids:
        checks.append(lambda d: d.get("id") in ids)
    name = query_str(request, "name")
    if name:
        checks.append(lambda d: d.get("name") == name)
    if with_content_filters:
        pack = query_str(request, "pack")
        if pack:
            checks.append(lambda d: d.get("pack") == pack)
        tag = query_str(request, "tags")
        if tag:
            checks.append(lambda d: any(t.get("name") == tag for t in d.get("tags") or []))
    supported = {"id": "id", "name": "name"}
    if with_content_filters:
        supported |= {"pack": "pack", "tags": "tags.name"}
    return sort_docs(filter_docs(docs, checks), request, supported, ["pack", "name"])


async def list_actions(request: Request) -> Response:
    authenticate(request, rbac.ACTION_LIST)
    limit, offset = paging(request, None)
    include, exclude = attribute_selection(request, ACTION_FIELDS, ("parameters", "notify"))
    docs, headers = page(_action_docs(request, with_content_filters=True), limit, offset)
    body = [select_attributes(d, include, exclude, ("id", "ref")) for d in docs]
    return json_response(body, headers=headers)


async def get_action(request: Request) -> Response:
    principal = authenticate(request)
    doc = find_by_ref_or_id(server_of(request), "actions", request.path_params["ref_or_id"])
    rbac.require(principal, rbac.ACTION_VIEW, doc["uid"])
    return json_response(doc)


def runner_of(server: DemoState, action: dict[str, Any]) -> dict[str, Any]:
    return server.db.doc("SELECT doc FROM runnertypes WHERE name = ?", (action.get("runner_type"),)) or {}


def merged_parameters(server: DemoState, action: dict[str, Any]) -> dict[str, Any]:
    runner = runner_of(server, action)
    return merge_parameters(runner.get("runner_parameters") or {}, action.get("parameters") or {})


def _action_for_parameters_view(server: DemoState, ref_or_id: str) -> dict[str, Any]:
    """The lookup of st2's `ParametersViewController`, with its own 404 wording."""
    if is_reference(ref_or_id):
        doc = server.db.doc("SELECT doc FROM actions WHERE ref = ?", (ref_or_id,))
        if doc is None:
            raise ApiError(
                404,
                f'Database lookup for ref="{ref_or_id}" resulted in exception. '
                f'Referenced action "{ref_or_id}" doesnt exist',
            )
        return doc
    if not OBJECT_ID_RE.match(ref_or_id):
        reason = (
            f"'{ref_or_id}' is not a valid ObjectId, it must be a 12-byte input or a 24-character hex string"
        )
    else:
        doc = server.db.doc("SELECT doc FROM actions WHERE id = ?", (ref_or_id,))
        if doc is not None:
            return doc
        reason = f"Unable to find the ActionDB instance. {{'id': '{ref_or_id}'}}"
    raise ApiError(404, f'Database lookup for id="{ref_or_id}" resulted in exception. {reason}')


async def parameters_view(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    action = _action_for_parameters_view(server, request.path_params["ref_or_id"])
    rbac.require(principal, rbac.ACTION_VIEW, action["uid"])
    return json_response({"parameters": merged_parameters(server, action)})


async def list_overview(request: Request) -> Response:
    authenticate(request, rbac.ACTION_LIST)
    server = server_of(request)
    limit, offset = paging(request, None)
    include, exclude = attribute_selection(request, ACTION_FIELDS)
    # st2's overview controller declares no filters of its own: only `id` and `name` apply.
    docs, headers = page(_action_docs(request, with_content_filters=False), limit, offset)
    body = [
        select_attributes({**d, "parameters": merged_parameters(server, d)}, include, exclude, ("id", "ref"))
        for d in docs
    ]
    return json_response(body, headers=headers)


async def get_overview(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    doc = find_by_ref_or_id(server, "actions", request.path_params["ref_or_id"])
    rbac.require(principal, rbac.ACTION_VIEW, doc["uid"])
    return json_response({**doc, "parameters": merged_parameters(server, doc)})


def entry_point_path(server: DemoState, action: dict[str, Any]) -> Path | None:
    """The entry point file of a content action (the registry keeps the content on the server)."""
    content = getattr(server, "content", None)
    if content is None or action.get("ref") not in content.actions:
        return None
    return content.entry_point_path(action["ref"])


async def entry_point(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    ref_or_id = request.path_params["ref_or_id"]
    action = find_by_ref_or_id(server, "actions", ref_or_id)
    rbac.require(principal, rbac.ACTION_VIEW, action["uid"])
    path = entry_point_path(server, action)
    if path is None or not path.is_file():
        raise ApiError(404, f"Action ref_or_id={ref_or_id} has no entry_point to output")
    content_type = mimetypes.guess_type(path.name)[0]
    if not content_type:
        content_type = {
            ".yaml": "application/x-yaml",
            ".yml": "application/x-yaml",
            ".py": "application/x-python",
        }
        content_type = content_type.get(path.suffix, "text/plain")
    return Response(path.read_text(encoding="utf-8"), media_type=content_type)


# ---- runner types ----------------------------------------------------------------------------


async def list_runnertypes(request: Request) -> Response:
    authenticate(request, rbac.RUNNER_TYPE_LIST)
    limit, offset = paging(request, 100)
    include, exclude = attribute_selection(request, RUNNER_FIELDS)
    docs = server_of(request).db.docs("SELECT doc FROM runnertypes")
    ids = id_filter(request)
    names = query_list(request, "name")
    checks: list[Callable[[dict[str, Any]], bool]] = []
    if ids:
        checks.append(lambda d: d.get("id") in ids)
    if names:
        checks.append(lambda d: d.get("name") in names)
    docs = sort_docs(filter_docs(docs, checks), request, {"id": "id", "name": "name"}, ["name"])
    docs, headers = page(docs, limit, offset)
    return json_response([select_attributes(d, include, exclude) for d in docs], headers=headers)


async def get_runnertype(request: Request) -> Response:
    principal = authenticate(request)
    name_or_id = request.path_params["name_or_id"]
    db = server_of(request).db
    doc = db.doc("SELECT doc FROM runnertypes WHERE id = ?", (name_or_id,)) or db.doc(
        "SELECT doc FROM runnertypes WHERE name = ?", (name_or_id,)
    )
    if doc is None:
        raise ApiError(404, f'Resource with a name or id "{name_or_id}" not found')
    rbac.require(principal, rbac.RUNNER_TYPE_VIEW, doc["uid"])
    return json_response(doc)


# ---- packs -----------------------------------------------------------------------------------


async def list_packs(request: Request) -> Response:
    authenticate(request, rbac.PACK_LIST)
    limit, offset = paging(request, 100)
    include, exclude = attribute_selection(request, PACK_FIELDS)
    docs = server_of(request).db.docs("SELECT doc FROM packs")
    checks: list[Callable[[dict[str, Any]], bool]] = []
    ids = id_filter(request)
    if ids:
        checks.append(lambda d: d.get("id") in ids)
    for field in ("name", "ref"):
        value = query_str(request, field)
        if value:
            checks.append(lambda d, field=field, value=value: d.get(field) == value)
    supported = {"id": "id", "name": "name", "ref": "ref"}
    docs = sort_docs(filter_docs(docs, checks), request, supported, ["ref"])
    docs, headers = page(docs, limit, offset)
    return json_response([select_attributes(d, include, exclude) for d in docs], headers=headers)


async def get_pack(request: Request) -> Response:
    principal = authenticate(request)
    ref_or_id = request.path_params["ref_or_id"]
    if ref_or_id.startswith(("index", "views")):
        # The spec's `x-requirements` keep these names for other pack routes.
        raise ApiError(404, "The resource could not be found.")
    db = server_of(request).db
    doc = db.doc("SELECT doc FROM packs WHERE id = ?", (ref_or_id,)) or db.doc(
        "SELECT doc FROM packs WHERE ref = ?", (ref_or_id,)
    )
    if doc is None:
        raise ApiError(404, f'Resource with a ref or id "{ref_or_id}" not found')
    rbac.require(principal, rbac.PACK_VIEW, doc["uid"])
    return json_response(doc)


def routes() -> list[Route]:
    return [
        Route("/api/v1/actions", list_actions, methods=["GET"]),
        Route("/api/v1/actions/views/parameters/{ref_or_id}", parameters_view, methods=["GET"]),
        Route("/api/v1/actions/views/overview", list_overview, methods=["GET"]),
        Route("/api/v1/actions/views/overview/{ref_or_id}", get_overview, methods=["GET"]),
        Route("/api/v1/actions/views/entry_point/{ref_or_id}", entry_point, methods=["GET"]),
        Route("/api/v1/actions/{ref_or_id}", get_action, methods=["GET"]),
        Route("/api/v1/runnertypes", list_runnertypes, methods=["GET"]),
        Route("/api/v1/runnertypes/{name_or_id}", get_runnertype, methods=["GET"]),
        Route("/api/v1/packs", list_packs, methods=["GET"]),
        Route("/api/v1/packs/{ref_or_id}", get_pack, methods=["GET"]),
    ]
