"""Execution screen fixtures: a frozen clock, REST access, and a reproducible server for the snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from execution_support import FIXED_NOW, Api, add_running_deploy

from st2tui import formatting
from st2tui.demo.server import DemoServer, RunningServer, start_in_thread


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Everything on screen that ages (elapsed times, notices) reads FIXED_NOW."""
    monkeypatch.setattr(formatting, "now", lambda: FIXED_NOW)
    return FIXED_NOW


@pytest.fixture
def api() -> Iterator[Any]:
    """`api(server)` gives an `Api` for that server."""
    opened: list[Api] = []

    def factory(server: RunningServer) -> Api:
        opened.append(Api(server))
        return opened[-1]

    yield factory
    for item in opened:
        item.client.close()


@pytest.fixture(scope="module")
def snapshot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Seeded with a fixed clock and random seed: the same history, with the same ids, every run."""
    path: Path = tmp_path_factory.mktemp("st2-execution-snapshots") / "st2.sqlite"
    server = start_in_thread(DemoServer(path, timers=False, seed_now=FIXED_NOW, seed_random=1234))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def running_deploy(snapshot_server: RunningServer) -> str:
    """The id of a deploy caught in the middle of its run on the snapshot server (see `add_running_deploy`)."""
    return add_running_deploy(snapshot_server)
