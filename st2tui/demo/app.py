"""The ASGI application: one port with nginx-style prefixes `/auth/v1`, `/api/v1`, `/stream/v1`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import auth
from .state import DemoState
from .util import ApiError, error_response, json_response

ST2_VERSION = "3.10dev"

CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type,Authorization,X-Auth-Token,St2-Api-Key,X-Request-ID",
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Expose-Headers": "Content-Type,X-Limit,X-Total-Count,X-Request-ID",
}
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def host_name(host_header: str) -> str:
    """`Host` without its port, brackets or trailing dot, lower-case: `[::1]:9101` -> `::1`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


class RequestIdCorsMiddleware:
    """Refuses foreign `Host`s, adds `X-Request-ID` and, for asked-for origins only, st2's CORS headers.

    It wraps the whole Starlette app (outside its error middleware) so no response escapes it, the
    event streams included. `allowed_hosts()` names the hosts a request may address: a page on
    another site that rebinds its DNS name to 127.0.0.1 still sends its own name as `Host`, so it
    is refused before anything runs. CORS: st2 answers every request, and every OPTIONS, with its
    headers and credentials for its first origin; the demo sends them only when the request's
    `Origin` is one it was told to allow (`--allow-origin`), and otherwise answers OPTIONS as any
    other unknown method (404).
    """

    def __init__(self, app: ASGIApp, allow_origins: list[str], allowed_hosts: Callable[[], set[str]]) -> None:
        self.app = app
        self.allow_origins = list(allow_origins)
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get("x-request-id") or str(uuid.uuid4())
        extra = [(b"x-request-id", request_id.encode("latin-1", "replace"))]
        if host_name(headers.get("host", "")) not in self.allowed_hosts():
            body = json.dumps({"faultstring": "Invalid host header"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        *extra,
                        (b"content-type", b"application/json"),
                        (b"content-length", b"%d" % len(body)),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        origin = headers.get("origin")
        if origin and origin in self.allow_origins:
            extra += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"vary", b"Origin"),
                *((k.lower().encode(), v.encode()) for k, v in CORS_HEADERS.items()),
            ]
            if scope["method"] == "OPTIONS":
                await send({"type": "http.response.start", "status": 200, "headers": extra})
                await send({"type": "http.response.body", "body": b""})
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def api_root(request: Request) -> Response:
    auth.authenticate(request)
    return json_response({"version": ST2_VERSION, "docs_url": "https://docs.stackstorm.com/"})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        # st2's router answers any path/method it has no route for with a 404.
        return json_response({"faultstring": "The resource could not be found."}, status=404)
    return json_response({"faultstring": str(exc.detail)}, status=exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    return json_response({"faultstring": "Internal Server Error"}, status=500)


def create_app(server: DemoState, route_modules: list[Any]) -> ASGIApp:
    """Build the app; each module in `route_modules` has a `routes()` returning Starlette routes."""
    routes: list[Route] = [
        Route("/api/v1", api_root, methods=["GET"]),
        Route("/api/v1/", api_root, methods=["GET"]),
    ]
    for module in [auth, *route_modules]:
        routes.extend(module.routes())
    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error},
        lifespan=server.lifespan,
    )
    app.router.redirect_slashes = False
    app.state.server = server
    return RequestIdCorsMiddleware(_StripTrailingSlash(app), server.allow_origins, server.allowed_hosts)


class _StripTrailingSlash:
    """st2 strips a trailing slash before matching (`/v1/actions/` == `/v1/actions`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if len(path) > 1 and path.endswith("/") and path not in ("/api/v1/",):
                scope = {**scope, "path": path.rstrip("/")}
        await self.app(scope, receive, send)
