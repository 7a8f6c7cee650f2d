"""Fixtures for the real `st2` CLI conformance suite: the CLI, one embedded server, and a REST client.

The suite shares one server (timers off, seeded history) to stay fast; tests use their own names for
keys and rules' state and never assert on totals that other tests change.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.rest import api_client
from support.st2cli import St2Cli

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"


@pytest.fixture(scope="session")
def st2_binary(request: pytest.FixtureRequest) -> str:
    # tests/conftest.py is a plugin registered under its path; its st2_cli_path() is the single
    # definition of where the CLI comes from ($ST2TUI_ST2_CLI, else `st2` on PATH).
    root = request.config.pluginmanager.get_plugin(str(ROOT_CONFTEST))
    path = root.st2_cli_path()
    if path is None:
        pytest.skip(
            "real st2 CLI not found: install st2client in its own venv and set "
            "ST2TUI_ST2_CLI=/path/to/venv/bin/st2 (or put `st2` on PATH)"
        )
    return path


@pytest.fixture(scope="session")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_in_thread(DemoServer(tmp_path_factory.mktemp("cli-server") / "st2.sqlite", timers=False))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def st2(st2_binary: str, cli_server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> St2Cli:
    """The CLI configured with the demo user's credentials in its (isolated) `~/.st2/config`."""
    return St2Cli(st2_binary, cli_server, tmp_path_factory.mktemp("cli-home"))


@pytest.fixture(scope="session")
def rest(cli_server: RunningServer) -> Iterator[httpx.Client]:
    """REST access to the same server, to check what the CLI did (or set up what it reads)."""
    with api_client(cli_server) as client:
        yield client
