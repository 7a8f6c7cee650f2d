"""`local-shell-cmd` and `local-shell-script`: real subprocesses, results shaped like st2's local runner.

`sudo` is accepted and ignored: the demo runs everything as the server's own user.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

from .base import CANCELED, FAILED, SUCCEEDED, TIMEOUT, Runner, RunOutcome
from .process import ManagedProcess, ProcessResult

DEFAULT_TIMEOUT = 60


def strip_shell_chars(text: str) -> str:
    """st2 strips one trailing `\\n` and then one trailing `\\r` from stdout/stderr."""
    if text.endswith("\n"):
        text = text[:-1]
    if text.endswith("\r"):
        text = text[:-1]
    return text


def _maybe_json(text: str) -> Any:
    # st2's local runner json-decodes stdout/stderr when they are valid JSON (`jsonify.json_loads`).
    try:
        return json.loads(text)
    except ValueError:
        return text


def action_env(request_env: dict[str, str], env_param: Any) -> dict[str, str]:
    env = dict(os.environ)
    if isinstance(env_param, dict):
        env.update({str(k): str(v) for k, v in env_param.items()})
    env.update(request_env)
    return env


class _LocalRunner(Runner):
    def __init__(self, request) -> None:  # type: ignore[no-untyped-def]
        super().__init__(request)
        self._process: ManagedProcess | None = None

    def _command(self) -> str:
        raise RuntimeError("subclasses build the command")

    async def run(self) -> RunOutcome:
        params = self.request.runner_params
        timeout = params.get("timeout", DEFAULT_TIMEOUT)
        self._process = ManagedProcess(
            shell_command=self._command(),
            cwd=params.get("cwd") or None,
            env=action_env(self.request.env, params.get("env")),
            timeout=timeout if isinstance(timeout, (int, float)) else DEFAULT_TIMEOUT,
            on_line=self.request.on_output,
        )
        if self.canceled:
            self._process.kill()
        outcome = await self._process.run()
        return self._outcome(outcome, timeout)

    def _outcome(self, proc: ProcessResult, timeout: Any) -> RunOutcome:
        succeeded = proc.return_code == 0 and not proc.timed_out
        result: dict[str, Any] = {
            "failed": not succeeded,
            "succeeded": succeeded,
            "return_code": proc.return_code,
            "stdout": _maybe_json(strip_shell_chars(proc.stdout)),
            "stderr": _maybe_json(strip_shell_chars(proc.stderr)),
        }
        if proc.timed_out:
            result["error"] = f"Action failed to complete in {timeout} seconds"
            return RunOutcome(TIMEOUT, result)
        if self.canceled:
            return RunOutcome(CANCELED, result)
        return RunOutcome(SUCCEEDED if succeeded else FAILED, result)

    async def cancel(self) -> None:
        await super().cancel()
        if self._process is not None:
            self._process.kill()


class LocalShellCommandRunner(_LocalRunner):
    """Runs the `cmd` parameter with bash in a process group of its own."""

    def _command(self) -> str:
        return str(self.request.runner_params.get("cmd") or "")


def serialize_positional(param_type: str | None, value: Any) -> str:
    """How st2 turns a positional argument into a word (`serialize_positional_argument`)."""
    if param_type in ("string", "number", "float"):
        return "" if value is None else str(value)
    if param_type == "boolean":
        return "" if value is None else ("1" if value else "0")
    if param_type in ("array", "list"):
        return ",".join(map(str, value)) if value else ""
    if param_type == "object":
        return json.dumps(value) if value else ""
    if param_type == "null":
        return ""
    return str(value) if value else ""


def script_arguments(action: dict[str, Any], action_params: dict[str, Any], kwarg_op: str) -> str:
    """Named arguments as `<kwarg_op>name=value` (true booleans as a bare flag), then the positional ones."""
    declared = action.get("parameters") or {}
    positions = sorted(
        (meta["position"], name)
        for name, meta in declared.items()
        if isinstance(meta, dict) and isinstance(meta.get("position"), (int, float))
    )
    positional_names = {name for _, name in positions}
    parts: list[str] = []
    for name, value in action_params.items():
        if name in positional_names or value is None or (isinstance(value, str) and not value):
            continue
        arg = f"{kwarg_op}{name}"
        if isinstance(value, bool):
            if value:
                parts.append(arg)
        else:
            parts.append(f"{shlex.quote(arg)}={shlex.quote(str(value))}")
    positional = [
        shlex.quote(serialize_positional((declared.get(name) or {}).get("type"), action_params.get(name)))
        for _, name in positions
    ]
    if positional:
        parts.append(" ".join(positional))
    return " ".join(parts)


class LocalShellScriptRunner(_LocalRunner):
    """Runs the action's script (its `entry_point`) with the action's parameters as arguments."""

    def _command(self) -> str:
        script = self.request.script_path
        if script is None:
            raise FileNotFoundError(f'Entry point of action "{self.request.action.get("ref")}" not found')
        kwarg_op = str(self.request.runner_params.get("kwarg_op") or "--")
        args = script_arguments(self.request.action, self.request.action_params, kwarg_op)
        command = shlex.quote(str(script))
        if not os.access(script, os.X_OK):
            # st2 does `chmod +x <script>` first; packs may be read-only here, so name its interpreter.
            command = f"{_interpreter(script)} {command}"
        return f"{command} {args}" if args else command


def _interpreter(script: Path) -> str:
    """The script's `#!` line (e.g. `/usr/bin/env python3`), or bash."""
    with script.open("rb") as handle:
        first = handle.readline(256)
    if first.startswith(b"#!") and first[2:].strip():
        return first[2:].decode(errors="replace").strip()
    return "/bin/bash"
