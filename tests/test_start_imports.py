"""What `st2tui` loads before its first frame stays small: screens, panes and libraries the first frame
(the executions list) does not show are imported after it or when first used (a start would otherwise
creep back up).
`--help` and `--version` answer without loading the UI at all. Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

# Not needed for the first frame (the executions list): loaded after it, or when first shown or used.
NOT_BEFORE_FIRST_FRAME = [
    "st2tui.demo",
    "st2tui.screens.execution",
    "st2tui.screens.run_action",
    "st2tui.screens.key_form",
    "st2tui.screens.inquiry_form",
    "st2tui.screens.sign_in",
    "st2tui.screens.help",
    "st2tui.screens.save",
    "st2tui.widgets.actions",
    "st2tui.widgets.rules",
    "st2tui.widgets.keys",
    "st2tui.widgets.inquiries",
    "st2tui.widgets.tail",
    "st2tui.widgets.output_log",
    "st2tui.widgets.fields",
    "st2tui.widgets.workflow_tree",
    "st2tui.widgets.result_view",
    "yaml",
    "jsonschema",
    "keyring",
    "pygments",
    "click",
]
if sys.platform.startswith("linux"):
    # The start requests run in a forked child there, and the app's own client is made after the first frame.
    NOT_BEFORE_FIRST_FRAME += ["httpx", "httpcore", "anyio", "st2tui.api"]

# The child: `st2tui` as the console script runs it, headless; at its first frame it prints the modules
# loaded so far and quits.
FIRST_FRAME_CHILD = """
import asyncio, json, sys
from st2tui.cli import main

def run(app):
    loaded = []
    display = app._display

    def recording(screen, renderable):
        display(screen, renderable)
        if renderable is not None and not loaded and screen.query("ExecutionsPane"):
            loaded.append(sorted(name for name, module in sys.modules.items() if module is not None))

    app._display = recording

    async def first_frame():
        async with app.run_test(size=(120, 36)):
            while not loaded:
                await asyncio.sleep(0.01)

    asyncio.run(first_frame())
    print("MODULES " + json.dumps(loaded[0]))

sys.exit(main([], run=run))
"""


def _loaded(output: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith("MODULES "))
    return json.loads(line.removeprefix("MODULES "))


def _under(loaded: list[str], packages: list[str]) -> list[str]:
    return sorted(
        name for name in loaded for package in packages if name == package or name.startswith(package + ".")
    )


def test_the_first_frame_loads_only_what_it_shows(st2_server, tmp_path):
    token = httpx.post(
        f"{st2_server.auth_url}/tokens", auth=(st2_server.username, st2_server.password), json={}
    ).json()["token"]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ST2_", "ST2TUI_"))}
    env.update(
        HOME=str(tmp_path),
        ST2TUI_CONFIG_DIR=str(tmp_path / "config"),
        ST2_AUTH_URL=st2_server.auth_url,
        ST2_API_URL=st2_server.api_url,
        ST2_STREAM_URL=st2_server.stream_url,
        ST2_AUTH_TOKEN=token,
    )
    result = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_CHILD], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = _loaded(result.stdout)
    assert "st2tui.widgets.executions" in loaded
    assert _under(loaded, NOT_BEFORE_FIRST_FRAME) == []


def _loaded_after(argv: list[str]) -> tuple[str, list[str]]:
    code = (
        "import json, sys\nfrom st2tui.cli import main\ntry:\n"
        f"    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('MODULES ' + json.dumps(sorted(name for name, module in sys.modules.items() if module is not None)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return result.stdout, _loaded(result.stdout)


def test_help_and_version_answer_without_loading_the_ui():
    for argv, expected in ((["--help"], "--demo"), (["--version"], "st2tui ")):
        output, loaded = _loaded_after(argv)
        assert expected in output
        assert _under(loaded, ["textual", "httpx", "st2tui.app", "st2tui.api"]) == []
