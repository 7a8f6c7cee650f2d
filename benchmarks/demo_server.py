"""Demo server figures (issue: embedded server): list latency at 100,000 executions, output flood fan-out.

    python -m benchmarks.demo_server [--executions 100000] [--requests 50] [--lines 30000] [--rate 10000]

Prints median and p95 latencies of the list calls the TUI and `st2 execution list` make, and whether a
10,000 lines/s action reaches two stream clients completely and in order. Never asserts: it reports.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

from st2tui.demo.seed import generate_bulk
from st2tui.demo.server import DemoServer, RunningServer, start_in_thread


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def load_bulk(running: RunningServer, count: int) -> float:
    server = running.server
    started = time.perf_counter()

    async def insert() -> None:
        docs = generate_bulk(server.content, count, now=datetime.now(timezone.utc), rng=random.Random(7))
        server.engine.insert_history(docs)

    running.call(insert, timeout=600)
    return time.perf_counter() - started


def time_requests(
    client: httpx.Client, path: str, params: dict[str, object], n: int
) -> tuple[float, float, str]:
    timings = []
    total = ""
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, params=params)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        total = response.headers.get("X-Total-Count", "")
    return statistics.median(timings), percentile(timings, 0.95), total


def stream_client(url: str, token: str, expected: int, results: dict[str, object], name: str) -> None:
    """Count flood lines arriving on /stream/v1/stream and check their order."""
    seen, in_order, last = 0, True, 0
    params = {"events": "st2.execution.output__create", "action_refs": "examples.flood"}
    with httpx.stream("GET", url, params=params, headers={"X-Auth-Token": token}, timeout=120) as response:
        results[f"{name}_ready"] = True
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            chunk = json.loads(line[6:])
            if chunk.get("output_type") != "stdout":
                continue
            number = int(chunk["data"].split(" ", 1)[0])
            in_order = in_order and number == last + 1
            last, seen = number, seen + 1
            if seen >= expected:
                break
    results[name] = (seen, in_order)


def flood(running: RunningServer, token: str, lines: int, rate: int) -> None:
    results: dict[str, object] = {}
    clients = [
        threading.Thread(
            target=stream_client, args=(f"{running.stream_url}/stream", token, lines, results, f"client{i}")
        )
        for i in (1, 2)
    ]
    for thread in clients:
        thread.start()
    while not (results.get("client1_ready") and results.get("client2_ready")):
        time.sleep(0.05)
    time.sleep(0.2)
    started = time.perf_counter()
    created = httpx.post(
        f"{running.api_url}/executions",
        json={"action": "examples.flood", "parameters": {"lines": lines, "rate": rate}},
        headers={"X-Auth-Token": token},
    ).json()
    for thread in clients:
        thread.join(timeout=lines / max(rate, 1) + 120)
    elapsed = time.perf_counter() - started
    print(f"\nOutput flood: examples.flood {lines:,} lines at {rate:,}/s (execution {created['id']})")
    for name in ("client1", "client2"):
        seen, in_order = results.get(name, (0, False))
        print(f"  {name}: {seen:,}/{lines:,} lines, in order: {in_order}")
    print(f"  both clients complete after {elapsed:.2f} s ({lines / elapsed:,.0f} lines/s end to end)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--lines", type=int, default=30_000)
    parser.add_argument("--rate", type=int, default=10_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        running = start_in_thread(DemoServer(Path(tmp) / "bench.sqlite", timers=False, history=0))
        try:
            seconds = load_bulk(running, args.executions)
            print(f"Loaded {args.executions:,} executions in {seconds:.1f} s")
            token = httpx.post(f"{running.auth_url}/tokens", auth=(running.username, running.password)).json()
            with httpx.Client(base_url=running.api_url, headers={"X-Auth-Token": token["token"]}) as client:
                cases = [
                    ("first page, top level", {"parent": "null", "limit": 50}),
                    ("status-filtered page", {"parent": "null", "status": "failed", "limit": 50}),
                    ("action-filtered page", {"parent": "null", "action": "core.local", "limit": 50}),
                    ("page 100", {"parent": "null", "limit": 50, "offset": 4950}),
                    (
                        "TUI table page",
                        {"parent": "null", "limit": 50, "exclude_attributes": "result,trigger_instance"},
                    ),
                ]
                print(f"\nGET /api/v1/executions, {args.requests} requests each (goal: median < 50 ms)")
                print(f"  {'case':28} {'median ms':>10} {'p95 ms':>8} {'total':>8}")
                for name, params in cases:
                    median, p95, total = time_requests(client, "/executions", params, args.requests)
                    print(f"  {name:28} {median:10.1f} {p95:8.1f} {total:>8}")
                median, p95, _ = time_requests(client, "/executions/views/filters", {}, 10)
                print(f"  {'views/filters':28} {median:10.1f} {p95:8.1f}")
            flood(running, token["token"], args.lines, args.rate)
        finally:
            running.stop()


if __name__ == "__main__":
    main()
