"""Where the demo database lives: shared by `st2tui --demo` (launch) and `st2tui demo-server` (cli)."""

from __future__ import annotations

import os
from pathlib import Path


def default_demo_db() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("st2tui")) / "demo.sqlite"


def demo_db(path: str | None) -> Path:
    """The demo database `--db` names, else the default one in st2tui's data directory, made 0700
    (the database holds secrets and its password file sits beside it). A directory given with
    `--db` is the user's own: it is made 0700 only when it does not exist yet."""
    if path:
        return Path(path)
    db = default_demo_db()
    db.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(db.parent, 0o700)
    return db
