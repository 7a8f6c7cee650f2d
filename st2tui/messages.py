"""Messages that carry API results and stream events from workers to widgets (past-tense events)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from st2tui.models import Execution, Page, WhoAmI


@dataclass
class SignedIn(Message):
    """The session is authenticated; `whoami` says who and how."""

    whoami: WhoAmI
    server: str
    version: str


@dataclass
class ExecutionsLoaded(Message):
    """A page of executions arrived for the executions pane."""

    page: Page[Execution]


@dataclass
class ExecutionUpdated(Message):
    """An execution was created or changed (from the stream or a poll)."""

    execution: Execution

    def can_replace(self, message: Message) -> bool:
        # A burst of updates for one execution collapses into its newest state.
        return isinstance(message, ExecutionUpdated) and message.execution.id == self.execution.id


@dataclass
class StreamStateChanged(Message):
    """The event stream is `connecting`, `live`, `reconnecting` or `polling` (fallback)."""

    state: str
    detail: str = ""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StreamStateChanged)


@dataclass
class ApiFailed(Message):
    """An API call made on the user's behalf failed; `what` says what was being done."""

    what: str
    error: Exception
