"""Extra section: the demo server itself at scale (no st2tui in the loop), over loopback HTTP.

- latency of the list calls the TUI and `st2 execution list` make, on the scale server of scenario 6;
- an output flood (`examples.flood`, 10,000 lines a second) fanned out to two stream clients: both must
  get every line, in order.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from benchmarks.common import Figure, Row, ScenarioResult
from benchmarks.context import Context

CASES = [
    ("first page, top level", {"parent": "null", "limit": 50}),
    ("status-filtered page", {"parent": "null", "status": "failed", "limit": 50}),
    ("action-filtered page", {"parent": "null", "action": "core.local", "limit": 50}),
    ("page 100", {"parent": "null", "limit": 50, "offset": 4950}),
    ("TUI table page", {"parent": "null", "limit": 50, "exclude_attributes": "result,trigger_instance"}),
]
LIST_GOAL_MS = 50
NO_PEER = "n/a: server only"


def time_requests(client: httpx.Client, path: str, params: dict[str, Any], n: int) -> list[float]:
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(path, params=params).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def stream_client(url: str, token: str, expected: int, results: dict[str, Any], name: str) -> None:
    """Count flood lines arriving on /stream and check their order."""
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


def fan_out(server: dict[str, Any], token: str, lines: int, rate: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    names = ("client1", "client2")
    clients = [
        threading.Thread(
            target=stream_client, args=(f"{server['stream_url']}/stream", token, lines, results, name)
        )
        for name in names
    ]
    for thread in clients:
        thread.start()
    while not all(results.get(f"{name}_ready") for name in names):
        time.sleep(0.05)
    time.sleep(0.2)
    started = time.perf_counter()
    httpx.post(
        f"{server['api_url']}/executions",
        json={"action": "examples.flood", "parameters": {"lines": lines, "rate": rate}},
        headers={"X-Auth-Token": token},
    ).raise_for_status()
    for thread in clients:
        thread.join(timeout=lines / rate + 120)
    elapsed = time.perf_counter() - started
    return {
        "lines": lines,
        "rate": rate,
        "clients": {name: results.get(name, (0, False)) for name in names},
        "seconds": elapsed,
    }


def run(ctx: Context, result: ScenarioResult) -> None:
    server, token = ctx.scale()
    requests = ctx.options.pick(30, 10)
    scenario = f"S server {server['bulk'] // 1000}k"
    with httpx.Client(base_url=server["api_url"], headers={"X-Auth-Token": token}, timeout=60) as client:
        for name, params in CASES:
            figure = Figure.of(time_requests(client, "/executions", params, requests))
            result.rows.append(
                Row(
                    scenario,
                    f"GET /executions {name} (ms)",
                    figure,
                    peer_note=NO_PEER,
                    goal=f"median < {LIST_GOAL_MS}",
                    met=figure is not None and figure.median < LIST_GOAL_MS,
                )
            )
    lines = ctx.options.pick(30_000, 10_000)
    flood = fan_out(server, token, lines, 10_000)
    result.details["fan_out"] = flood
    complete = all(seen == lines and in_order for seen, in_order in flood["clients"].values())
    result.rows.append(
        Row(
            scenario,
            "flood to 2 stream clients, lines/s end to end",
            Figure.single(lines / flood["seconds"]),
            peer_note=NO_PEER,
            goal="every line, in order, to both",
            met=complete,
            notes=f"{lines:,} lines at 10,000/s in {flood['seconds']:.2f} s",
        )
    )
