"""Running the real `st2` CLI (st2client) as a subprocess against an embedded server, and reading its tables."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from st2tui.demo.server import RunningServer

# Every CLI call gets a deadline: a hung CLI must fail its test, not the whole run.
DEFAULT_TIMEOUT = 60


@dataclass
class CliResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return f"$ st2 {' '.join(self.args)}  (exit {self.returncode})\n{self.output}"


class St2Cli:
    """The `st2` CLI with an isolated HOME, pointed at one server through `ST2_*_URL`.

    With `credentials=True` the HOME gets a `~/.st2/config` with the demo user's name and password, so
    every command signs in by itself (and caches its token in `~/.st2/token-<user>`), as an operator's
    configured CLI does.
    """

    def __init__(self, binary: str, server: RunningServer, home: Path, *, credentials: bool = True) -> None:
        self.binary = binary
        self.server = server
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        if credentials:
            config_dir = home / ".st2"
            config_dir.mkdir(exist_ok=True)
            (config_dir / "config").write_text(
                f"[credentials]\nusername = {server.username}\npassword = {server.password}\n"
            )

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            "HOME": str(self.home),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            # Wide enough that ids, refs and timestamps are never wrapped inside table cells.
            "COLUMNS": "400",
            "ST2_AUTH_URL": self.server.auth_url,
            "ST2_API_URL": self.server.api_url,
            "ST2_STREAM_URL": self.server.stream_url,
        }
        env.update(extra or {})
        return env

    def __call__(
        self, *args: str, timeout: float = DEFAULT_TIMEOUT, env: dict[str, str] | None = None
    ) -> CliResult:
        completed = subprocess.run(
            [self.binary, *args],
            capture_output=True,
            text=True,
            env=self.env(env),
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return CliResult(args, completed.returncode, completed.stdout, completed.stderr)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start a long-running command (`execution tail`); the caller reads its stdout and reaps it."""
        return subprocess.Popen(
            [self.binary, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=self.env({"PYTHONUNBUFFERED": "1", **(env or {})}),
        )


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip()[1:-1].split("|")]


def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of the first st2 table (`+---+` borders, `| a | b |` cells) in `text`, keyed by header.

    A line whose first cell is empty continues the row above (a wrapped cell); its pieces are joined
    with a space.
    """
    lines = [line for line in text.splitlines() if line.startswith(("|", "+"))]
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in lines:
        if line.startswith("+"):
            continue
        cells = _cells(line)
        if header is None:
            header = cells
            continue
        if rows and not cells[0]:
            for name, cell in zip(header, cells, strict=False):
                if cell:
                    rows[-1][name] = f"{rows[-1][name]} {cell}".strip()
            continue
        rows.append(dict(zip(header, cells, strict=False)))
    return rows


def parse_properties(text: str) -> dict[str, str]:
    """A `Property | Value` table as a dict (wrapped values joined with a space)."""
    return {row["Property"]: row["Value"] for row in parse_table(text)}


def parse_yaml_like(text: str) -> dict[str, str]:
    """Top-level `key: value` lines of `st2 execution get` / `st2 run` output (nested lines skipped)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z_.]+): ?(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def execution_id_from_async(result: CliResult) -> str:
    """The id in `st2 run -a` / `st2 execution re-run -a` output ("st2 execution get <id>")."""
    match = re.search(r"st2 execution get ([0-9a-f]{24})", result.output)
    assert match, f"no execution id in:\n{result}"
    return match.group(1)
