"""`python -m st2tui`."""

from st2tui.cli import main

raise SystemExit(main())
