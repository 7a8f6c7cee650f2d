"""What the top of the execution screen says besides status and times: the st2web link (built from the
configured URL, not the server's guess), the execution a re-run re-ran, and a workflow that waits for an
answer to an inquiry."""

from __future__ import annotations

import io

from execution_support import Api, open_execution
from rich.console import Console
from support.tui import wait_for

from st2tui.screens.execution import ExecutionScreen
from st2tui.widgets.execution_info import ExecutionFacts

SIZE = (160, 40)


def facts_text(screen) -> str:
    """The facts as drawn (ExecutionFacts renders them itself: its Static content is empty)."""
    facts = screen.query_one(ExecutionFacts)
    console = Console(width=facts.size.width, file=io.StringIO(), color_system=None, record=True)
    console.print(facts.render())
    return console.export_text()


async def test_the_st2web_link_is_under_the_configured_url(st2_server, make_app, api):
    rest: Api = api(st2_server)
    execution = rest.run("core.local", cmd="true")
    await rest.finished(execution["id"])
    # The server's own link names its host as it sees itself (https://localhost/...).
    assert rest.get(execution["id"])["web_url"].startswith("https://localhost/")
    # As with `st2tui --url https://st2.example.com` (the endpoints stay the test server's).
    app = make_app(st2_server, base_url="https://st2.example.com")
    link = f"https://st2.example.com/#/history/{execution['id']}/general"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: link in facts_text(screen), what="the st2web link")
        assert "localhost" not in facts_text(screen)
        copy = next(c for c in screen.palette_commands() if c.title == "Copy the st2web link")
        assert copy.help == link


async def test_a_re_run_says_which_execution_it_re_ran(st2_server, make_app, api):
    rest: Api = api(st2_server)
    execution = rest.run("core.local", cmd="echo again")
    await rest.finished(execution["id"])
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_execution(pilot, execution["id"])
        assert "re-run of" not in facts_text(screen)
        await pilot.press("R")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunActionScreen", what="the run form")
        await wait_for(pilot, lambda: app.screen.loaded, what="the run form's fields")
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ExecutionScreen) and app.screen is not screen,
            what="the re-run's screen",
        )
        rerun = app.screen
        await wait_for(pilot, lambda: rerun.execution is not None, what="the re-run")
        assert f"re-run of {execution['id']}" in facts_text(rerun)
        # The palette opens the execution it re-ran.
        back = next(c for c in rerun.palette_commands() if "the execution this one re-ran" in c.title)
        back.run()
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ExecutionScreen) and app.screen.execution_id == execution["id"],
            what="the original execution",
        )


async def test_a_workflow_paused_on_an_inquiry_says_it_waits_for_a_response(st2_server, make_app, api):
    rest: Api = api(st2_server)
    execution = rest.run("examples.orquesta-ask-basic")
    await rest.status_becomes(execution["id"], {"paused"})
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_execution(pilot, execution["id"])
        said = "waiting for a response (task get_approval): a answers"
        await wait_for(pilot, lambda: said in facts_text(screen), what="the waiting line")
        status_line = next(line for line in facts_text(screen).splitlines() if line.startswith("status"))
        assert "paused" in status_line and said in status_line, status_line
        # Answered elsewhere: the workflow goes on and the line goes.
        ask = next(e for e in screen.tree.descendants() if e.runner_type == "inquirer")
        answered = rest.client.put(
            f"/api/v1/inquiries/{ask.id}", json={"id": ask.id, "response": {"approved": True}}
        )
        assert answered.status_code == 200, answered.text
        await wait_for(
            pilot, lambda: "waiting for a response" not in facts_text(screen), what="the line to go"
        )
