"""The key-value datastore: `/api/v1/keys`, secret encryption, TTL expiry and `st2kv` lookups.

Documents follow st2's `KeyValuePairAPI.from_model`: system keys have the uid
`key_value_pair:st2kv.system:<name>`, user keys are stored under the reference `<user>:<name>` and
shown with `user` and their plain name. Secret values are stored encrypted with the server's crypto
key (kept in the `meta` table) and returned as upper-case hex ciphertext unless `decrypt=true`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import crypto, rbac
from .actions import st2_validate
from .auth import Principal, authenticate
from .state import DemoState
from .util import (
    ApiError,
    isotime_ms,
    json_body,
    json_response,
    new_id,
    paging,
    query_bool,
    query_list,
    query_str,
    utcnow,
)

SYSTEM_SCOPE = "st2kv.system"
USER_SCOPE = "st2kv.user"
ALL_SCOPE = "all"
ALLOWED_SCOPES = ["system", "user", SYSTEM_SCOPE, USER_SCOPE]
CRYPTO_META_KEY = "crypto_key"
# How often the expiry service deletes keys whose TTL passed (reads hide them at once anyway).
SWEEP_INTERVAL = 1.0

# `KeyValuePairRequest` of the spec; `name` and `value` are checked by the handler (see `put_key`).
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "value": {"type": "string"},
        "secret": {"type": "boolean"},
        "encrypted": {"type": "boolean"},
        "scope": {"type": "string"},
        "ttl": {"type": "integer"},
        "user": {"type": ["string", "null"]},
        "description": {"type": ["string", "null"]},
    },
}


def crypto_key(server: DemoState) -> str:
    """The per-server datastore key, generated on first use and kept in the database."""
    key = server.db.get_meta(CRYPTO_META_KEY)
    if key is None:
        key = crypto.generate_key()
        server.db.set_meta(CRYPTO_META_KEY, key)
    return key


def full_scope(scope: str) -> str:
    """`system` -> `st2kv.system` (st2's `get_datastore_full_scope`)."""
    if scope == ALL_SCOPE or "st2kv" in scope:
        return scope
    return f"st2kv.{scope}"


def _check_scope(scope: str) -> None:
    if scope not in ALLOWED_SCOPES:
        raise ApiError(400, f"Scope {scope} is not in allowed scopes list: {ALLOWED_SCOPES}.")


def key_ref(scope: str, name: str, user: str) -> str:
    return f"{user}:{name}" if scope == USER_SCOPE else name


def _now_iso() -> str:
    return isotime_ms(utcnow())


def _live_clause() -> str:
    return "(expire_timestamp IS NULL OR expire_timestamp > ?)"


def _public(doc: dict[str, Any], server: DemoState, decrypt: bool) -> dict[str, Any]:
    """The API document of a stored key; `decrypt` reveals secret values."""
    out = dict(doc)
    if doc.get("secret") and decrypt:
        out["value"] = crypto.decrypt(crypto_key(server), doc["value"])
        out["encrypted"] = False
    else:
        out["encrypted"] = bool(doc.get("secret"))
    return out


def _stored(server: DemoState, scope: str, ref: str) -> dict[str, Any] | None:
    return server.db.doc(
        f"SELECT doc FROM keys WHERE scope = ? AND name = ? AND {_live_clause()}", (scope, ref, _now_iso())
    )


def _not_found(scope: str, ref: str) -> ApiError:
    # st2's KeyValuePair.get_by_scope_and_name (3.9+); older releases said "KeyValuePair with name:
    # ... not found in db."
    return ApiError(404, f'The key "{ref}" does not exist in the StackStorm datastore.')


def store_key(
    server: DemoState,
    *,
    name: str,
    value: str,
    scope: str = SYSTEM_SCOPE,
    user: str | None = None,
    secret: bool = False,
    encrypted: bool = False,
    ttl: int | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Create or update a key (st2's `KeyValuePairAPI.to_model` + `add_or_update`); returns the stored doc.

    `scope` must be a full scope; `value` is plaintext unless `encrypted` (then it must decrypt with
    this server's key, which proves it was encrypted here and is not corrupted).
    """
    ref = key_ref(scope, name, user or "")
    if encrypted:
        secret = True
        try:
            crypto.decrypt(crypto_key(server), value)
        except Exception:
            raise ApiError(
                400,
                f'Failed to verify the integrity of the provided value for key "{ref}". Ensure that the '
                "value is encrypted with the correct key and not corrupted.",
            ) from None
    elif secret:
        value = crypto.encrypt(crypto_key(server), value)
    expire = isotime_ms(utcnow() + timedelta(seconds=ttl)) if ttl else None
    uid = f"key_value_pair:{scope}:{ref}"
    existing = server.db.query_one("SELECT id FROM keys WHERE uid = ?", (uid,))
    key_id = existing["id"] if existing else new_id()
    # Field order of st2's document: description, uid, scope, name, value, secret, expire_timestamp, id.
    doc: dict[str, Any] = {}
    if description:
        doc["description"] = description
    doc.update({"uid": uid, "scope": scope, "name": name, "value": value, "secret": secret})
    if expire:
        doc["expire_timestamp"] = expire
    doc["id"] = key_id
    if scope == USER_SCOPE:
        doc["user"] = user
    row = (scope, user if scope == USER_SCOPE else None, ref, expire, json.dumps(doc), uid)
    if existing:
        server.db.execute(
            "UPDATE keys SET scope = ?, user = ?, name = ?, expire_timestamp = ?, doc = ? WHERE uid = ?", row
        )
    else:
        server.db.execute(
            "INSERT INTO keys (scope, user, name, expire_timestamp, doc, uid, id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*row, key_id),
        )
    return doc


def _list_scope(
    server: DemoState,
    scope: str,
    *,
    prefix: str | None,
    name: str | None,
    ids: list[str] | None,
    limit: int | None,
    offset: int,
) -> list[dict[str, Any]]:
    sql = f"SELECT doc FROM keys WHERE scope = ? AND {_live_clause()}"
    params: list[Any] = [scope, _now_iso()]
    if name:
        sql += " AND name = ?"
        params.append(name)
    elif prefix:
        # Exact prefix match (GLOB would treat `*?[` specially; substr does not).
        sql += " AND substr(name, 1, ?) = ?"
        params += [len(prefix), prefix]
    if ids:
        sql += f" AND id IN ({','.join('?' * len(ids))})"
        params += ids
    sql += " ORDER BY rowid LIMIT ? OFFSET ?"
    params += [-1 if limit is None else limit, offset]
    return server.db.docs(sql, params)


async def list_keys(request: Request) -> Response:
    principal = authenticate(request)
    server: DemoState = request.app.state.server
    limit, offset = paging(request, 100)
    decrypt = query_bool(request, "decrypt", False)
    prefix = query_str(request, "prefix")
    name = query_str(request, "name")
    ids = query_list(request, "id")
    user = query_str(request, "user")
    scope = query_str(request, "scope") or SYSTEM_SCOPE
    if user:
        scope = USER_SCOPE
    scope = full_scope(scope)
    if scope not in [ALL_SCOPE, *ALLOWED_SCOPES]:
        raise ApiError(400, f"Invalid scope: {scope}")
    if decrypt and scope != USER_SCOPE:
        rbac.require_admin(principal, "Decrypt option requires administrator access")
    user = user or principal.user
    rbac.require_admin_for_user(principal, user, require_rbac=True)
    docs: list[dict[str, Any]] = []
    # System keys are listed for holders of a system role (observers too); st2 would list a user
    # without one only the keys granted to them one by one, and the demo grants none.
    if scope in (ALL_SCOPE, SYSTEM_SCOPE) and rbac.has_system_role(principal):
        docs += _list_scope(
            server, SYSTEM_SCOPE, prefix=prefix, name=name, ids=ids, limit=limit, offset=offset
        )
    if scope in (ALL_SCOPE, USER_SCOPE):
        # User keys are addressed by `<user>:<name>`, so filtering on that prefix keeps users apart.
        docs += _list_scope(
            server,
            USER_SCOPE,
            prefix=key_ref(USER_SCOPE, prefix or "", user),
            name=key_ref(USER_SCOPE, name, user) if name else None,
            ids=ids,
            limit=limit,
            offset=offset,
        )
    # A plain list without paging headers, as st2's controller returns it.
    return json_response([_public(doc, server, bool(decrypt)) for doc in docs])


def _scope_and_user(
    request: Request, principal: Principal, *, user_implies_user_scope: bool
) -> tuple[str, str]:
    scope = query_str(request, "scope") or SYSTEM_SCOPE
    if scope == ALL_SCOPE:
        scope = SYSTEM_SCOPE
    user = query_str(request, "user")
    if user and user_implies_user_scope:
        scope = USER_SCOPE
    scope = full_scope(scope)
    _check_scope(scope)
    user = user or principal.user
    rbac.require_admin_for_user(principal, user, require_rbac=True)
    return scope, user


async def get_key(request: Request) -> Response:
    principal = authenticate(request)
    server: DemoState = request.app.state.server
    scope, user = _scope_and_user(request, principal, user_implies_user_scope=True)
    decrypt = query_bool(request, "decrypt", False)
    ref = key_ref(scope, request.path_params["name"], user)
    # Viewing a key is enough to decrypt it (st2 checks nothing more for a single key).
    rbac.require_key(principal, rbac.KEY_VALUE_PAIR_VIEW, scope, ref)
    doc = _stored(server, scope, ref)
    if doc is None:
        raise _not_found(scope, ref)
    return json_response(_public(doc, server, bool(decrypt)))


async def put_key(request: Request) -> Response:
    principal = authenticate(request)
    server: DemoState = request.app.state.server
    # st2 (master) refuses a body without `name` before anything else, then checks the schema's
    # types, then `value` (recorded answers: tests/demo/test_keys.py).
    body = await json_body(request)
    if isinstance(body, dict) and "name" not in body:
        raise ApiError(400, "'name' is a required property")
    body = st2_validate(body, REQUEST_SCHEMA)
    if "value" not in body:
        raise ApiError(400, "'value' is a required property")
    scope = full_scope(body.get("scope") or SYSTEM_SCOPE)
    _check_scope(scope)
    user = body.get("user") or principal.user
    rbac.require_admin_for_user(principal, user, require_rbac=True)
    rbac.require_key(
        principal, rbac.KEY_VALUE_PAIR_SET, scope, key_ref(scope, request.path_params["name"], user)
    )
    if body.get("encrypted"):
        rbac.require_admin(principal, "Pre-encrypted option requires administrator access")
    doc = store_key(
        server,
        name=request.path_params["name"],
        value=body["value"],
        scope=scope,
        user=user,
        secret=bool(body.get("secret")),
        encrypted=bool(body.get("encrypted")),
        ttl=body.get("ttl"),
        description=body.get("description"),
    )
    return json_response(_public(doc, server, decrypt=False))


async def delete_key(request: Request) -> Response:
    principal = authenticate(request)
    server: DemoState = request.app.state.server
    scope, user = _scope_and_user(request, principal, user_implies_user_scope=False)
    ref = key_ref(scope, request.path_params["name"], user)
    rbac.require_key(principal, rbac.KEY_VALUE_PAIR_DELETE, scope, ref)
    if _stored(server, scope, ref) is None:
        raise _not_found(scope, ref)
    server.db.execute("DELETE FROM keys WHERE scope = ? AND name = ?", (scope, ref))
    return Response(status_code=204)


def routes() -> list[Route]:
    return [
        Route("/api/v1/keys", list_keys, methods=["GET"]),
        Route("/api/v1/keys/{name}", get_key, methods=["GET"]),
        Route("/api/v1/keys/{name}", put_key, methods=["PUT"]),
        Route("/api/v1/keys/{name}", delete_key, methods=["DELETE"]),
    ]


class KeyExpiry:
    """Service deleting keys whose TTL passed (what MongoDB's TTL index does for st2)."""

    def __init__(self, server: DemoState) -> None:
        self.server = server
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        crypto_key(self.server)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def sweep(self) -> int:
        cur = self.server.db.execute(
            "DELETE FROM keys WHERE expire_timestamp IS NOT NULL AND expire_timestamp <= ?", (_now_iso(),)
        )
        return cur.rowcount

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            self.sweep()


def stored_value(server: DemoState, scope: str, name: str, user: str) -> str | None:
    """A key's stored value (secrets stay encrypted), or None when it does not exist or expired."""
    doc = _stored(server, full_scope(scope), key_ref(full_scope(scope), name, user))
    return None if doc is None else doc["value"]


class KeyValueLookup:
    """`st2kv.system.<name>` / `st2kv.user.<name>` for a Jinja context built by hand.

    Attribute access builds dotted key names (`st2kv.system.a.b` reads key `a.b`); rendering the
    object gives the value, decrypted for secrets, or an empty string for a missing key.
    """

    def __init__(self, server: DemoState, scope: str, user: str, prefix: str = "") -> None:
        self._server = server
        self._scope = scope
        self._user = user
        self._prefix = prefix

    def _child(self, name: str) -> KeyValueLookup:
        key = f"{self._prefix}.{name}" if self._prefix else name
        return KeyValueLookup(self._server, self._scope, self._user, key)

    def __getattr__(self, name: str) -> KeyValueLookup:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._child(name)

    def __getitem__(self, name: str) -> KeyValueLookup:
        return self._child(name)

    def value(self) -> str:
        if not self._prefix:
            return ""
        doc = _stored(self._server, self._scope, key_ref(self._scope, self._prefix, self._user))
        if doc is None:
            return ""
        return _public(doc, self._server, decrypt=True)["value"]

    def __str__(self) -> str:
        return self.value()

    def __eq__(self, other: object) -> bool:
        return self.value() == (other.value() if isinstance(other, KeyValueLookup) else other)

    def __hash__(self) -> int:
        return hash(self.value())


class DatastoreLookup:
    """The datastore as parameter rendering sees it, for one user.

    - As the `st2kv` object of a Jinja context: `.system.<name>` and `.user.<name>` (secrets
      decrypted).
    - As `params.KvLookup`: calling it with `(scope, name, user)` gives the stored value, secrets
      encrypted as st2 renders them, and `.decrypt` is the `decrypt_kv` filter's function.
    """

    def __init__(self, server: DemoState, user: str) -> None:
        self._server = server
        self.system = KeyValueLookup(server, SYSTEM_SCOPE, user)
        self.user = KeyValueLookup(server, USER_SCOPE, user)

    def __call__(self, scope: str, name: str, user: str) -> str | None:
        return stored_value(self._server, scope, name, user)

    def decrypt(self, ciphertext: str) -> str:
        return crypto.decrypt(crypto_key(self._server), ciphertext)


def kv_lookup(server: DemoState, user: str) -> DatastoreLookup:
    """The datastore for rendering `user`'s parameters (see `DatastoreLookup`)."""
    return DatastoreLookup(server, user)
