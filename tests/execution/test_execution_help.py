"""`?` on the execution screen lists the keys that work there, taken from the live bindings."""

from __future__ import annotations

from execution_support import Api, open_execution
from support.tui import wait_for

from st2tui.screens.execution import ExecutionKeysScreen


async def test_help_lists_the_execution_screens_keys(st2_server, make_app, api):
    rest: Api = api(st2_server)
    execution = rest.run("core.local", cmd="echo hi")
    await rest.finished(execution["id"])
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_execution(pilot, execution["id"])
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, ExecutionKeysScreen), what="the keys sheet")
        descriptions = {entry.description for entry in app.screen.entries}
        assert "Re-run" in descriptions, descriptions
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: not isinstance(app.screen, ExecutionKeysScreen), what="the sheet to close"
        )
