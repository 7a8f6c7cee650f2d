"""The tail pane on the main screen: what it follows, how lines are labelled, nothing lost or doubled across
a stream reconnect or an execution's end."""

from __future__ import annotations

from support.faults import FaultInjector
from support.tui import screen_text, wait_for

from st2tui.screens.help import help_entries
from st2tui.widgets.output_log import clean_line
from st2tui.widgets.tail import TailPane

SIZE = (140, 44)


def _tail(app) -> TailPane:
    return app.main_screen.query_one(TailPane)


def _output_lines(tail: TailPane, execution_id: str) -> list[str]:
    return [
        line.text
        for line in tail.log_view.lines()
        if line.source_key == execution_id and line.stream in ("stdout", "stderr")
    ]


def _stored_lines(rest, execution_id: str) -> list[str]:
    """What st2 stored for the execution (stdout and stderr, in the order they were written)."""
    text = rest.get(f"/executions/{execution_id}/output").text
    return [clean_line(line) for line in text.splitlines()]


async def test_the_tail_shows_exactly_the_filtered_executions_lines_labelled_across_a_reconnect(
    fresh_server, make_app, rest
):
    faults = FaultInjector()
    app = make_app(fresh_server, transport=faults)
    api = rest(fresh_server)
    async with app.run_test(size=SIZE) as pilot:
        main = app.main_screen
        await wait_for(pilot, lambda: main.header.stream_state == "live", what="live stream")
        main.executions.apply_filter("action:examples.deploy")
        await pilot.press("colon", *"tail filter", "enter")
        tail = _tail(app)
        assert tail.display and tail.mode == "filter"
        assert main.executions.region.height > 0, "the list stays in view"

        # A workflow with two parallel branches (migrate, and deploy over three hosts), another run of the
        # same action (matches the filter) and an unrelated one (does not).
        workflow = api.run("examples.deploy", pace=0.2)["id"]
        other = api.run("examples.deploy", pace=0.0, hosts=["web-09"])["id"]
        unrelated = api.run("core.local", cmd="echo not for the tail")["id"]

        await wait_for(pilot, lambda: len(tail.log_view.lines()) > 5, timeout=20, what="first lines")
        assert faults.cut_streams() >= 2, "the event stream and output streams drop"

        for execution_id in (workflow, other, unrelated):
            await api.finished(execution_id, timeout=60)
        children = api.get(f"/executions/{workflow}/children", depth=-1).json()
        tasks = {child["context"]["orquesta"]["task_name"] for child in children}
        assert {"build", "test", "migrate", "deploy", "smoke_test"} <= tasks
        followed = [child["id"] for child in children] + [
            child["id"] for child in api.get(f"/executions/{other}/children", depth=-1).json()
        ]

        def complete() -> bool:
            return all(_output_lines(tail, eid) == _stored_lines(api, eid) for eid in followed)

        try:
            await wait_for(pilot, complete, timeout=30, what="every line of every matching execution, once")
        except AssertionError:
            for eid in followed:
                got, want = _output_lines(tail, eid), _stored_lines(api, eid)
                if got != want:
                    print("DIFF", eid, len(got), len(want), got[:3], want[:3], got[-2:], want[-2:])
            raise
        lines = tail.log_view.lines()
        assert not [line for line in lines if line.source_key == unrelated]
        assert {line.source_key for line in lines} <= {workflow, other, *followed}

        by_id = {child["id"]: child for child in children}
        migrate = next(
            eid for eid, child in by_id.items() if child["context"]["orquesta"]["task_name"] == "migrate"
        )
        labels = {line.source for line in lines if line.source_key == migrate}
        assert labels == {f"{migrate[-4:]} deploy > migrate"}
        hosts = {line.source.split(" ", 1)[1] for line in lines if line.source_key in by_id}
        assert {"deploy > deploy[0]", "deploy > deploy[1]", "deploy > deploy[2]"} <= hosts, hosts
        # One status line per finished execution, after its output.
        ends = [line for line in lines if line.source_key == migrate and line.text.startswith("■")]
        assert len(ends) == 1 and ends[0] is [line for line in lines if line.source_key == migrate][-1]
        assert "succeeded" in ends[0].text and "exit 0" in ends[0].text
        assert "follows the list's filter" in screen_text(app)


async def test_a_pinned_workflow_brings_its_nested_descendants_and_a_failure_stands_out(
    fresh_server, make_app, rest
):
    app = make_app(fresh_server)
    api = rest(fresh_server)
    async with app.run_test(size=SIZE) as pilot:
        main = app.main_screen
        await wait_for(pilot, lambda: main.header.stream_state == "live", what="live stream")
        workflow = api.run("examples.nested-failure")["id"]
        await wait_for(pilot, lambda: workflow in main.executions.listing.executions, what="the row")
        main.executions.apply_filter(f"id:{workflow}")
        await wait_for(
            pilot,
            lambda: getattr(main.executions.selected_execution, "id", None) == workflow,
            what="the workflow's row selected",
        )
        await pilot.press("P")
        tail = _tail(app)
        assert tail.display and tail.mode == "pinned" and tail.pinned_id == workflow
        await api.finished(workflow, timeout=60)
        descendants = api.get(f"/executions/{workflow}/children", depth=-1).json()
        assert any(doc.get("parent") not in (workflow, None) for doc in descendants), "nested at depth 2"
        deepest = next(doc for doc in descendants if doc.get("parent") != workflow)

        await wait_for(
            pilot,
            lambda: any(
                line.source_key == deepest["id"] and line.text.startswith("■")
                for line in tail.log_view.lines()
            ),
            timeout=30,
            what="the nested child's status line",
        )
        failures = [line for line in tail.log_view.lines() if line.stream == "failure"]
        assert failures and all("failed" in line.text for line in failures)
        label = next(line.source for line in tail.log_view.lines() if line.source_key == deepest["id"])
        assert label.count(" > ") == 2, label


async def test_tail_keys_pause_hold_lines_enter_opens_escape_returns_and_save_writes_them(
    fresh_server, make_app, rest, tmp_path
):
    from st2tui.screens.execution import ExecutionScreen
    from st2tui.screens.save import SaveDialog

    app = make_app(fresh_server)
    api = rest(fresh_server)
    async with app.run_test(size=SIZE) as pilot:
        main = app.main_screen
        await wait_for(pilot, lambda: main.header.stream_state == "live", what="live stream")
        titles = [command.title for command in main.palette_commands()]
        assert "Show the tail pane" in titles and "Tail pane full screen, or back" in titles
        await pilot.press("T")
        tail = _tail(app)
        assert tail.display and tail.mode == "running"
        assert "Hide the tail pane" in [command.title for command in main.palette_commands()]
        helped = {(entry.group, entry.keys) for entry in help_entries(main)}
        assert {("Tail", "p"), ("Tail", "m"), ("Everywhere", "T"), ("Everywhere", "Z")} <= helped, helped
        await pilot.press("Z")
        await pilot.pause()
        assert main.tabs.region.height == 0 and tail.region.height > SIZE[1] // 2, "the tail takes it all"
        await pilot.press("Z")
        assert main.tabs.region.height > 0 and tail.region.height > 0, "split: both in view"
        tail.focus_main()
        await pilot.press("p")
        first = api.run("core.local", cmd="echo one; echo two >&2")["id"]
        await api.finished(first)
        await wait_for(
            pilot, lambda: "2 lines held" in screen_text(app) or "3 lines held" in screen_text(app)
        )
        assert not tail.log_view.lines(), "paused: nothing new is shown"
        await pilot.press("p")
        await wait_for(pilot, lambda: any(line.text.startswith("■") for line in tail.log_view.lines()))
        assert [(line.text, line.stream) for line in tail.log_view.lines()][:2] == [
            ("one", "stdout"),
            ("two", "stderr"),
        ]

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExecutionScreen), what="execution screen")
        assert app.screen.execution_id == first
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main, what="back on the main screen")
        assert tail.display and tail.log_view.lines()

        target = tmp_path / "tail.log"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveDialog), what="save dialog")
        dialog_input = app.screen.query_one("#save-path")
        dialog_input.value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists, what="the saved file")
        saved = target.read_text().splitlines()
        assert saved[:2] == [f"[{first[-4:]} local] one", f"[{first[-4:]} local] two"]

        await pilot.press("T")
        assert not tail.display


async def test_the_tail_keeps_a_bounded_number_of_lines_and_says_older_ones_were_dropped(
    fresh_server, make_app, rest, monkeypatch
):
    import st2tui.widgets.tail as tail_module

    monkeypatch.setattr(tail_module, "MAX_LINES", 3)
    app = make_app(fresh_server)
    api = rest(fresh_server)
    async with app.run_test(size=SIZE) as pilot:
        main = app.main_screen
        await wait_for(pilot, lambda: main.header.stream_state == "live", what="live stream")
        await pilot.press("T")
        tail = _tail(app)
        execution_id = api.run("core.local", cmd="for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; done")["id"]
        await api.finished(execution_id)
        await wait_for(pilot, lambda: any(line.text.startswith("■") for line in tail.log_view.lines()))
        assert [line.text for line in tail.log_view.lines()][:2] == ["line 9", "line 10"]
        await wait_for(pilot, lambda: "last 3 of 11 lines kept · older ones dropped" in screen_text(app))


async def test_the_tail_keeps_following_when_it_grows_after_the_command_bar_closes(
    fresh_server, make_app, rest
):
    # Seen on real st2: `:` then a command shrank the tail by a row and closing the bar gave it back; the view,
    # clamped to its new end, took that for the user scrolling up and stopped following ("+233 new lines").
    app = make_app(fresh_server)
    api = rest(fresh_server)
    async with app.run_test(size=SIZE) as pilot:
        main = app.main_screen
        await wait_for(pilot, lambda: main.header.stream_state == "live", what="live stream")
        await pilot.press("T")
        tail = _tail(app)
        execution_id = api.run("core.local", cmd="for i in $(seq 1 80); do echo line $i; done")["id"]
        await api.finished(execution_id)
        await wait_for(pilot, lambda: any(line.text.startswith("■") for line in tail.log_view.lines()))
        await pilot.pause()
        assert tail.panel.follow and tail.log_view.max_scroll_y > 0
        for _ in range(2):
            await pilot.press("colon")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("Z", "Z")  # the whole screen and back: taller, then shorter
        await pilot.pause()
        assert tail.panel.follow, "nobody scrolled: the tail still follows"
        second = api.run("core.local", cmd="echo after the bar")["id"]
        await api.finished(second)
        await wait_for(pilot, lambda: "after the bar" in [line.text for line in tail.log_view.lines()])
        await pilot.pause()
        assert tail.panel.follow and tail.log_view.scroll_y == tail.log_view.max_scroll_y
        assert "new lines" not in screen_text(app)
