"""Crash safety: an unexpected error in background work is a notification and the app carries on; a
crash of the app itself exits with a report that holds the traceback and no secret."""

from __future__ import annotations

import logging

import pytest
from support.faults import FaultInjector
from support.tui import wait_for

from st2tui.launch import configure_logging
from st2tui.screens.main import MainScreen
from st2tui.widgets.executions import ExecutionsPane


class _Broken(FaultInjector):
    """A transport with a bug of its own: what no handler in st2tui expects."""

    broken = False

    async def handle_async_request(self, request):
        if self.broken and request.url.path == "/api/v1/executions":
            raise RuntimeError("the transport is broken")
        return await super().handle_async_request(request)


async def test_an_unexpected_error_in_a_worker_is_shown_and_the_app_carries_on(st2_server, make_app):
    transport = _Broken()
    app = make_app(st2_server, transport=transport)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.main_screen.query_one(ExecutionsPane)
        await wait_for(pilot, lambda: pane.table.row_count > 0)
        rows = pane.table.row_count

        transport.broken = True
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: any("RuntimeError: the transport is broken" in n.message for n in app._notifications),
            what="the error notification",
        )
        assert app.is_running and app.return_code is None
        assert pane.table.row_count == rows

        transport.broken = False
        await pilot.press("3")
        await wait_for(pilot, lambda: app.main_screen.current_name == "rules")
        await pilot.press("1", "ctrl+r")
        await wait_for(pilot, lambda: pane.table.row_count == rows and not pane.loading)


async def test_a_crash_writes_a_report_without_secrets_and_says_where(
    st2_server, make_app, monkeypatch, tmp_path, capfd
):
    password = st2_server.password

    def crash(self) -> None:
        credentials = {"password": password, "token": self.app.client.token}
        raise RuntimeError(f"handler bug while holding {credentials}")

    monkeypatch.setattr(MainScreen, "action_reload", crash)
    app = make_app(st2_server)
    with pytest.raises(RuntimeError, match="handler bug"):
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.main_screen.signed_in and app.client.token)
            token = app.client.token
            await pilot.press("ctrl+r")
            await pilot.pause(0.5)

    assert app.return_code == 1
    report = app.crash_report
    assert report is not None and report.parent == tmp_path / "crash-reports"
    assert oct(report.stat().st_mode & 0o777) == "0o600"
    text = report.read_text()
    assert "Traceback" in text and "handler bug while holding" in text and "in crash" in text
    assert "screens: MainScreen" in text
    assert password not in text and token not in text
    printed = capfd.readouterr().err
    assert "st2tui crashed: RuntimeError: handler bug" in printed
    assert str(report) in printed.replace("\n", "") and password not in printed


def test_the_log_file_masks_every_known_secret(tmp_path, monkeypatch):
    from st2tui.api import St2Client

    monkeypatch.setattr("st2tui.launch.log_path", lambda: tmp_path / "st2tui.log")
    path = configure_logging(debug=True)
    try:
        St2Client(
            api_url="http://h/api/v1", auth_url="http://h/auth", stream_url="http://h/s", password="pw-9f3k"
        )
        logging.getLogger("st2tui.test").info("sent %s with header X-Auth-Token: abcdef0123", "pw-9f3k")
        try:
            raise ValueError("login with pw-9f3k failed")
        except ValueError:
            logging.getLogger("st2tui.test").exception("failure")
    finally:
        for handler in logging.getLogger("st2tui").handlers[:]:
            handler.close()
            logging.getLogger("st2tui").removeHandler(handler)
    text = path.read_text()
    assert "pw-9f3k" not in text and "abcdef0123" not in text
    assert text.count("********") >= 3
    assert oct(path.stat().st_mode & 0o777) == "0o600"
