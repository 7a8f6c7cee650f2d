"""Test harness: the embedded StackStorm-compatible server on a loopback port, and the contract data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

REPO_ROOT = Path(__file__).resolve().parent.parent
# make_app's default password: the one the server generated for its database (no fixed password).
SERVER_PASSWORD = "<the server's password>"


CONTRACT_DIR = Path(__file__).resolve().parent / "contract"


def contract_dir() -> Path:
    """The StackStorm contract data carried with the tests (`tests/contract`), or `$ST2TUI_CONTRACT_DIR`."""
    env = os.environ.get("ST2TUI_CONTRACT_DIR")
    return Path(env) if env else CONTRACT_DIR


@pytest.fixture(scope="session")
def contract() -> Path:
    path = contract_dir()
    if not (path / "st2-openapi.yaml").is_file():
        # Only a wrong override gets here: the data ships in tests/contract.
        pytest.fail(f"ST2TUI_CONTRACT_DIR={path} has no st2-openapi.yaml (unset it to use tests/contract)")
    return path


def st2_cli_path() -> str | None:
    """The real `st2` CLI (st2client): `$ST2TUI_ST2_CLI`, else `st2` on PATH."""
    env = os.environ.get("ST2TUI_ST2_CLI")
    if env:
        return env if Path(env).is_file() else None
    return shutil.which("st2")


@pytest.fixture(scope="session")
def st2_cli() -> str:
    """Path of the real `st2` CLI; tests that drive it are skipped, saying why, when it is absent."""
    path = st2_cli_path()
    if path is None:
        pytest.skip(
            "real st2 CLI not found: install st2client in its own venv and set "
            "ST2TUI_ST2_CLI=/path/to/venv/bin/st2 (or put `st2` on PATH)"
        )
    return path


def _start(tmp: Path, **kwargs) -> RunningServer:
    kwargs.setdefault("timers", False)
    return start_in_thread(DemoServer(tmp / "st2.sqlite", **kwargs))


@pytest.fixture(scope="session")
def st2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One embedded server for the session (seeded demo content and history, timers off).

    Tests that share it must not depend on totals other tests can change; use `fresh_server` then.
    """
    server = _start(tmp_path_factory.mktemp("st2-session"))
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of its own with a new database, for tests that change or count state."""
    server = _start(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Build the st2tui app against a running server, as `st2tui` would, isolated from the user's files.

    Run it headless with `async with app.run_test(size=(120, 36)) as pilot:`. `transport` (an httpx
    transport, e.g. `tests.support.faults.FaultInjector`) stands between the app and the server. `base_url`
    is the URL the user configured (`--url`); only the st2web links use it, the endpoints stay the server's.
    """
    from st2tui.api import St2Client
    from st2tui.app import St2TuiApp
    from st2tui.config import Connection, Settings

    monkeypatch.setenv("ST2TUI_CONFIG_DIR", str(tmp_path / "st2tui-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def factory(
        server: RunningServer,
        *,
        username: str | None = "st2admin",
        password: str | None = SERVER_PASSWORD,
        transport=None,
        base_url: str | None = None,
        **settings,
    ) -> St2TuiApp:
        if password is SERVER_PASSWORD:
            password = server.password
        connection = Connection(
            api_url=server.api_url,
            auth_url=server.auth_url,
            stream_url=server.stream_url,
            base_url=base_url or server.base_url,
            profile="test",
            username=username,
            password=password,
            cache_token=False,
        )
        client = St2Client.from_connection(connection, transport=transport)
        app = St2TuiApp(client, connection, Settings(**settings))
        app.crash_dir = tmp_path / "crash-reports"
        return app

    return factory
