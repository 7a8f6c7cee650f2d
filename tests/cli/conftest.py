"""Fixtures for the real `st2` CLI conformance suite: the CLI, one embedded server, and a REST client.

The suite shares one server (timers off, seeded history) to stay fast; tests use their own names for
keys and rules' state and never assert on totals that other tests change.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support.rest import api_client
from support.st2cli import St2Cli

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread


@pytest.fixture(scope="session")
def st2_binary(st2_cli: str) -> str:
    return st2_cli


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
