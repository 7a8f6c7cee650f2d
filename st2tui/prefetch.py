"""What every start asks the server, asked before the UI is built.

`st2tui` spends most of its start importing Textual and building its screens; the requests the first
frame needs (who am I, the server's version, the executions list's first page) need none of that. They
are sent as soon as the configuration is read, with a client of their own (an httpx client belongs to one
event loop), and the app takes the answers when its main screen comes up: the first frame shows the rows,
with no request left to make. Any failure is left to the app, which asks again and handles it as on any
start (sign-in dialog, "cannot reach", retries).

On Linux, in a process with no other thread yet, they run in a forked child process: importing httpx and
answering the requests then takes the other core instead of the GIL the UI's imports need (and the app
imports httpx only after the first frame). The child hands its answers back pickled through a pipe
(ours at both ends) and leaves with `os._exit`. Elsewhere (no fork, or fork unsafe: macOS frameworks,
the demo server's thread) they run in a thread.

Never imports Textual (it runs while Textual is imported).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from st2tui.config import Connection
    from st2tui.credentials import TokenCache
    from st2tui.models import Execution, Page, Token, WhoAmI

logger = logging.getLogger("st2tui.prefetch")


@dataclass(frozen=True)
class StartAnswers:
    """The answers a start needs; `token` is one obtained by signing in with a password (the app's
    client takes it over instead of signing in again)."""

    whoami: WhoAmI
    version: str
    params: dict[str, Any]
    page: Page[Execution]
    token: Token | None = None


@dataclass(frozen=True)
class StartFailed:
    """What a forked child hands back when its requests failed (the exception itself may not pickle)."""

    reason: str


def can_fork() -> bool:
    """Whether the start requests may run in a forked child: Linux (macOS frameworks are not fork-safe)
    and no other thread yet (a thread's locks would be copied held), outside any event loop."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and threading.active_count() == 1
        # A running loop would be the child's too (asyncio.run refuses to start inside it).
        and asyncio._get_running_loop() is None
    )


class StartRequests:
    """The start's requests, under way from construction (in a forked child or a daemon thread, see
    `can_fork`); `answers()` awaits them."""

    def __init__(
        self,
        connection: Connection,
        *,
        params: dict[str, Any],
        password: str | None = None,
        api_key: str | None = None,
        token_cache: TokenCache | None = None,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self.params = params
        self._future: Future[StartAnswers] = Future()
        self._args = (connection, password, api_key, token_cache, client_options or {})
        self._child: int | None = None
        if can_fork():
            self._fork()
        else:
            threading.Thread(target=self._run, name="st2tui-start-requests", daemon=True).start()

    def _run(self) -> None:
        try:
            answers = asyncio.run(self._fetch(*self._args))
        except BaseException as exc:  # handed to the app, which asks again
            self._future.set_exception(exc)
        else:
            self._future.set_result(answers)

    def _fork(self) -> None:
        readable, writable = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: answer, write, leave (no atexit, no flushing the parent's buffers)
            status = 1
            try:
                os.close(readable)
                try:
                    outcome: StartAnswers | StartFailed = asyncio.run(self._fetch(*self._args))
                except BaseException as exc:
                    outcome = StartFailed(type(exc).__name__)
                with os.fdopen(writable, "wb") as pipe:
                    pipe.write(pickle.dumps(outcome))
                status = 0
            finally:
                os._exit(status)
        os.close(writable)
        self._child = pid
        threading.Thread(
            target=self._receive, args=(readable, pid), name="st2tui-start-requests", daemon=True
        ).start()

    def _receive(self, readable: int, pid: int) -> None:
        try:
            with os.fdopen(readable, "rb") as pipe:
                data = pipe.read()  # blocks without the GIL until the child is done
            os.waitpid(pid, 0)
            self._child = None
            outcome = pickle.loads(data) if data else StartFailed("no answer")
        except BaseException as exc:
            outcome = StartFailed(type(exc).__name__)
        if isinstance(outcome, StartFailed):
            self._future.set_exception(RuntimeError(f"start requests failed in the child: {outcome.reason}"))
        else:
            self._future.set_result(outcome)

    def close(self) -> None:
        """The app is over: a child still waiting for a slow server is not waited for."""
        pid, self._child = self._child, None
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    async def _fetch(
        self,
        connection: Connection,
        password: str | None,
        api_key: str | None,
        token_cache: TokenCache | None,
        client_options: dict[str, Any],
    ) -> StartAnswers:
        # Imported here, in this thread: the main thread imports Textual meanwhile.
        from st2tui.api import St2Client

        tokens: list[Token] = []

        def on_token(token: Token) -> None:
            tokens.append(token)
            if token_cache is not None:
                token_cache.save(token)  # as the app's client would (st2 login's cache)

        client = St2Client.from_connection(
            connection,
            password=password,
            api_key=api_key,
            token_cache=token_cache,
            on_token=on_token,
            **client_options,
        )
        async with client:
            whoami, version, page = await asyncio.gather(
                client.auth.whoami(),
                client.server.version(),
                client.executions.list(**self.params),
            )
        return StartAnswers(whoami, version, self.params, page, tokens[-1] if tokens else None)

    def ready(self) -> StartAnswers | None:
        """The answers if they are all in (without waiting); None when not yet or when one failed."""
        if not self._future.done() or self._future.exception() is not None:
            return None
        return self._future.result()

    async def answers(self) -> StartAnswers | None:
        """The answers, or None when a request failed (the app then asks the usual way)."""
        try:
            return await asyncio.wrap_future(self._future)
        except Exception as exc:
            logger.info("start requests failed (%s); asking again", type(exc).__name__)
            return None
