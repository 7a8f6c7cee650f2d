"""Async StackStorm client: REST resources and the two SSE streams, on one ``httpx.AsyncClient``.

Every call goes through ``St2Client._request(op, ...)`` where ``op`` names an entry of ``ENDPOINTS``:
the HTTP method, the path exactly as the OpenAPI spec writes it (``/api/v1/executions/{id}``) and
the query parameters the call may send. The spec-coverage test checks that table against the spec.

Resources hang off the client with one naming scheme, ``client.<resource>.<verb>(...)``::

    async with St2Client(api_url=..., auth_url=..., stream_url=..., username=..., password=...) as client:
        page = await client.executions.list(limit=50, parent="null")
        async with contextlib.aclosing(client.streams.events()) as events:
            async for item in events:
                ...
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import re
import shlex
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
from httpx_sse import EventSource

from st2tui.models import (
    TERMINAL_STATUSES,
    TOKEN_GRACE_SECONDS,
    Action,
    Execution,
    Inquiry,
    InquiryResponse,
    KeyValuePair,
    OutputChunk,
    Pack,
    Page,
    ParameterSpec,
    Rule,
    RuleEnforcement,
    RunnerType,
    StreamEvent,
    Token,
    WhoAmI,
)
from st2tui.redact import MASK, remember_secret

if TYPE_CHECKING:
    from st2tui.config import Connection
    from st2tui.credentials import TokenCache

__all__ = [
    "ENDPOINTS",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "Endpoint",
    "Forbidden",
    "MalformedResponse",
    "NetworkError",
    "NotFound",
    "OperationRejected",
    "ReconnectPolicy",
    "RequestLog",
    "RequestTimeout",
    "ResponseTooLarge",
    "ServerError",
    "St2Client",
    "St2Error",
    "StreamConnected",
    "StreamDisconnected",
    "StreamOptions",
    "StreamReconnected",
    "Unauthorized",
    "curl_command",
    "mask_url",
]

logger = logging.getLogger("st2tui.api")

# Asked with st2's reason when the session cannot be renewed silently; returns (username, password).
CredentialsPrompt = Callable[[str], Awaitable["tuple[str, str] | None"]]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Answers larger than these are not read (a hostile or broken server must not fill memory): JSON answers,
# and an execution's stored output or result, which st2 keeps whole.
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_OUTPUT_BYTES = 256 * 1024 * 1024
# A stream event (st2stream sends whole execution documents) larger than this ends the stream; it reconnects.
MAX_EVENT_BYTES = 16 * 1024 * 1024
USER_AGENT = "st2tui"


# --------------------------------------------------------------------------------------------------
# Errors


class St2Error(Exception):
    """Any failure talking to StackStorm.

    ``status`` is the HTTP status (None for network failures), ``faultstring`` st2's error message,
    ``request_id`` the ``X-Request-ID`` response header and ``conflict_id`` the id of the existing
    object on a 409.
    """

    def __init__(
        self,
        faultstring: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        conflict_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(faultstring)
        self.faultstring = faultstring
        self.status = status
        self.request_id = request_id
        self.conflict_id = conflict_id
        self.method = method
        self.url = url

    def __str__(self) -> str:
        prefix = f"HTTP {self.status}: " if self.status is not None else ""
        return f"{prefix}{self.faultstring}"


class BadRequest(St2Error):
    """400: invalid parameters, body or state transition."""


class Unauthorized(St2Error):
    """401: missing, unknown or expired credentials (after any automatic re-login)."""


class Forbidden(St2Error):
    """403: RBAC denied the operation."""


class NotFound(St2Error):
    """404: unknown object or route."""


class Conflict(St2Error):
    """409: the object already exists; ``conflict_id`` names it."""


class ServerError(St2Error):
    """5xx, including nginx's 503 when an st2 service is down."""


class OperationRejected(St2Error):
    """The server answered 200 but refused the operation (e.g. cancel of a finished execution)."""


class MalformedResponse(St2Error):
    """The response could not be understood (bad JSON, wrong shape, not an event stream)."""


class NetworkError(St2Error):
    """The request did not get an HTTP answer."""


class ConnectionFailed(NetworkError):
    """Connection refused, DNS failure, TLS failure or connection dropped."""


class RequestTimeout(NetworkError):
    """No answer within the configured timeout."""


def transport_reason(exc: BaseException, url: httpx.URL) -> str:
    """Why a request got no answer, in words an operator can act on (not `[SSL: WRONG_VERSION_NUMBER]`)."""
    where = f"{url.scheme}://{url.netloc.decode()}"
    text = str(exc) or type(exc).__name__
    if url.scheme == "https" and any(
        marker in text
        for marker in ("WRONG_VERSION_NUMBER", "record layer failure", "packet length too long")
    ):
        plain = url.copy_with(scheme="http")
        return (
            f"{where} answered in plain HTTP, not HTTPS: use "
            f"{plain.scheme}://{plain.netloc.decode()} (or put TLS in front of it)"
        )
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = (
            text.split("certificate verify failed:", 1)[-1].strip(" )]'\"")
            if "verify failed:" in text
            else ""
        )
        return (
            f"The certificate of {where} is not trusted{f' ({detail})' if detail else ''}: "
            "give its CA bundle with --cacert (or [general] cacert), or --insecure to skip the check"
        )
    if isinstance(exc, httpx.ConnectError) and ("Connection refused" in text or "Errno 111" in text):
        return f"Cannot reach {where}: connection refused (is StackStorm running, is the port right?)"
    return f"Cannot reach {where}: {text}"


_STATUS_ERRORS: dict[int, type[St2Error]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


# --------------------------------------------------------------------------------------------------
# Endpoint registry


@dataclass(frozen=True)
class Endpoint:
    """One operation of the st2 API as the spec declares it."""

    method: str
    path: str
    query: frozenset[str] = frozenset()

    @property
    def prefix(self) -> str:
        """The service prefix of the spec path: ``/auth/v1``, ``/api/v1`` or ``/stream/v1``."""
        return "/" + "/".join(self.path.split("/")[1:3])


def _ep(method: str, path: str, *query: str) -> Endpoint:
    return Endpoint(method, path, frozenset(query))


_LIST_ATTRS = ("include_attributes", "exclude_attributes")
_EXECUTION_FILTERS = (
    "id",
    "status",
    "parent",
    "action",
    "runner",
    "user",
    "rule",
    "trigger",
    "trigger_type",
    "trigger_instance",
    "liveaction",
    "timestamp",
    "timestamp_gt",
    "timestamp_lt",
    "filter",
)

ENDPOINTS: dict[str, Endpoint] = {
    "server.root": _ep("GET", "/api/v1/"),
    "auth.create_token": _ep("POST", "/auth/v1/tokens"),
    "auth.whoami": _ep("GET", "/api/v1/user"),
    "executions.list": _ep(
        "GET",
        "/api/v1/executions",
        "limit",
        "offset",
        "sort",
        "sort_asc",
        "sort_desc",
        "show_secrets",
        *_LIST_ATTRS,
        *_EXECUTION_FILTERS,
    ),
    "executions.get": _ep("GET", "/api/v1/executions/{id}", *_LIST_ATTRS, "show_secrets", "max_result_size"),
    "executions.children": _ep("GET", "/api/v1/executions/{id}/children", "depth", "result_fmt"),
    "executions.output": _ep("GET", "/api/v1/executions/{id}/output", "output_type"),
    "executions.result": _ep("GET", "/api/v1/executions/{id}/result", "pretty_format"),
    "executions.run": _ep("POST", "/api/v1/executions", "show_secrets"),
    "executions.cancel": _ep("DELETE", "/api/v1/executions/{id}", "show_secrets"),
    "executions.update": _ep("PUT", "/api/v1/executions/{id}", "show_secrets"),
    "executions.rerun": _ep("POST", "/api/v1/executions/{id}/re_run", "show_secrets"),
    "executions.filter_values": _ep("GET", "/api/v1/executions/views/filters", "types"),
    "actions.list": _ep(
        "GET", "/api/v1/actions", *_LIST_ATTRS, "limit", "offset", "id", "name", "pack", "tags"
    ),
    "actions.get": _ep("GET", "/api/v1/actions/{ref_or_id}"),
    "actions.parameters": _ep("GET", "/api/v1/actions/views/parameters/{ref_or_id}"),
    "runner_types.list": _ep(
        "GET", "/api/v1/runnertypes", *_LIST_ATTRS, "limit", "offset", "sort", "id", "name"
    ),
    "runner_types.get": _ep("GET", "/api/v1/runnertypes/{name_or_id}"),
    "packs.list": _ep("GET", "/api/v1/packs", *_LIST_ATTRS, "limit", "offset", "sort", "id", "name", "ref"),
    "packs.get": _ep("GET", "/api/v1/packs/{ref_or_id}"),
    "rules.list": _ep(
        "GET",
        "/api/v1/rules",
        *_LIST_ATTRS,
        "limit",
        "id",
        "name",
        "pack",
        "action",
        "trigger",
        "enabled",
        "show_secrets",
    ),
    "rules.get": _ep("GET", "/api/v1/rules/{ref_or_id}", "show_secrets"),
    "rules.update": _ep("PUT", "/api/v1/rules/{rule_ref_or_id}"),
    "rule_enforcements.list": _ep(
        "GET",
        "/api/v1/ruleenforcements",
        *_LIST_ATTRS,
        "limit",
        "offset",
        "sort",
        "id",
        "rule_ref",
        "rule_id",
        "execution",
        "trigger_instance",
        "enforced_at_gt",
        "enforced_at_lt",
    ),
    "rule_enforcements.get": _ep("GET", "/api/v1/ruleenforcements/{id}"),
    "keys.list": _ep(
        "GET", "/api/v1/keys", "prefix", "scope", "decrypt", "user", "limit", "offset", "sort", "id", "name"
    ),
    "keys.get": _ep("GET", "/api/v1/keys/{name}", "scope", "decrypt", "user"),
    "keys.set": _ep("PUT", "/api/v1/keys/{name}"),
    "keys.delete": _ep("DELETE", "/api/v1/keys/{name}", "scope", "user"),
    "inquiries.list": _ep("GET", "/api/v1/inquiries", *_LIST_ATTRS, "limit"),
    "inquiries.get": _ep("GET", "/api/v1/inquiries/{inquiry_id}"),
    "inquiries.respond": _ep("PUT", "/api/v1/inquiries/{inquiry_id}"),
    "streams.events": _ep(
        "GET", "/stream/v1/stream", "events", "action_refs", "execution_ids", "end_event", "end_execution_id"
    ),
    "streams.output": _ep("GET", "/stream/v1/executions/{id}/output", "output_type"),
}


# --------------------------------------------------------------------------------------------------
# Request logging and secret masking

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
# Streams


@dataclass(frozen=True)
class ReconnectPolicy:
    """Capped exponential backoff with jitter for stream reconnects."""

    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5
    max_attempts: int | None = None

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before reconnect ``attempt`` (1-based)."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** max(attempt - 1, 0))
        spread = (rng or random).random() * self.jitter
        return base * (1.0 - spread)


@dataclass(frozen=True)
class StreamOptions:
    """Dead-connection detection and reconnect settings for the SSE streams.

    st2 writes a bare newline on ``/stream`` every 25 s, so ``heartbeat_timeout`` of silence means the
    connection is dead. The output endpoint sends nothing while an execution is quiet, so after
    ``output_idle_timeout`` of silence the client asks the REST API whether the execution finished.
    """

    heartbeat_timeout: float = 60.0
    output_idle_timeout: float = 30.0
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)


@dataclass(frozen=True)
class StreamConnected:
    """Yielded each time a stream (re)opens: the server accepted it and events will follow."""


@dataclass(frozen=True)
class StreamReconnected:
    """Yielded after a stream came back: st2 replays nothing, so resync state over REST."""

    attempts: int
    downtime: float


@dataclass(frozen=True)
class StreamDisconnected:
    """Yielded when a stream dropped; the client retries after ``retry_in`` seconds."""

    reason: str
    attempt: int
    retry_in: float


class _StreamStalled(Exception):
    """Internal: the stream is considered dead and must be reopened."""


async def _next_or_idle(
    iterator: AsyncIterator[bytes], idle_timeout: float, on_idle: Callable[[], Awaitable[None]]
) -> bytes:
    """Next chunk of ``iterator``; every ``idle_timeout`` of silence calls ``on_idle`` (which may raise).

    The pending read is kept across idle periods, so a quiet but healthy connection is not torn down.
    """
    pending = asyncio.ensure_future(iterator.__anext__())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=idle_timeout)
            if done:
                return pending.result()
            await on_idle()
    finally:
        if not pending.done():
            pending.cancel()
            await asyncio.wait({pending})


class _IdleWatchedStream(httpx.AsyncByteStream):
    """The stream's bytes under idle watch, and bounded: an event (bytes up to a blank line) larger than
    `max_event_bytes`, e.g. a line that never ends, ends the stream with MalformedResponse (the stream then
    reconnects) instead of growing in the SSE decoder."""

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        idle_timeout: float,
        on_idle: Callable[[], Awaitable[None]],
        max_event_bytes: int = MAX_EVENT_BYTES,
    ) -> None:
        self._chunks = chunks
        self._idle_timeout = idle_timeout
        self._on_idle = on_idle
        self._max_event_bytes = max_event_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pending = 0  # bytes since the last blank line (end of an event)
        while True:
            try:
                chunk = await _next_or_idle(self._chunks, self._idle_timeout, self._on_idle)
            except StopAsyncIteration:
                return
            end = max(chunk.rfind(b"\n\n"), chunk.rfind(b"\r\n\r\n"))
            pending = len(chunk) - end if end >= 0 else pending + len(chunk)
            if pending > self._max_event_bytes:
                raise MalformedResponse(
                    f"Stream event larger than {self._max_event_bytes:,} bytes "
                    "(settings: max_event_mb); reconnecting"
                )
            yield chunk


# --------------------------------------------------------------------------------------------------
# Helpers

ModelT = TypeVar("ModelT")


def _format_query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, (list, tuple, set, frozenset)):
        # st2 reads array query parameters as one comma-separated value; repeated keys keep the last.
        return ",".join(_format_query_value(item) for item in value)
    return str(value)


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _basic_auth_header(username: str, password: str) -> str:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {credentials}"


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


# --------------------------------------------------------------------------------------------------
# Client


class St2Client:
    """Async client for one StackStorm installation.

    Authentication, in the order st2 itself prefers: ``token`` (``X-Auth-Token``), ``api_key``
    (``St2-Api-Key``), or ``username``/``password`` from which a token is obtained on first use,
    refreshed 15 s before expiry and renewed once on a 401. ``on_token`` is called with every new
    token (e.g. to write the st2 CLI token cache).

    When a 401 cannot be cured that way (a token or API key that expired or was revoked, a password
    changed meanwhile), ``prompt_credentials`` (if set) is awaited with st2's reason and returns a
    username and password (or None to give up); the request that failed is then sent again, so the
    caller never sees the interruption. Concurrent failures share one prompt.
    """

    prompt_credentials: CredentialsPrompt | None = None

    def __init__(
        self,
        *,
        api_url: str,
        auth_url: str,
        stream_url: str,
        token: str | None = None,
        token_expiry: datetime | None = None,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        cacert: str | None = None,
        insecure: bool = False,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        basic_auth: tuple[str, str] | None = None,
        stream_options: StreamOptions | None = None,
        on_token: Callable[[Token], None] | None = None,
        on_request: Callable[[RequestLog], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_output_bytes: int = MAX_OUTPUT_BYTES,
        max_event_bytes: int = MAX_EVENT_BYTES,
    ) -> None:
        self._bases = {
            "/api/v1": api_url.rstrip("/"),
            "/auth/v1": auth_url.rstrip("/"),
            "/stream/v1": stream_url.rstrip("/"),
        }
        self._token = token
        self._token_expiry = token_expiry
        self._api_key = api_key
        self._username = username
        self._password = password
        remember_secret(token, api_key, password)
        self._basic_auth = _basic_auth_header(*basic_auth) if basic_auth else None
        self.max_body_bytes = max_body_bytes
        self.max_output_bytes = max_output_bytes
        self.max_event_bytes = max_event_bytes
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.stream_options = stream_options or StreamOptions()
        self._on_token = on_token
        self._on_request = on_request
        # When the server last answered (any status below 500, or a stream event), as time.time(): a float
        # per event is all the stream's hot path pays; `last_contact` makes the datetime when asked.
        self._last_contact_at: float | None = None
        self._login_lock = asyncio.Lock()
        self._prompt_lock = asyncio.Lock()
        uses_tls = any(url.lower().startswith("https:") for url in (api_url, auth_url, stream_url))
        self._http = httpx.AsyncClient(
            # Loading the CA bundle costs ~40 ms of start-up, for nothing when no URL is https.
            verify=self._verify(cacert, insecure) if uses_tls else False,
            timeout=self._timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=60.0),
        )
        self.server = ServerResource(self)
        self.auth = AuthResource(self)
        self.executions = ExecutionsResource(self)
        self.actions = ActionsResource(self)
        self.runner_types = RunnerTypesResource(self)
        self.packs = PacksResource(self)
        self.rules = RulesResource(self)
        self.rule_enforcements = RuleEnforcementsResource(self)
        self.keys = KeysResource(self)
        self.inquiries = InquiriesResource(self)
        self.streams = StreamsResource(self)

    @classmethod
    def from_connection(
        cls,
        connection: Connection,
        *,
        password: str | None = None,
        api_key: str | None = None,
        token_cache: TokenCache | None = None,
        **kwargs: Any,
    ) -> St2Client:
        """Build a client from a resolved ``config.Connection``.

        ``password``/``api_key`` override the connection's (e.g. values read from the keyring). With a
        ``token_cache`` the st2 CLI's cached token is reused when ``[cli] cache_token`` allows it, and
        every new token is written back, like ``st2 login`` does.
        """
        token = connection.token
        token_expiry = None
        if token is None and connection.username and token_cache is not None and connection.cache_token:
            cached = token_cache.load(connection.username)
            if cached is not None:
                token, token_expiry = cached.token, cached.expiry
        on_token = kwargs.pop("on_token", None)
        if token_cache is not None and on_token is None:
            on_token = token_cache.save
        return cls(
            api_url=connection.api_url,
            auth_url=connection.auth_url,
            stream_url=connection.stream_url,
            token=token,
            token_expiry=token_expiry,
            api_key=api_key or connection.api_key,
            username=connection.username,
            password=password if password is not None else connection.password,
            cacert=connection.cacert,
            insecure=connection.insecure,
            basic_auth=connection.basic_auth,
            on_token=on_token,
            **kwargs,
        )

    @staticmethod
    def _verify(cacert: str | None, insecure: bool) -> bool | ssl.SSLContext:
        if insecure:
            return False
        if cacert:
            return ssl.create_default_context(cafile=cacert)
        return True

    async def __aenter__(self) -> St2Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- credentials -------------------------------------------------------------------------------

    @property
    def last_contact(self) -> datetime | None:
        """When the server last answered: how old what is on screen may be."""
        if self._last_contact_at is None:
            return None
        return datetime.fromtimestamp(self._last_contact_at, timezone.utc)

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def token_expiry(self) -> datetime | None:
        return self._token_expiry

    @property
    def username(self) -> str | None:
        return self._username

    @property
    def has_credentials(self) -> bool:
        """True when the client can authenticate without asking the user."""
        return bool(self._token or self._api_key or (self._username and self._password))

    @property
    def can_login(self) -> bool:
        return bool(self._username and self._password)

    def set_credentials(self, *, username: str | None = None, password: str | None = None) -> None:
        """Remember credentials for automatic (re-)login; the current token is kept until it fails."""
        self._username = username
        self._password = password
        remember_secret(password)

    def set_token(self, token: Token | str | None, expiry: datetime | None = None) -> None:
        if isinstance(token, Token):
            self._token, self._token_expiry = token.token, token.expiry
        else:
            self._token, self._token_expiry = token, expiry
        remember_secret(self._token)

    def set_api_key(self, api_key: str | None) -> None:
        self._api_key = api_key
        remember_secret(api_key)

    def _token_is_stale(self) -> bool:
        if not self._token:
            return True
        if self._token_expiry is None:
            return False
        remaining = (self._token_expiry - datetime.now(timezone.utc)).total_seconds()
        return remaining <= TOKEN_GRACE_SECONDS

    async def _ensure_token(self) -> None:
        if self._api_key and not self._token:
            return
        if self.can_login and self._token_is_stale():
            await self._relogin(stale_token=self._token)

    async def _relogin(self, stale_token: str | None) -> None:
        async with self._login_lock:
            # Another request may have logged in while this one waited for the lock.
            if self._token != stale_token and not self._token_is_stale():
                return
            assert self._username is not None and self._password is not None
            token = await self.auth.create_token(self._username, self._password)
            self._adopt(token)

    async def _recover_from_401(self, stale_token: str | None, response: httpx.Response) -> bool:
        """Get a working token after ``response`` (a 401): True when the request may be sent again."""
        reason, _ = _fault_of(response)
        if self.can_login:
            try:
                await self._relogin(stale_token=stale_token)
                return True
            except Unauthorized as exc:
                reason = exc.faultstring  # the stored password no longer works: ask, if we may
        if self.prompt_credentials is None:
            return False
        async with self._prompt_lock:
            # While this request waited, another one's prompt may already have signed in again.
            if self._token and self._token != stale_token and not self._token_is_stale():
                return True
            while True:
                answer = await self.prompt_credentials(reason)
                if answer is None:
                    return False
                username, password = answer
                try:
                    token = await self.auth.create_token(username, password)
                except Unauthorized as exc:
                    reason = exc.faultstring
                    continue
                self.set_credentials(username=username, password=password)
                self._adopt(token)
                return True

    def _adopt(self, token: Token) -> None:
        self._token, self._token_expiry = token.token, token.expiry
        remember_secret(token.token)
        if self._on_token is not None:
            self._on_token(token)

    def _auth_headers(self) -> dict[str, str]:
        headers = {}
        if self._token:
            headers["X-Auth-Token"] = self._token
        if self._api_key:
            headers["St2-Api-Key"] = self._api_key
        return headers

    # -- request pipeline --------------------------------------------------------------------------

    def _build_request(
        self,
        op: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        authenticated: bool = True,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Request:
        endpoint = ENDPOINTS[op]
        query = _compact(params or {})
        unknown = set(query) - endpoint.query
        if unknown:
            raise ValueError(f"{op}: query parameters {sorted(unknown)} are not declared for {endpoint.path}")
        route = endpoint.path[len(endpoint.prefix) :]
        for name, value in (path or {}).items():
            route = route.replace("{" + name + "}", quote(str(value), safe=""))
        if "{" in route:
            raise ValueError(f"{op}: missing path parameters in {endpoint.path}")
        url = self._bases[endpoint.prefix] + route
        request_headers = dict(headers or {})
        if authenticated:
            request_headers.update(self._auth_headers())
        if self._basic_auth is not None:
            # The st2 CLI's [credentials] basic_auth: for a proxy in front of st2, never on the token request
            # (which carries the st2 user's own basic auth).
            request_headers.setdefault("Authorization", self._basic_auth)
        try:
            return self._http.build_request(
                endpoint.method,
                url,
                params={key: _format_query_value(value) for key, value in query.items()} or None,
                json=json_body,
                headers=request_headers,
                timeout=timeout or self._timeout,
            )
        except httpx.InvalidURL as exc:  # e.g. a name or filter too long for any URL
            raise St2Error(
                f"Cannot send this request to {endpoint.path}: {exc}", method=endpoint.method
            ) from exc

    async def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        started = time.monotonic()
        try:
            if stream:
                # Streams run without a read timeout (idle detection is ours); bound the wait for headers.
                response = await asyncio.wait_for(
                    self._http.send(request, stream=True), timeout=self._timeout.read or None
                )
            else:
                response = await self._http.send(request, stream=True)
                try:
                    await _read_capped(response, self._body_cap(request))
                finally:
                    await response.aclose()
        except (httpx.TimeoutException, asyncio.TimeoutError) as exc:
            self._log(request, None, started, error="timeout")
            raise RequestTimeout(
                f"No answer from {request.url.host} within the timeout",
                method=request.method,
                url=mask_url(request.url),
            ) from exc
        except httpx.TransportError as exc:
            self._log(request, None, started, error=type(exc).__name__)
            raise ConnectionFailed(
                transport_reason(exc, request.url),
                method=request.method,
                url=mask_url(request.url),
            ) from exc
        self._log(request, response, started)
        if response.status_code < 500:
            self._last_contact_at = time.time()
        return response

    def _body_cap(self, request: httpx.Request) -> int:
        path = request.url.path
        if path.endswith(("/output", "/result")):
            return self.max_output_bytes
        return self.max_body_bytes

    def _log(
        self,
        request: httpx.Request,
        response: httpx.Response | None,
        started: float,
        error: str | None = None,
    ) -> None:
        record = RequestLog(
            method=request.method,
            url=mask_url(request.url),
            status=response.status_code if response is not None else None,
            duration=time.monotonic() - started,
            request_id=response.headers.get("X-Request-ID") if response is not None else None,
            error=error,
        )
        logger.info(
            "%s %s -> %s in %.1f ms request_id=%s",
            record.method,
            record.url,
            record.status if record.status is not None else record.error,
            record.duration * 1000,
            record.request_id,
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s", curl_command(request))
        if self._on_request is not None:
            self._on_request(record)

    async def _request(
        self,
        op: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one authenticated API call, re-logging in once on a 401, and raise ``St2Error`` on failure."""
        await self._ensure_token()
        used_token = self._token
        request = self._build_request(op, path=path, params=params, json_body=json_body, headers=headers)
        response = await self._send(request)
        if response.status_code == 401 and await self._recover_from_401(used_token, response):
            request = self._build_request(op, path=path, params=params, json_body=json_body, headers=headers)
            response = await self._send(request)
        self._raise_for_status(response)
        return response

    @staticmethod
    def _raise_for_status(response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        request = response.request
        faultstring, conflict_id = _fault_of(response)
        if 300 <= status < 400:
            location = response.headers.get("Location", "")
            faultstring = f"Redirected to {location}; configure that URL instead" if location else faultstring
        error_cls = _STATUS_ERRORS.get(status, ServerError if status >= 500 else St2Error)
        raise error_cls(
            faultstring or response.reason_phrase or f"HTTP {status}",
            status=status,
            request_id=response.headers.get("X-Request-ID"),
            conflict_id=conflict_id,
            method=request.method,
            url=mask_url(request.url),
        )

    async def _json(self, op: str, **kwargs: Any) -> tuple[Any, httpx.Response]:
        response = await self._request(op, **kwargs)
        return _decode_json(response), response

    async def _model(self, op: str, model: Callable[[Any], ModelT], **kwargs: Any) -> ModelT:
        doc, response = await self._json(op, **kwargs)
        return _build(model, doc, response)

    async def _page(
        self, op: str, model: Callable[[Any], ModelT], params: Mapping[str, Any], **kwargs: Any
    ) -> Page[ModelT]:
        doc, response = await self._json(op, params=params, **kwargs)
        if not isinstance(doc, list):
            raise _malformed(response, f"expected a JSON list, got {type(doc).__name__}")
        items = [_build(model, item, response) for item in doc]
        limit = _int_header(response, "X-Limit")
        if limit is None and isinstance(params.get("limit"), int):
            limit = params["limit"]
        offset = params.get("offset")
        return Page(
            items=items,
            total=_int_header(response, "X-Total-Count"),
            limit=limit,
            offset=offset if isinstance(offset, int) else 0,
        )

    @asynccontextmanager
    async def _open_stream(
        self,
        op: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        idle_timeout: float,
        on_idle: Callable[[], Awaitable[None]],
    ) -> AsyncIterator[AsyncIterator[Any]]:
        """Open an SSE endpoint and yield its events (httpx-sse ``ServerSentEvent``s) under idle watch."""
        stream_timeout = httpx.Timeout(
            connect=self._timeout.connect, read=None, write=self._timeout.write, pool=self._timeout.pool
        )
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        for attempt in range(2):
            await self._ensure_token()
            used_token = self._token
            request = self._build_request(
                op, path=path, params=params, headers=headers, timeout=stream_timeout
            )
            response = await self._send(request, stream=True)
            if response.status_code == 401 and attempt == 0:
                await response.aread()
                await response.aclose()
                if await self._recover_from_401(used_token, response):
                    continue
            break
        try:
            if response.status_code >= 300:
                await response.aread()
                self._raise_for_status(response)
            content_type = response.headers.get("content-type", "")
            if content_type.partition(";")[0].strip().lower() != "text/event-stream":
                raise _malformed(response, f"expected Content-Type text/event-stream, got {content_type!r}")
            # httpx-sse decodes the watched byte stream; the bare "\n" heartbeats reset the idle timer
            # here and are then dropped by the SSE decoder as empty lines.
            watched = httpx.Response(
                response.status_code,
                headers={"content-type": response.headers.get("content-type", "")},
                stream=_IdleWatchedStream(
                    response.aiter_bytes(), idle_timeout, on_idle, self.max_event_bytes
                ),
                request=request,
            )
            source = EventSource(watched).aiter_sse()
            try:
                yield source
            finally:
                await source.aclose()
        finally:
            await response.aclose()


def _fault_of(response: httpx.Response) -> tuple[str, str | None]:
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


def _malformed(response: httpx.Response, detail: str) -> MalformedResponse:
    request = response.request
    return MalformedResponse(
        f"Unexpected response from {request.url.path}: {detail}",
        status=response.status_code,
        request_id=response.headers.get("X-Request-ID"),
        method=request.method,
        url=mask_url(request.url),
    )


def _decode_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise _malformed(response, f"invalid JSON ({exc})") from exc
    except RecursionError as exc:
        # json.loads recurses per level: 100k nested lists would otherwise escape as a raw RecursionError.
        raise _malformed(response, "JSON nested too deeply") from exc


class ResponseTooLarge(MalformedResponse):
    """The answer was larger than the configured limit; it was not read further."""


async def _read_capped(response: httpx.Response, cap: int) -> None:
    """Read the body (decoded, so a compressed bomb counts at its real size) up to `cap` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(response, cap)
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise _too_large(response, cap)
        parts.append(chunk)
    # What httpx's own aread() leaves: the body for .json()/.text.
    response._content = b"".join(parts)


def _too_large(response: httpx.Response, cap: int) -> ResponseTooLarge:
    request = response.request
    return ResponseTooLarge(
        f"The answer from {request.url.path} is larger than {cap:,} bytes (settings: max_response_mb, max_output_mb); "
        "not read",
        status=response.status_code,
        request_id=response.headers.get("X-Request-ID"),
        method=request.method,
        url=mask_url(request.url),
    )


def _build(model: Callable[[Any], ModelT], doc: Any, response: httpx.Response) -> ModelT:
    try:
        return model(doc)
    except (TypeError, ValueError) as exc:
        raise _malformed(response, str(exc)) from exc


# --------------------------------------------------------------------------------------------------
# Resources


class _Resource:
    def __init__(self, client: St2Client) -> None:
        self._client = client


class ServerResource(_Resource):
    async def version(self) -> str:
        """The server's version string (``GET /api/v1/``)."""
        doc, response = await self._client._json("server.root")
        if not isinstance(doc, dict):
            raise _malformed(response, "expected a JSON object")
        return str(doc.get("version", ""))


class AuthResource(_Resource):
    async def create_token(self, username: str, password: str, ttl: int | None = None) -> Token:
        """``POST /auth/v1/tokens`` with HTTP basic auth; does not change the client's credentials."""
        client = self._client
        request = client._build_request(
            "auth.create_token",
            json_body={"ttl": ttl} if ttl is not None else {},
            authenticated=False,
            headers={"Authorization": _basic_auth_header(username, password)},
        )
        response = await client._send(request)
        client._raise_for_status(response)
        return _build(Token.from_dict, _decode_json(response), response)

    async def login(self, username: str, password: str, ttl: int | None = None) -> Token:
        """Create a token and use it from now on; the credentials are kept for automatic re-login."""
        token = await self.create_token(username, password, ttl)
        self._client.set_credentials(username=username, password=password)
        self._client._adopt(token)
        return token

    async def whoami(self) -> WhoAmI:
        """``GET /api/v1/user``: user, auth method, token expiry and RBAC roles."""
        return await self._client._model("auth.whoami", WhoAmI.from_dict)


class ExecutionsResource(_Resource):
    async def list(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
        sort_asc: bool | None = None,
        sort_desc: bool | None = None,
        id: Iterable[str] | None = None,
        status: str | None = None,
        parent: str | None = None,
        action: str | None = None,
        runner: str | None = None,
        user: str | None = None,
        rule: str | None = None,
        trigger: str | None = None,
        trigger_type: str | None = None,
        trigger_instance: str | None = None,
        liveaction: str | None = None,
        timestamp: str | datetime | None = None,
        timestamp_gt: str | datetime | None = None,
        timestamp_lt: str | datetime | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
        show_secrets: bool | None = None,
        filter: str | None = None,
    ) -> Page[Execution]:
        """``GET /api/v1/executions``. ``parent="null"`` lists top-level executions only (as ``st2 execution list``)."""
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("executions.list", Execution.from_dict, params)

    async def get(
        self,
        id: str,
        *,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
        max_result_size: int | None = None,
        show_secrets: bool | None = None,
    ) -> Execution:
        """``GET /api/v1/executions/{id}``; ``id="last"`` is the newest execution.

        With ``max_result_size`` the server leaves out ``result`` when it is larger (bytes).
        """
        params = {
            "include_attributes": include_attributes,
            "exclude_attributes": exclude_attributes,
            "max_result_size": max_result_size,
            "show_secrets": show_secrets,
        }
        return await self._client._model(
            "executions.get", Execution.from_dict, path={"id": id}, params=params
        )

    async def children(self, id: str, *, depth: int = -1, result_fmt: str | None = None) -> list[Execution]:
        """``GET /api/v1/executions/{id}/children``: descendants down to ``depth`` (-1 = all)."""
        client = self._client
        doc, response = await client._json(
            "executions.children", path={"id": id}, params={"depth": depth, "result_fmt": result_fmt}
        )
        if not isinstance(doc, list):
            raise _malformed(response, f"expected a JSON list, got {type(doc).__name__}")
        return [_build(Execution.from_dict, item, response) for item in doc]

    async def output(self, id: str, *, output_type: str | None = None) -> str:
        """``GET /api/v1/executions/{id}/output``: the output stored so far as text (``all|stdout|stderr``)."""
        response = await self._client._request(
            "executions.output", path={"id": id}, params={"output_type": output_type}
        )
        return response.text

    async def result(self, id: str) -> Any:
        """``GET /api/v1/executions/{id}/result``: the raw result, parsed (for results too big to embed)."""
        doc, _ = await self._client._json("executions.result", path={"id": id})
        return doc

    async def result_text(self, id: str, *, pretty_format: bool = True) -> str:
        """The raw result as JSON text, pretty-printed by the server unless ``pretty_format=False``."""
        response = await self._client._request(
            "executions.result", path={"id": id}, params={"pretty_format": pretty_format}
        )
        return response.text

    async def run(
        self,
        action: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        trace_tag: str | None = None,
        trace_id: str | None = None,
        delay: int | None = None,
        context: Mapping[str, Any] | None = None,
        notify: Mapping[str, Any] | None = None,
        user: str | None = None,
    ) -> Execution:
        """``POST /api/v1/executions``. ``delay`` is in milliseconds; ``user`` (run as) is admin-only."""
        run_context = dict(context or {})
        trace_context = {}
        if trace_tag:
            trace_context["trace_tag"] = trace_tag
        if trace_id:
            trace_context["id_"] = trace_id
        if trace_context:
            run_context["trace_context"] = trace_context
        body = _compact(
            {
                "action": action,
                "parameters": dict(parameters or {}),
                "context": run_context or None,
                "notify": dict(notify) if notify else None,
                "delay": delay,
                "user": user,
            }
        )
        return await self._client._model("executions.run", Execution.from_dict, json_body=body)

    async def cancel(self, id: str) -> Execution:
        """``DELETE /api/v1/executions/{id}``; raises ``OperationRejected`` when st2 answers 200 + faultstring."""
        doc, response = await self._client._json("executions.cancel", path={"id": id})
        if isinstance(doc, dict) and "faultstring" in doc:
            raise OperationRejected(
                str(doc["faultstring"]),
                status=response.status_code,
                request_id=response.headers.get("X-Request-ID"),
                method=response.request.method,
                url=mask_url(response.request.url),
            )
        return _build(Execution.from_dict, doc, response)

    async def pause(self, id: str) -> Execution:
        """Pause a running workflow (``PUT {"status": "pausing"}``)."""
        return await self._client._model(
            "executions.update", Execution.from_dict, path={"id": id}, json_body={"status": "pausing"}
        )

    async def resume(self, id: str) -> Execution:
        """Resume a paused workflow (``PUT {"status": "resuming"}``)."""
        return await self._client._model(
            "executions.update", Execution.from_dict, path={"id": id}, json_body={"status": "resuming"}
        )

    async def rerun(
        self,
        id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        tasks: Iterable[str] | None = None,
        reset: Iterable[str] | None = None,
        delay: int | None = None,
        user: str | None = None,
    ) -> Execution:
        """``POST /api/v1/executions/{id}/re_run``.

        ``parameters`` are merged over the original ones by the server. ``tasks`` (orquesta only) re-runs
        from those tasks; ``reset`` lists with-items tasks whose items all re-run (must be within ``tasks``).
        """
        body = _compact(
            {
                "parameters": dict(parameters or {}),
                "tasks": list(tasks) if tasks else [],
                "reset": list(reset) if reset else [],
                "delay": delay,
                "user": user,
            }
        )
        return await self._client._model(
            "executions.rerun", Execution.from_dict, path={"id": id}, json_body=body
        )

    async def filter_values(self, types: Iterable[str] | None = None) -> dict[str, list[str]]:
        """``GET /api/v1/executions/views/filters``: distinct values per filter (action, status, user, ...)."""
        doc, response = await self._client._json("executions.filter_values", params={"types": types})
        if not isinstance(doc, dict):
            raise _malformed(response, "expected a JSON object")
        return {str(key): [str(v) for v in values] for key, values in doc.items() if isinstance(values, list)}


class ActionsResource(_Resource):
    async def list(
        self,
        *,
        pack: str | None = None,
        name: str | None = None,
        tags: Iterable[str] | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[Action]:
        """``GET /api/v1/actions`` (all actions unless ``limit`` is given)."""
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("actions.list", Action.from_dict, params)

    async def get(self, ref_or_id: str) -> Action:
        return await self._client._model("actions.get", Action.from_dict, path={"ref_or_id": ref_or_id})

    async def parameters(self, ref_or_id: str) -> dict[str, ParameterSpec]:
        """Runner and action parameters merged (``GET /api/v1/actions/views/parameters/{ref}``), display-ordered."""
        doc, response = await self._client._json("actions.parameters", path={"ref_or_id": ref_or_id})
        if not isinstance(doc, dict):
            raise _malformed(response, "expected a JSON object")
        return ParameterSpec.parse_map(doc.get("parameters"))


class RunnerTypesResource(_Resource):
    async def list(
        self,
        *,
        name: str | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[RunnerType]:
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("runner_types.list", RunnerType.from_dict, params)

    async def get(self, name_or_id: str) -> RunnerType:
        return await self._client._model(
            "runner_types.get", RunnerType.from_dict, path={"name_or_id": name_or_id}
        )


class PacksResource(_Resource):
    async def list(
        self,
        *,
        name: str | None = None,
        ref: str | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[Pack]:
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("packs.list", Pack.from_dict, params)

    async def get(self, ref_or_id: str) -> Pack:
        return await self._client._model("packs.get", Pack.from_dict, path={"ref_or_id": ref_or_id})


class RulesResource(_Resource):
    async def list(
        self,
        *,
        pack: str | None = None,
        action: str | None = None,
        trigger: str | None = None,
        enabled: bool | None = None,
        name: str | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
        show_secrets: bool | None = None,
    ) -> Page[Rule]:
        """``GET /api/v1/rules`` (no ``offset``/``sort`` in the API: all rules unless ``limit``)."""
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("rules.list", Rule.from_dict, params)

    async def get(self, ref_or_id: str) -> Rule:
        return await self._client._model("rules.get", Rule.from_dict, path={"ref_or_id": ref_or_id})

    async def enable(self, ref_or_id: str) -> Rule:
        return await self._set_enabled(ref_or_id, True)

    async def disable(self, ref_or_id: str) -> Rule:
        return await self._set_enabled(ref_or_id, False)

    async def _set_enabled(self, ref_or_id: str, enabled: bool) -> Rule:
        # Like st2client: full-object PUT by id (the handler takes the path value as the document id),
        # without the read-only "ref".
        rule = await self.get(ref_or_id)
        body = {key: value for key, value in rule.raw.items() if key != "ref"}
        body["enabled"] = enabled
        return await self._client._model(
            "rules.update", Rule.from_dict, path={"rule_ref_or_id": rule.id}, json_body=body
        )


class RuleEnforcementsResource(_Resource):
    async def list(
        self,
        *,
        rule_ref: str | None = None,
        rule_id: str | None = None,
        execution: str | None = None,
        trigger_instance: str | None = None,
        enforced_at_gt: str | datetime | None = None,
        enforced_at_lt: str | datetime | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[RuleEnforcement]:
        """``GET /api/v1/ruleenforcements``, newest first."""
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("rule_enforcements.list", RuleEnforcement.from_dict, params)

    async def get(self, id: str) -> RuleEnforcement:
        return await self._client._model("rule_enforcements.get", RuleEnforcement.from_dict, path={"id": id})


class KeysResource(_Resource):
    async def list(
        self,
        *,
        scope: str | None = None,
        prefix: str | None = None,
        decrypt: bool | None = None,
        user: str | None = None,
        name: str | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
    ) -> Page[KeyValuePair]:
        """``GET /api/v1/keys``. The server's default scope is ``st2kv.system``; ``scope="all"`` adds own user keys.

        The keys endpoint sends no ``X-Total-Count``, so ``Page.total`` is None.
        """
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("keys.list", KeyValuePair.from_dict, params)

    async def get(
        self, name: str, *, scope: str | None = None, decrypt: bool | None = None, user: str | None = None
    ) -> KeyValuePair:
        return await self._client._model(
            "keys.get",
            KeyValuePair.from_dict,
            path={"name": name},
            params={"scope": scope, "decrypt": decrypt, "user": user},
        )

    async def set(
        self,
        name: str,
        value: str,
        *,
        secret: bool | None = None,
        encrypted: bool | None = None,
        ttl: int | None = None,
        scope: str | None = None,
        user: str | None = None,
        description: str | None = None,
    ) -> KeyValuePair:
        """Create or update a key (``PUT /api/v1/keys/{name}``); ``ttl`` in seconds; values are strings."""
        body = _compact(
            {
                "name": name,
                "value": value,
                "secret": secret,
                "encrypted": encrypted,
                "ttl": ttl,
                "scope": scope,
                "user": user,
                "description": description,
            }
        )
        return await self._client._model(
            "keys.set", KeyValuePair.from_dict, path={"name": name}, json_body=body
        )

    async def delete(self, name: str, *, scope: str | None = None, user: str | None = None) -> None:
        await self._client._request("keys.delete", path={"name": name}, params={"scope": scope, "user": user})


class InquiriesResource(_Resource):
    async def list(
        self,
        *,
        limit: int | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[Inquiry]:
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("inquiries.list", Inquiry.from_dict, params)

    async def get(self, inquiry_id: str) -> Inquiry:
        return await self._client._model("inquiries.get", Inquiry.from_dict, path={"inquiry_id": inquiry_id})

    async def respond(self, inquiry_id: str, response: Mapping[str, Any]) -> InquiryResponse:
        """Answer an inquiry (``PUT /api/v1/inquiries/{id}`` with ``{"id": ..., "response": {...}}``)."""
        return await self._client._model(
            "inquiries.respond",
            InquiryResponse.from_dict,
            path={"inquiry_id": inquiry_id},
            json_body={"id": inquiry_id, "response": dict(response)},
        )


StreamItem = StreamEvent | StreamConnected | StreamReconnected | StreamDisconnected
OutputItem = OutputChunk | StreamConnected | StreamReconnected | StreamDisconnected

# States at which st2 ends the output stream with EOF.
_OUTPUT_END_STATUSES = TERMINAL_STATUSES | {"pausing", "resuming"}


class StreamsResource(_Resource):
    """The two SSE endpoints, as async iterators that survive dropped connections.

    Close them with ``contextlib.aclosing`` (or ``await it.aclose()``) when done early.
    """

    def __init__(self, client: St2Client) -> None:
        super().__init__(client)
        self._rng = random.Random()

    def events(
        self,
        *,
        events: Iterable[str] | None = None,
        action_refs: Iterable[str] | None = None,
        execution_ids: Iterable[str] | None = None,
        end_event: str | None = None,
        end_execution_id: str | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Events of ``/stream/v1/stream`` (names or fnmatch globs in ``events``).

        Yields ``StreamEvent``s and markers: ``StreamConnected`` each time the stream opens (the server
        accepted it: events from now on will arrive), ``StreamDisconnected`` when it drops and
        ``StreamReconnected`` after it came back (resync over REST). With ``end_event`` +
        ``end_execution_id`` it ends after that execution's terminal event.
        """
        params = {
            "events": list(events) if events else None,
            "action_refs": list(action_refs) if action_refs else None,
            "execution_ids": list(execution_ids) if execution_ids else None,
            "end_event": end_event,
            "end_execution_id": end_execution_id,
        }
        return self._events(params, end_event, end_execution_id)

    async def _events(
        self, params: dict[str, Any], end_event: str | None, end_execution_id: str | None
    ) -> AsyncIterator[StreamItem]:
        timeout = self._client.stream_options.heartbeat_timeout

        async def on_idle() -> None:
            raise _StreamStalled(f"no heartbeat for {timeout:g} s")

        async with aclosing(self._reconnecting("streams.events", {}, params, timeout, on_idle)) as items:
            async for item in items:
                yield item
                if end_event and end_execution_id and isinstance(item, StreamEvent):
                    data = item.data if isinstance(item.data, dict) else {}
                    if (
                        item.event == end_event
                        and data.get("id") == end_execution_id
                        and data.get("status") in TERMINAL_STATUSES
                    ):
                        return

    def output(
        self, execution_id: str, *, output_type: str | None = None, finished: bool = False
    ) -> AsyncIterator[OutputItem]:
        """Output of one execution (``/stream/v1/executions/{id}/output``): stored chunks, then live ones.

        Ends at st2's ``EOF`` event (execution finished, pausing or resuming). Also yields the stream
        markers (``StreamConnected``, ``StreamDisconnected``, ``StreamReconnected``). After a reconnect
        st2 replays all stored output; chunks already delivered are skipped by id. After the end, the
        chunks the stream left out are read (`_output_after_end`), unless the caller knows the execution
        had `finished` before the stream opened (then the stream was a replay of everything).
        """
        return self._output(execution_id, output_type, finished)

    async def _output(
        self, execution_id: str, output_type: str | None, finished: bool
    ) -> AsyncIterator[OutputItem]:
        client = self._client
        timeout = client.stream_options.output_idle_timeout

        async def on_idle() -> None:
            # st2 sends nothing on this endpoint while the execution is quiet: ask REST whether the
            # execution reached a state at which the server should have ended the stream.
            try:
                execution = await client.executions.get(execution_id, include_attributes=["status"])
            except NetworkError as exc:
                raise _StreamStalled(f"execution status check failed: {exc}") from exc
            if execution.status in _OUTPUT_END_STATUSES:
                raise _StreamStalled(f"execution is {execution.status} but the stream did not end")

        seen: set[str] = set()
        items = self._reconnecting(
            "streams.output", {"id": execution_id}, {"output_type": output_type}, timeout, on_idle
        )
        async with aclosing(items):
            async for item in items:
                if not isinstance(item, StreamEvent):
                    yield item
                    continue
                chunk = item.output
                if chunk is None or chunk.id in seen:
                    continue
                if chunk.id:
                    seen.add(chunk.id)
                yield chunk
        if finished:
            return
        async for chunk in self._output_after_end(execution_id, output_type, seen):
            yield chunk

    async def _output_after_end(
        self, execution_id: str, output_type: str | None, seen: set[str]
    ) -> AsyncIterator[OutputChunk]:
        """The chunks the live stream left out after its end, in stored order.

        st2stream ends the stream at the execution's terminal update, which travels on another queue
        than the output and often overtakes its last chunks (seen on st2 master: 5 of 5 runs lost the
        last line). They are stored by then: a stream opened on a finished execution replays every
        stored chunk, with its id and type (the REST `/output` text has neither), then ends at once.
        Pausing and resuming also end the stream; the output goes on after them, so it is read when
        the stream is opened again, as before.
        """
        try:
            execution = await self._client.executions.get(execution_id, include_attributes=["status"])
        except St2Error as exc:
            logger.info("output of %s: status after the end unknown (%s)", execution_id, exc)
            return
        if execution.status not in TERMINAL_STATUSES:
            return

        async def on_idle() -> None:
            raise _StreamStalled("a finished execution's output did not end")

        try:
            async with self._client._open_stream(
                "streams.output",
                path={"id": execution_id},
                params={"output_type": output_type},
                idle_timeout=self._client.stream_options.output_idle_timeout,
                on_idle=on_idle,
            ) as source:
                async for sse in source:
                    if sse.event == "EOF":
                        return
                    event = _parse_event(sse.event, sse.data)
                    chunk = event.output if event is not None else None
                    if chunk is None or chunk.id in seen:
                        continue
                    if chunk.id:
                        seen.add(chunk.id)
                    yield chunk
        except (St2Error, _StreamStalled, httpx.TransportError) as exc:
            logger.info("output of %s: replay after the end failed (%s)", execution_id, exc)

    async def _reconnecting(
        self,
        op: str,
        path: dict[str, str],
        params: dict[str, Any],
        idle_timeout: float,
        on_idle: Callable[[], Awaitable[None]],
    ) -> AsyncIterator[StreamItem]:
        """Events of one SSE endpoint across reconnects, until the server sends ``EOF``."""
        policy = self._client.stream_options.reconnect
        failures = 0
        disconnected_at: float | None = None
        while True:
            try:
                async with self._client._open_stream(
                    op, path=path, params=params, idle_timeout=idle_timeout, on_idle=on_idle
                ) as source:
                    yield StreamConnected()
                    if disconnected_at is not None:
                        yield StreamReconnected(
                            attempts=failures, downtime=time.monotonic() - disconnected_at
                        )
                    failures, disconnected_at = 0, None
                    async for sse in source:
                        if sse.event == "EOF":
                            return
                        self._client._last_contact_at = time.time()
                        event = _parse_event(sse.event, sse.data)
                        if event is not None:
                            yield event
                reason = "stream closed by the server"
            except (
                _StreamStalled,
                NetworkError,
                ServerError,
                MalformedResponse,
                httpx.TransportError,
            ) as exc:
                reason = str(exc) or type(exc).__name__
            failures += 1
            if disconnected_at is None:
                disconnected_at = time.monotonic()
            if policy.max_attempts is not None and failures > policy.max_attempts:
                raise ConnectionFailed(f"Stream lost after {failures - 1} reconnect attempts: {reason}")
            delay = policy.delay(failures, self._rng)
            logger.info("stream %s dropped (%s); reconnect %d in %.2f s", op, reason, failures, delay)
            yield StreamDisconnected(reason=reason, attempt=failures, retry_in=delay)
            await asyncio.sleep(delay)


def _parse_event(name: str, data: str) -> StreamEvent | None:
    # st2 never sends data-less frames, but other servers or proxies might ("retry:" only frames).
    if not data:
        return None
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        logger.warning("dropping stream event %r with invalid JSON data", name)
        return None
    return StreamEvent(event=name or "message", data=payload)
