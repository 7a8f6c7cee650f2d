"""The workflow tab's parts mount in any order on a busy machine: the task preview must take a task before
its body is mounted (it crashed with `NoMatches: '#task-preview-body'`) and show it once mounted."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console
from textual.app import App
from textual.widgets import Static

from st2tui.models import Execution
from st2tui.widgets.workflow_tree import TaskPreview


def _task() -> Execution:
    return Execution.from_dict(
        {
            "id": "5f00000000000000000000aa",
            "status": "failed",
            "action": {"ref": "core.local"},
            "runner": {"name": "local-shell-cmd"},
            "parameters": {"cmd": "false"},
            "context": {"orquesta": {"task_name": "deploy"}},
            "result": {"return_code": 1, "stderr": "boom"},
        }
    )


class _Host(App):
    def __init__(self) -> None:
        super().__init__()
        self.settings = SimpleNamespace(readonly=False)


async def test_a_task_shown_before_the_preview_mounts_appears_once_it_does() -> None:
    app = _Host()
    async with app.run_test() as pilot:
        preview = TaskPreview(id="task-preview")
        preview.show(_task())  # not mounted yet: today this raised NoMatches
        await app.screen.mount(preview)
        await pilot.pause()
        body = preview.query_one("#task-preview-body", Static)
        console = Console(width=80, record=True, file=io.StringIO())
        console.print(body.content)
        text = console.export_text()
        assert "deploy" in text
        assert "return code 1" in text
