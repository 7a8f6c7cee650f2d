"""What every start asks the server, asked before the UI is built.

`st2tui` spends most of its start importing Textual and building its screens; the requests the first
frame needs (who am I, the server's version, the executions list's first page) need none of that. They
are sent from a thread of their own as soon as the configuration is read, with a client of their own (an
httpx client belongs to one event loop), and the app takes the answers when its main screen comes up:
the first frame shows the rows, with no request left to make. Any failure is left to the app, which
asks again and handles it as on any start (sign-in dialog, "cannot reach", retries).

Never imports Textual (it runs while Textual is imported).
"""

from __future__ import annotations

import asyncio
import logging
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


class StartRequests:
    """The start's requests, running in a daemon thread from construction; `answers()` awaits them."""

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
        threading.Thread(target=self._run, name="st2tui-start-requests", daemon=True).start()

    def _run(self) -> None:
        try:
            answers = asyncio.run(self._fetch(*self._args))
        except BaseException as exc:  # handed to the app, which asks again
            self._future.set_exception(exc)
        else:
            self._future.set_result(answers)

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
