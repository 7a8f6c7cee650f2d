"""The execution screen against the embedded server: live output, following and its "+N" badge, the
kept-lines bound, search, filters, the workflow tree, follow-workflow mode, large results and the
controls (checked over REST)."""

from __future__ import annotations

import re

from execution_support import Api, lines_of, open_execution, text_of
from support.faults import FaultInjector
from support.tui import wait_for
from textual.widgets import Input

from st2tui.api import ReconnectPolicy, St2Client, StreamOptions
from st2tui.app import St2TuiApp
from st2tui.cli import build_parser
from st2tui.config import Connection, Settings
from st2tui.messages import ExecutionLoaded, OutputStateChanged
from st2tui.screens.confirm import ConfirmDialog
from st2tui.screens.execution import ExecutionScreen, RerunTasksDialog
from st2tui.screens.inquiry_form import InquiryFormScreen
from st2tui.screens.result import FullResultScreen
from st2tui.screens.save import SaveDialog
from st2tui.widgets.output_log import MAX_LINES
from st2tui.widgets.result_view import ResultView
from st2tui.widgets.workflow_tree import TaskPreview, task_label

SIZE = (120, 36)
# Lines 1-3, one on stderr (pauses around it: stdout and stderr are separate pipes), then a wait for the test
# to say go (a file appearing; 60 s at most), then the rest.
LIVE_CMD = (
    "for i in 1 2 3 4 5 6 7 8; do echo out-$i; "
    'if [ "$i" = 3 ]; then sleep 0.3; echo err-$i >&2; sleep 0.5; fi; '
    'if [ "$i" = 4 ]; then for w in $(seq 600); do [ -e {go} ] && break; sleep 0.1; done; fi; sleep 0.05; done'
)


def _status(screen: ExecutionScreen) -> str:
    return str(screen.output.status_text())


async def test_output_appears_live_in_order_with_stderr_in_its_colour(st2_server, make_app, api, tmp_path):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    go = tmp_path / "go"
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("core.local", cmd=LIVE_CMD.format(go=go))
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: {"err-3", "out-4"} <= set(lines_of(screen)), what="the first lines")
        # They are on screen while the action still runs, waiting to print the others, in the order the
        # server stored them (stdout and stderr are separate pipes).
        assert lines_of(screen)[:3] == ["out-1", "out-2", "out-3"]
        assert lines_of(screen) == rest.output(execution["id"]).splitlines()
        assert rest.get(execution["id"])["status"] == "running"
        go.touch()

        await rest.finished(execution["id"])
        await wait_for(pilot, lambda: screen.output.stream_state == "ended", what="the end of the output")
        assert lines_of(screen) == rest.output(execution["id"]).splitlines()
        assert sorted(lines_of(screen)) == sorted([*(f"out-{i}" for i in range(1, 9)), "err-3"])
        log = screen.output.log_view
        assert [line.stream for line in log.lines()].count("stderr") == 1
        # stderr is drawn in another colour than stdout (all nine lines fit on screen: row = line).
        rows = lines_of(screen)

        def colours(text: str) -> set:
            return {
                segment.style.color for segment in log.render_line(rows.index(text)) if segment.text.strip()
            }

        assert colours("out-3") and colours("err-3") and colours("out-3") != colours("err-3")
        await wait_for(pilot, lambda: screen.execution.status == "succeeded", what="the final status")


async def test_scrolling_up_stops_following_counts_new_lines_and_end_resumes(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("core.local", cmd="for i in $(seq 1 400); do echo line-$i; sleep 0.01; done")
        screen = await open_execution(pilot, execution["id"])
        panel, log = screen.output, screen.output.log_view
        await wait_for(pilot, lambda: log.line_count > 60, what="a screenful of lines")
        assert panel.follow and log.scroll_y == log.max_scroll_y

        await pilot.press("up")
        await wait_for(pilot, lambda: not panel.follow, what="following to stop")
        top = log.lines()[round(log.scroll_y)].text
        await wait_for(pilot, lambda: panel.pending >= 20, what="new lines while not following")
        # The view stays where the user left it; the badge counts what arrived.
        assert log.lines()[round(log.scroll_y)].text == top
        assert f"+{panel.pending:,} new lines" in _status(screen)

        await pilot.press("G")
        await wait_for(pilot, lambda: panel.follow, what="following again")
        assert panel.pending == 0
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y
        assert "following" in _status(screen)

        await pilot.press("pageup")
        await wait_for(pilot, lambda: not panel.follow, what="following to stop on page up")
        await pilot.press("end")
        await wait_for(pilot, lambda: panel.follow, what="end to follow")
        rest.cancel(execution["id"])


async def test_huge_output_keeps_the_last_lines_says_so_and_saves_all(st2_server, make_app, api, tmp_path):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("examples.flood", lines=15000, rate=0, line_length=40)
        screen = await open_execution(pilot, execution["id"])
        await rest.finished(execution["id"])
        await wait_for(
            pilot, lambda: screen.output.stream_state == "ended", timeout=30, what="all the output"
        )
        full = rest.output(execution["id"]).splitlines()
        log = screen.output.log_view
        assert log.line_count == MAX_LINES
        assert log.received == len(full)
        assert lines_of(screen) == full[-MAX_LINES:]
        assert f"last {MAX_LINES:,} of {len(full):,} lines kept · ctrl+s saves all" in _status(screen)

        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveDialog), what="the save dialog")
        target = tmp_path / "flood.log"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists() and target.stat().st_size > 0, what="the saved file")
        assert target.read_text().splitlines() == full


async def test_search_highlights_and_moves_between_matching_lines(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        cmd = "for i in $(seq 1 120); do echo row-$i; if [ $((i % 30)) = 0 ]; then echo marker-$i; fi; done"
        execution = rest.run("core.local", cmd=cmd)
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: screen.output.stream_state == "ended", what="the output")
        log = screen.output.log_view

        await pilot.press("slash")
        await pilot.press(*"marker")
        await pilot.press("enter")
        assert screen.output.search == "marker"
        assert log.match_count() == 4
        first = log.current_seq
        current = next(line for line in log.lines() if line.seq == first)
        assert current.text.startswith("marker-")
        assert not screen.output.follow
        assert "/marker: 4 matching lines" in _status(screen)

        await pilot.press("n")
        second = log.current_seq
        assert second != first
        assert next(line for line in log.lines() if line.seq == second).text.startswith("marker-")
        await pilot.press("N")
        assert log.current_seq == first
        # The match is drawn highlighted.
        row = round(log.scroll_y)
        rows = [log.render_line(y) for y in range(log.scrollable_content_region.height)]
        marked = [strip for strip in rows if "marker-" in strip.text]
        assert marked and any(
            segment.style.bgcolor for strip in marked for segment in strip if "marker" in segment.text
        )
        assert row >= 0


async def test_stream_filter_timestamps_and_wrap(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        # stdout and stderr are separate pipes, read as they come (as st2 does): the pauses order them even
        # when the server's thread waits its turn on a busy machine.
        cmd = "echo short; sleep 0.5; echo oops >&2; sleep 0.5; printf 'x%.0s' $(seq 1 300); echo"
        execution = rest.run("core.local", cmd=cmd)
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: screen.output.stream_state == "ended", what="the output")
        log = screen.output.log_view
        assert lines_of(screen) == ["short", "oops", "x" * 300]

        await pilot.press("o")
        assert lines_of(screen) == ["short", "x" * 300]
        assert "stdout only" in _status(screen)
        await pilot.press("o")
        assert lines_of(screen) == ["oops"]
        await pilot.press("o")
        assert len(lines_of(screen)) == 3

        await pilot.press("t")
        await pilot.pause()
        assert re.match(r"\d\d:\d\d:\d\d\.\d{3} short", log.render_line(0).text)

        await pilot.press("w")
        await pilot.pause()
        width = log.scrollable_content_region.width
        assert log.virtual_size.height > 3
        assert all(log.render_line(y).cell_length <= width for y in range(log.virtual_size.height))
        await pilot.press("w")
        await pilot.pause()
        assert log.virtual_size.height == 3


async def test_nested_failure_tree_reaches_the_failed_task_three_levels_down(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("examples.nested-failure")
        screen = await open_execution(pilot, execution["id"])
        tree = screen.tree
        await rest.finished(execution["id"])

        def migrate_failed() -> bool:
            return any(e.task_name == "migrate" and e.status == "failed" for e in tree.descendants())

        await wait_for(pilot, migrate_failed, what="the failed migrate task in the tree")
        migrate = next(e for e in tree.descendants() if e.task_name == "migrate")
        assert [step.task_name for step in tree.path_of(migrate.id)] == [
            "run_stage",
            "run_database_step",
            "migrate",
        ]
        await pilot.press("3")
        assert screen.tabs.active == "tab-workflow"

        tree.move_cursor(tree.root)
        await pilot.press("f")
        assert tree.selected_execution.id == migrate.id
        preview = text_of(screen.query_one(TaskPreview).query_one("#task-preview-body"))
        assert 'relation "invoices" already exists' in preview

        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not screen, what="the task's screen")
        child = app.screen
        assert isinstance(child, ExecutionScreen)
        await wait_for(pilot, lambda: child.execution is not None, what="the task")
        assert child.execution.id == migrate.id
        assert [crumb.execution_id for crumb in child.trail] == [execution["id"]]
        breadcrumb = text_of(child.query_one("#execution-breadcrumb"))
        assert "examples.nested-failure" in breadcrumb and "migrate" in breadcrumb
        await pilot.press("escape")
        assert app.screen is screen


async def test_follow_workflow_shows_the_output_of_tasks_started_after_opening(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("examples.deploy", pace=0.1)
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: screen.output.subject != "", what="follow-workflow mode")
        known_at_start = {task_label(e) for e in screen.tree.descendants()}
        assert "smoke_test" not in known_at_start

        await rest.finished(execution["id"], timeout=40)
        await wait_for(
            pilot, lambda: screen.output.stream_state == "ended", timeout=20, what="every task's output"
        )
        lines = screen.output.log_view.lines()
        sources = {line.source for line in lines if line.stream in ("stdout", "stderr")}
        assert {
            "build",
            "test",
            "migrate",
            "deploy[0]",
            "deploy[1]",
            "deploy[2]",
            "smoke_test",
            "notify",
        } <= sources
        # Each task's lines came in with its own label and a stable colour key.
        smoke = [line for line in lines if line.source == "smoke_test" and line.stream == "stdout"]
        assert smoke and smoke[0].source_key == "smoke_test"
        assert any(line.stream == "notice" and line.text.startswith("▶ smoke_test started") for line in lines)
        assert screen.output.source_width >= len("deploy[0]")

        await pilot.press("W")
        await wait_for(pilot, lambda: screen.output.subject == "", what="this execution's own output")
        assert not any(line.source for line in screen.output.log_view.lines())


async def test_cancel_asks_then_cancels_on_the_server(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("examples.slow-echo", seconds=30)
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: screen.execution.status == "running", what="running")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the confirmation")
        await pilot.press("y")
        await rest.status_becomes(execution["id"], {"canceled"})
        await wait_for(pilot, lambda: screen.execution.status == "canceled", what="the screen to show it")
        assert screen.check_action("cancel", ()) is False


async def test_pause_then_resume_a_workflow(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("examples.deploy", pace=0.2)
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: screen.execution.status == "running", what="running")
        await pilot.press("p")
        await rest.status_becomes(execution["id"], {"pausing", "paused"})
        await rest.status_becomes(execution["id"], {"paused"})
        await wait_for(pilot, lambda: screen.execution.status == "paused", what="the screen to show paused")
        assert screen.check_action("pause", ()) is False and screen.check_action("resume", ())

        await pilot.press("p")
        await rest.status_becomes(execution["id"], {"resuming", "running", "succeeded"})
        await wait_for(
            pilot, lambda: screen.execution.status != "paused", what="the screen to show it resumed"
        )
        rest.cancel(execution["id"])


async def test_rerun_from_a_task_starts_the_workflow_again_from_it(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("examples.nested-failure")
        await rest.finished(execution["id"])
        screen = await open_execution(pilot, execution["id"])
        tree = screen.tree
        await wait_for(pilot, lambda: len(tree.descendants()) >= 6, what="the tree")
        run_stage = next(e for e in tree.descendants() if e.task_name == "run_stage")
        tree.select(run_stage.id)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, RerunTasksDialog), what="the confirmation")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ExecutionScreen) and app.screen is not screen,
            what="the new execution's screen",
        )
        new_id = app.screen.execution_id
        doc = rest.get(new_id)
        rerun = doc["context"]["re-run"]
        assert (rerun["ref"], rerun["tasks"], rerun.get("reset", [])) == (execution["id"], ["run_stage"], [])
        assert doc["action"]["ref"] == "examples.nested-failure"


async def test_rerun_sends_the_parameters_back_but_never_the_secret_mask(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("examples.all-param-types", message="hello", api_token="s3cret-value")
        await rest.finished(execution["id"])
        screen = await open_execution(pilot, execution["id"])
        # What the screen holds (and shows) is the server's mask, not the secret.
        assert screen.execution.parameters["api_token"] == "********"
        assert "s3cret-value" not in text_of(screen.facts)
        assert "api_token=********" in text_of(screen.facts)  # what is shown instead

        await pilot.press("R")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RunActionScreen", what="the run form")
        form = app.screen
        await wait_for(pilot, lambda: form.loaded, what="the run form's fields")
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ExecutionScreen) and app.screen is not screen,
            what="the re-run's screen",
        )
        new_id = app.screen.execution_id
        doc = rest.get(new_id, show_secrets="true")
        assert doc["context"]["re-run"]["ref"] == execution["id"]
        assert doc["parameters"]["api_token"] == "s3cret-value"


async def test_read_only_hides_every_control(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("examples.slow-echo", seconds=5)
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: screen.execution.status == "running", what="running")
        shown = {binding.binding.action for binding in screen.active_bindings.values()}
        assert not shown & {"cancel", "pause", "resume", "rerun", "respond"}
        await pilot.press("c")
        await pilot.press("R")
        await pilot.pause()
        assert app.screen is screen
        assert "READ-ONLY" in text_of(screen.query_one("#execution-breadcrumb"))
        rest.cancel(execution["id"])


async def test_a_5_mb_result_stays_on_the_server_until_asked_for(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        cmd = "python3 -c \"import sys; sys.stdout.write(('y' * 999 + '\\n') * 5200)\""
        execution = rest.run("core.local", cmd=cmd)
        await rest.finished(execution["id"], timeout=60)
        screen = await open_execution(pilot, execution["id"])
        assert "result" not in screen.execution.raw
        assert screen.execution.result_size > 5_000_000
        await pilot.press("2")
        assert screen.tabs.active == "tab-result"
        body = text_of(screen.query_one(ResultView).query_one("#result-body"))
        assert "too large to show here" in body and "5.0 MB" in body
        # The screen answers keys while the output streams in.
        await pilot.press("1")
        assert screen.tabs.active == "tab-output"
        await pilot.press("2")

        await pilot.press("o")
        await wait_for(
            pilot, lambda: isinstance(app.screen, FullResultScreen), timeout=30, what="the full result"
        )
        full = app.screen
        await wait_for(
            pilot, lambda: full.panel.log_view.line_count > 5200, timeout=30, what="the result's lines"
        )
        assert full.panel.log_view.max_lines is None
        await pilot.press("escape")
        assert app.screen is screen
        await wait_for(pilot, lambda: screen.output.stream_state == "ended", timeout=30, what="the output")
        assert screen.output.log_view.line_count == 5200


async def test_execution_option_opens_the_newest_execution_after_sign_in(st2_server, make_app, api):
    assert build_parser().parse_args(["--execution", "last"]).execution == "last"
    rest: Api = api(st2_server)
    execution = rest.run("core.echo", message="opened from the command line")
    await rest.finished(execution["id"])
    app = make_app(st2_server)
    app.open_on_start = "last"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen), what="the execution screen")
        screen = app.screen
        await wait_for(pilot, lambda: screen.execution is not None, what="the execution")
        assert screen.execution.id == execution["id"]
        await wait_for(pilot, lambda: "opened from the command line" in lines_of(screen), what="its output")


async def test_respond_opens_the_form_of_the_workflows_pending_inquiry(st2_server, make_app, api):
    rest: Api = api(st2_server)
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        execution = rest.run("examples.orquesta-ask-basic")
        await rest.status_becomes(execution["id"], {"paused", "pausing"})
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: screen.check_action("respond", ()) is True, what="the pending inquiry")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, InquiryFormScreen), what="the response form")
        ask = next(e for e in screen.tree.descendants() if e.runner_type == "inquirer")
        assert app.screen.inquiry.id == ask.id
        rest.cancel(execution["id"])


async def test_a_dropped_stream_comes_back_and_the_screen_resyncs(st2_server, api, tmp_path, monkeypatch):
    monkeypatch.setenv("ST2TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    rest: Api = api(st2_server)
    transport = FaultInjector()
    connection = Connection(
        api_url=st2_server.api_url,
        auth_url=st2_server.auth_url,
        stream_url=st2_server.stream_url,
        base_url=st2_server.base_url,
        profile="test",
        username="st2admin",
        password=st2_server.password,
        cache_token=False,
    )
    client = St2Client(
        api_url=st2_server.api_url,
        auth_url=st2_server.auth_url,
        stream_url=st2_server.stream_url,
        username="st2admin",
        password=st2_server.password,
        stream_options=StreamOptions(reconnect=ReconnectPolicy(initial_delay=0.2)),
        transport=transport,
    )
    app = St2TuiApp(client, connection, Settings())
    loaded_after_cut: list[ExecutionLoaded] = []
    # The states the output stream went through, as the screen was told them: "reconnecting" may last less
    # than one look at the screen on a busy machine, the message that said it does not.
    states_after_cut: list[str] = []

    def record(message) -> None:
        if isinstance(message, ExecutionLoaded) and transport.injected:
            loaded_after_cut.append(message)
        if isinstance(message, OutputStateChanged) and transport.injected:
            states_after_cut.append(message.state)

    async with app.run_test(size=SIZE, message_hook=record) as pilot:
        execution = rest.run("examples.slow-echo", seconds=6)
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: len(lines_of(screen)) >= 2, what="the first lines")
        await wait_for(pilot, lambda: screen.stream_state == "live", what="the event stream")

        transport.cut_streams()
        await wait_for(pilot, lambda: "reconnecting" in states_after_cut, what="the drop to be told")
        await wait_for(pilot, lambda: "live" in states_after_cut, what="the stream to come back")
        assert states_after_cut.index("reconnecting") < states_after_cut.index("live")
        await wait_for(pilot, lambda: screen.stream_state == "live", what="the header to say live")
        await wait_for(pilot, lambda: bool(loaded_after_cut), what="the execution read again")

        await rest.finished(execution["id"])
        await wait_for(pilot, lambda: screen.output.stream_state == "ended", what="the end of the output")
        await wait_for(pilot, lambda: screen.execution.status == "succeeded", what="the final status")
        # Nothing lost, nothing twice: the view holds exactly what the server stored.
        assert lines_of(screen) == rest.output(execution["id"]).splitlines()
