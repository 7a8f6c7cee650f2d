"""What a run shares between scenarios: the options, the servers (started on first use) and the st2 CLI."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

from benchmarks.common import St2Cli, find_st2_cli, token_of
from benchmarks.server import ServerProcess, ServerSpec

WORKFLOW_CHILDREN = 500


@dataclass(frozen=True)
class Options:
    quick: bool = False
    server_url: str | None = None  # another StackStorm for scenario 1 (e.g. a real one)
    runs: int | None = None  # starts of each side in scenario 1

    def pick(self, full: Any, quick: Any) -> Any:
        return quick if self.quick else full

    @property
    def bulk(self) -> int:
        return self.pick(100_000, 20_000)


class Context:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.cli_binary = find_st2_cli()
        self._servers: dict[str, tuple[ServerProcess, str]] = {}
        self._external: dict[str, tuple[dict[str, Any], str]] = {}
        self._clis: list[St2Cli] = []

    def _server(self, name: str, spec: ServerSpec) -> tuple[dict[str, Any], str]:
        if name not in self._servers:
            server = ServerProcess(spec)
            self._servers[name] = (server, asyncio.run(token_of(server.info)))
        server, token = self._servers[name]
        return server.info, token

    def seeded(self) -> tuple[dict[str, Any], str]:
        """The demo server with its seeded history (about 300 top-level executions): (info, token)."""
        return self._server("seeded", ServerSpec())

    def first_page_server(self) -> tuple[dict[str, Any], str]:
        """Scenario 1's server: `--server-url` when given, else the seeded demo: (info, token)."""
        url = self.options.server_url
        if not url:
            return self.seeded()
        if "external" not in self._external:
            base = url.rstrip("/")
            info = {
                "base_url": base,
                "auth_url": f"{base}/auth/v1",
                "api_url": f"{base}/api/v1",
                "stream_url": f"{base}/stream/v1",
                "username": os.environ.get("ST2TUI_BENCH_USER", "st2admin"),
                "password": os.environ.get("ST2TUI_BENCH_PASSWORD", ""),
            }
            self._external["external"] = (info, asyncio.run(token_of(info)))
        return self._external["external"]

    def scale(self) -> tuple[dict[str, Any], str]:
        """100,000 executions (20,000 with --quick) and the newest a workflow with 500 children."""
        return self._server(
            "scale", ServerSpec(history=0, bulk=self.options.bulk, workflow_children=WORKFLOW_CHILDREN)
        )

    def server_process(self, name: str) -> ServerProcess:
        return self._servers[name][0]

    def cli(self, server: dict[str, Any], token: str) -> St2Cli | None:
        if self.cli_binary is None:
            return None
        cli = St2Cli(self.cli_binary, server, token)
        self._clis.append(cli)
        return cli

    def close(self) -> None:
        for cli in self._clis:
            cli.close()
        for server, _ in self._servers.values():
            server.stop()
