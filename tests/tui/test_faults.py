"""Fault injection against the running app: the server down at start, killed and restarted, a network
partition while executions change, 5xx bursts, a 30 s stall, malformed JSON and a stream cut in the
middle of an event. Each time the app keeps running, the screen says what happened, and afterwards
the executions on screen are the ones REST returns."""

from __future__ import annotations

import pytest
from support.faults import FaultInjector, start_server_again, stop_server
from support.tui import wait_for

from st2tui.messages import StreamStateChanged
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.header import StatusHeader


def _pane(app) -> ExecutionsPane:
    return app.main_screen.query_one(ExecutionsPane)


def _header(app) -> StatusHeader:
    return app.main_screen.query_one(StatusHeader)


def _header_text(app) -> str:
    return _header(app).render().plain


def _notified(app, fragment: str) -> bool:
    return any(fragment in notification.message for notification in app._notifications)


def _shown(app) -> list[tuple[str, str]]:
    pane = _pane(app)
    return [
        (row.execution_id, pane.listing.executions[row.execution_id].status)
        for row in pane.visible_rows
        if row.depth == 0
    ]


def _matches_rest(app, api) -> bool:
    """The first page on screen is what the server says now: same executions, same statuses."""
    if not app.main_screen.query(ExecutionsPane) or _header(app).stream_state != "live":
        return False
    expected = api.get("/executions", parent="null", limit=50, include_attributes="id,status").json()
    return _shown(app)[:50] == [(doc["id"], doc["status"]) for doc in expected]


@pytest.fixture
def faulty(fresh_server, make_app, rest):
    """The app, with a fault injector between it and a server of its own, and REST to that server."""
    faults = FaultInjector()
    return faults, make_app(fresh_server, transport=faults), rest(fresh_server)


async def _live_and_loaded(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: _header(app).stream_state == "live" and _pane(app).table.row_count > 0)


async def test_started_while_the_server_is_down_it_says_so_and_recovers_by_itself(
    fresh_server, make_app, rest
):
    await stop_server(fresh_server)
    app = make_app(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: _header(app).stream_state == "offline", what="offline state")
        assert f"cannot reach 127.0.0.1:{fresh_server.port}" in _header_text(app)
        assert _notified(app, f"Cannot reach {fresh_server.base_url}")

        server = await start_server_again(fresh_server)
        try:
            api = rest(server)
            await wait_for(pilot, lambda: _matches_rest(app, api), timeout=20, what="recovery")
            assert _header(app).user == "st2admin"
            assert app.is_running
        finally:
            await stop_server(server)


async def test_a_partition_keeps_the_data_marked_stale_and_misses_no_update(fresh_server, make_app, rest):
    faults = FaultInjector()
    app = make_app(fresh_server, transport=faults, refresh_interval=1.0)
    api = rest(fresh_server)
    async with app.run_test(size=(120, 36)) as pilot:
        await _live_and_loaded(pilot)
        before = _shown(app)

        faults.add("refuse")
        faults.cut_streams()
        await wait_for(pilot, lambda: _header(app).stream_state == "offline", what="offline state")
        assert app.main_screen.has_class("-stale")
        assert "stale, last answer" in _header_text(app)
        assert _shown(app) == before, "what was known stays on screen"

        # The world moves on while the app cannot see it.
        started = [api.run("core.local", cmd=f"echo partition {n}")["id"] for n in range(2)]
        for execution_id in started:
            await rest(fresh_server).finished(execution_id)

        faults.clear()
        await wait_for(pilot, lambda: _matches_rest(app, api), timeout=20, what="resync")
        assert not app.main_screen.has_class("-stale")
        assert {eid for eid, _ in _shown(app)} >= set(started)
        assert [status for eid, status in _shown(app) if eid in started] == ["succeeded", "succeeded"]


async def test_the_server_killed_mid_stream_and_restarted(fresh_server, make_app, rest):
    app = make_app(fresh_server, refresh_interval=1.0)
    async with app.run_test(size=(120, 36)) as pilot:
        await _live_and_loaded(pilot)
        rows = _pane(app).table.row_count

        await stop_server(fresh_server)
        await wait_for(pilot, lambda: _header(app).stream_state in ("reconnecting", "offline"))
        await wait_for(pilot, lambda: _header(app).stream_state == "offline", what="offline state")
        assert _pane(app).table.row_count == rows

        server = await start_server_again(fresh_server)
        try:
            api = rest(server)
            await wait_for(pilot, lambda: _matches_rest(app, api), timeout=20, what="recovery")
            started = api.run("core.local", cmd="echo after the restart")["id"]
            await api.finished(started)
            await wait_for(pilot, lambda: (started, "succeeded") in _shown(app), what="a new execution, live")
            assert _matches_rest(app, api)
        finally:
            await stop_server(server)


async def test_a_burst_of_503s_is_reported_and_survived(faulty):
    faults, app, api = faulty
    async with app.run_test(size=(120, 36)) as pilot:
        await _live_and_loaded(pilot)
        before = _shown(app)
        faults.add("status", "/api/v1/executions", times=3, status=503)
        faults.add("status", "/stream/v1/stream", times=3, status=503)
        faults.cut_streams()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: _notified(app, "Service Unavailable"), what="the 503 reported")
        assert _shown(app) == before, "a failed reload keeps the rows"

        started = api.run("core.local", cmd="echo during the burst")["id"]
        await api.finished(started)
        for _ in range(2):  # the rest of the API burst
            await pilot.press("ctrl+r")
            await pilot.pause(0.3)
        await wait_for(pilot, lambda: _matches_rest(app, api), timeout=20, what="recovery")
        assert (started, "succeeded") in _shown(app)
        assert sum(1 for entry in faults.injected if entry.startswith("status")) == 6


async def test_a_30_second_stall_times_out_without_freezing_the_screen(faulty):
    faults, app, api = faulty
    async with app.run_test(size=(120, 36)) as pilot:
        await _live_and_loaded(pilot)
        faults.add("stall", "/api/v1/executions", times=1, seconds=30.5)
        await pilot.press("ctrl+r")
        await pilot.pause(1.0)
        # Meanwhile the keyboard works: another pane and back.
        await pilot.press("3")
        await wait_for(pilot, lambda: app.main_screen.current_name == "rules")
        await pilot.press("1")
        await wait_for(pilot, lambda: app.main_screen.current_name == "executions")
        await wait_for(pilot, lambda: _notified(app, "within the timeout"), timeout=40, what="the timeout")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: _matches_rest(app, api), what="recovery")


async def test_malformed_json_is_reported_and_the_next_read_recovers(faulty):
    faults, app, api = faulty
    async with app.run_test(size=(120, 36)) as pilot:
        await _live_and_loaded(pilot)
        before = _shown(app)
        faults.add("corrupt", "/api/v1/executions", times=1)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: _notified(app, "invalid JSON"), what="the malformed answer reported")
        assert _shown(app) == before
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: _matches_rest(app, api), what="recovery")


async def test_a_stream_cut_in_the_middle_of_an_event_reconnects(faulty):
    faults, app, api = faulty
    # The states the screen was told after the cut: "reconnecting" may last less than one look at the
    # header on a busy machine, the message that said it does not.
    states_after_cut: list[str] = []
    cut = False

    def record(message) -> None:
        if cut and isinstance(message, StreamStateChanged):
            states_after_cut.append(message.state)

    async with app.run_test(size=(120, 36), message_hook=record) as pilot:
        await _live_and_loaded(pilot)
        cut = True
        assert faults.cut_streams(mid_event=True) >= 1
        await wait_for(pilot, lambda: "reconnecting" in states_after_cut, what="the drop to be told")
        await wait_for(pilot, lambda: "live" in states_after_cut[states_after_cut.index("reconnecting") :])
        await wait_for(pilot, lambda: _header(app).stream_state == "live", what="live again")
        started = api.run("core.local", cmd="echo after the cut")["id"]
        await api.finished(started)
        await wait_for(pilot, lambda: (started, "succeeded") in _shown(app), what="a new execution, live")
        assert _matches_rest(app, api)
