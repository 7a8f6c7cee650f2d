"""From parsed command-line options to a running TUI: configuration, demo server, client, app."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

from st2tui.config import ConfigError, Connection, resolve
from st2tui.credentials import KeyringUnavailable, SecretStore, TokenCache
from st2tui.prefetch import StartRequests
from st2tui.redact import RedactingFormatter
from st2tui.widgets.execution_query import first_page_params

if TYPE_CHECKING:
    from st2tui.api import St2Client
    from st2tui.app import St2TuiApp


def _demo_connection(args: argparse.Namespace):
    """Start the embedded demo server in this process and describe how to reach it."""
    from st2tui.demo.server import DemoServer, start_in_thread
    from st2tui.demo_paths import demo_db

    # The generated password of the database signs in by itself (not cached: the server is ours).
    running = start_in_thread(DemoServer(demo_db(args.db)))
    connection = Connection(
        api_url=running.api_url,
        auth_url=running.auth_url,
        stream_url=running.stream_url,
        base_url=running.base_url,
        profile="demo",
        username=running.username,
        password=running.password,
        cache_token=False,
        sources={"api_url": "--demo"},
    )
    return running, connection


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotated log that only its owner can read (it names servers, users and request ids)."""

    def _open(self):
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream


def log_path() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir("st2tui")) / "st2tui.log"


def configure_logging(debug: bool) -> Path:
    """A rotated log file (the terminal belongs to the TUI); `--debug` adds each request as curl."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("st2tui")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    return path


def run_tui(args: argparse.Namespace, run: Callable[[St2TuiApp], None] | None = None) -> int:
    """Start st2tui; `run` runs the app (default: in the terminal; the benchmarks run it headless)."""
    try:
        resolved = resolve(args)
    except ConfigError as exc:
        print(f"st2tui: {exc}", file=sys.stderr)
        return 2
    settings = resolved.settings
    configure_logging(args.debug)
    secrets = SecretStore()
    demo = None
    token_cache: TokenCache | None = None
    if args.demo:
        demo, connection = _demo_connection(args)
    else:
        connection = resolved.connection
        token_cache = TokenCache.for_home(Path.home())
    client_options = settings.client_limits()
    params = first_page_params(utc=settings.timezone == "utc")

    def start_requests() -> StartRequests:
        return StartRequests(
            connection,
            params=params,
            password=password,
            api_key=api_key,
            token_cache=token_cache,
            client_options=client_options,
        )

    password = api_key = None
    start: StartRequests | None = None
    if _has_token(connection, token_cache):
        # The first requests go out now, while the keyring and the UI load.
        start = start_requests()
    try:
        if connection.username and not connection.password and not connection.token:
            password = secrets.get_password(connection.keyring_service, connection.username)
        if connection.api_key_in_keyring and not connection.api_key:
            api_key = secrets.get_api_key(connection.keyring_service)
    except KeyringUnavailable:
        pass  # the sign-in screen asks instead
    if start is None and (password or api_key or (connection.username and connection.password)):
        start = start_requests()
    # The UI is imported while the start requests are under way.
    from st2tui.app import St2TuiApp

    def make_client() -> St2Client:
        # Made when first used (after the first frame when the start requests were answered): importing
        # httpx before would hold the first frame back.
        from st2tui.api import St2Client

        return St2Client.from_connection(
            connection, password=password, api_key=api_key, token_cache=token_cache, **client_options
        )

    app = St2TuiApp(None, connection, settings, secrets=secrets, make_client=make_client)
    app.start_requests = start
    if token_cache is not None:
        app.startup_warnings = list(token_cache.warnings)
    app.open_on_start = getattr(args, "execution", None)
    try:
        if run is None:
            app.run()
        else:
            run(app)
    finally:
        if start is not None:
            start.close()
        if demo is not None:
            demo.stop()
    return app.return_code or 0


def _has_token(connection: Connection, token_cache: TokenCache | None) -> bool:
    """A token or API key to send at once (no keyring needed first)?"""
    if connection.token or connection.api_key:
        return True
    return bool(
        connection.username
        and connection.cache_token
        and token_cache is not None
        and token_cache.load(connection.username) is not None
    )
