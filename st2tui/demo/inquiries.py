"""Inquiries: `core.ask` executions waiting in status `pending` for a response.

An inquiry is the execution itself (same id); its `result` holds the schema, users, roles, route
and ttl. Responding validates the response against the schema and hands it to the engine, which
completes the execution and resumes the workflow that asked.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import rbac
from .actions import server_of, st2_validate
from .auth import authenticate
from .state import DemoState
from .util import ApiError, json_body, json_response, page_headers, paging

INQUIRY_RUNNER = "inquirer"
PENDING = "pending"
TIMEOUT = "timeout"
# The schema of a `core.ask` that gave none (st2's `InquiryResponseAPI` default).
DEFAULT_SCHEMA = {
    "title": "response_data",
    "type": "object",
    "properties": {
        "continue": {
            "type": "boolean",
            "description": "Would you like to continue the workflow?",
            "required": True,
        }
    },
}
# `InquiryResponseResult` of the spec.
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "response": {"type": "object"}},
}


def inquiry_doc(execution: dict[str, Any]) -> dict[str, Any]:
    """st2's `InquiryResponseAPI`: only `id, route, ttl, users, roles, schema`."""
    result = execution.get("result") or {}
    return {
        "id": execution["id"],
        "route": result.get("route", ""),
        "ttl": result.get("ttl", 1440),
        "users": result.get("users", []),
        "roles": result.get("roles", []),
        "schema": result.get("schema", DEFAULT_SCHEMA),
    }


def _execution(server: DemoState, inquiry_id: str) -> dict[str, Any]:
    doc = server.db.doc("SELECT doc FROM executions WHERE id = ?", (inquiry_id,))
    if doc is None:
        # st2 raises a not-found error without a message here, answered with the default text.
        raise ApiError(404, "The resource could not be found.")
    return doc


def _check_inquiry(execution: dict[str, Any]) -> None:
    """st2's `inquiry_service.check_inquiry` (400s)."""
    inquiry_id = execution["id"]
    if (execution.get("runner") or {}).get("name") != INQUIRY_RUNNER:
        raise ApiError(400, f'Action execution "{inquiry_id}" is not an inquiry.')
    if execution.get("status") == TIMEOUT:
        raise ApiError(400, f'Inquiry "{inquiry_id}" timed out and cannot be responded to.')
    if execution.get("status") != PENDING:
        raise ApiError(400, f'Inquiry "{inquiry_id}" has already been responded to.')


async def list_inquiries(request: Request) -> Response:
    authenticate(request, rbac.INQUIRY_LIST)
    # The spec gives this list no `offset`; st2's router drops parameters it does not declare.
    limit = paging(request, 20)[0]
    # st2's InquiriesController reads only id and result and ignores include/exclude_attributes.
    db = server_of(request).db
    where = "status = ? AND runner = ?"
    total = db.scalar(f"SELECT COUNT(*) FROM executions WHERE {where}", (PENDING, INQUIRY_RUNNER))
    docs = db.docs(
        f"SELECT doc FROM executions WHERE {where} ORDER BY start_timestamp LIMIT ? OFFSET ?",
        (PENDING, INQUIRY_RUNNER, -1 if limit is None else limit, 0),
    )
    body = [inquiry_doc(d) for d in docs]
    return json_response(body, headers=page_headers(total, limit))


async def get_inquiry(request: Request) -> Response:
    principal = authenticate(request)
    execution = _execution(server_of(request), request.path_params["inquiry_id"])
    rbac.require(principal, rbac.INQUIRY_VIEW)
    _check_inquiry(execution)
    return json_response(inquiry_doc(execution))


async def respond(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    inquiry_id = request.path_params["inquiry_id"]
    body = st2_validate(await json_body(request), RESPONSE_SCHEMA)
    # The spec requires `response`, which st2's router does not enforce (its controller then fails
    # with a 500); answer a 400 that names it instead.
    if "response" not in body:
        raise ApiError(400, "'response' is a required property")
    response = body["response"]
    execution = _execution(server, inquiry_id)
    rbac.require(principal, rbac.INQUIRY_RESPOND)
    _check_inquiry(execution)
    inquiry = inquiry_doc(execution)
    # st2's `inquiry_service.check_permission`: one of the inquiry's roles (any role while RBAC is
    # off) and one of its users, when it names them.
    roles = set(inquiry["roles"])
    role_allowed = not roles or not principal.rbac_enabled or bool(roles.intersection(principal.roles))
    if not role_allowed or (inquiry["users"] and principal.user not in inquiry["users"]):
        raise ApiError(
            403, f'User "{principal.user}" does not have permission to respond to inquiry "{inquiry_id}".'
        )
    try:
        st2_validate(response, inquiry["schema"], full_message=True)
    except ApiError as exc:
        raise ApiError(
            400, f'Response for inquiry "{inquiry_id}" did not pass schema validation. {exc.faultstring}'
        ) from None
    await server.engine.respond_inquiry(inquiry_id, response, principal.user)
    return json_response({"id": inquiry_id, "response": response})


def routes() -> list[Route]:
    return [
        Route("/api/v1/inquiries", list_inquiries, methods=["GET"]),
        Route("/api/v1/inquiries/{inquiry_id}", get_inquiry, methods=["GET"]),
        Route("/api/v1/inquiries/{inquiry_id}", respond, methods=["PUT"]),
    ]
