"""`python-script`: the action's Python file run in a child interpreter through `python_wrapper.py`."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from .base import CANCELED, FAILED, SUCCEEDED, TIMEOUT, Runner, RunOutcome
from .process import ManagedProcess
from .shell import action_env

DEFAULT_TIMEOUT = 600
WRAPPER = Path(__file__).resolve().parent / "python_wrapper.py"


def _write_inputs(tmp: Path, params: dict[str, Any]) -> tuple[Path, Path, Path]:
    """The wrapper's input files (parameters, pack config) and where it writes the result."""
    params_file, result_file, config_file = tmp / "params.json", tmp / "result.json", tmp / "config.json"
    params_file.write_text(json.dumps(params))
    config_file.write_text("{}")
    return params_file, result_file, config_file


def _read_output(result_file: Path) -> dict[str, Any]:
    """`{"result", "status"}` as the wrapper wrote it; empty when the action crashed before returning."""
    return json.loads(result_file.read_text()) if result_file.exists() else {}


class PythonRunner(Runner):
    def __init__(self, request) -> None:  # type: ignore[no-untyped-def]
        super().__init__(request)
        self._process: ManagedProcess | None = None

    async def run(self) -> RunOutcome:
        script = self.request.script_path
        if script is None:
            raise FileNotFoundError(f'Entry point of action "{self.request.action.get("ref")}" not found')
        params = self.request.runner_params
        timeout = params.get("timeout", DEFAULT_TIMEOUT)
        timeout = timeout if isinstance(timeout, (int, float)) else DEFAULT_TIMEOUT
        with tempfile.TemporaryDirectory(prefix="st2tui-python-action-") as tmp:
            params_file, result_file, config_file = _write_inputs(Path(tmp), self.request.action_params)
            env = action_env(self.request.env, params.get("env"))
            env["PYTHONUNBUFFERED"] = "1"  # so output lines stream as they are printed
            self._process = ManagedProcess(
                [
                    sys.executable,
                    str(WRAPPER),
                    str(script),
                    str(params_file),
                    str(result_file),
                    str(config_file),
                ],
                env=env,
                timeout=timeout,
                on_line=self.request.on_output,
            )
            if self.canceled:
                self._process.kill()
            proc = await self._process.run()
            action_output = _read_output(result_file)
        result: dict[str, Any] = {
            "stdout": proc.stdout,
            "stderr": proc.stderr,
            "exit_code": proc.return_code,
            # st2 reports the string "None" when the action produced no result (it crashed).
            "result": action_output.get("result") if action_output else "None",
        }
        if proc.timed_out:
            result["error"] = f"Action failed to complete in {timeout} seconds"
            return RunOutcome(TIMEOUT, result)
        if self.canceled:
            return RunOutcome(CANCELED, result)
        status = action_output.get("status")
        succeeded = proc.return_code == 0 and status is not False
        return RunOutcome(SUCCEEDED if succeeded else FAILED, result)

    async def cancel(self) -> None:
        await super().cancel()
        if self._process is not None:
            self._process.kill()
