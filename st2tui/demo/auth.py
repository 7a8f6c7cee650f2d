"""Authentication: `/auth/v1/tokens`, token and API-key checks, `/api/v1/user`, `/api/v1/apikeys`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

import jsonschema
from jsonschema import Draft4Validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import rbac
from .rbac import Principal
from .state import DemoState
from .util import (
    ApiError,
    isotime,
    json_body,
    json_response,
    new_id,
    page_headers,
    paging,
    parse_isotime,
    query_str,
    show_secrets,
    utcnow,
)


def _server(request: Request) -> DemoState:
    return request.app.state.server


# st2 stores only a salted SHA-512 of each API key (st2common/util/hash.py: fixed salt, then the key).
API_KEY_SALT = b"saltnpepper"
MASK = "********"
# `POST /auth/v1/tokens` body schema (TokenRequest in the spec).
TOKEN_REQUEST_SCHEMA = {"type": "object", "properties": {"ttl": {"type": ["integer", "null"], "minimum": 1}}}


def hash_api_key(key: str) -> str:
    return hashlib.sha512(API_KEY_SALT + key.encode()).hexdigest()


def hash_token(token: str) -> str:
    """The key a token is stored under: whoever reads the database gets no token they can use."""
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(request: Request, permission: str | None = None) -> Principal:
    """Check credentials, then `permission` (an endpoint's `x-permissions`), as st2's router does.

    The principal is kept on `request.state` for the admin-only query options (`util.paging`).
    """
    principal = _identify(request)
    request.state.principal = principal
    if permission:
        rbac.require(principal, permission)
    return principal


def _with_roles(srv: DemoState, principal: Principal) -> Principal:
    if srv.roles is None:
        return principal
    roles = tuple(dict.fromkeys(srv.roles.get(principal.user, ())))
    return replace(principal, rbac_enabled=True, roles=roles)


def _identify(request: Request) -> Principal:
    """Check credentials in st2's order; the first one present wins (router loop `break`)."""
    srv = _server(request)
    sources = (
        ("token", "header", request.headers.get("x-auth-token")),
        ("apikey", "header", request.headers.get("st2-api-key")),
        ("token", "query", query_str(request, "x-auth-token")),
        ("apikey", "query", query_str(request, "st2-api-key")),
        ("token", "cookie", request.cookies.get("auth-token")),
    )
    for kind, location, value in sources:
        if not value:
            continue
        if kind == "token":
            return _with_roles(srv, _check_token(srv, value, location))
        return _with_roles(srv, _check_api_key(srv, value, location))
    raise ApiError(401, "Unauthorized - One of Token or API key required.")


def _check_token(srv: DemoState, token: str, location: str) -> Principal:
    row = srv.db.query_one("SELECT user, expiry FROM tokens WHERE token = ?", (hash_token(token),))
    if row is None:
        raise ApiError(401, "Unauthorized")
    if parse_isotime(row["expiry"]) <= utcnow():
        raise ApiError(401, "Unauthorized - Token has expired.")
    expire = parse_isotime(row["expiry"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Principal(row["user"], "authentication token", location, expire)


def _check_api_key(srv: DemoState, key: str, location: str) -> Principal:
    key_hash = hash_api_key(key)
    row = srv.db.query_one("SELECT user, enabled FROM apikeys WHERE key_hash = ?", (key_hash,))
    if row is None:
        raise ApiError(401, f"Unauthorized - ApiKey with key_hash={key_hash} not found.")
    if not row["enabled"]:
        raise ApiError(401, "Unauthorized - API key is disabled.")
    return Principal(row["user"], "API key", location)


def issue_token(srv: DemoState, user: str, ttl: int | None = None) -> dict[str, Any]:
    ttl = srv.token_ttl if ttl is None else ttl
    expiry = utcnow() + timedelta(seconds=ttl)
    doc = {
        "user": user,
        "token": secrets.token_hex(16),
        "expiry": isotime(expiry),
        "id": new_id(),
        "metadata": {},
        "service": False,
    }
    # Only the token's hash is stored, its document without the token (it is returned once, here).
    stored = {k: v for k, v in doc.items() if k != "token"}
    srv.db.execute(
        "INSERT INTO tokens (token, id, user, expiry, doc) VALUES (?, ?, ?, ?, ?)",
        (hash_token(doc["token"]), doc["id"], user, doc["expiry"], json.dumps(stored)),
    )
    return doc


async def create_token(request: Request) -> Response:
    srv = _server(request)
    header = request.headers.get("authorization", "")
    user = password = None
    if header.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = None
    if not user or srv.users.get(user) is None or not secrets.compare_digest(srv.users[user], password or ""):
        raise ApiError(401, "Invalid or missing credentials")
    body = await json_body(request)
    error = jsonschema.exceptions.best_match(Draft4Validator(TOKEN_REQUEST_SCHEMA).iter_errors(body))
    if error is not None:
        raise ApiError(400, error.message)
    ttl = body.get("ttl")
    if ttl is not None and ttl > srv.token_ttl:
        raise ApiError(400, f"TTL specified {ttl} is greater than max allowed {srv.token_ttl}.")
    doc = issue_token(srv, user, ttl)
    return json_response(doc, status=201, headers={"X-API-URL": srv.public_api_url()})


async def validate_token(request: Request) -> Response:
    authenticate(request)
    body = await json_body(request)
    token = body.get("token") if isinstance(body, dict) else None
    valid = False
    if isinstance(token, str):
        try:
            _check_token(_server(request), token, "body")
            valid = True
        except ApiError:
            valid = False
    return json_response({"valid": valid})


async def whoami(request: Request) -> Response:
    principal = authenticate(request)
    authentication: dict[str, Any] = {"method": principal.method, "location": principal.location}
    if principal.token_expire:
        authentication["token_expire"] = principal.token_expire
    return json_response(
        {
            "username": principal.user,
            "authentication": authentication,
            "rbac": {
                "enabled": principal.rbac_enabled,
                "roles": list(principal.roles),
                "is_admin": principal.is_admin,
            },
        }
    )


def _apikey_public(doc: dict[str, Any], request: Request) -> dict[str, Any]:
    """The key hash is a secret too: st2 masks it (and the uid, which contains it) unless asked."""
    if show_secrets(request):
        return doc
    return {**doc, "key_hash": MASK, "uid": MASK}


def _find_apikey(srv: DemoState, ref: str) -> dict[str, Any]:
    """By id or by the key itself (`ApiKey.get_by_key_or_id`)."""
    doc = srv.db.doc("SELECT doc FROM apikeys WHERE id = ? OR key_hash = ?", (ref, hash_api_key(ref)))
    if doc is None:
        raise ApiError(404, f"ApiKey matching {ref} for reference and id not found.")
    return doc


async def list_apikeys(request: Request) -> Response:
    authenticate(request, rbac.API_KEY_LIST)
    srv = _server(request)
    limit, offset = paging(request, 50)
    total = srv.db.scalar("SELECT COUNT(*) FROM apikeys")
    docs = srv.db.docs(
        "SELECT doc FROM apikeys ORDER BY id LIMIT ? OFFSET ?", (-1 if limit is None else limit, offset)
    )
    return json_response([_apikey_public(d, request) for d in docs], headers=page_headers(total, limit))


def _uid(doc: dict[str, Any]) -> str:
    return f"api_key:{doc['key_hash']}"


async def get_apikey(request: Request) -> Response:
    principal = authenticate(request)
    doc = _find_apikey(_server(request), request.path_params["ref"])
    rbac.require(principal, rbac.API_KEY_VIEW, _uid(doc))
    return json_response(_apikey_public(doc, request))


async def create_apikey(request: Request) -> Response:
    principal = authenticate(request)
    srv = _server(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Failed to parse request body: expected a JSON object")
    rbac.require(principal, rbac.API_KEY_CREATE)
    key = secrets.token_urlsafe(48)
    doc = {
        "id": new_id(),
        "uid": "",
        "user": body.get("user") or principal.user,
        "key_hash": hash_api_key(key),
        "metadata": body.get("metadata") or {},
        "created_at": isotime(utcnow()),
        "enabled": bool(body.get("enabled", True)),
    }
    doc["uid"] = f"api_key:{doc['key_hash']}"
    srv.db.execute(
        "INSERT INTO apikeys (id, key_hash, user, enabled, doc) VALUES (?, ?, ?, ?, ?)",
        (doc["id"], doc["key_hash"], doc["user"], int(doc["enabled"]), json.dumps(doc)),
    )
    # The key itself is returned once, on creation, in place of its hash; only the hash is stored.
    created = {k: v for k, v in doc.items() if k != "key_hash"}
    return json_response({**created, "key": key}, status=201)


async def update_apikey(request: Request) -> Response:
    principal = authenticate(request)
    srv = _server(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Failed to parse request body: expected a JSON object")
    doc = _find_apikey(srv, request.path_params["ref"])
    rbac.require(principal, rbac.API_KEY_MODIFY, _uid(doc))
    if "enabled" in body:
        doc["enabled"] = bool(body["enabled"])
    if isinstance(body.get("metadata"), dict):
        doc["metadata"] = body["metadata"]
    srv.db.execute(
        "UPDATE apikeys SET enabled = ?, doc = ? WHERE id = ?",
        (int(doc["enabled"]), json.dumps(doc), doc["id"]),
    )
    return json_response(_apikey_public(doc, request))


async def delete_apikey(request: Request) -> Response:
    principal = authenticate(request)
    srv = _server(request)
    doc = _find_apikey(srv, request.path_params["ref"])
    rbac.require(principal, rbac.API_KEY_DELETE, _uid(doc))
    srv.db.execute("DELETE FROM apikeys WHERE id = ?", (doc["id"],))
    return Response(status_code=204)


def routes() -> list[Route]:
    return [
        Route("/auth/v1/tokens", create_token, methods=["POST"]),
        Route("/auth/v1/tokens/validate", validate_token, methods=["POST"]),
        Route("/api/v1/user", whoami, methods=["GET"]),
        Route("/api/v1/apikeys", list_apikeys, methods=["GET"]),
        Route("/api/v1/apikeys", create_apikey, methods=["POST"]),
        Route("/api/v1/apikeys/{ref}", get_apikey, methods=["GET"]),
        Route("/api/v1/apikeys/{ref}", update_apikey, methods=["PUT"]),
        Route("/api/v1/apikeys/{ref}", delete_apikey, methods=["DELETE"]),
    ]
