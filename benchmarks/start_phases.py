"""Where a cold start's time goes, phase by phase: `python -m benchmarks.start_phases [--runs N] [--server-url URL]`.

Starts st2tui as scenario 1 does (fresh interpreter, `cli.main`, `ST2_*` variables, headless) with its
functions wrapped to note when each phase ends, and prints the median and minimum of each over the runs
(milliseconds from process start, wall clock and CPU of the process). The minimum is the figure of a quiet
moment on a shared machine. Against the seeded demo server unless `--server-url` (user and password as for
`python -m benchmarks --server-url`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.cold_start import child_env, compile_sources
from benchmarks.common import REPO
from benchmarks.context import Context, Options

# The child: wraps the phase ends, then runs `st2tui` headless as scenario 1's child does.
CHILD = r"""
import os, sys, time
T0 = float(os.environ["PHASES_T0"])
marks = []
def mark(what):
    marks.append((what, (time.time() - T0) * 1000, time.process_time() * 1000))
mark("interpreter up")
from benchmarks.first_page_child import run_headless
import st2tui.cli as cli
mark("st2tui.cli imported")
import st2tui.launch as launch
mark("configuration and launcher imported")
import st2tui.prefetch as prefetch
original_init = prefetch.StartRequests.__init__
def init(self, *args, **kwargs):
    mark("start requests sent (child forked or thread started)")
    original_init(self, *args, **kwargs)
prefetch.StartRequests.__init__ = init
# Their answers are in when the thread that waits for them (the child's pipe, or the requests themselves)
# hands them over.
for name in ("_run", "_receive"):
    def handed_over(self, *args, _original=getattr(prefetch.StartRequests, name)):
        _original(self, *args)
        mark("start requests answered (in this process)")
    setattr(prefetch.StartRequests, name, handed_over)

def runner(app):
    mark("UI imported, app built")
    import st2tui.screens.main as main_screen
    original_mount = main_screen.MainScreen.on_mount
    def on_mount(self):
        mark("main screen composed")
        original_mount(self)
    main_screen.MainScreen.on_mount = on_mount
    display = app._display
    def recording(screen, renderable):
        display(screen, renderable)
        if renderable is not None and len([m for m in marks if m[0] == "first frame with rows"]) == 0:
            panes = screen.query("ExecutionsPane")
            if panes and panes.first().table.row_count >= 50:
                mark("first frame with rows")
    app._display = recording
    run_headless(app)
    import json
    print("PHASES " + json.dumps(marks), file=sys.stderr, flush=True)

sys.exit(cli.main([], run=runner))
"""


def one_start(server: dict, token: str) -> list[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory(prefix="st2tui-phases-home-") as home:
        env = {**child_env(server, token, home), "PHASES_T0": repr(time.time())}
        result = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, cwd=REPO, env=env, timeout=120
        )
    line = next((line for line in result.stderr.splitlines() if line.startswith("PHASES ")), None)
    if line is None:
        raise RuntimeError(f"the start failed: {result.stderr[-2000:]}")
    return json.loads(line.removeprefix("PHASES "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.start_phases", description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--server-url", metavar="URL")
    args = parser.parse_args(argv)
    ctx = Context(Options(server_url=args.server_url))
    try:
        server, token = ctx.first_page_server()
        compile_sources()
        runs = [one_start(server, token) for _ in range(args.runs)]
    finally:
        ctx.close()
    print(f"{args.runs} starts against {args.server_url or 'the seeded demo server'}; load {os.getloadavg()}")
    print(f"{'phase ends':45} {'wall median':>11} {'wall min':>9} {'cpu median':>11} {'cpu min':>8}")
    # By name, in the order of their median: the start requests' answer comes in before or after the UI.
    phases: dict[str, list[tuple[float, float]]] = {}
    for run in runs:
        for what, wall, cpu in run:
            phases.setdefault(what, []).append((wall, cpu))
    for what, marks in sorted(phases.items(), key=lambda item: statistics.median(m[0] for m in item[1])):
        walls = [wall for wall, _ in marks]
        cpus = [cpu for _, cpu in marks]
        print(
            f"{what:45} {statistics.median(walls):11.0f} {min(walls):9.0f} "
            f"{statistics.median(cpus):11.0f} {min(cpus):8.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
