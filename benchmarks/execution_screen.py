"""Execution screen figures (issue 6): output latency against `st2 execution tail`, and a 10,000 lines/s flood.

    python -m benchmarks.execution_screen [--lines 50] [--interval 0.1] [--rate 10000] [--seconds 30]

1. Latency: a `core.local` command prints `--lines` lines, each carrying the wall-clock time it was
   printed, `--interval` s apart. Measured end to end, from the print to:
   - st2tui: the first frame composed after the line reached the output view of the execution screen;
   - `st2 execution tail` (`$ST2TUI_ST2_CLI`, else /work/st2venv/bin/st2, else `st2` on PATH): the line
     read from its stdout. Same command, same server, one after the other in the same run.
2. Flood: `examples.flood` prints `--rate` lines per second for `--seconds` s while the screen follows it
   and a key (`t`, timestamps on/off) is sent every 100 ms. Printed: lines that reached the view per
   second, frames per second, how long after the last line was printed the view had it, key latency
   (posting the key to the first frame composed after the view changed) and the TUI's peak RSS.

The demo server runs as `st2tui demo-server` in its own process (as StackStorm would be elsewhere), so RSS
is the TUI's own. The app runs headless: frames are composed, not written to a terminal. Never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

import httpx
from textual import events

from st2tui.api import St2Client
from st2tui.app import St2TuiApp
from st2tui.config import Connection, Settings
from st2tui.messages import ExecutionOpenRequested
from st2tui.screens.execution import ExecutionScreen
from st2tui.widgets.output_log import OutputLog

TERMINAL = {"succeeded", "failed", "timeout", "canceled", "abandoned"}
MARK = "LAT"
LATENCY_SCRIPT = (
    "import sys, time\n"
    "time.sleep({delay})\n"
    "for i in range({lines}):\n"
    "    print('{mark} %d %.6f' % (i, time.time()), flush=True)\n"
    "    time.sleep({interval})\n"
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def describe(values: list[float], unit: str = "ms") -> str:
    if not values:
        return "no samples"
    return (
        f"median {statistics.median(values):.1f} {unit}, p95 {percentile(values, 0.95):.1f} {unit}, "
        f"max {max(values):.1f} {unit} ({len(values)} samples)"
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def st2_cli() -> str | None:
    env = os.environ.get("ST2TUI_ST2_CLI")
    if env and Path(env).is_file():
        return env
    if Path("/work/st2venv/bin/st2").is_file():
        return "/work/st2venv/bin/st2"
    return shutil.which("st2")


class DemoServerProcess:
    """`st2tui demo-server` on a free loopback port, in a child process."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "st2tui", "demo-server", "--port", "0", "--no-timers", "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.base_url = found.group(1)
                break
        else:
            raise RuntimeError("the demo server did not start")
        for line in self.process.stdout:
            found = re.search(r"credentials: (\S+) / (\S+)", line)
            if found:
                self.username, self.password = found.group(1), found.group(2)
                break
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    @property
    def urls(self) -> dict[str, str]:
        return {
            "base_url": self.base_url,
            "auth_url": f"{self.base_url}/auth/v1",
            "api_url": f"{self.base_url}/api/v1",
            "stream_url": f"{self.base_url}/stream/v1",
        }

    def token(self) -> str:
        response = httpx.post(
            f"{self.base_url}/auth/v1/tokens", auth=(self.username, self.password), json={}, timeout=10
        )
        response.raise_for_status()
        return response.json()["token"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def build_app(server: DemoServerProcess) -> St2TuiApp:
    connection = Connection(
        **server.urls,
        profile="bench",
        username=server.username,
        password=server.password,
        cache_token=False,
    )
    return St2TuiApp(St2Client.from_connection(connection), connection, Settings(timezone="utc"))


async def until(condition, timeout: float = 60.0) -> None:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.002)


class FrameClock:
    """Records (wall-clock) when frames are composed."""

    def __init__(self, app: St2TuiApp) -> None:
        self.frames: list[float] = []
        display = app._display

        def recording(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.frames.append(time.time())

        app._display = recording  # type: ignore[method-assign]

    def first_after(self, moment: float) -> float | None:
        index = bisect_left(self.frames, moment)
        return self.frames[index] if index < len(self.frames) else None


class ArrivalClock:
    """Records (wall-clock) when lines reach the output view, and counts them."""

    def __init__(self, log: OutputLog) -> None:
        self.arrivals: list[tuple[str, float]] = []
        self.count = 0
        append = log.append

        def recording(lines) -> int:
            lines = list(lines)
            now = time.time()
            self.count += len(lines)
            self.arrivals += [(line.text, now) for line in lines if line.text.startswith(MARK)]
            return append(lines)

        log.append = recording  # type: ignore[method-assign]


async def open_screen(app: St2TuiApp, execution_id: str) -> ExecutionScreen:
    await until(lambda: app.main_screen.signed_in)
    app.post_message(ExecutionOpenRequested(execution_id))
    await until(lambda: isinstance(app.screen, ExecutionScreen))
    screen = app.screen
    await until(lambda: screen.execution is not None)
    return screen


async def run_action(api: httpx.AsyncClient, action: str, parameters: dict[str, Any]) -> str:
    response = await api.post("/api/v1/executions", json={"action": action, "parameters": parameters})
    response.raise_for_status()
    return response.json()["id"]


async def status_of(api: httpx.AsyncClient, execution_id: str) -> str:
    response = await api.get(f"/api/v1/executions/{execution_id}", params={"include_attributes": "status"})
    return response.json()["status"]


async def finished(api: httpx.AsyncClient, execution_id: str, timeout: float = 600) -> None:
    started = time.perf_counter()
    while await status_of(api, execution_id) not in TERMINAL:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"{execution_id} did not finish")
        await asyncio.sleep(0.2)


def printed_at(text: str) -> float:
    return float(text.split()[2])


async def tui_latency(server: DemoServerProcess, api: httpx.AsyncClient, cmd: str, lines: int) -> list[float]:
    app = build_app(server)
    async with app.run_test(size=(160, 45)):
        await until(lambda: app.main_screen.signed_in)
        execution_id = await run_action(api, "core.local", {"cmd": cmd})
        screen = await open_screen(app, execution_id)
        clock = FrameClock(app)
        arrivals = ArrivalClock(screen.output.log_view)
        await until(lambda: len(arrivals.arrivals) >= lines, timeout=120)
        await asyncio.sleep(0.2)
        latencies = []
        for text, arrived in arrivals.arrivals:
            shown = clock.first_after(arrived)
            if shown is not None:
                latencies.append((shown - printed_at(text)) * 1000)
        await finished(api, execution_id)
    return latencies


def cli_latency(server: DemoServerProcess, execution_id: str, lines: int, binary: str) -> list[float]:
    """`st2 execution tail` of a running execution: milliseconds from each line's print to its stdout."""
    with tempfile.TemporaryDirectory() as home:
        env = {
            "HOME": home,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "ST2_AUTH_TOKEN": server.token(),
            **{f"ST2_{key.upper()}": value for key, value in server.urls.items()},
        }
        tail = subprocess.Popen(
            [binary, "execution", "tail", execution_id],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=env,
        )
        latencies = []
        assert tail.stdout is not None
        for line in tail.stdout:
            received = time.time()
            text = line.strip()
            if text.startswith(MARK):
                latencies.append((received - printed_at(text)) * 1000)
                if len(latencies) >= lines:
                    break
        tail.terminate()
        tail.wait(10)
    return latencies


async def key_latency(app: St2TuiApp, log: OutputLog, clock: FrameClock) -> float:
    """Milliseconds from posting `t` to the first frame composed after the view switched timestamps."""
    before = log.timestamps
    posted = time.time()
    app.post_message(events.Key("t", "t"))
    await until(lambda: log.timestamps != before, timeout=30)
    changed = time.time()
    await until(lambda: clock.first_after(changed) is not None, timeout=30)
    return (clock.first_after(changed) - posted) * 1000


async def flood(server: DemoServerProcess, api: httpx.AsyncClient, rate: int, seconds: int) -> None:
    total = rate * seconds
    app = build_app(server)
    async with app.run_test(size=(160, 45)):
        await until(lambda: app.main_screen.signed_in)
        execution_id = await run_action(
            api, "examples.flood", {"lines": total, "rate": rate, "line_length": 80}
        )
        screen = await open_screen(app, execution_id)
        await until(lambda: screen.execution is not None)
        log = screen.output.log_view
        clock = FrameClock(app)
        arrivals = ArrivalClock(log)
        keys: list[float] = []
        samples: list[int] = []
        memory: list[float] = [rss_mb()]
        frames_before = len(clock.frames)
        started = time.time()
        last_sample, last_count = started, 0
        status = "running"
        while status not in TERMINAL:
            keys.append(await key_latency(app, log, clock))
            await asyncio.sleep(0.1)
            now = time.time()
            if now - last_sample >= 1.0:
                samples.append(round((arrivals.count - last_count) / (now - last_sample)))
                memory.append(rss_mb())
                last_sample, last_count = now, arrivals.count
                status = await status_of(api, execution_id)
        ended = time.time()
        expected = len((await api.get(f"/api/v1/executions/{execution_id}/output")).text.splitlines())
        await until(lambda: log.received >= expected, timeout=300)
        caught_up = time.time()
        elapsed = caught_up - started
        frames = len(clock.frames) - frames_before
        busy = [sample for sample in samples[1:-1] if sample] or samples
        print(
            f"flood: {total:,} lines at {rate:,}/s asked; the view received {log.received:,} lines "
            f"({expected:,} printed incl. stderr) in {elapsed:.1f} s"
        )
        print(
            f"  lines into the view per second while flooding: median {statistics.median(busy):,.0f}, "
            f"min {min(busy):,}, max {max(busy):,}; {frames / elapsed:.0f} frames/s composed"
        )
        print(
            f"  the view had every line {max(caught_up - ended, 0):.2f} s after the action finished "
            f"(status polled once a second); kept {log.line_count:,} of {log.received:,} lines"
        )
        print(f"  key `t` during the flood: {describe(keys)}")
        print(
            f"  RSS of the TUI process: {memory[0]:.0f} MB when the flood started, "
            f"{statistics.median(memory):.0f} MB median, {max(memory):.0f} MB at most during it, "
            f"{rss_mb():.0f} MB at the end; peak {peak_rss_mb():.0f} MB"
        )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = DemoServerProcess(Path(tmp) / "bench.sqlite")
        try:
            headers = {"X-Auth-Token": server.token()}
            async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as api:
                script = LATENCY_SCRIPT.format(delay=2, lines=args.lines, interval=args.interval, mark=MARK)
                cmd = f"python3 - <<'EOF'\n{script}EOF"
                print(
                    f"latency: {args.lines} lines, {args.interval} s apart, printed by core.local (end to end)"
                )
                ours = await tui_latency(server, api, cmd, args.lines)
                print(f"  st2tui execution screen (line -> frame): {describe(ours)}")
                binary = st2_cli()
                if binary is None:
                    print("  st2 execution tail: not measured (no st2 CLI: set ST2TUI_ST2_CLI)")
                else:
                    execution_id = await run_action(api, "core.local", {"cmd": cmd})
                    theirs = await asyncio.to_thread(cli_latency, server, execution_id, args.lines, binary)
                    print(f"  st2 execution tail (line -> stdout):    {describe(theirs)}")
                    await finished(api, execution_id)
                await flood(server, api, args.rate, args.seconds)
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=50, help="lines of the latency run")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between latency lines")
    parser.add_argument("--rate", type=int, default=10_000, help="flood lines per second")
    parser.add_argument("--seconds", type=int, default=30, help="flood duration")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
