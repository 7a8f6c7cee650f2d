"""What route modules and services may ask of the demo server they run in.

`server.py` composes the server from the route modules and services; they depend on this protocol,
never on `server.py`, so the demo's imports run one way (server -> routes/services -> state -> db, bus).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from .bus import EventBus
from .content import Content
from .db import Database


class DemoState(Protocol):
    """The state and services of one demo server, as `DemoServer` holds them."""

    db: Database
    bus: EventBus
    users: dict[str, str]
    roles: dict[str, list[str]] | None  # None: RBAC off, every user is an admin
    token_ttl: int
    seed: bool
    history: int
    seed_now: datetime | None
    seed_random: int | None
    timers: bool
    allow_origins: list[str]
    stream_heartbeat: float
    password_path: Path | None
    # Set by the content registry when it starts.
    content: Content
    # The execution engine (`engine.Engine`); typed loosely here because the engine itself takes this
    # state. Modules that call it import `Engine` from `engine` and annotate with that.
    engine: Any

    def allowed_hosts(self) -> set[str]: ...

    def public_api_url(self) -> str: ...
