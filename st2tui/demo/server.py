"""The demo server object, and running it in a thread (for `st2tui --demo` and tests) or standalone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import string
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from . import actions, executions, inquiries, keys, registry, rules, stream, triggering
from .app import LOOPBACK_NAMES, create_app
from .bus import EventBus
from .db import Database
from .engine import Engine

DEMO_USER = "st2admin"
DEFAULT_TOKEN_TTL = 86400

T = TypeVar("T")
WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def new_password() -> str:
    """20 letters and digits (119 bits): nothing to quote in a shell or a config file."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))


def password_file(db_path: str | Path) -> Path:
    """Where the generated password of a database is kept: `demo.sqlite` -> `demo.sqlite.password`."""
    path = Path(db_path)
    return path.with_name(path.name + ".password")


def read_or_create_password(path: Path) -> str:
    """The password in `path`, made (random, owner-only file) when there is none yet."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        password = path.read_text(encoding="utf-8").strip()
        if password:
            return password
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    password = new_password()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(password + "\n")
    return password


class DemoServer:
    """State and services of one embedded StackStorm-compatible server.

    Services (execution engine, rules and timers, key expiry) are objects with `async start()` and
    `async stop()`, started in the app's lifespan in the order they are listed.

    `roles` (user -> role names) turns RBAC on, as st2's RBAC backend applies it (see `rbac`);
    without it every user is an admin.

    Without `users` there is one user, st2admin, with a random password made on the database's first
    start and kept beside it, readable by its owner only (`password_path`). Requests must address the
    server by its bound address or a loopback name (`bind`, `allowed_hosts`); CORS headers go only to
    the origins in `allow_origins` (none by default).
    """

    def __init__(
        self,
        db_path: str | Path = ":memory:",
        *,
        users: dict[str, str] | None = None,
        roles: dict[str, list[str]] | None = None,
        token_ttl: int = DEFAULT_TOKEN_TTL,
        seed: bool = True,
        history: int = 300,
        timers: bool = True,
        allow_origins: list[str] | None = None,
        seed_now: datetime | None = None,
        seed_random: int | None = None,
    ) -> None:
        self.db = Database(db_path)
        self.bus = EventBus()
        self.password_path: Path | None = None
        if users is None:
            users = {DEMO_USER: self._generated_password()}
        self.users = dict(users)
        self.roles = None if roles is None else {user: list(names) for user, names in roles.items()}
        self.token_ttl = token_ttl
        self.seed = seed
        self.history = history
        # A fixed clock and random seed for the history make screens reproducible (snapshot tests).
        self.seed_now = seed_now
        self.seed_random = seed_random
        self.timers = timers
        self.allow_origins = list(allow_origins or [])
        self.bound_host = "127.0.0.1"
        self.bound_port: int | None = None
        self.services: list[Any] = []
        self.route_modules: list[Any] = []
        self._wire()

    def _wire(self) -> None:
        """Route modules and services, in start order: content registry, keys, engine, rules and timers."""
        # Content and datastore first: the engine reads both when it starts.
        self.services += [registry.Registry(self), keys.KeyExpiry(self)]
        self.route_modules += [actions, keys, rules, triggering, inquiries]
        # The execution engine (`server.engine`) runs actions for the API, rules and inquiries.
        self.engine = Engine(self)
        self.stream_heartbeat = stream.DEFAULT_HEARTBEAT  # seconds of silence before a "\n" on /stream
        self.services.append(self.engine)
        self.route_modules += [executions, stream]
        # Timers fire rules through the engine, so they start after it.
        self.services.append(triggering.IntervalTimers(self))

    def _generated_password(self) -> str:
        """The password of this database (made on its first start); in memory for `:memory:`."""
        if self.db.path == ":memory:":
            return new_password()
        self.password_path = password_file(self.db.path)
        return read_or_create_password(self.password_path)

    def bind(self, host: str, port: int) -> None:
        """Record the address being served: the `Host` requests may name, and `X-API-URL`."""
        self.bound_host = host
        self.bound_port = port

    def allowed_hosts(self) -> set[str]:
        hosts = set(LOOPBACK_NAMES) | {self.bound_host.lower()}
        if self.bound_host in WILDCARDS:
            # Bound to every interface (--allow-remote): the machine's own names address it.
            hosts |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        return hosts

    def public_api_url(self) -> str:
        """The API's URL from the bound address (st2's `auth.api_url`), never from the request's `Host`."""
        host = self.bound_host
        if host in WILDCARDS:
            host = socket.getfqdn()
        if ":" in host:
            host = f"[{host}]"
        port = "" if self.bound_port is None else f":{self.bound_port}"
        return f"http://{host}{port}/api"

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        for service in self.services:
            await service.start()
        try:
            yield
        finally:
            self.bus.close()
            for service in reversed(self.services):
                await service.stop()

    def build_app(self) -> Any:
        return create_app(self, self.route_modules)


@dataclass
class RunningServer:
    """A demo server serving on a loopback port in a background thread."""

    server: DemoServer
    host: str
    port: int
    username: str
    password: str
    _uvicorn: uvicorn.Server
    _thread: threading.Thread
    _loop: asyncio.AbstractEventLoop

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/auth/v1"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def stream_url(self) -> str:
        return f"{self.base_url}/stream/v1"

    @property
    def db_path(self) -> str:
        return self.server.db.path

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
        """Run a coroutine function on the server's event loop (from another thread) and wait for it."""
        return asyncio.run_coroutine_threadsafe(fn(), self._loop).result(timeout)

    def stop(self) -> None:
        # End open streams first: uvicorn would otherwise wait out its graceful timeout for each.
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.server.bus.close)
        self._uvicorn.should_exit = True
        self._thread.join(timeout=10)
        self.server.db.close()


def bind_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
    # and without it every small keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(
        socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def make_uvicorn(app: Any) -> uvicorn.Server:
    # Idle connections are kept 75 s, as nginx (st2's front) keeps them: uvicorn's 5 s, under the client's
    # 60 s keep-alive, let a request go out on a connection the server was closing (a POST after 5 s of
    # quiet failed with ReadError now and then).
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=75,
        access_log=False,
        ws="none",
    )
    return uvicorn.Server(config)


def start_in_thread(server: DemoServer, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `server` on a free loopback port in a daemon thread; returns once it accepts requests."""
    sock = bind_socket(host, port)
    server.bind(host, sock.getsockname()[1])
    userver = make_uvicorn(server.build_app())
    loop_ready = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        holder["loop"] = loop
        loop_ready.set()
        try:
            loop.run_until_complete(userver.serve(sockets=[sock]))
        finally:
            # Let tasks left behind by closed streams (sse-starlette watchers) finish before closing.
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.close()

    thread = threading.Thread(target=run, name="st2tui-demo-server", daemon=True)
    thread.start()
    loop_ready.wait(10)
    for _ in range(1000):
        if userver.started or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    if not userver.started:
        raise RuntimeError("the demo server did not start")
    username, password = next(iter(server.users.items()))
    return RunningServer(
        server, host, sock.getsockname()[1], username, password, userver, thread, holder["loop"]
    )


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that says when it accepts connections (uvicorn has no hook for that)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()


def serve_forever(server: DemoServer, host: str, port: int, on_started: Callable[[int], None]) -> None:
    """Run in the foreground until interrupted (the `st2tui demo-server` command)."""
    sock = bind_socket(host, port)
    server.bind(host, sock.getsockname()[1])
    config = make_uvicorn(server.build_app()).config
    userver = _AnnouncingServer(config, lambda: on_started(sock.getsockname()[1]))
    asyncio.run(userver.serve(sockets=[sock]))
