"""Crash reports: what an operator can attach to a bug report without leaking a credential.

Textual's own crash output prints the traceback *with local variables*, which may hold a password
or a token; st2tui writes this report instead: the traceback without locals, versions and where the
user was, every line passed through :func:`st2tui.redact.redact`.
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from st2tui import __version__
from st2tui.redact import redact


def default_crash_dir() -> Path:
    """Beside the log file (platformdirs' user log directory)."""
    from platformdirs import user_log_dir

    return Path(user_log_dir("st2tui"))


def _version(package: str) -> str:
    from importlib import metadata  # only when a report is written

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe(error: BaseException) -> str:
    """One line for the user: the exception's type and message, secrets masked."""
    return redact(f"{type(error).__name__}: {error}")


def write_crash_report(error: BaseException, directory: Path, context: Mapping[str, str]) -> Path:
    """Write a report on ``error`` into ``directory`` (created, owner-only file) and return its path."""
    now = datetime.now(timezone.utc)
    lines = [
        "st2tui crash report",
        f"time: {now.isoformat(timespec='seconds')}",
        f"st2tui {__version__}, textual {_version('textual')}, httpx {_version('httpx')}",
        f"python {sys.version.split()[0]} on {platform.platform()}",
        *(f"{key}: {value}" for key, value in context.items()),
        "",
        "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip(),
        "",
    ]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"crash-{now:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as report:
        report.write(redact("\n".join(lines)))
    return path
