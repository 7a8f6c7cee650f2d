"""On Linux the start requests run in a forked child process (the UI's imports keep the GIL to themselves);
what comes back is what the server answered, a refusal comes back as "ask again", and no child is left
behind. Each case runs in a fresh interpreter, as `st2tui` starts (one thread, no event loop)."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forked child is Linux only")

CHILD = """
import asyncio, json, os, sys
from st2tui.config import Connection
from st2tui.prefetch import StartRequests, can_fork
from st2tui.widgets.execution_query import first_page_params

api_url, auth_url, stream_url, token = sys.argv[1:5]
connection = Connection(api_url=api_url, auth_url=auth_url, stream_url=stream_url, base_url=None,
                        profile="test", token=token, cache_token=False)
forkable = can_fork()
start = StartRequests(connection, params=first_page_params(utc=False))
child = start._child
answers = asyncio.run(start.answers())
try:
    os.waitpid(child, os.WNOHANG)
    reaped = False
except ChildProcessError:
    reaped = True
print(json.dumps({
    "forkable": forkable,
    "child": child is not None and child != os.getpid(),
    "reaped": reaped,
    "httpx_here": "httpx" in sys.modules,
    "answers": None if answers is None else {
        "user": answers.whoami.username,
        "version": answers.version,
        "ids": [execution.id for execution in answers.page.items],
        "total": answers.page.total,
    },
}))
"""


def _run(server, token: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, server.api_url, server.auth_url, server.stream_url, token],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _token(server) -> str:
    answer = httpx.post(f"{server.auth_url}/tokens", auth=(server.username, server.password), json={})
    answer.raise_for_status()
    return answer.json()["token"]


def test_the_child_brings_back_what_the_server_answered(st2_server):
    token = _token(st2_server)
    seen = _run(st2_server, token)
    assert seen["forkable"] and seen["child"] and seen["reaped"]
    # The parent never loaded the HTTP client: the child did the asking.
    assert seen["httpx_here"] is False
    direct = httpx.get(
        f"{st2_server.api_url}/executions",
        params={"parent": "null", "limit": 50, "sort_desc": "True", "include_attributes": "id"},
        headers={"X-Auth-Token": token},
    )
    assert seen["answers"]["user"] == st2_server.username
    assert seen["answers"]["version"]
    assert seen["answers"]["ids"] == [execution["id"] for execution in direct.json()]
    assert seen["answers"]["total"] == int(direct.headers["X-Total-Count"])


def test_a_refused_token_comes_back_as_ask_again(st2_server):
    seen = _run(st2_server, "not-a-token")
    assert seen["child"] and seen["reaped"]
    assert seen["answers"] is None


SILENT_SERVER_CHILD = """
import json, os, socket, time
from st2tui.config import Connection
from st2tui.prefetch import StartRequests
from st2tui.widgets.execution_query import first_page_params

silent = socket.create_server(("127.0.0.1", 0))  # takes connections, never answers
url = f"http://127.0.0.1:{silent.getsockname()[1]}"
connection = Connection(api_url=url + "/api/v1", auth_url=url + "/auth/v1", stream_url=url + "/stream/v1",
                        base_url=None, profile="test", token="t", cache_token=False)
start = StartRequests(connection, params=first_page_params(utc=False))
child = start._child
time.sleep(0.5)
start.close()
deadline = time.monotonic() + 10
while True:
    try:
        os.kill(child, 0)
    except ProcessLookupError:
        gone = True
        break
    if time.monotonic() > deadline:
        gone = False
        break
    time.sleep(0.05)
print(json.dumps({"child": child is not None, "gone": gone}))
"""


def test_a_child_still_waiting_when_the_app_ends_is_not_left_behind():
    result = subprocess.run(
        [sys.executable, "-c", SILENT_SERVER_CHILD], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen == {"child": True, "gone": True}
