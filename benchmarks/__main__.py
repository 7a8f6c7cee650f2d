"""st2tui benchmarks against the st2 CLI: `python -m benchmarks [--quick] [--only 3,4] [--json PATH]`.

Starts the embedded demo server (seeded; a second one with 100,000 executions for scenario 6) in child
processes, runs each scenario with st2tui headless in a process of its own, and prints one table: median
and p95 of st2tui, of the st2 CLI doing the same where it can, their ratio and the goal. The same goes to
JSON. Figures never fail the run: a scenario that breaks is reported as failed and the others still run.

Scenarios: 1 cold start to the first page, 2 open an execution, 3 live output latency, 4 output flood,
5 event storm, 6 scale (100,000 executions), 7 idle CPU; S the demo server's own figures.
The st2 CLI: `$ST2TUI_ST2_CLI`, else `st2` on PATH, else /work/st2venv/bin/st2.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks import (
    cold_start,
    event_storm,
    idle,
    live_output,
    open_execution,
    output_flood,
    scale,
    server_figures,
    tail_flood,
)
from benchmarks.common import ScenarioResult
from benchmarks.context import Context, Options
from benchmarks.report import (
    as_json,
    machine,
    markdown_section,
    now_iso,
    text_table,
    update_markdown,
    write_json,
)

SCENARIOS: dict[str, tuple[str, Callable[[Context, ScenarioResult], None]]] = {
    "1": ("cold start to the first page", cold_start.run),
    "2": ("open an execution and show its output", open_execution.run),
    "3": ("live output latency", live_output.run),
    "4": ("output flood", output_flood.run),
    "5": ("event storm", event_storm.run),
    "6": ("scale", scale.run),
    "7": ("idle cost", idle.run),
    "8": ("tail pane flood", tail_flood.run),
    "S": ("demo server figures", server_figures.run),
}
DEFAULT_JSON = Path(__file__).resolve().parent / "results.json"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n\n")[0],
        epilog="Scenarios: " + "; ".join(f"{key} {title}" for key, (title, _) in SCENARIOS.items()),
    )
    parser.add_argument("--quick", action="store_true", help="shorter floods, 20,000 executions, fewer runs")
    parser.add_argument("--only", metavar="LIST", help="comma-separated scenarios to run, e.g. 3,4 or 6,S")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"where to write JSON ({DEFAULT_JSON})"
    )
    parser.add_argument(
        "--markdown", type=Path, help="update the generated section of this file (RESULTS.md)"
    )
    parser.add_argument(
        "--runs", type=int, metavar="N", help="starts of each side in scenario 1 (default 7, 3 with --quick)"
    )
    parser.add_argument(
        "--server-url",
        metavar="URL",
        help="run scenario 1 against this StackStorm (nginx-style base serving /auth/v1, /api/v1, "
        "/stream/v1; it needs 50 executions) instead of the demo server; the user is "
        "$ST2TUI_BENCH_USER (default st2admin), the password $ST2TUI_BENCH_PASSWORD",
    )
    args = parser.parse_args(argv)
    chosen = [part.strip().upper() for part in (args.only or ",".join(SCENARIOS)).split(",") if part.strip()]
    unknown = [key for key in chosen if key not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {', '.join(unknown)} (choose from {', '.join(SCENARIOS)})")
    if args.server_url and chosen != ["1"]:
        parser.error("--server-url runs scenario 1 only (the others need the demo server): add --only 1")
    args.chosen = chosen
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    ctx = Context(Options(quick=args.quick, server_url=args.server_url, runs=args.runs))
    run = {
        "started": now_iso(),
        "command": "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv),
        "quick": args.quick,
        "machine": machine(),
        "st2_cli": ctx.cli_binary,
        "server": args.server_url or "demo server",
    }
    print(f"st2 CLI: {ctx.cli_binary or 'not found: peer columns will say n/a'}", flush=True)
    results: list[ScenarioResult] = []
    began = time.perf_counter()
    try:
        for key in args.chosen:
            title, scenario = SCENARIOS[key]
            result = ScenarioResult(key, title)
            print(f"== {key} {title}", flush=True)
            result.load_start = os.getloadavg()
            started = time.perf_counter()
            try:
                scenario(ctx, result)
            except Exception:  # one broken scenario must not lose the others' figures
                result.error = traceback.format_exc()
                print(result.error, file=sys.stderr, flush=True)
            result.seconds = time.perf_counter() - started
            result.load_end = os.getloadavg()
            results.append(result)
            print(f"   done in {result.seconds:.0f} s", flush=True)
    finally:
        ctx.close()
    run["seconds"] = time.perf_counter() - began
    print()
    print(text_table(results))
    write_json(args.json, as_json(results, run))
    print(f"\nJSON: {args.json}")
    if args.markdown:
        update_markdown(args.markdown, markdown_section(results, run))
        print(f"Markdown: {args.markdown}")
    return 1 if any(result.error for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
