"""Messages that carry API results and stream events from workers to widgets (past-tense events),
and the requests panes make of other screens (run an action, open an execution)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from textual.message import Message

from st2tui.models import (
    Action,
    Execution,
    Inquiry,
    KeyValuePair,
    OutputChunk,
    Page,
    ParameterSpec,
    Rule,
    RuleEnforcement,
    WhoAmI,
)

# -- session and stream ------------------------------------------------------------------------------


@dataclass
class SignedIn(Message):
    """The session is authenticated; `whoami` says who and how. `first_page`: the executions list's first
    page, asked for with these parameters before the UI was built (st2tui.prefetch)."""

    whoami: WhoAmI
    server: str
    version: str
    first_page: tuple[dict[str, Any], Page[Execution]] | None = None


@dataclass
class StreamStateChanged(Message):
    """The event stream is `connecting`, `live`, `reconnecting`, `polling` (fallback) or `offline`."""

    state: str
    detail: str = ""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StreamStateChanged)


@dataclass
class ApiFailed(Message):
    """An API call made on the user's behalf failed; `what` says what was being done."""

    what: str
    error: Exception


# -- executions ----------------------------------------------------------------------------------------


@dataclass
class ExecutionsLoaded(Message):
    """A page of executions arrived for the executions pane (`generation` ties it to the query asked).

    `mode`: `replace` (a new query), `append` (the next page) or `refresh` (a re-read of the first rows).
    """

    page: Page[Execution]
    generation: int
    mode: Literal["replace", "append", "refresh"] = "replace"


@dataclass
class ExecutionChildrenLoaded(Message):
    """The direct children of a workflow execution arrived (oldest first); None when loading failed."""

    parent_id: str
    children: list[Execution] | None


@dataclass
class ExecutionsUpdated(Message):
    """Executions were created, changed or deleted (stream or poll): the newest state per id.

    A burst of these (the stream delivers hundreds per second under load) merges into the last one
    queued, so the pane applies the whole burst at once and redraws once.
    """

    changed: dict[str, Execution]
    deleted: set[str] = field(default_factory=set)

    def can_replace(self, message: Message) -> bool:
        # Textual asks the older queued message whether `message` (the newer one) supersedes it.
        if not isinstance(message, ExecutionsUpdated):
            return False
        changed = {**self.changed, **message.changed}
        for gone in message.deleted - message.changed.keys():
            changed.pop(gone, None)
        message.deleted = (self.deleted - message.changed.keys()) | message.deleted
        message.changed = changed
        return True


@dataclass
class ActivityLoaded(Message):
    """The top-level executions started in the last hour (for the activity strip)."""

    executions: list[Execution]


@dataclass
class ExecutionsCanceled(Message):
    """Cancel requests were answered: `canceled` ids, and `failed` as id -> error."""

    canceled: list[str]
    failed: dict[str, Exception]


@dataclass
class ExecutionsRerun(Message):
    """Re-runs were started: the new executions, and `failed` as original id -> error."""

    started: list[Execution]
    failed: dict[str, Exception]


# -- actions, rules, keys, inquiries ------------------------------------------------------------------


@dataclass
class ActionsLoaded(Message):
    actions: list[Action]


@dataclass
class ActionDetailLoaded(Message):
    """Merged runner + action parameters and the latest executions of one action."""

    action: Action
    parameters: dict[str, ParameterSpec]
    recent: Page[Execution]


@dataclass
class RulesLoaded(Message):
    rules: list[Rule]


@dataclass
class RuleDetailLoaded(Message):
    """A rule with its latest enforcements."""

    rule: Rule
    enforcements: Page[RuleEnforcement]


@dataclass
class RuleToggled(Message):
    """The server enabled or disabled a rule; `rule` is its new state."""

    rule: Rule


@dataclass
class KeysLoaded(Message):
    keys: list[KeyValuePair]
    generation: int


@dataclass
class KeyRevealed(Message):
    """A secret key, read again with `decrypt`: its value is plain text."""

    key: KeyValuePair


@dataclass
class KeyDeleted(Message):
    key: KeyValuePair


@dataclass(frozen=True)
class PendingInquiry:
    """An inquiry with the `core.ask` execution that raised it and the workflow that waits on it."""

    inquiry: Inquiry
    execution: Execution | None
    workflow: Execution | None


@dataclass
class InquiriesLoaded(Message):
    inquiries: list[PendingInquiry]


# -- requests to other screens (their screens handle these; the app answers until they exist) ------


@dataclass
class ExecutionOpenRequested(Message):
    """Show one execution in detail (output, tree, result)."""

    execution_id: str


@dataclass
class RunActionRequested(Message):
    """Open the run form for an action; a re-run passes the execution's `parameters` (secrets come
    masked) and its id as `rerun_of`."""

    action_ref: str
    parameters: dict | None = None
    rerun_of: str | None = None


@dataclass
class KeyEditRequested(Message):
    """Open the key form: `key` to edit, or None for a new key."""

    key: KeyValuePair | None


@dataclass
class ConfirmationRequested(Message):
    """A pane asks before a change: its screen opens the confirmation dialog and calls `answered` with
    True only on an explicit yes (widgets never open screens themselves)."""

    title: str
    body: str
    confirm_label: str
    answered: Callable[[bool | None], None]


@dataclass
class InquiryResponseRequested(Message):
    """Open the response form of a pending inquiry."""

    inquiry: Inquiry


# -- the execution screen --------------------------------------------------------------------------------


@dataclass
class ExecutionLoaded(Message):
    """An execution was read over REST (without its result when that is larger than the screen shows)."""

    execution: Execution


@dataclass
class ExecutionDescendantsLoaded(Message):
    """Every execution below a workflow (children, their children, ...), read over REST."""

    root_id: str
    descendants: list[Execution]


@dataclass
class ParameterSpecsLoaded(Message):
    """The parameters an action declares (runner's and action's), for secrets and defaults."""

    action_ref: str
    specs: dict[str, ParameterSpec]


@dataclass
class OutputReceived(Message):
    """Output chunks arrived for the output view opened as `generation`.

    A flood would cost one message per chunk, so the worker keeps appending to `chunks` until the screen
    takes the batch and sets `taken`; the next chunk then starts a new message. A full batch makes the
    worker wait for `taken`, so a screen that falls behind holds back the stream instead of memory.
    """

    generation: int
    chunks: list[OutputChunk]
    taken: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class OutputStateChanged(Message):
    """The output stream of `generation` is `connecting`, `live`, `reconnecting`, `ended` or `failed`."""

    generation: int
    state: str
    detail: str = ""


@dataclass
class ExecutionControlled(Message):
    """The server accepted a cancel, pause or resume (`verb`); `execution` is its answer."""

    verb: str
    execution: Execution


@dataclass
class TasksRerunStarted(Message):
    """A workflow was started again from some of its tasks."""

    workflow_id: str
    tasks: list[str]
    execution: Execution


@dataclass
class FullResultLoaded(Message):
    """The whole result of an execution (however large), parsed."""

    execution_id: str
    result: Any


@dataclass
class FileSaved(Message):
    """`what` (output, result) was written to `path` (`size` bytes)."""

    what: str
    path: str
    size: int


# -- forms: run an action, edit a key, answer an inquiry ---------------------------------------------


@dataclass
class ActionParametersLoaded(Message):
    """The action a run form is for, with its runner and action parameters merged."""

    action: Action
    parameters: dict[str, ParameterSpec]


@dataclass
class ExecutionSubmitted(Message):
    """The server created the execution a run form sent."""

    execution: Execution


@dataclass
class KeyLoaded(Message):
    """A key as the server has it now (None: it does not exist); `decrypted` when read with decrypt."""

    key: KeyValuePair | None
    decrypted: bool = False


@dataclass
class KeyConflictFound(Message):
    """Before saving: the key changed on the server since the form read it (`changes` say how)."""

    current: KeyValuePair | None
    changes: list[str]


@dataclass
class KeySaved(Message):
    key: KeyValuePair


@dataclass
class InquiryContextLoaded(Message):
    """What an inquiry form shows above the question: the asking execution, its workflow, and the
    workflow's tasks so far (oldest first)."""

    ask: Execution | None
    workflow: Execution | None
    tasks: list[Execution]


@dataclass
class InquiryAnswered(Message):
    inquiry_id: str
    response: dict[str, Any]


@dataclass
class TaskOutputLoaded(Message):
    """The output so far of a running task, for the preview beside the workflow tree."""

    execution_id: str
    text: str


@dataclass
class TailExecutionFinished(Message):
    """The tail pane's output stream of an execution ended (all its output was delivered before this);
    `execution` is its final state, or None when it could not be read (`error` says why)."""

    generation: int
    execution_id: str
    execution: Execution | None
    error: str = ""
