"""The seeded execution history: `generate_history` and the builder that shapes each demo action's runs.

Over 800 lines because it holds one builder whose methods each shape one demo action's executions
(workflows, inquiries, rule firings); they share its id, clock and document helpers.
"""

from __future__ import annotations

import copy
import json
import random
import runpy
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..content import Content
from ..params import render_final_parameters
from ..runners.shell import script_arguments
from ..util import isotime, isotime_ms
from .documents import (
    ASK_SCHEMA,
    DEFAULT_USERS,
    EXECUTION_FAILED,
    HISTORY_SPAN,
    HOSTNAME,
    QUIET_PERIOD,
    SYSTEM_USER,
    WEBUI_BASE_URL,
    Ids,
    canceled_result,
    local_result,
    parse_timestamp,
    result_size,
)


@dataclass
class _Task:
    """One task execution of a seeded workflow."""

    name: str
    ref: str
    params: dict[str, Any]
    status: str = "succeeded"
    result: Any = None
    duration: float = 0.1
    after: tuple[str, ...] = ()
    item_id: int | None = None
    log: tuple[tuple[str, float], ...] = ()  # extra statuses, seconds after the run starts
    workflow: _Workflow | None = None  # set when the task runs a sub-workflow


# An extra `log` entry: a status and when it happened (seconds after the run started, or a time).
_LogEntry = tuple[str, "float | datetime"]


@dataclass
class _Workflow:
    """A seeded workflow run: its tasks, output, and whether it ends with the `fail` command."""

    tasks: list[_Task]
    output: Any = None
    fail_command: bool = False
    pause_for: str | None = None  # a task awaiting an inquiry pauses the workflow meanwhile


@dataclass
class _RuleFiring:
    """What a rule-fired execution embeds: the rule, its trigger and the trigger instance."""

    rule: dict[str, Any]
    trigger: dict[str, Any]
    trigger_type: dict[str, Any]
    trigger_instance: dict[str, Any]
    trace_tag: str
    trace_id: str


class _HistoryBuilder:
    def __init__(
        self,
        content: Content,
        rng: random.Random,
        users: Sequence[str],
        webui_base_url: str,
        hostname: str,
    ) -> None:
        self.content = content
        self.rng = rng
        self.users = list(users)
        self.webui_base_url = webui_base_url.rstrip("/")
        self.hostname = hostname
        self.ids = Ids(rng)
        self.pids = [rng.randint(2000, 60000) for _ in range(2)]
        self.docs: list[dict[str, Any]] = []
        self._scripts: dict[str, dict[str, Any]] = {}

    # -- helpers ---------------------------------------------------------------------------------

    def script(self, ref: str) -> dict[str, Any]:
        """The namespace of a content script (loaded without running its main or writing bytecode)."""
        if ref not in self._scripts:
            self._scripts[ref] = runpy.run_path(str(self.content.script_path(ref)))
        return self._scripts[ref]

    def user(self) -> str:
        weights = [5] + [2] * (len(self.users) - 1)
        return self.rng.choices(self.users, weights=weights)[0]

    def ms(self, low: float, high: float) -> timedelta:
        return timedelta(milliseconds=self.rng.uniform(low, high))

    def _log(
        self,
        start: datetime,
        run_at: datetime,
        end: datetime,
        status: str,
        extra: Sequence[_LogEntry],
    ) -> list[dict[str, str]]:
        requested = start + self.ms(1, 3)
        entries = [
            (requested, "requested"),
            (requested + (run_at - requested) * 0.7, "scheduled"),
            (run_at - self.ms(0, 2), "running"),
            *(
                (when if isinstance(when, datetime) else run_at + timedelta(seconds=when), name)
                for name, when in extra
            ),
            (end + self.ms(3, 9), status),
        ]
        return [{"timestamp": isotime_ms(at), "status": name} for at, name in entries]

    def execution(
        self,
        ref: str,
        *,
        exec_id: str,
        params: dict[str, Any],
        status: str,
        start: datetime,
        duration: float = 0.0,
        result: Any,
        context: dict[str, Any],
        log: Sequence[_LogEntry] = (),
        run_at: datetime | None = None,
        end: datetime | None = None,
        parent: str | None = None,
        children: Sequence[str] = (),
        task_link: tuple[str, str] | None = None,
        firing: _RuleFiring | None = None,
    ) -> tuple[dict[str, Any], datetime]:
        """An execution document (appended to the history) and when it ended.

        It starts running at `run_at` (default: shortly after `start`) and ends at `end` (default:
        `duration` seconds later).
        """
        action = copy.deepcopy(self.content.action(ref))
        runner = copy.deepcopy(self.content.runners[action["runner_type"]])
        run_at = run_at or start + self.ms(30, 90)
        end = end or run_at + timedelta(seconds=duration)
        liveaction_id = self.ids.new(start)
        doc: dict[str, Any] = {}
        if firing is not None:
            doc.update(
                trigger=firing.trigger,
                trigger_type=firing.trigger_type,
                trigger_instance=firing.trigger_instance,
                rule=copy.deepcopy(firing.rule),
            )
        doc.update(
            action=action,
            runner=runner,
            liveaction={
                "action": ref,
                "action_is_workflow": action["runner_type"] == "orquesta",
                "parameters": params,
                "callback": {},
                "runner_info": {"hostname": self.hostname, "pid": self.rng.choice(self.pids)},
                "id": liveaction_id,
            },
        )
        if task_link:
            doc["workflow_execution"], doc["task_execution"] = task_link
        doc.update(
            status=status,
            start_timestamp=isotime(start),
            end_timestamp=isotime(end),
            parameters=params,
            result_size=result_size(result) if result else 0,
            context=context,
            children=list(children),
            parent=parent,
            log=self._log(start, run_at, end, status, log),
            web_url=f"{self.webui_base_url}/#/history/{exec_id}/general",
            id=exec_id,
            result=result,
            elapsed_seconds=round((end - start).total_seconds(), 6),
        )
        doc = {key: value for key, value in doc.items() if value}
        self.docs.append(doc)
        return doc, end

    def run_simple(
        self,
        ref: str,
        params: dict[str, Any],
        start: datetime,
        user: str,
        *,
        status: str,
        duration: float,
        result: Any,
        log: Sequence[_LogEntry] = (),
        firing: _RuleFiring | None = None,
    ) -> dict[str, Any]:
        action = self.content.action(ref)
        context = self._top_context(user, action["pack"], firing)
        if status == "canceled":
            context["cancelled_by"] = user
            log = [*log, ("canceling", duration - 0.05)]
        doc, _ = self.execution(
            ref,
            exec_id=self.ids.new(start),
            params=params,
            status=status,
            start=start,
            duration=duration,
            result=result,
            context=context,
            log=log,
            firing=firing,
        )
        return doc

    def _top_context(self, user: str, pack: str, firing: _RuleFiring | None) -> dict[str, Any]:
        if firing is None:
            return {"user": user, "pack": pack}
        return {
            "trigger_instance": {"id": firing.trigger_instance["id"], "name": None},
            "rule": {"id": firing.rule["id"], "name": firing.rule["name"]},
            "user": SYSTEM_USER,
            "pack": pack,
            "trace_context": {"id_": firing.trace_id, "trace_tag": firing.trace_tag},
        }

    def run_workflow(
        self,
        ref: str,
        params: dict[str, Any],
        start: datetime,
        workflow: _Workflow,
        *,
        user: str,
        context: dict[str, Any] | None = None,
        exec_id: str | None = None,
        parent: str | None = None,
        task_link: tuple[str, str] | None = None,
        firing: _RuleFiring | None = None,
    ) -> tuple[dict[str, Any], datetime]:
        """A workflow execution and, depth first, its task executions; returns (doc, end)."""
        action = self.content.action(ref)
        exec_id = exec_id or self.ids.new(start)
        wf_ex_id = self.ids.new(start)
        if context is None:
            context = self._top_context(user, action["pack"], firing)
        context["workflow_execution"] = wf_ex_id
        task_user = context.get("user", user)
        run_at = start + self.ms(60, 140)
        ends: dict[str, datetime] = {}
        results: dict[str, Any] = {}
        task_ex_ids: dict[str, str] = {}
        children: list[str] = []
        children_by_task: dict[str, str] = {}
        failed: list[tuple[datetime, _Task]] = []
        # Tasks are listed so that every dependency comes first.
        for task in workflow.tasks:
            task_start = max((ends[name] for name in task.after), default=run_at) + self.ms(25, 80)
            task_ex_id = task_ex_ids.setdefault(task.name, self.ids.new(task_start))
            child_id = self.ids.new(task_start)
            child_action = self.content.action(task.ref)
            orquesta = {
                "workflow_execution_id": wf_ex_id,
                "task_execution_id": task_ex_id,
                "task_name": task.name,
                "task_id": task.name,
                "task_route": 0,
            }
            if task.item_id is not None:
                orquesta["item_id"] = task.item_id
            child_context = {
                "pack": child_action["pack"],
                "user": task_user,
                "parent": {"execution_id": exec_id, "user": task_user, "pack": action["pack"]},
                "orquesta": orquesta,
            }
            if task.workflow is not None:
                child, child_end = self.run_workflow(
                    task.ref,
                    task.params,
                    task_start,
                    task.workflow,
                    user=task_user,
                    context=child_context,
                    exec_id=child_id,
                    parent=exec_id,
                    task_link=(wf_ex_id, task_ex_id),
                )
            else:
                child, child_end = self.execution(
                    task.ref,
                    exec_id=child_id,
                    params=task.params,
                    status=task.status,
                    start=task_start,
                    duration=task.duration,
                    result=task.result,
                    context=child_context,
                    log=task.log,
                    parent=exec_id,
                    task_link=(wf_ex_id, task_ex_id),
                )
            children.append(child_id)
            children_by_task[task.name] = child_id
            ends[task.name] = max(ends.get(task.name, child_end), child_end)
            results[task.name] = child.get("result")
            if child["status"] in ("failed", "timeout", "abandoned"):
                failed.append((child_end, task))
        errors = [
            {"type": "error", "message": EXECUTION_FAILED, "task_id": task.name, "result": results[task.name]}
            for _, task in sorted(failed, key=lambda entry: entry[0])
        ]
        if workflow.fail_command:
            errors.append({"type": "error", "message": EXECUTION_FAILED, "task_id": "fail"})
        status = "failed" if errors else "succeeded"
        result: dict[str, Any] = {"output": workflow.output}
        if errors:
            result["errors"] = errors
        log: list[_LogEntry] = []
        if workflow.pause_for is not None:
            waiting = next(doc for doc in self.docs if doc["id"] == children_by_task[workflow.pause_for])
            pending = next(e["timestamp"] for e in waiting["log"] if e["status"] == "pending")
            resumed = parse_timestamp(waiting["end_timestamp"]) + self.ms(8, 12)
            log = [
                ("paused", parse_timestamp(pending) + self.ms(20, 40)),
                ("resuming", resumed),
                ("running", resumed + self.ms(5, 10)),
            ]
        doc, end = self.execution(
            ref,
            exec_id=exec_id,
            params=params,
            status=status,
            start=start,
            run_at=run_at,
            end=max(ends.values(), default=run_at) + self.ms(40, 120),
            result=result,
            context=context,
            log=log,
            parent=parent,
            children=children,
            task_link=task_link,
            firing=firing,
        )
        return doc, end

    # -- rule firings ----------------------------------------------------------------------------

    def firing(self, rule_ref: str, at: datetime, payload: dict[str, Any], trace_tag: str) -> _RuleFiring:
        rule = self.content.rules[rule_ref]
        trigger = self.content.trigger_for(rule_ref)
        instance = {
            "trigger": trigger["ref"],
            "occurrence_time": isotime_ms(at),
            "status": "processing",
            "id": self.ids.new(at),
            "payload": payload,
        }
        return _RuleFiring(
            rule=rule,
            trigger=copy.deepcopy(trigger),
            trigger_type=copy.deepcopy(self.content.trigger_types[trigger["type"]]),
            trigger_instance=instance,
            trace_tag=trace_tag,
            trace_id=self.ids.new(at),
        )

    def webhook_payload(self, body: dict[str, Any], agent: str) -> dict[str, Any]:
        request_id = f"{self.rng.getrandbits(128):032x}"
        request_id = "-".join(
            (request_id[:8], request_id[8:12], request_id[12:16], request_id[16:20], request_id[20:])
        )
        headers = {
            "Host": "st2.example.com",
            "User-Agent": agent,
            "Content-Type": "application/json",
            "Content-Length": str(len(json.dumps(body))),
            "X-Request-Id": request_id,
        }
        return {"headers": headers, "headers_lower": {k.lower(): v for k, v in headers.items()}, "body": body}

    # -- scenarios -------------------------------------------------------------------------------

    def core_local(self, start: datetime, user: str, firing: _RuleFiring | None = None) -> None:
        rng = self.rng
        hours, minutes = rng.randint(1, 40), rng.randint(0, 59)
        load = [round(rng.uniform(0.05, 1.6), 2) for _ in range(3)]
        used = rng.randint(38, 71)
        commands: list[tuple[str, Callable[[], tuple[str, str, int]]]] = [
            (
                "uptime",
                lambda: (
                    f" {start:%H:%M:%S} up {hours} days, {rng.randint(0, 23)}:{minutes:02d},  "
                    f"{rng.randint(1, 4)} users,  load average: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}",
                    "",
                    0,
                ),
            ),
            (
                "df -h /",
                lambda: (
                    "Filesystem      Size  Used Avail Use% Mounted on\n"
                    f"/dev/sda1        79G   {79 * used // 100}G   {79 - 79 * used // 100}G  {used}% /",
                    "",
                    0,
                ),
            ),
            ("hostname -f", lambda: (f"{self.hostname}.example.com", "", 0)),
            ("systemctl is-active nginx", lambda: ("active", "", 0)),
            (
                "free -m",
                lambda: (
                    "               total        used        free      shared  buff/cache   available\n"
                    f"Mem:            7953        {2100 + used * 20}        {1900 - used * 10}"
                    "         132        3310        5481\n"
                    "Swap:           2047           0        2047",
                    "",
                    0,
                ),
            ),
            (
                "echo Hello from StackStorm; echo to-stderr >&2",
                lambda: ("Hello from StackStorm", "to-stderr", 0),
            ),
            (
                "cat /etc/does-not-exist",
                lambda: ("", "cat: /etc/does-not-exist: No such file or directory", 1),
            ),
            (
                "curl -sS http://localhost:8080/healthz",
                lambda: rng.choice(
                    [
                        ('{"status": "ok", "version": "2.4.1"}', "", 0),
                        (
                            "",
                            "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn't connect to server",
                            7,
                        ),
                    ]
                ),
            ),
            (
                "ls /var/log/nginx",
                lambda: ("access.log\naccess.log.1\naccess.log.2.gz\nerror.log\nerror.log.1", "", 0),
            ),
        ]
        if firing is not None:
            cmd = firing.rule["action"]["parameters"]["cmd"].replace(
                "{{trigger.body}}", str(firing.trigger_instance["payload"]["body"])
            )
            self.run_simple(
                "core.local",
                {"cmd": cmd},
                start,
                SYSTEM_USER,
                status="succeeded",
                duration=rng.uniform(0.04, 0.12),
                result=local_result(""),
                firing=firing,
            )
            return
        roll = rng.random()
        if roll < 0.06:
            self.run_simple(
                "core.local",
                {"cmd": "sleep 120"},
                start,
                user,
                status="timeout",
                duration=60.02,
                result=local_result("", "", -9, error="Action failed to complete in 60 seconds"),
            )
        elif roll < 0.11:
            self.run_simple(
                "core.local",
                {"cmd": "sleep 300"},
                start,
                user,
                status="canceled",
                duration=rng.uniform(8, 120),
                result=canceled_result(user),
            )
        else:
            cmd, make = rng.choice(commands)
            stdout, stderr, code = make()
            self.run_simple(
                "core.local",
                {"cmd": cmd},
                start,
                user,
                status="succeeded" if code == 0 else "failed",
                duration=rng.uniform(0.03, 0.6),
                result=local_result(stdout, stderr, code),
            )

    def core_echo(self, start: datetime, user: str, firing: _RuleFiring | None = None) -> None:
        if firing is not None:
            message = f"Heartbeat at {firing.trigger_instance['payload']['executed_at']}"
            user = SYSTEM_USER
        else:
            message = self.rng.choice(
                [
                    "Hello, world",
                    "Deploy window opens at 18:00 UTC",
                    "Rotating logs on web-01",
                    "Maintenance finished",
                    "ping",
                ]
            )
        self.run_simple(
            "core.echo",
            {"message": message},
            start,
            user,
            status="succeeded",
            duration=self.rng.uniform(0.03, 0.1),
            result=local_result(message),
            firing=firing,
        )

    def core_noop(self, start: datetime, user: str) -> None:
        self.run_simple(
            "core.noop",
            {},
            start,
            user,
            status="succeeded",
            duration=self.rng.uniform(0.005, 0.02),
            result={"failed": False, "succeeded": True, "return_code": 0},
        )

    def core_pause(self, start: datetime, user: str) -> None:
        seconds = self.rng.choice([2, 5, 10])
        self.run_simple(
            "core.pause",
            {"max_pause": seconds},
            start,
            user,
            status="succeeded",
            duration=seconds + self.rng.uniform(0.2, 0.4),
            result={"stdout": "", "stderr": "", "exit_code": 0, "result": seconds},
        )

    def python_hello(self, start: datetime, user: str) -> None:
        name = self.rng.choice(["StackStorm", "Stanley", "Alice", "ops team"])
        count = self.rng.choice([1, 1, 2, 3])
        params: dict[str, Any] = {"name": name} if count == 1 else {"name": name, "count": count}
        greeting = f"Hello, {name}!"
        logged = start + self.ms(200, 300)
        stamp = f"{logged:%Y-%m-%d %H:%M:%S},{logged.microsecond // 1000:03d}"
        # The python runner keeps the output as printed, final newline included.
        result = {
            "stdout": "".join(f"{greeting} ({n}/{count})\n" for n in range(1, count + 1)),
            "stderr": f"{stamp} INFO Greeting {name} {count} time(s)\n",
            "exit_code": 0,
            "result": {"greeting": greeting, "count": count, "letters": sum(c.isalpha() for c in name)},
        }
        self.run_simple(
            "examples.python-hello",
            params,
            start,
            user,
            status="succeeded",
            duration=self.rng.uniform(0.25, 0.45),
            result=result,
        )

    def slow_echo(self, start: datetime, user: str) -> None:
        seconds = self.rng.choice([5, 10, 10, 20, 30])
        message = self.rng.choice(["tick", "waiting for replication", "still here"])
        params: dict[str, Any] = (
            {"seconds": seconds} if message == "tick" else {"seconds": seconds, "message": message}
        )
        if self.rng.random() < 0.25:
            self.run_simple(
                "examples.slow-echo",
                params,
                start,
                user,
                status="canceled",
                duration=self.rng.uniform(2.5, seconds - 1),
                result=canceled_result(user),
            )
            return
        run_at = start + timedelta(milliseconds=60)
        lines = [
            f"{run_at + timedelta(seconds=i - 1):%Y-%m-%dT%H:%M:%SZ} [{i}/{seconds}] {message}"
            for i in range(1, seconds + 1)
        ]
        progress = [f"progress: {i} of {seconds} lines printed" for i in range(5, seconds + 1, 5)]
        self.run_simple(
            "examples.slow-echo",
            params,
            start,
            user,
            status="succeeded",
            duration=seconds - 1 + self.rng.uniform(0.02, 0.06),
            result=local_result("\n".join(lines), "\n".join(progress)),
        )

    def flood(self, start: datetime, user: str) -> None:
        lines = self.rng.choice([100, 200, 500])
        rate = self.rng.choice([0, 0, 100])
        params: dict[str, Any] = {"lines": lines} if rate == 0 else {"lines": lines, "rate": rate}
        script = self.script("examples.flood")
        words = script["WORDS"]
        filler = (words * (80 // len(words) + 2))[:80]
        stdout = "".join(script["make_line"](n, lines, filler, 80) for n in range(1, lines + 1))
        duration = lines / rate if rate else lines / 60000 + 0.03
        stderr = f"done: {lines} lines in {duration:.2f}s ({lines / max(duration, 1e-6):.0f} lines/s)"
        self.run_simple(
            "examples.flood",
            params,
            start,
            user,
            status="succeeded",
            duration=duration + 0.04,
            result=local_result(stdout.rstrip("\n"), stderr),
        )

    def all_param_types(self, start: datetime, user: str) -> None:
        ref = "examples.all-param-types"
        action = self.content.action(ref)
        runner = self.content.runners[action["runner_type"]]
        params: dict[str, Any] = {"message": self.rng.choice(["hello", "release notes", "testing forms"])}
        if self.rng.random() < 0.5:
            params.update(count=self.rng.randint(1, 10), level=self.rng.choice(["debug", "warning"]))
        if self.rng.random() < 0.5:
            params.update(tags=["demo", "seeded"], verbose=True, api_token="s3cr3t-token-value")
        _, action_params = render_final_parameters(
            runner["runner_parameters"],
            action["parameters"],
            params,
            lambda scope, name, user: None,
            action_context={"user": user, "pack": action["pack"]},
        )
        argv = shlex.split(script_arguments(action, action_params, "--"))
        stdout = "\n".join(self.script(ref)["report"](argv))
        self.run_simple(
            ref,
            params,
            start,
            user,
            status="succeeded",
            duration=self.rng.uniform(0.05, 0.09),
            result=local_result(stdout),
        )

    def _echo_task(self, name: str, message: str, after: tuple[str, ...] = ()) -> _Task:
        return _Task(
            name,
            "core.echo",
            {"message": message},
            result=local_result(message),
            duration=self.rng.uniform(0.04, 0.09),
            after=after,
        )

    def orquesta_sequential(self, start: datetime, user: str) -> None:
        name = self.rng.choice(["Stanley", "Lakshmi", "Alice", "Tomaz"])
        slogan = "All your base are belong to us!"
        greeting = f"{name}, {slogan}"
        workflow = _Workflow(
            tasks=[
                self._echo_task("task1", name),
                self._echo_task("task2", slogan, ("task1",)),
                self._echo_task("task3", greeting, ("task2",)),
            ],
            output={"greeting": greeting},
        )
        self.run_workflow("examples.orquesta-sequential", {"name": name}, start, workflow, user=user)

    def orquesta_ask_basic(self, start: datetime, user: str, now: datetime) -> None:
        expired = start < now - timedelta(hours=25) and self.rng.random() < 0.3
        wait = 1440 * 60.0 if expired else self.rng.uniform(30, 420)
        ask_result = {"schema": ASK_SCHEMA, "roles": [], "users": [], "route": "", "ttl": 1440}
        if not expired:
            ask_result["response"] = {"approved": True}
        ask = _Task(
            "get_approval",
            "core.ask",
            {"schema": ASK_SCHEMA},
            status="timeout" if expired else "succeeded",
            result=ask_result,
            duration=wait,
            after=("start",),
            log=(("pending", 0.02),),
        )
        tasks = [self._echo_task("start", "Automation started."), ask]
        if expired:
            tasks.append(self._echo_task("stop", "Automation stopped.", ("get_approval",)))
        else:
            tasks.append(self._echo_task("finish", "Automation completed.", ("get_approval",)))
        workflow = _Workflow(tasks=tasks, fail_command=expired, pause_for="get_approval")
        self.run_workflow("examples.orquesta-ask-basic", {}, start, workflow, user=user)

    def _step_task(
        self, name: str, params: dict[str, Any], after: tuple[str, ...] = (), item_id: int | None = None
    ) -> _Task:
        lines, code = self.script("examples.deploy-step")["step_lines"](
            params["step"],
            params["version"],
            params["environment"],
            params.get("target", ""),
            fail=params.get("fail_step") == params["step"],
        )
        stdout = "\n".join(text for stream, text, _ in lines if stream == "stdout")
        stderr = "\n".join(text for stream, text, _ in lines if stream == "stderr")
        pace = params.get("pace", 1.0)
        return _Task(
            name,
            "examples.deploy-step",
            params,
            status="succeeded" if code == 0 else "failed",
            result=local_result(stdout, stderr, code),
            duration=sum(pause for _, _, pause in lines) * pace + self.rng.uniform(0.03, 0.08),
            after=after,
            item_id=item_id,
        )

    def deploy(self, start: datetime, user: str, firing: _RuleFiring | None = None) -> None:
        rng = self.rng
        if firing is not None:
            body = firing.trigger_instance["payload"]["body"]
            params: dict[str, Any] = {"version": body["version"], "environment": body["env"]}
        else:
            params = {
                "version": rng.choice(["2.3.9", "2.4.0", "2.4.1", "2.4.2", "2.5.0"]),
                "environment": rng.choice(["staging", "staging", "staging", "production"]),
            }
            if rng.random() < 0.3:
                params["hosts"] = ["web-01", "web-02"]
            fail_step = rng.choices(["test", "migrate", "deploy", "smoke_test"], weights=[3, 1, 1, 3])[0]
            if rng.random() < 0.3:
                params["fail_step"] = fail_step
        version, environment = params["version"], params["environment"]
        hosts = params.get("hosts", ["web-01", "web-02", "web-03"])
        fail_step = params.get("fail_step", "none")
        common = {"version": version, "environment": environment, "fail_step": fail_step, "pace": 1.0}
        artifact = f"app-{version}.tar.gz"
        output = {"version": version, "environment": environment, "artifact": artifact, "hosts": hosts}
        tasks = [self._step_task("build", {"step": "build", **common})]
        fail_command = False
        if fail_step != "build":
            tasks.append(self._step_task("test", {"step": "test", **common}, ("build",)))
        if fail_step not in ("build", "test"):
            tasks.append(self._step_task("migrate", {"step": "migrate", **common}, ("test",)))
            tasks.extend(
                self._step_task("deploy", {"step": "deploy", **common, "target": host}, ("test",), index)
                for index, host in enumerate(hosts)
            )
        if fail_step not in ("build", "test", "migrate", "deploy"):
            tasks.append(
                self._step_task("smoke_test", {"step": "smoke_test", **common}, ("migrate", "deploy"))
            )
            if fail_step == "smoke_test":
                rollback = {k: v for k, v in common.items() if k != "fail_step"}
                tasks.extend(
                    self._step_task(
                        "rollback", {"step": "rollback", **rollback, "target": host}, ("smoke_test",), index
                    )
                    for index, host in enumerate(hosts)
                )
                fail_command = True
            else:
                tasks.append(
                    self._echo_task("notify", f"Deployed {artifact} to {environment}.", ("smoke_test",))
                )
        if fail_step == "build":
            output["artifact"] = None
        workflow = _Workflow(tasks=tasks, output=output, fail_command=fail_command)
        self.run_workflow("examples.deploy", params, start, workflow, user=user, firing=firing)

    def nested_failure(self, start: datetime, user: str) -> None:
        release = self.rng.choice(["2024.06-hotfix", "2024.07", "2024.07-hotfix2"])
        params = {"release": release} if release != "2024.06-hotfix" else {}
        migrate_cmd = (
            'echo "Applying migration 0042_add_invoice_table"; '
            "echo 'ERROR:  relation \"invoices\" already exists' >&2; exit 1"
        )
        backup_cmd = (
            'echo "Dumping database webapp"; '
            f'echo "Backup written to /var/backups/webapp-{release}.sql.gz (412 MB)"'
        )
        cleanup_cmd = 'echo "Removing temporary schema copies"; echo "Cleanup complete."'
        step = _Workflow(
            tasks=[
                _Task(
                    "backup",
                    "core.local",
                    {"cmd": backup_cmd},
                    result=local_result(
                        f"Dumping database webapp\nBackup written to /var/backups/webapp-{release}.sql.gz (412 MB)"
                    ),
                    duration=self.rng.uniform(0.05, 0.1),
                ),
                _Task(
                    "migrate",
                    "core.local",
                    {"cmd": migrate_cmd},
                    status="failed",
                    result=local_result(
                        "Applying migration 0042_add_invoice_table",
                        'ERROR:  relation "invoices" already exists',
                        1,
                    ),
                    duration=self.rng.uniform(0.05, 0.1),
                    after=("backup",),
                ),
            ]
        )
        stage = _Workflow(
            tasks=[
                _Task(
                    "run_database_step", "examples.nested-failure-step", {"release": release}, workflow=step
                ),
                _Task(
                    "cleanup",
                    "core.local",
                    {"cmd": cleanup_cmd},
                    result=local_result("Removing temporary schema copies\nCleanup complete."),
                    duration=self.rng.uniform(0.05, 0.1),
                    after=("run_database_step",),
                ),
            ],
            fail_command=True,
        )
        top = _Workflow(
            tasks=[
                self._echo_task("prepare", f"Preparing release {release}"),
                _Task(
                    "run_stage",
                    "examples.nested-failure-stage",
                    {"release": release},
                    after=("prepare",),
                    workflow=stage,
                ),
            ]
        )
        self.run_workflow("examples.nested-failure", params, start, top, user=user)

    def rule_every_minute(self, start: datetime) -> None:
        at = start.replace(second=0, microsecond=self.rng.randint(1000, 9000))
        trigger = self.content.trigger_for("examples.every-minute")
        payload = {"executed_at": str(at), "schedule": None}
        firing = self.firing("examples.every-minute", at, payload, f"st2.IntervalTimer-{trigger['name']}")
        self.core_echo(at + self.ms(10, 25), SYSTEM_USER, firing)

    def rule_sample_webhook(self, start: datetime) -> None:
        body = {"name": "st2", "message": self.rng.choice(["hello", "build finished", "disk alert cleared"])}
        payload = self.webhook_payload(body, "curl/8.5.0")
        firing = self.firing("examples.sample_rule_with_webhook", start, payload, self._webhook_tag("sample"))
        self.core_local(start + self.ms(10, 25), SYSTEM_USER, firing)

    def rule_deploy_webhook(self, start: datetime) -> None:
        body = {
            "repository": "acme/webapp",
            "env": self.rng.choice(["staging", "staging", "production"]),
            "version": self.rng.choice(["2.4.2", "2.4.3", "2.5.0"]),
            "commit": f"{self.rng.getrandbits(160):040x}",
        }
        payload = self.webhook_payload(body, "GitHub-Hookshot/4f1d1c3")
        firing = self.firing("examples.deploy_on_webhook", start, payload, self._webhook_tag("deploy"))
        self.deploy(start + self.ms(10, 25), SYSTEM_USER, firing)

    def _webhook_tag(self, url: str) -> str:
        return f"webhook-{url}-{self.rng.getrandbits(128):032x}"


def generate_history(
    content: Content,
    *,
    count: int = 300,
    now: datetime,
    rng: random.Random,
    users: Sequence[str] = DEFAULT_USERS,
    webui_base_url: str = WEBUI_BASE_URL,
    hostname: str = HOSTNAME,
) -> list[dict[str, Any]]:
    """`count` top-level executions (plus their task executions) spread over the 3 days before `now`.

    Documents come in start order (a workflow starts before its task executions); all of them
    ended at least 10 minutes before `now`. `webui_base_url` goes into `web_url`, `hostname` into
    `liveaction.runner_info`.
    """
    now = now.astimezone(timezone.utc)
    builder = _HistoryBuilder(content, rng, users, webui_base_url, hostname)
    window = (HISTORY_SPAN - QUIET_PERIOD).total_seconds()
    starts = sorted(now - HISTORY_SPAN + timedelta(seconds=rng.uniform(0, window)) for _ in range(count))
    scenarios: list[tuple[int, Callable[[datetime], None]]] = [
        (20, lambda at: builder.core_local(at, builder.user())),
        (8, lambda at: builder.core_echo(at, builder.user())),
        (3, lambda at: builder.core_noop(at, builder.user())),
        (2, lambda at: builder.core_pause(at, builder.user())),
        (8, lambda at: builder.orquesta_sequential(at, builder.user())),
        (8, lambda at: builder.deploy(at, builder.user())),
        (3, lambda at: builder.nested_failure(at, builder.user())),
        (5, lambda at: builder.orquesta_ask_basic(at, builder.user(), now)),
        (6, lambda at: builder.python_hello(at, builder.user())),
        (4, lambda at: builder.slow_echo(at, builder.user())),
        (3, lambda at: builder.flood(at, builder.user())),
        (3, lambda at: builder.all_param_types(at, builder.user())),
        (12, builder.rule_every_minute),
        (5, builder.rule_sample_webhook),
        (3, builder.rule_deploy_webhook),
    ]
    weights = [weight for weight, _ in scenarios]
    for start in starts:
        rng.choices(scenarios, weights=weights)[0][1](start)
    return sorted(builder.docs, key=lambda doc: doc["start_timestamp"])
