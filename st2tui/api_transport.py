"""HTTP plumbing under the client: limits, bounded reading of answers, their faults and JSON, query values,
and the request log (masked, as `curl` lines with `--debug`)."""

from __future__ import annotations

import base64
import json
import logging
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from st2tui.api_errors import MalformedResponse, ResponseTooLarge
from st2tui.redact import MASK

logger = logging.getLogger("st2tui.api")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Answers larger than these are not read (a hostile or broken server must not fill memory): JSON answers,
# and an execution's stored output or result, which st2 keeps whole.
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_OUTPUT_BYTES = 256 * 1024 * 1024
# A stream event (st2stream sends whole execution documents) larger than this ends the stream; it reconnects.
MAX_EVENT_BYTES = 16 * 1024 * 1024
USER_AGENT = "st2tui"


_SECRET_HEADERS = frozenset({"x-auth-token", "st2-api-key", "authorization", "proxy-authorization", "cookie"})
_SECRET_QUERY = frozenset({"x-auth-token", "st2-api-key"})
_SECRET_KEY_RE = re.compile(
    r"pass(word|wd|phrase)?$|password|secret|token|api[_-]?key|private[_-]?key", re.IGNORECASE
)


@dataclass(frozen=True)
class RequestLog:
    """What the client reports for each request (to the ``on_request`` callback and logger ``st2tui.api``)."""

    method: str
    url: str
    status: int | None
    duration: float
    request_id: str | None
    error: str | None = None


def mask_url(url: str | httpx.URL) -> str:
    """The URL with credential query parameters (``x-auth-token``, ``st2-api-key``) masked."""
    parts = urlsplit(str(url))
    if not parts.query:
        return str(url)
    pairs = [
        (key, MASK if key.lower() in _SECRET_QUERY else value) for key, value in parse_qsl(parts.query, True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe=",*")))


def _mask_document(value: Any) -> Any:
    if isinstance(value, list):
        return [_mask_document(item) for item in value]
    if not isinstance(value, dict):
        return value
    secret_value = bool(value.get("secret"))
    masked = {}
    for key, item in value.items():
        if isinstance(item, str) and (_SECRET_KEY_RE.search(key) or (secret_value and key == "value")):
            masked[key] = MASK
        else:
            masked[key] = _mask_document(item)
    return masked


def _masked_body(request: httpx.Request) -> str | None:
    try:
        content = request.content
    except httpx.RequestNotRead:
        return "<streamed body omitted>"
    if not content:
        return None
    try:
        return json.dumps(_mask_document(json.loads(content)), separators=(",", ":"))
    except ValueError:
        return "<non-JSON body omitted>"


def curl_command(request: httpx.Request) -> str:
    """Render ``request`` as an equivalent ``curl`` command line with secrets masked (for ``--debug``)."""
    parts = ["curl", "-X", request.method]
    for raw_name, raw_value in request.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name.lower() in ("host", "content-length", "accept-encoding", "connection", "user-agent"):
            continue
        shown = MASK if name.lower() in _SECRET_HEADERS else value
        parts += ["-H", f"{name}: {shown}"]
    body = _masked_body(request)
    if body is not None:
        parts += ["--data-raw", body]
    parts.append(mask_url(request.url))
    return shlex.join(parts)


# --------------------------------------------------------------------------------------------------
# Helpers

ModelT = TypeVar("ModelT")


def format_query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, (list, tuple, set, frozenset)):
        # st2 reads array query parameters as one comma-separated value; repeated keys keep the last.
        return ",".join(format_query_value(item) for item in value)
    return str(value)


def int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def basic_auth_header(username: str, password: str) -> str:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {credentials}"


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def fault_of(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        text = response.text.strip()
        return (text[:500] if text else ""), None
    if isinstance(body, dict):
        fault = body.get("faultstring")
        conflict = body.get("conflict-id")
        return (str(fault) if fault is not None else ""), (str(conflict) if conflict else None)
    return "", None


def malformed(response: httpx.Response, detail: str) -> MalformedResponse:
    request = response.request
    return MalformedResponse(
        f"Unexpected response from {request.url.path}: {detail}",
        status=response.status_code,
        request_id=response.headers.get("X-Request-ID"),
        method=request.method,
        url=mask_url(request.url),
    )


def decode_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise malformed(response, f"invalid JSON ({exc})") from exc
    except RecursionError as exc:
        # json.loads recurses per level: 100k nested lists would otherwise escape as a raw RecursionError.
        raise malformed(response, "JSON nested too deeply") from exc


async def read_capped(response: httpx.Response, cap: int) -> None:
    """Read the body (decoded, so a compressed bomb counts at its real size) up to `cap` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_large(response, cap)
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise too_large(response, cap)
        parts.append(chunk)
    # What httpx's own aread() leaves: the body for .json()/.text.
    response._content = b"".join(parts)


def too_large(response: httpx.Response, cap: int) -> ResponseTooLarge:
    request = response.request
    return ResponseTooLarge(
        f"The answer from {request.url.path} is larger than {cap:,} bytes (settings: max_response_mb, max_output_mb); "
        "not read",
        status=response.status_code,
        request_id=response.headers.get("X-Request-ID"),
        method=request.method,
        url=mask_url(request.url),
    )


def build_model(model: Callable[[Any], ModelT], doc: Any, response: httpx.Response) -> ModelT:
    try:
        return model(doc)
    except (TypeError, ValueError) as exc:
        raise malformed(response, str(exc)) from exc
