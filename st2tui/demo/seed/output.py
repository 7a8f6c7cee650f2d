"""Output chunks and rule records (trigger instances, enforcements) behind the seeded executions."""

from __future__ import annotations

import hashlib
import runpy
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ..content import Content
from ..util import isotime
from .documents import parse_timestamp

# --------------------------------------------------------------------------------------------------
# Output chunks


def _derived_id(at: datetime, *parts: str) -> str:
    """An ObjectId-like id for a record derived from others: its time, then a hash of `parts`."""
    return f"{int(at.timestamp()):08x}{hashlib.sha1(':'.join(parts).encode()).hexdigest()[:16]}"


def _chunk(execution: dict[str, Any], at: datetime, output_type: str, data: str, seq: int) -> dict[str, Any]:
    return {
        "execution_id": execution["id"],
        "action_ref": execution["action"]["ref"],
        "runner_ref": execution["runner"]["name"],
        "timestamp": isotime(at),
        "output_type": output_type,
        "data": data,
        "id": _derived_id(at, "output", execution["id"], str(seq)),
    }


def _running_window(execution: dict[str, Any]) -> tuple[datetime, datetime]:
    running = next((e["timestamp"] for e in execution["log"] if e["status"] == "running"), None)
    start = parse_timestamp(running) if running else parse_timestamp(execution["start_timestamp"])
    return start, parse_timestamp(execution.get("end_timestamp", execution["start_timestamp"]))


def _spread(
    lines: list[str], output_type: str, start: datetime, end: datetime
) -> list[tuple[datetime, str, str]]:
    span = (end - start) * 0.9
    count = len(lines)
    return [(start + span * ((i + 0.5) / count), output_type, line + "\n") for i, line in enumerate(lines)]


def _deploy_step_events(
    content: Content, execution: dict[str, Any], start: datetime, scripts: dict[str, dict[str, Any]]
) -> list[tuple[datetime, str, str]]:
    ref = "examples.deploy-step"
    if ref not in scripts:
        scripts[ref] = runpy.run_path(str(content.script_path(ref)))
    params = execution["parameters"]
    lines, _ = scripts[ref]["step_lines"](
        params["step"],
        params["version"],
        params.get("environment", "staging"),
        params.get("target", ""),
        fail=params.get("fail_step") == params["step"],
    )
    events, at = [], start
    for stream, text, pause in lines:
        at += timedelta(seconds=pause * float(params.get("pace", 1.0)))
        events.append((at, stream, text + "\n"))
    return events


def _slow_echo_events(
    execution: dict[str, Any], start: datetime, end: datetime
) -> list[tuple[datetime, str, str]]:
    """A line a second; the lines of the result when it has them (a canceled run has none)."""
    params = execution["parameters"]
    total, message = int(params.get("seconds", 10)), params.get("message", "tick")
    printed = (execution.get("result") or {}).get("stdout", "").split("\n")
    events = []
    for i in range(1, total + 1):
        at = start + timedelta(seconds=i - 1, milliseconds=5)
        if at > end:
            break
        line = (
            printed[i - 1]
            if i <= len(printed) and printed[i - 1]
            else f"{at:%Y-%m-%dT%H:%M:%SZ} [{i}/{total}] {message}"
        )
        events.append((at, "stdout", line + "\n"))
        if i % 5 == 0:
            events.append(
                (at + timedelta(milliseconds=2), "stderr", f"progress: {i} of {total} lines printed\n")
            )
    return events


def _workflow_events(
    execution: dict[str, Any], start: datetime, end: datetime, by_id: dict[str, dict[str, Any]]
) -> list[tuple[datetime, str, str]]:
    """Progress messages the orquesta engine streams under the workflow execution."""
    wf_ex_id = execution["context"]["workflow_execution"]
    events = [
        (start, f'Workflow execution "{wf_ex_id}" is created.'),
        (start + timedelta(milliseconds=20), "Requesting conductor to start running workflow execution."),
    ]
    children = [by_id[child] for child in execution.get("children", ()) if child in by_id]
    for child in children:
        task = child["context"]["orquesta"]
        name = task["task_name"]
        at = parse_timestamp(child["start_timestamp"]) - timedelta(milliseconds=4)
        if "item_id" in task:
            events.append(
                (at, f'Mark task "{name}", route "0", item "{task["item_id"]}" in conductor as running.')
            )
        else:
            events.append((at, f"Identified the following set of tasks to execute next: {name} (route 0)"))
        events.append((at, f'Requesting execution for task "{name}", route "0".'))
        events.append((at, f'Action execution "{child["id"]}" requested for task "{name}", route "0".'))
        done = parse_timestamp(child.get("end_timestamp", child["start_timestamp"])) + timedelta(
            milliseconds=6
        )
        events.append(
            (done, f'Identifying next set (iter 0) of tasks after completion of task "{name}", route "0".')
        )
    events.append((end, "No tasks identified to execute next."))
    events.append((end, "\n"))
    if execution["status"] in ("succeeded", "failed", "canceled", "timeout"):
        events.append((end, f'The workflow execution is completed with status "{execution["status"]}".'))
        events.append((end, "\n"))
    return [(at, "output", message + "\n") for at, message in sorted(events, key=lambda event: event[0])]


def generate_output(content: Content, executions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Output chunk documents (`ActionExecutionOutputAPI` shape) for seeded executions, in time order.

    Shell and Python actions stream one chunk per line of stdout/stderr (with its newline);
    workflows stream the engine's progress messages as `output`.
    """
    by_id = {execution["id"]: execution for execution in executions}
    scripts: dict[str, dict[str, Any]] = {}
    chunks: list[dict[str, Any]] = []
    for execution in executions:
        start, end = _running_window(execution)
        ref, runner = execution["action"]["ref"], execution["runner"]["name"]
        result = execution.get("result") or {}
        if ref == "examples.deploy-step":
            events = _deploy_step_events(content, execution, start, scripts)
        elif ref == "examples.slow-echo":
            events = _slow_echo_events(execution, start, end)
        elif runner == "orquesta":
            events = _workflow_events(execution, start, end, by_id)
        elif runner in ("local-shell-cmd", "local-shell-script", "python-script") and (
            result.get("stdout") or result.get("stderr")
        ):
            events = []
            for stream in ("stdout", "stderr"):
                if result.get(stream):
                    text = result[stream]
                    lines = (text[:-1] if text.endswith("\n") else text).split("\n")
                    events += _spread(lines, stream, start, end)
            events.sort(key=lambda event: event[0])
        else:
            events = []
        chunks.extend(_chunk(execution, at, kind, data, seq) for seq, (at, kind, data) in enumerate(events))
    chunks.sort(key=lambda chunk: chunk["timestamp"])
    return chunks


def generate_rule_records(
    executions: Sequence[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The trigger instances and rule enforcements behind rule-fired executions:
    `(trigger_instances, enforcements)`, shaped like `GET /triggerinstances/{id}` and
    `GET /ruleenforcements/{id}`."""
    instances, enforcements = [], []
    for execution in executions:
        if "rule" not in execution:
            continue
        instance = {**execution["trigger_instance"], "status": "processed"}
        instances.append(instance)
        occurred = parse_timestamp(instance["occurrence_time"])
        enforced = occurred + (parse_timestamp(execution["start_timestamp"]) - occurred) / 2
        rule = execution["rule"]
        enforcements.append(
            {
                "trigger_instance_id": instance["id"],
                "execution_id": execution["id"],
                "rule": {"ref": rule["ref"], "id": rule["id"], "uid": rule["uid"]},
                "enforced_at": isotime(enforced),
                "status": "succeeded",
                "id": _derived_id(enforced, "enforcement", execution["id"]),
            }
        )
    return instances, enforcements
