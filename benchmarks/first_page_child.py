"""The child process of scenario 1: `st2tui` started as an operator starts it (the same `cli.main`, the
server and token from `ST2_*` variables, as the st2 CLI beside it gets them), run headless. It prints
READY the moment a frame showing the first page's rows is composed.

Kept free of the benchmarks' other modules: whatever it imported before `st2tui` would be start-up work
the measurement does not see."""

from __future__ import annotations

import sys

PAGE = 50
READY = "READY"


def run_headless(app) -> None:
    import asyncio

    from st2tui.widgets.executions import ExecutionsPane

    shown = asyncio.Event()
    display = app._display

    def recording(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is None or shown.is_set():
            return
        panes = screen.query(ExecutionsPane)
        if panes and panes.first().table.row_count >= PAGE:
            print(READY, flush=True)
            shown.set()

    app._display = recording

    async def first_page() -> None:
        async with app.run_test(size=(160, 45)):
            await asyncio.wait_for(shown.wait(), 120)

    asyncio.run(first_page())


if __name__ == "__main__":
    from st2tui.cli import main

    sys.exit(main(sys.argv[1:], run=run_headless))
