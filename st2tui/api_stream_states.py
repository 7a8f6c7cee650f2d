"""What a stream says about itself between its events: connected, dropped (and when it retries),
back again. Apart from `api_streams` so that screens can import them before httpx is loaded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamConnected:
    """Yielded each time a stream (re)opens: the server accepted it and events will follow."""


@dataclass(frozen=True)
class StreamReconnected:
    """Yielded after a stream came back: st2 replays nothing, so resync state over REST."""

    attempts: int
    downtime: float


@dataclass(frozen=True)
class StreamDisconnected:
    """Yielded when a stream dropped; the client retries after ``retry_in`` seconds."""

    reason: str
    attempt: int
    retry_in: float
