"""What every scenario shares: figures (median, p95), the result rows, the st2 CLI, the app under test and
clocks that see when frames are composed and lines arrive."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
TERMINAL = {"succeeded", "failed", "timeout", "canceled", "abandoned"}
NO_CLI = "n/a (st2 CLI not found)"


# -- figures -------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Figure:
    """Samples of one quantity, summarised as median and p95."""

    median: float
    p95: float
    samples: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Figure | None:
        if not values:
            return None
        return cls(statistics.median(values), percentile(values, 0.95), len(values))

    @classmethod
    def single(cls, value: float) -> Figure:
        return cls(value, value, 1)


@dataclass
class Row:
    """One line of the table: a metric of st2tui, the st2 CLI's figure for the same thing when there is
    one (`peer_note` says why not), the goal and whether it was met (None: no goal)."""

    scenario: str
    metric: str
    ours: Figure | None
    peer: Figure | None = None
    peer_note: str = ""
    goal: str = ""
    met: bool | None = None
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.peer is None or not self.peer.median:
            return None
        return self.ours.median / self.peer.median

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class ScenarioResult:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    load_start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_end: tuple[float, float, float] = (0.0, 0.0, 0.0)
    seconds: float = 0.0
    error: str = ""


# -- this process ----------------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU time of process `pid` (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def until(condition: Callable[[], object], timeout: float = 60.0, step: float = 0.002) -> float:
    """Wait (polling) until `condition()` is true; returns the seconds it took."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(step)
    return time.perf_counter() - started


def run_isolated(target: Callable[..., Awaitable[Any]], *args: Any, timeout: float = 900) -> Any:
    """Run the coroutine function `target(*args)` in a fresh interpreter and return what it returns, so
    each scenario's RSS and CPU figures are its own (no earlier scenario's heap or imports)."""
    ours, theirs = multiprocessing.Pipe()
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_isolated_main, args=(theirs, target, args), daemon=True)
    child.start()
    theirs.close()
    try:
        if not ours.poll(timeout):
            raise TimeoutError(f"{target.__name__} did not finish in {timeout:.0f} s")
        ok, value = ours.recv()
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()
    if not ok:
        raise RuntimeError(f"{target.__name__} failed:\n{value}")
    return value


def _isolated_main(conn: Pipe, target: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
    import traceback

    try:
        conn.send((True, asyncio.run(target(*args))))
    except BaseException:  # reported to the parent, which raises it there
        conn.send((False, traceback.format_exc()))


# -- the app under test ----------------------------------------------------------------------------------


def build_app(server: dict[str, Any], *, token: str | None = None):
    """st2tui signed in to `server` (with a token when given, else with the demo user's password)."""
    from st2tui.api import St2Client
    from st2tui.app import St2TuiApp
    from st2tui.config import Connection, Settings

    connection = Connection(
        api_url=server["api_url"],
        auth_url=server["auth_url"],
        stream_url=server["stream_url"],
        base_url=server["base_url"],
        profile="bench",
        token=token,
        username=None if token else server["username"],
        password=None if token else server["password"],
        cache_token=False,
    )
    return St2TuiApp(St2Client.from_connection(connection), connection, Settings(timezone="utc"))


class FrameClock:
    """Records when frames are composed (headless: composed, not written to a terminal)."""

    def __init__(self, app: Any, clock: Callable[[], float] = time.perf_counter) -> None:
        self.frames: list[float] = []
        display = app._display

        def recording(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.frames.append(clock())

        app._display = recording

    def first_after(self, moment: float) -> float | None:
        index = bisect_left(self.frames, moment)
        return self.frames[index] if index < len(self.frames) else None

    async def next_frame(self, moment: float, timeout: float = 30) -> float:
        """The first frame composed at or after `moment` (waiting for it)."""
        await until(lambda: self.first_after(moment) is not None, timeout=timeout)
        frame = self.first_after(moment)
        assert frame is not None
        return frame


# -- the server ------------------------------------------------------------------------------------------


async def token_of(server: dict[str, Any]) -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{server['auth_url']}/tokens", auth=(server["username"], server["password"]), json={}
        )
        response.raise_for_status()
        return response.json()["token"]


def api_client(server: dict[str, Any], token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server["api_url"], headers={"X-Auth-Token": token}, timeout=60)


async def run_action(api: httpx.AsyncClient, action: str, parameters: dict[str, Any]) -> str:
    response = await api.post("/executions", json={"action": action, "parameters": parameters})
    response.raise_for_status()
    return response.json()["id"]


async def status_of(api: httpx.AsyncClient, execution_id: str) -> str:
    response = await api.get(f"/executions/{execution_id}", params={"include_attributes": "status"})
    response.raise_for_status()
    return response.json()["status"]


async def finished(api: httpx.AsyncClient, execution_id: str, timeout: float = 600) -> None:
    started = time.perf_counter()
    while await status_of(api, execution_id) not in TERMINAL:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"{execution_id} did not finish")
        await asyncio.sleep(0.2)


# -- the st2 CLI -----------------------------------------------------------------------------------------


def find_st2_cli() -> str | None:
    """`$ST2TUI_ST2_CLI`, else `st2` on PATH, else the st2client venv of this machine."""
    candidates = [os.environ.get("ST2TUI_ST2_CLI"), shutil.which("st2"), "/work/st2venv/bin/st2"]
    return next((path for path in candidates if path and Path(path).is_file()), None)


class St2Cli:
    """The real `st2` CLI with an isolated HOME (no ~/.st2 of the user), pointed at the server through
    `ST2_*_URL` and signed in with `ST2_AUTH_TOKEN`: every call is one process, as an operator runs it."""

    def __init__(self, binary: str, server: dict[str, Any], token: str) -> None:
        self.binary = binary
        self._home = tempfile.TemporaryDirectory(prefix="st2tui-bench-home-")
        self.env = {
            "HOME": self._home.name,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "COLUMNS": "160",
            "PYTHONUNBUFFERED": "1",
            "ST2_BASE_URL": server["base_url"],
            "ST2_AUTH_URL": server["auth_url"],
            "ST2_API_URL": server["api_url"],
            "ST2_STREAM_URL": server["stream_url"],
            "ST2_AUTH_TOKEN": token,
        }

    def timed(self, *args: str, timeout: float = 300) -> tuple[float, str]:
        """Run `st2 args…` to its end, output captured; (wall seconds from start to exit, stdout)."""
        started = time.perf_counter()
        completed = subprocess.run(
            [self.binary, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if completed.returncode != 0:
            raise RuntimeError(f"st2 {' '.join(args)} exited {completed.returncode}: {completed.stderr}")
        return elapsed, completed.stdout

    def times_ms(self, runs: int, *args: str) -> list[float]:
        return [self.timed(*args)[0] * 1000 for _ in range(runs)]

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.binary, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=self.env,
        )

    def close(self) -> None:
        self._home.cleanup()
