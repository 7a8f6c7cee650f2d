"""The executions pane against the embedded server: server-side filters, paging, sorting, workflow
trees, live updates, marks with cancel/re-run, and the polling fallback."""

from __future__ import annotations

from datetime import timedelta

from support.tui import wait_for

from st2tui.api import St2Client
from st2tui.messages import ExecutionOpenRequested, ExecutionsUpdated
from st2tui.models import Execution
from st2tui.screens.confirm import ConfirmDialog
from st2tui.widgets.executions import ExecutionsPane, ExecutionTree
from st2tui.widgets.header import StatusHeader


def _pane(app) -> ExecutionsPane:
    return app.screen.query_one(ExecutionsPane)


def _summary(pane: ExecutionsPane) -> str:
    return str(pane.query_one("#executions-summary").render())


async def _loaded(pilot, pane: ExecutionsPane) -> None:
    """Rows shown, the stream live and its first resync read (nothing left in flight)."""
    header = pane.app.screen.query_one(StatusHeader)

    def settled() -> bool:
        busy = any(worker.group.startswith("executions") and worker.is_running for worker in pane.app.workers)
        return pane.table.row_count > 0 and header.stream_state == "live" and not busy

    await wait_for(pilot, settled, what="executions")


def _total(response) -> int:
    return int(response.headers["X-Total-Count"])


async def test_lists_the_newest_top_level_executions_with_the_total(st2_server, make_app, rest):
    app = make_app(st2_server)
    api = rest(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        expected = api.get("/executions", parent="null", limit=50, include_attributes="id")
        assert [row.execution_id for row in pane.visible_rows] == [doc["id"] for doc in expected.json()]
        assert all(row.depth == 0 for row in pane.visible_rows)
        assert f"1-50 of {_total(expected):,}" in _summary(pane)
        header = app.screen.query_one(StatusHeader)
        assert (header.user, header.version, header.role) == ("st2admin", "3.10dev", "admin")


async def test_the_filter_goes_to_the_server(st2_server, make_app, rest):
    app = make_app(st2_server)
    api = rest(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        await pilot.press("slash", *"status:failed", "enter")
        await wait_for(
            pilot, lambda: pane.filter_query.filters == {"status": "failed"} and pane.table.row_count > 0
        )
        await wait_for(
            pilot,
            lambda: all(
                pane.listing.executions[r.execution_id].status == "failed" for r in pane.visible_rows
            ),
        )
        failed = _total(api.get("/executions", parent="null", status="failed", limit=1))
        assert pane.total == failed
        assert f"of {failed:,}" in _summary(pane)

        await pilot.press("slash", "ctrl+u", *"action:core.local user:alice", "enter")
        await wait_for(pilot, lambda: pane.filter_query.filters == {"action": "core.local", "user": "alice"})
        await wait_for(
            pilot,
            lambda: (
                pane.total
                == _total(api.get("/executions", parent="null", action="core.local", user="alice", limit=1))
            ),
        )
        rows = [pane.listing.executions[row.execution_id] for row in pane.visible_rows]
        assert rows and all(e.action_ref == "core.local" and e.user == "alice" for e in rows)


async def test_failures_toggle_and_free_text(st2_server, make_app, rest):
    app = make_app(st2_server)
    api = rest(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        await pilot.press("f")
        failed = _total(api.get("/executions", parent="null", status="failed", limit=1))
        await wait_for(pilot, lambda: pane.total == failed and "status:failed" in pane.query_text)
        await pilot.press("f")
        everything = _total(api.get("/executions", parent="null", limit=1))
        await wait_for(pilot, lambda: pane.total == everything and not pane.query_text)

        # Words without a key narrow the loaded rows (no reload), matching id, action, user, rule, task.
        await pilot.press("slash", *"deploy", "enter")
        await wait_for(pilot, lambda: pane.filter_query.words == ("deploy",))
        rows = [pane.listing.executions[row.execution_id] for row in pane.visible_rows]
        assert rows and all("deploy" in f"{e.action_ref} {e.triggered_by}" for e in rows)
        assert "loaded match “deploy”" in _summary(pane)


async def test_a_bad_filter_is_explained_and_not_applied(st2_server, make_app):
    app = make_app(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        await pilot.press("slash", *"status:broken", "enter")
        await wait_for(pilot, lambda: any("unknown status" in n.message for n in app._notifications))
        assert pane.filter_query.filters == {}


async def test_scrolling_to_the_end_loads_the_next_page(st2_server, make_app, rest):
    app = make_app(st2_server)
    api = rest(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        await pilot.press("end")
        await wait_for(pilot, lambda: pane.table.row_count == 100, what="the second page")
        expected = api.get("/executions", parent="null", limit=100, include_attributes="id").json()
        assert [row.execution_id for row in pane.visible_rows] == [doc["id"] for doc in expected]
        assert f"1-100 of {pane.total:,}" in _summary(pane)


async def test_sorts_by_column_on_the_server(st2_server, make_app, rest):
    app = make_app(st2_server)
    api = rest(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        await pilot.press("s")  # started -> status
        await pilot.press("s")  # status -> action, ascending
        await wait_for(pilot, lambda: pane.sort == ("action", False))
        expected = api.get(
            "/executions", parent="null", limit=50, sort="action", include_attributes="id,action"
        )
        await wait_for(
            pilot, lambda: [r.execution_id for r in pane.visible_rows] == [d["id"] for d in expected.json()]
        )
        refs = [pane.listing.executions[r.execution_id].action_ref for r in pane.visible_rows]
        assert refs == sorted(refs)
        await pilot.press("S")
        reverse = api.get("/executions", parent="null", limit=50, sort="-action", include_attributes="id")
        await wait_for(
            pilot, lambda: [r.execution_id for r in pane.visible_rows] == [d["id"] for d in reverse.json()]
        )
        assert pane.sort == ("action", True)
        # A click on a column header sorts by that column.
        user_column = next(p for p in pane.table._layout if p.column.key == "user")
        await pilot.click(pane.table, offset=(user_column.x + 1, 0))
        await wait_for(pilot, lambda: pane.sort == ("user", False))


async def test_a_workflow_unfolds_three_levels_deep(fresh_server, make_app, rest):
    api = rest(fresh_server)
    started = api.run("examples.nested-failure")
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await api.finished(started["id"])
        pane = _pane(app)
        await wait_for(
            pilot, lambda: pane.visible_rows and pane.visible_rows[0].execution_id == started["id"]
        )
        await wait_for(pilot, lambda: pane.listing.executions[started["id"]].is_terminal)
        for depth in range(3):
            row = next(
                r
                for r in pane.visible_rows
                if r.depth == depth and pane.listing.executions[r.execution_id].is_workflow
            )
            pane.table.move_to(row.key)
            await pilot.press("right")
            await wait_for(
                pilot,
                lambda d=depth: any(r.depth == d + 1 for r in pane.visible_rows),
                what=f"level {depth + 1}",
            )
        deepest = [r for r in pane.visible_rows if r.depth == 3]
        children = api.get(f"/executions/{started['id']}/children", depth=-1).json()
        by_id = {doc["id"]: doc for doc in children}
        assert deepest and all(row.execution_id in by_id for row in deepest)
        # Each row sits under its parent, drawn with tree guides.
        for row in (r for r in pane.visible_rows if r.depth):
            parent_id = row.parent_key.rsplit("/", 1)[-1]
            assert by_id[row.execution_id]["parent"] == parent_id
            assert row.guides.endswith(("├─", "└─"))
        # Left goes to the parent row, then folds it up.
        pane.table.move_to(deepest[0].key)
        await pilot.press("left")
        assert pane.selected_row.key == deepest[0].parent_key
        await pilot.press("left")
        assert not any(r.depth == 3 for r in pane.visible_rows)


async def test_a_new_execution_started_elsewhere_appears_live(fresh_server, make_app, rest):
    api = rest(fresh_server)
    # Polling every minute: only the stream can bring the new row in time.
    app = make_app(fresh_server, refresh_interval=60.0)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        total = pane.total
        created = api.run("core.local", cmd="echo from-outside")
        # Polling is a minute away: the row can only come from the stream. How fast it comes (a few
        # milliseconds) is measured by benchmarks/main_screen.py, not asserted here.
        await wait_for(
            pilot, lambda: created["id"] in pane.listing.executions, timeout=5.0, what="the new row"
        )
        assert pane.visible_rows[0].execution_id == created["id"]
        assert pane.total == total + 1
        await wait_for(pilot, lambda: pane.listing.executions[created["id"]].status == "succeeded")
        assert "1-51 of" in _summary(pane)


async def test_marked_executions_are_canceled_after_one_confirmation(fresh_server, make_app, rest):
    api = rest(fresh_server)
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        slow = [api.run("core.local", cmd="sleep 30") for _ in range(2)]
        ids = {doc["id"] for doc in slow}
        await wait_for(
            pilot,
            lambda: all(
                pane.listing.executions.get(i) and pane.listing.executions[i].status == "running" for i in ids
            ),
        )
        for execution_id in ids:
            pane.table.move_to(execution_id)
            await pilot.press("space")
        assert set(pane.listing.marked) == ids
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        for execution_id in ids:
            assert (await api.finished(execution_id))["status"] == "canceled"
        await wait_for(pilot, lambda: all(pane.listing.executions[i].status == "canceled" for i in ids))
        assert not pane.listing.marked


async def test_rerun_starts_the_selected_execution_again(fresh_server, make_app, rest):
    api = rest(fresh_server)
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        original = pane.selected_execution
        before = _total(api.get("/executions", action=original.action_ref, parent="null", limit=1))
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        assert _total(api.get("/executions", action=original.action_ref, parent="null", limit=1)) == before
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: (
                _total(api.get("/executions", action=original.action_ref, parent="null", limit=1))
                == before + 1
            ),
        )
        await wait_for(
            pilot, lambda: pane.visible_rows[0].execution_id != original.id, what="the re-run on top"
        )
        rerun = pane.listing.executions[pane.visible_rows[0].execution_id]
        assert rerun.action_ref == original.action_ref
        # The notification says which execution was re-run, and as which.
        said = f"Re-ran 1 execution: {original.short_id} as {rerun.short_id}."
        await wait_for(pilot, lambda: any(n.message == said for n in app._notifications), what=said)


async def test_enter_asks_for_the_execution_screen(st2_server, make_app):
    app = make_app(st2_server)
    messages = []
    async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        await pilot.press("down", "enter")
        await pilot.pause()
        # The hook sees the message at each level it bubbles through: count distinct messages.
        opened = {id(m): m.execution_id for m in messages if isinstance(m, ExecutionOpenRequested)}
        assert list(opened.values()) == [pane.visible_rows[1].execution_id]


async def test_show_all_includes_child_executions(st2_server, make_app, rest):
    app = make_app(st2_server)
    api = rest(st2_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        await pilot.press("a")
        everything = _total(api.get("/executions", limit=1))
        await wait_for(pilot, lambda: pane.total == everything)
        assert any(pane.listing.executions[r.execution_id].parent_id for r in pane.visible_rows)
        assert "all executions" in _summary(pane)


async def test_without_the_stream_the_pane_polls_and_says_so(fresh_server, make_app, rest):
    api = rest(fresh_server)
    app = make_app(fresh_server, refresh_interval=0.3)
    # A stream endpoint that refuses connections; the REST API works.
    app.client = St2Client(
        api_url=fresh_server.api_url,
        auth_url=fresh_server.auth_url,
        stream_url="http://127.0.0.1:1/stream/v1",
        username=fresh_server.username,
        password=fresh_server.password,
    )
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        header = app.screen.query_one(StatusHeader)
        await wait_for(pilot, lambda: pane.table.row_count > 0, what="executions over REST")
        await wait_for(pilot, lambda: header.stream_state == "polling", what="the polling state")
        created = api.run("core.local", cmd="echo polled")
        await wait_for(pilot, lambda: created["id"] in pane.listing.executions, what="the polled row")
        await wait_for(pilot, lambda: pane.listing.executions[created["id"]].status == "succeeded")
        assert "polling" in str(header.render())


async def test_the_activity_strip_counts_the_last_hour(snapshot_server, make_app, rest, frozen_clock):
    api = rest(snapshot_server)
    app = make_app(snapshot_server)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = _pane(app)
        await _loaded(pilot, pane)
        since = (frozen_clock - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        expected = {
            status: _total(api.get("/executions", parent="null", status=status, timestamp_gt=since, limit=1))
            for status in ("succeeded", "failed")
        }
        await wait_for(pilot, lambda: sum(pane.activity.counts()[0]) == expected["succeeded"])
        assert sum(pane.activity.counts()[1]) == expected["failed"]


def test_a_burst_of_updates_merges_into_one_message():
    def execution(execution_id: str, status: str) -> Execution:
        return Execution.from_dict({"id": execution_id, "status": status})

    first = ExecutionsUpdated({"a": execution("a", "running"), "b": execution("b", "running")})
    second = ExecutionsUpdated({"a": execution("a", "succeeded")}, {"b"})
    third = ExecutionsUpdated({"c": execution("c", "requested")})
    assert first.can_replace(second) and second.can_replace(third)
    assert {key: e.status for key, e in third.changed.items()} == {"a": "succeeded", "c": "requested"}
    assert third.deleted == {"b"}


def test_a_refresh_keeps_rows_the_stream_brought_while_it_was_under_way():
    def execution(execution_id: str, minute: int) -> Execution:
        started = f"2026-03-02T10:{minute:02d}:00Z"
        return Execution.from_dict({"id": execution_id, "status": "succeeded", "start_timestamp": started})

    listing = ExecutionTree()
    listing.reset([execution("b", 2), execution("a", 1)])
    assert listing.insert_top(execution("c", 3), complete=True)  # from the stream
    # The re-read was answered before "c" existed: "c" stays on top and counts on top of the total.
    assert listing.refresh_head([execution("b", 2), execution("a", 1)], newest_first=True) == 1
    assert listing.top == ["c", "b", "a"]
