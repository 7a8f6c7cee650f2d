"""Running a child process the way st2's local runners do: its own process group, every output line
reported as it is produced, a timeout and a cancel that kill the whole group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass

READ_SIZE = 65536
# After the process exits, descendants that kept its pipes open get this long before we stop reading.
DRAIN_GRACE = 1.0
# st2 reports a killed-on-timeout action with return code -9 (SIGKILL).
KILLED_RETURN_CODE = -9
# st2 runs commands through bash (`sudo ... -- bash -c`); fall back to sh where bash is absent.
SHELL = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"


@dataclass
class ProcessResult:
    return_code: int
    stdout: str
    stderr: str
    timed_out: bool
    killed: bool


class ManagedProcess:
    """One child process: `run()` waits for it, `kill()` (from another task) ends it and its group."""

    def __init__(
        self,
        argv: Sequence[str] | None = None,
        *,
        shell_command: str | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        on_line: Callable[[str, str], None] = lambda output_type, line: None,
    ) -> None:
        self.argv = list(argv) if argv else None
        self.shell_command = shell_command
        self.cwd = cwd
        self.env = env
        self.timeout = timeout if timeout and timeout > 0 else None
        self.on_line = on_line
        self._proc: asyncio.subprocess.Process | None = None
        self._killed = False

    async def run(self) -> ProcessResult:
        common = {
            "stdin": asyncio.subprocess.DEVNULL,
            "stdout": asyncio.subprocess.PIPE,
            "stderr": asyncio.subprocess.PIPE,
            "cwd": self.cwd,
            "env": self.env,
            "start_new_session": True,  # own process group, so a kill reaches every descendant
        }
        if self.shell_command is not None:
            self._proc = await asyncio.create_subprocess_exec(SHELL, "-c", self.shell_command, **common)
        else:
            assert self.argv
            self._proc = await asyncio.create_subprocess_exec(*self.argv, **common)
        if self._killed:  # canceled while starting
            self._kill_group()
        proc = self._proc
        assert proc.stdout is not None and proc.stderr is not None
        stdout_parts: list[str] = []
        stderr_parts: list[str] = []
        readers = [
            asyncio.ensure_future(self._pump(proc.stdout, "stdout", stdout_parts)),
            asyncio.ensure_future(self._pump(proc.stderr, "stderr", stderr_parts)),
        ]
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), self.timeout)
        except asyncio.TimeoutError:
            timed_out = True
            self._kill_group()
            await proc.wait()
        except asyncio.CancelledError:
            self._kill_group()
            raise
        finally:
            _, pending = await asyncio.wait(readers, timeout=DRAIN_GRACE)
            for reader in pending:
                reader.cancel()
            if pending:
                await asyncio.wait(pending)
        return_code = proc.returncode if proc.returncode is not None else KILLED_RETURN_CODE
        if timed_out:
            return_code = KILLED_RETURN_CODE
        return ProcessResult(
            return_code, "".join(stdout_parts), "".join(stderr_parts), timed_out, self._killed
        )

    def kill(self) -> None:
        self._killed = True
        if self._proc is not None:
            self._kill_group()

    def _kill_group(self) -> None:
        self._killed = True
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)

    async def _pump(self, stream: asyncio.StreamReader, output_type: str, parts: list[str]) -> None:
        """Report each complete line (with its newline) as soon as it is read; a final partial line at EOF."""
        pending = b""
        while True:
            chunk = await stream.read(READ_SIZE)
            if not chunk:
                break
            pending += chunk
            if b"\n" not in chunk:
                continue
            head, _, pending = pending.rpartition(b"\n")
            for raw in head.split(b"\n"):
                line = raw.decode("utf-8", errors="replace") + "\n"
                parts.append(line)
                self.on_line(output_type, line)
        if pending:
            line = pending.decode("utf-8", errors="replace")
            parts.append(line)
            self.on_line(output_type, line)
