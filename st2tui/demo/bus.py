"""In-process event bus: what RabbitMQ is to real st2, feeding `/stream/v1/*`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

# A subscriber that falls this far behind is dropped rather than letting memory grow without bound;
# its stream ends and the client reconnects and resyncs over REST, as it must with real st2.
MAX_BACKLOG = 200_000


@dataclass(eq=False)  # kept in a set: hashed by identity
class Subscription:
    queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = field(
        default_factory=lambda: asyncio.Queue(MAX_BACKLOG)
    )
    overflowed: bool = False


class EventBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def subscribe(self) -> Subscription:
        sub = Subscription()
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def publish(self, event: str, payload: dict[str, Any]) -> None:
        """Deliver `event` (e.g. `st2.execution__update`) to every subscriber; never blocks."""
        for sub in list(self._subscribers):
            try:
                sub.queue.put_nowait((event, payload))
            except asyncio.QueueFull:
                sub.overflowed = True
                self._subscribers.discard(sub)

    def close(self) -> None:
        """Wake every subscriber with an end marker (server shutdown)."""
        for sub in list(self._subscribers):
            try:
                sub.queue.put_nowait(None)
            except asyncio.QueueFull:
                sub.overflowed = True
        self._subscribers.clear()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
