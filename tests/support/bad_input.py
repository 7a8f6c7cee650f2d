"""The bad-input sweep's values (issue 8), a recording transport to see what reached the server, and a
check that nothing on screen hands control characters to the terminal."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from textual.app import App
from textual.geometry import Region

from st2tui.api import St2Client

MEGABYTE = 2**20

# Every value the sweep types into every field: empty, huge, binary-ish, unicode, injection-looking and
# wrong types. Names are what the assertion messages report.
TEXT_VALUES = {
    "empty": "",
    "huge (1 MB)": "h" * MEGABYTE,
    "NUL": "nul\x00byte",
    "control": "bell\x07 back\x08 del\x7f",
    "ANSI": "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x9b2J",
    "lone surrogate": "half \udcff",
    "RTL": "\u202eevil\u202c שלום مرحبا",
    "emoji": "🚀 👍🏽 👨\u200d👩\u200d👧",
    "combining": "Ze\u0301\u0301 Z̤͔ͧ̑̓",
    "zero-width": "a\u200bb\u200dc\ufeff",
    "SQL": "'; DROP TABLE executions; --",
    "Jinja": "{{ st2kv.system.x }}",
    "YAQL": "<% $.x %>",
    "shell": "$(rm -rf /)",
    "path": "../../etc/passwd",
    "format": "%s%n",
    "JSON fragment": '{"a": [1, ',
}
WRONG_TYPE_VALUES = {
    "text": "ten",
    "maybe": "maybe",
    "bad JSON list": "[1, 2",
    "object in list": '[{"a": 1}]',
    "negative": "-5",
    "huge integer": "1" + "0" * 30,
    "1e400": "1e400",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "5000 digits": "9" * 5000,
    "JSON NaN": '{"a": NaN}',
    "deep nesting": "[" * 100_000,
}
VALUES = {**TEXT_VALUES, **WRONG_TYPE_VALUES}
TEMPLATES = {"Jinja", "YAQL"}

# What a terminal acts on: C0 controls (but tab and newline), DEL and C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    query: str
    body: bytes
    headers: httpx.Headers
    status: int


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real transport, with every request and the status it got kept in `sent`."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self.inner.handle_async_request(request)
        self.sent.append(
            Sent(
                request.method,
                request.url.path,
                request.url.query.decode(),
                body,
                request.headers,
                response.status_code,
            )
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def writes(self, path_part: str) -> list[Sent]:
        """Requests that change something (not GET) whose path contains `path_part`."""
        return [sent for sent in self.sent if sent.method != "GET" and path_part in sent.path]

    def server_errors(self) -> list[str]:
        return [
            f"{sent.method} {sent.path}?{sent.query[:80]} -> {sent.status}"
            for sent in self.sent
            if sent.status >= 500
        ]


async def recording(app: App) -> RecordingTransport:
    """Give the app (built by `make_app`, not yet running) a client that records what it sends."""
    transport = RecordingTransport()
    previous = app.client
    app.client = St2Client.from_connection(app.connection, transport=transport)
    await previous.aclose()
    return transport


def control_on_screen(app: App) -> list[str]:
    """Widgets of the current screen whose drawn lines hold control characters (what would reach the
    terminal raw), with the characters found."""
    found = []
    for widget in app.screen.query("*"):
        if not widget.display or widget.size.area == 0:
            continue
        lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
        characters = {c for line in lines for segment in line for c in CONTROL.findall(segment.text)}
        if characters:
            found.append(f"{widget!r}: {sorted(map(hex, map(ord, characters)))}")
    return found
