"""Issue 16: text from a server never reaches the terminal raw. An execution prints one line per class of
terminal control (and a key holds them); through the app's real rendering (the screen's composed lines, as
Textual would write them) no control character is left and each shows as its visible stand-in
(st2tui.text: ␛ for ESC, <U+009B> for C1, <U+202E> for bidi, U+FFFD for invalid UTF-8)."""

from __future__ import annotations

import base64

import pytest
from execution_support import Api, open_execution
from support.tui import wait_for

from st2tui.text import UNSAFE_RE
from st2tui.widgets.keys import KeysPane

SIZE = (160, 60)
# class: (bytes printed, what the operator sees)
CASES: dict[str, tuple[bytes, str]] = {
    "csi": (b"\x1b[2J\x1b[H", "␛[2J␛[H"),
    "osc-title": (b"\x1b]2;PWNED\x07", "␛]2;PWNED␇"),
    "osc8-link": (
        b"\x1b]8;;http://evil.example/\x1b\\here\x1b]8;;\x1b\\",
        "␛]8;;http://evil.example/␛\\here",
    ),
    "osc52-clipboard": (b"\x1b]52;c;aGk=\x07", "␛]52;c;aGk=␇"),
    "dcs": (b"\x1bP+q544e\x1b\\", "␛P+q544e␛\\"),
    "c1": ("\x9b31mX\x9d0;T\x9c".encode(), "<U+009B>31mX<U+009D>0;T<U+009C>"),
    "c0": (b"\x07\x08\x0b\x0c\x7f", "␇␈␋␌␡"),
    "bidi": ("\u202eabc\u2066d\u2069".encode(), "<U+202E>abc<U+2066>d<U+2069>"),
    "utf8": (b"\xff\xfeok", "\ufffd\ufffdok"),
    "tab": (b"a\tb", "a"),
}


def _cmd() -> str:
    payload = b"".join(f"{name}:".encode() + raw + b"\n" for name, (raw, _) in CASES.items())
    encoded = base64.b64encode(payload).decode()
    return f"python3 -c \"import sys,base64; sys.stdout.buffer.write(base64.b64decode('{encoded}'))\""


def drawn_lines(app) -> list[str]:
    """The screen as composed for the terminal: each line's text segments (cursor moves left out)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines = []
    for line in update.strips:
        lines.append("".join(segment.text for strip in line for segment in strip if not segment.control))
    return lines


def _assert_shown_safely(lines: list[str], names: list[str]) -> None:
    raw = [line for line in lines if UNSAFE_RE.search(line)]
    assert not raw, f"control characters reached the terminal: {raw!r}"
    text = "\n".join(lines)
    for name in names:
        shown = CASES[name][1]
        assert f"{name}:{shown}" in text, f"{name}: {shown!r} not on screen:\n{text}"


@pytest.fixture
def hostile_execution(st2_server, api):
    rest: Api = api(st2_server)
    return rest, rest.run("core.local", cmd=_cmd())


NAMES = [name for name in CASES if name != "tab"]


async def test_output_tab_shows_every_control_visibly(st2_server, make_app, hostile_execution):
    rest, execution = hostile_execution
    await rest.finished(execution["id"])
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_execution(pilot, execution["id"])
        await wait_for(pilot, lambda: screen.output.log_view.line_count >= len(CASES), what="the output")
        await pilot.pause()
        lines = drawn_lines(app)
        _assert_shown_safely(lines, NAMES)
        # The tab is kept: expanded to the next stop, as a terminal shows it.
        assert any("tab:a   b" in line for line in lines), [line for line in lines if "tab:" in line]


async def test_result_tab_shows_every_control_visibly(st2_server, make_app, hostile_execution):
    rest, execution = hostile_execution
    await rest.finished(execution["id"])
    app = make_app(st2_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_execution(pilot, execution["id"])
        await pilot.press("2")
        assert screen.tabs.active == "tab-result"
        await wait_for(pilot, lambda: any("osc-title:" in line for line in drawn_lines(app)), what="stdout")
        lines = drawn_lines(app)
        _assert_shown_safely(lines, NAMES)
        # Newlines kept: one printed line, one line on screen.
        assert sum(1 for line in lines if any(f"{name}:" in line for name in CASES)) == len(CASES)
        assert any("tab:a" in line and "b" in line.split("tab:a", 1)[1] for line in lines)


async def test_key_names_and_values_in_the_table_show_every_control_visibly(fresh_server, make_app, api):
    rest: Api = api(fresh_server)
    value = "".join(f"{name}:{raw.decode('utf-8', 'replace')} " for name, (raw, _) in CASES.items())
    response = rest.client.put("/api/v1/keys/hostile", json={"name": "hostile", "value": value})
    assert response.status_code == 200, response.text
    app = make_app(fresh_server)
    async with app.run_test(size=(400, 40)) as pilot:
        await pilot.press("4")
        pane = app.screen.query_one(KeysPane)
        await wait_for(
            pilot, lambda: any(key.name == "hostile" for key in pane.keys.values()), what="the key"
        )
        await pilot.pause()
        lines = drawn_lines(app)
        _assert_shown_safely(lines, NAMES)
