"""The table (terminal and Markdown), the JSON, and the machine the figures come from."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from benchmarks.common import Figure, Row, ScenarioResult

HEADERS = (
    "scenario",
    "metric",
    "st2tui median",
    "p95",
    "peer (st2 CLI) median",
    "p95",
    "ratio",
    "goal",
    "met?",
)
START_MARK = "<!-- results:start -->"
END_MARK = "<!-- results:end -->"


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    try:
        textual = version("textual")
    except PackageNotFoundError:
        textual = "unknown"
    try:
        release = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        release = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(memory_kb / 2**20, 1),
        "python": sys.version.split()[0],
        "os": f"{release} ({platform.system()} {platform.release()})".strip(),
        "textual": textual,
    }


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.0f}"
    return f"{value:.2f}" if abs(value) < 1 else f"{value:.1f}"


def _figure(figure: Figure | None, note: str = "") -> tuple[str, str]:
    if figure is None:
        return (note or "-", "")
    return _number(figure.median), _number(figure.p95)


def cells(row: Row) -> list[str]:
    ours = _figure(row.ours)
    peer = _figure(row.peer, row.peer_note)
    ratio = f"{row.ratio:.2f}" if row.ratio is not None else ""
    met = {True: "yes", False: "NO", None: ""}[row.met]
    return [row.scenario, row.metric, *ours, *peer, ratio, row.goal, met]


def text_table(results: list[ScenarioResult]) -> str:
    rows = [cells(row) for result in results for row in result.rows]
    rows += [
        [f"{result.key} {result.title}", f"FAILED: {result.error.splitlines()[-1]}"] + [""] * 7
        for result in results
        if result.error
    ]
    widths = [max(len(str(line[i])) for line in [HEADERS, *rows]) for i in range(len(HEADERS))]
    numeric = {2, 3, 4, 5, 6}

    def line(values) -> str:
        return " | ".join(
            str(value).rjust(width) if i in numeric else str(value).ljust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        )

    return "\n".join([line(HEADERS), "-+-".join("-" * width for width in widths), *map(line, rows)])


def markdown_table(results: list[ScenarioResult]) -> str:
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * 5 + ["---"] * 2) + "|",
    ]
    for result in results:
        for row in result.rows:
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells(row)) + " |")
        if result.error:
            lines.append(
                f"| {result.key} {result.title} | FAILED: {result.error.splitlines()[-1]} |" + " |" * 7
            )
    return "\n".join(lines)


def as_json(results: list[ScenarioResult], run: dict[str, Any]) -> dict[str, Any]:
    return {
        **run,
        "scenarios": [
            {
                "key": result.key,
                "title": result.title,
                "seconds": round(result.seconds, 1),
                "loadavg_start": result.load_start,
                "loadavg_end": result.load_end,
                "error": result.error,
                "rows": [row.as_dict() for row in result.rows],
                "details": result.details,
            }
            for result in results
        ],
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def markdown_section(results: list[ScenarioResult], run: dict[str, Any]) -> str:
    box = run["machine"]

    def load(values: tuple[float, float, float]) -> str:
        return " / ".join(f"{value:.2f}" for value in values)

    loads = "\n".join(
        f"| {result.key} {result.title} | {result.seconds:.0f} s | {load(result.load_start)} | "
        f"{load(result.load_end)} |"
        for result in results
    )
    notes = "\n".join(
        f"- {row.scenario}, {row.metric}: {row.notes}"
        for result in results
        for row in result.rows
        if row.notes
    )
    return f"""{START_MARK}
Run {run["started"]} ({run["seconds"]:.0f} s): `{run["command"]}`

Machine: {box["cpu"]}, {box["cores"]} cores, {box["ram_gb"]} GB RAM; Python {box["python"]}; {box["os"]};
Textual {box["textual"]}; st2 CLI: {run["st2_cli"] or "not found"}.
Load averages at the start and end of each scenario are below (a busy machine moves figures by ±30%).

{markdown_table(results)}

Ratio: st2tui median / st2 CLI median (below 1: st2tui is faster). Notes:

{notes}

Load average (1 / 5 / 15 min) at the start and end of each scenario:

| scenario | took | load at start | load at end |
|---|---:|---|---|
{loads}
{END_MARK}"""


def update_markdown(path: Path, section: str) -> None:
    """Replace the generated section of `path` (between the marks), keeping what is written around it."""
    if path.exists() and START_MARK in (text := path.read_text()) and END_MARK in text:
        before, rest = text.split(START_MARK, 1)
        after = rest.split(END_MARK, 1)[1]
        path.write_text(before + section + after)
    else:
        path.write_text(f"# Benchmark results\n\n{section}\n")


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
