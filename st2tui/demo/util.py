"""Small helpers shared by the demo server's routes: ids, timestamps, errors, query parsing."""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
_machine = os.urandom(5)

# st2's `[api] max_page_size`: larger limits are for admins only.
MAX_PAGE_SIZE = 100
INT_RE = re.compile(r"^-?[0-9]+$")
# The filter timestamp format of the spec (ISO8601_UTC_REGEX).
ISO8601_UTC_RE = re.compile(
    r"^\d{4}\-\d{2}\-\d{2}(\s|T)\d{2}:\d{2}:\d{2}(\.\d{3,6})?(Z|\+00|\+0000|\+00:00)$"
)


def new_id() -> str:
    """A 24-hex id shaped like a MongoDB ObjectId (time, machine, counter), as st2 uses."""
    return (
        int(time.time()).to_bytes(4, "big") + _machine + (next(_counter) & 0xFFFFFF).to_bytes(3, "big")
    ).hex()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def isotime(dt: datetime) -> str:
    """st2's timestamp format: UTC, microseconds, `Z`."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def isotime_ms(dt: datetime) -> str:
    """Millisecond precision padded to six digits: what st2 returns for dates stored as BSON dates."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}000Z"


def parse_isotime(value: str) -> datetime:
    value = value.strip().replace(" ", "T")
    for suffix in ("+00:00", "+0000", "+00"):
        if value.endswith(suffix):
            value = value[: -len(suffix)] + "Z"
            break
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def drop_falsy(doc: dict[str, Any]) -> dict[str, Any]:
    """Real st2 leaves out attributes whose value is falsy (`if value` in `from_model`)."""
    return {k: v for k, v in doc.items() if v}


def dumps(value: Any) -> bytes:
    """Compact JSON, like st2's orjson encoder (no spaces, UTF-8)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class ApiError(Exception):
    """An error answered as st2 does: `{"faultstring": ...}` with an HTTP status (and extra keys)."""

    def __init__(self, status: int, faultstring: str, **extra: Any) -> None:
        super().__init__(faultstring)
        self.status = status
        self.faultstring = faultstring
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"faultstring": self.faultstring, **self.extra}


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(value), status_code=status, media_type="application/json", headers=headers)


def error_response(err: ApiError) -> Response:
    return json_response(err.body(), status=err.status)


def query_str(request: Request, name: str) -> str | None:
    """The last value of a query parameter (WebOb `MultiDict.get` semantics: last wins)."""
    values = request.query_params.getlist(name)
    return values[-1] if values else None


def query_int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = query_str(request, name)
    if raw is None or raw == "":
        return default
    if not INT_RE.match(raw):
        raise ApiError(400, f'Parameter "{name}" is not of type integer')
    return int(raw)


_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n"}


def query_bool(request: Request, name: str, default: bool | None = None) -> bool | None:
    raw = query_str(request, name)
    if raw is None or raw == "":
        return default
    low = raw.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ApiError(400, f'Parameter "{name}" is not of type boolean')


def query_list(request: Request, name: str) -> list[str] | None:
    """Comma-separated array query parameter (`?include_attributes=id,status`)."""
    raw = query_str(request, name)
    if raw is None or raw == "":
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def query_timestamp(request: Request, name: str) -> datetime | None:
    raw = query_str(request, name)
    if raw is None or raw == "":
        return None
    if not ISO8601_UTC_RE.match(raw):
        raise ApiError(400, f'Parameter "{name}" does not match the format of a UTC timestamp: "{raw}"')
    return parse_isotime(raw)


async def json_body(request: Request, *, max_bytes: int = 16 * 1024 * 1024) -> Any:
    """Parse a request body as st2's router does: empty body means `{}`; errors are 400."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    raw = await request.body()
    if len(raw) > max_bytes:
        raise ApiError(413, f"Request body is too large ({len(raw)} bytes, maximum is {max_bytes}).")
    if content_type not in ("application/json", "text/plain", ""):
        raise ApiError(400, f'Failed to parse request body: Unsupported Content-Type: "{content_type}"')
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"Failed to parse request body: {exc}") from None


def requester_is_admin(request: Request) -> bool:
    """Whether the authenticated user (`auth.authenticate` keeps it on the request) is an admin.

    With RBAC off every user is one, as with st2's default noop backend.
    """
    principal = getattr(request.state, "principal", None)
    return principal is not None and principal.is_admin


def show_secrets(request: Request) -> bool:
    """`?show_secrets=true` unmasks secrets for admins only; st2 ignores it for everyone else."""
    return bool(query_bool(request, "show_secrets", False)) and requester_is_admin(request)


def paging(request: Request, default_limit: int | None) -> tuple[int | None, int]:
    """Validate `limit`/`offset` as st2's `validate_limit_query_param` does.

    `limit=-1` (all) and limits above the page maximum are for admins only.
    """
    limit = query_int(request, "limit", default_limit)
    offset = query_int(request, "offset", 0) or 0
    if limit is not None:
        if limit == 0:
            raise ApiError(400, 'Limit, "0" specified, must be a positive number or -1 for full result set.')
        if limit == -1:
            if not requester_is_admin(request):
                raise ApiError(
                    403,
                    "Administrator access required to be able to specify limit=-1 and retrieve all the records",
                )
            limit = None
        elif limit <= -2:
            raise ApiError(400, f'Limit, "{limit}" specified, must be a positive number.')
        elif limit > MAX_PAGE_SIZE and not requester_is_admin(request):
            raise ApiError(403, f'Limit "{limit}" specified, maximum value is "{MAX_PAGE_SIZE}"')
    if offset < 0:
        # st2 slices the queryset with it (`result[offset:eop]`) and pymongo refuses negative
        # indices with an IndexError: an unhandled 500.
        raise ApiError(500, "Internal Server Error")
    return limit, offset


def page_headers(total: int, limit: int | None) -> dict[str, str]:
    headers = {"X-Total-Count": str(total)}
    if limit is not None:
        headers["X-Limit"] = str(limit)
    return headers


def unresolved_include(field: str, *, single: bool) -> str:
    """st2's 400 text for an include attribute mongoengine cannot resolve."""
    name = f'Cannot resolve field "{field}"' if single else field
    return f"Invalid or unsupported include attribute specified: {name}"
