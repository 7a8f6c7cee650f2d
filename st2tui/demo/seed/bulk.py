"""Many light top-level executions, streamed for load tests and benchmarks (`generate_bulk`)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ..content import Content
from .documents import (
    DEFAULT_USERS,
    HOSTNAME,
    WEBUI_BASE_URL,
    Ids,
    canceled_result,
    local_result,
    result_size,
)

# --------------------------------------------------------------------------------------------------
# Bulk


def generate_bulk(
    content: Content,
    count: int,
    *,
    now: datetime,
    rng: random.Random,
    span: timedelta = timedelta(days=30),
    users: Sequence[str] = DEFAULT_USERS,
    webui_base_url: str = WEBUI_BASE_URL,
    hostname: str = HOSTNAME,
) -> Iterator[dict[str, Any]]:
    """Yield `count` light but complete top-level executions (core.local, core.echo, core.noop),
    oldest first, evenly spread over `span` before `now`.

    Built for speed (100,000 in a few seconds): the `action` and `runner` documents are shared
    between the yielded documents, so serialize or copy a document before changing it.
    """
    ids = Ids(rng)
    pids = [rng.randint(2000, 60000) for _ in range(2)]
    base_url = webui_base_url.rstrip("/")
    echo, local, noop = (content.action(ref) for ref in ("core.echo", "core.local", "core.noop"))
    shell, noop_runner = content.runners[local["runner_type"]], content.runners[noop["runner_type"]]
    ok = local_result("ok")
    # (upper bound of the roll, action, runner, parameters, status, result, duration in seconds)
    kinds: list[tuple[float, dict[str, Any], dict[str, Any], dict[str, Any], str, Any, float]] = [
        (0.45, echo, shell, {"message": "ok"}, "succeeded", ok, 0.05),
        (0.75, local, shell, {"cmd": "uptime"}, "succeeded", ok, 0.2),
        (
            0.88,
            noop,
            noop_runner,
            {},
            "succeeded",
            {"failed": False, "succeeded": True, "return_code": 0},
            0.01,
        ),
        (
            0.96,
            local,
            shell,
            {"cmd": "cat /tmp/missing"},
            "failed",
            local_result("", "cat: /tmp/missing: No such file or directory", 1),
            0.1,
        ),
        (
            0.98,
            local,
            shell,
            {"cmd": "sleep 120"},
            "timeout",
            local_result("", "", -9, error="Action failed to complete in 60 seconds"),
            60.0,
        ),
        (1.0, local, shell, {"cmd": "sleep 300"}, "canceled", None, 30.0),
    ]
    sizes = {id(kind[5]): result_size(kind[5]) for kind in kinds if kind[5] is not None}
    canceled = {user: canceled_result(user) for user in users}
    # Naive UTC datetimes: `isoformat` is much faster than `strftime` on this hot path.
    first = now.astimezone(timezone.utc).replace(tzinfo=None) - span
    epoch = datetime(1970, 1, 1)
    step = span / max(count, 1)
    offsets = [timedelta(milliseconds=ms) for ms in (20, 30)]
    for index in range(count):
        start = first + step * index + timedelta(microseconds=rng.randrange(1_000_000))
        user = users[rng.randrange(len(users))]
        roll = rng.random()
        _, action, runner, params, status, result, duration = next(kind for kind in kinds if roll < kind[0])
        if result is None:
            result = canceled[user]
        end = start + timedelta(seconds=duration)
        seconds = int((start - epoch).total_seconds())
        exec_id = ids.new_at(seconds)
        doc = {
            "action": action,
            "runner": runner,
            "liveaction": {
                "action": action["ref"],
                "action_is_workflow": False,
                "parameters": params,
                "callback": {},
                "runner_info": {"hostname": hostname, "pid": pids[index & 1]},
                "id": ids.new_at(seconds),
            },
            "status": status,
            "start_timestamp": start.isoformat(timespec="microseconds") + "Z",
            "end_timestamp": end.isoformat(timespec="microseconds") + "Z",
            "parameters": params,
            "result_size": sizes.get(id(result)) or result_size(result),
            "context": {"user": user, "pack": action["pack"]},
            "log": [
                {"timestamp": start.isoformat(timespec="milliseconds") + "000Z", "status": "requested"},
                {
                    "timestamp": (start + offsets[0]).isoformat(timespec="milliseconds") + "000Z",
                    "status": "scheduled",
                },
                {
                    "timestamp": (start + offsets[1]).isoformat(timespec="milliseconds") + "000Z",
                    "status": "running",
                },
                {"timestamp": end.isoformat(timespec="milliseconds") + "000Z", "status": status},
            ],
            "web_url": f"{base_url}/#/history/{exec_id}/general",
            "id": exec_id,
            "result": result,
            "elapsed_seconds": duration,
        }
        if not params:
            del doc["parameters"]
        yield doc
