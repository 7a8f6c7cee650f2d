"""What every seeded document shares: the demo's users and host, id making, result shapes, timestamps."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any

DEFAULT_USERS = ("st2admin", "stanley", "alice")
SYSTEM_USER = "stanley"
WEBUI_BASE_URL = "https://localhost"
HOSTNAME = "st2host"
HISTORY_SPAN = timedelta(days=3)
# Seeded executions all finish before this long before `now`, so none is still running.
QUIET_PERIOD = timedelta(minutes=10)

EXECUTION_FAILED = "Execution failed. See result for details."
ASK_SCHEMA = {
    "type": "object",
    "properties": {"approved": {"type": "boolean", "description": "Continue?", "required": True}},
}


def result_size(result: Any) -> int:
    """What st2 stores as `result_size`: the length of the compact UTF-8 JSON of the result."""
    return len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode())


def local_result(stdout: str, stderr: str = "", code: int = 0, error: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "failed": code != 0,
        "succeeded": code == 0,
        "return_code": code,
        "stdout": stdout,
        "stderr": stderr,
    }
    if error:
        result["error"] = error
    return result


def canceled_result(user: str) -> dict[str, Any]:
    return {"message": "Action canceled by user.", "user": user}


class Ids:
    """ObjectId-like ids: creation time, a per-history "machine" part and a rising counter."""

    def __init__(self, rng: random.Random) -> None:
        self.machine = rng.getrandbits(40)
        self.counter = rng.getrandbits(24)

    def new(self, at: datetime) -> str:
        return self.new_at(int(at.timestamp()))

    def new_at(self, seconds: int) -> str:
        self.counter = (self.counter + 1) & 0xFFFFFF
        return f"{seconds:08x}{self.machine:010x}{self.counter:06x}"


def parse_timestamp(timestamp: str) -> datetime:
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
