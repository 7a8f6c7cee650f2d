"""Async StackStorm client: REST resources and the two SSE streams, on one ``httpx.AsyncClient``.

The one API service layer the app uses: `St2Client` and everything callers import live here; its parts are
siblings this module imports and re-exports: `api_errors`, `api_endpoints`, `api_transport` (limits,
bounded reading, request log), `api_resources` (one class per endpoint group) and `api_streams` (SSE).

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
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from httpx_sse import EventSource

from st2tui.api_endpoints import ENDPOINTS, Endpoint
from st2tui.api_errors import (
    STATUS_ERRORS,
    BadRequest,
    Conflict,
    ConnectionFailed,
    Forbidden,
    MalformedResponse,
    NetworkError,
    NotFound,
    OperationRejected,
    RequestTimeout,
    ResponseTooLarge,
    ServerError,
    St2Error,
    Unauthorized,
    transport_reason,
)
from st2tui.api_resources import (
    ActionsResource,
    AuthResource,
    ExecutionsResource,
    InquiriesResource,
    KeysResource,
    PacksResource,
    RuleEnforcementsResource,
    RulesResource,
    RunnerTypesResource,
    ServerResource,
)
from st2tui.api_streams import (
    IdleWatchedStream,
    ReconnectPolicy,
    StreamConnected,
    StreamDisconnected,
    StreamOptions,
    StreamReconnected,
    StreamsResource,
)
from st2tui.api_transport import (
    DEFAULT_TIMEOUT,
    MAX_BODY_BYTES,
    MAX_EVENT_BYTES,
    MAX_OUTPUT_BYTES,
    USER_AGENT,
    ModelT,
    RequestLog,
    basic_auth_header,
    build_model,
    compact,
    curl_command,
    decode_json,
    fault_of,
    format_query_value,
    int_header,
    logger,
    malformed,
    mask_url,
    read_capped,
)
from st2tui.models import (
    TOKEN_GRACE_SECONDS,
    Page,
    Token,
)
from st2tui.redact import remember_secret

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

# Asked with st2's reason when the session cannot be renewed silently; returns (username, password).
CredentialsPrompt = Callable[[str], Awaitable["tuple[str, str] | None"]]


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
        self._basic_auth = basic_auth_header(*basic_auth) if basic_auth else None
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
        reason, _ = fault_of(response)
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
        query = compact(params or {})
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
                params={key: format_query_value(value) for key, value in query.items()} or None,
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
                    await read_capped(response, self._body_cap(request))
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
        faultstring, conflict_id = fault_of(response)
        if 300 <= status < 400:
            location = response.headers.get("Location", "")
            faultstring = f"Redirected to {location}; configure that URL instead" if location else faultstring
        error_cls = STATUS_ERRORS.get(status, ServerError if status >= 500 else St2Error)
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
        return decode_json(response), response

    async def _model(self, op: str, model: Callable[[Any], ModelT], **kwargs: Any) -> ModelT:
        doc, response = await self._json(op, **kwargs)
        return build_model(model, doc, response)

    async def _page(
        self, op: str, model: Callable[[Any], ModelT], params: Mapping[str, Any], **kwargs: Any
    ) -> Page[ModelT]:
        doc, response = await self._json(op, params=params, **kwargs)
        if not isinstance(doc, list):
            raise malformed(response, f"expected a JSON list, got {type(doc).__name__}")
        items = [build_model(model, item, response) for item in doc]
        limit = int_header(response, "X-Limit")
        if limit is None and isinstance(params.get("limit"), int):
            limit = params["limit"]
        offset = params.get("offset")
        return Page(
            items=items,
            total=int_header(response, "X-Total-Count"),
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
                raise malformed(response, f"expected Content-Type text/event-stream, got {content_type!r}")
            # httpx-sse decodes the watched byte stream; the bare "\n" heartbeats reset the idle timer
            # here and are then dropped by the SSE decoder as empty lines.
            watched = httpx.Response(
                response.status_code,
                headers={"content-type": response.headers.get("content-type", "")},
                stream=IdleWatchedStream(response.aiter_bytes(), idle_timeout, on_idle, self.max_event_bytes),
                request=request,
            )
            source = EventSource(watched).aiter_sse()
            try:
                yield source
            finally:
                await source.aclose()
        finally:
            await response.aclose()
