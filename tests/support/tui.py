"""Helpers for driving the app headless with Textual's pilot."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

from rich.console import Console
from textual.pilot import Pilot


async def wait_for(
    pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Let the app run until `condition()` holds (workers and stream events are asynchronous)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.05)


def screen_text(app) -> str:
    """The whole terminal as plain text, dialogs over the screens beneath them (what a user sees)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
