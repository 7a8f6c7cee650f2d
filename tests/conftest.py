"""Test harness: the embedded StackStorm-compatible server on a loopback port, and the contract data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

REPO_ROOT = Path(__file__).resolve().parent.parent


def contract_dir() -> Path | None:
    """`../shared/contract` beside the checkout, or `$ST2TUI_CONTRACT_DIR`; None when absent."""
    env = os.environ.get("ST2TUI_CONTRACT_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "contract")
    for candidate in candidates:
        if (candidate / "st2-openapi.yaml").is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def contract() -> Path:
    path = contract_dir()
    if path is None:
        pytest.skip("StackStorm contract data not found: set ST2TUI_CONTRACT_DIR or place shared/contract beside the repo")
    return path


def st2_cli_path() -> str | None:
    """The real `st2` CLI (st2client): `$ST2TUI_ST2_CLI`, else `st2` on PATH."""
    env = os.environ.get("ST2TUI_ST2_CLI")
    if env:
        return env if Path(env).is_file() else None
    return shutil.which("st2")


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
