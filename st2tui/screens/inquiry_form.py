"""The inquiry response form: fields generated from the inquiry's JSON schema, under what the question
is about: the workflow that waits (its input, its tasks so far) and who may answer until when."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Label, Static

from st2tui import formatting
from st2tui.api import BadRequest, St2Error
from st2tui.forms import build_payload, field_for_server_error, ordered_fields
from st2tui.messages import ApiFailed, InquiryAnswered, InquiryContextLoaded
from st2tui.models import Execution, Inquiry
from st2tui.screens.form import FormScreen
from st2tui.widgets.fields import FormScroll, field_for

CONTEXT_FIELDS = ["id", "status", "parent", "context", "action", "start_timestamp", "parameters", "runner"]
# The workflow's input is shown on one line, cut at this length.
INPUT_LENGTH = 200
MAX_TASKS = 30


class InquiryFormScreen(FormScreen[dict | None]):
    """Answers an inquiry; dismisses with the response the server accepted, or None."""

    BINDING_GROUP_TITLE = "Inquiry form"

    def __init__(self, inquiry: Inquiry) -> None:
        super().__init__()
        self.inquiry = inquiry
        self.specs = ordered_fields(inquiry.fields.values())

    def compose(self) -> ComposeResult:
        with Vertical(id="inquiry-form", classes="dialog form-dialog"):
            yield Label(f"Answer inquiry {self.inquiry.id[-8:]}", classes="dialog-title")
            yield Static(Text("Loading what the question is about…", style="dim"), id="inquiry-context")
            yield Static(classes="form-banner")
            with FormScroll(id="inquiry-fields", classes="form-fields"):
                description = self.inquiry.schema.get("description") or self.inquiry.schema.get("title")
                if isinstance(description, str) and description:
                    yield Static(Text(description, style="italic"), classes="form-summary")
                for spec in self.specs:
                    yield field_for(spec, spec.default if spec.has_default else None)
                if not self.specs:
                    yield Static(
                        "The schema asks for no fields: responding just continues.", classes="form-summary"
                    )
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Respond (ctrl+s)",
                    variant="primary",
                    compact=True,
                    classes="form-submit",
                    id="inquiry-respond",
                )
                yield Button("Cancel (esc)", compact=True, classes="form-cancel", id="inquiry-cancel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#inquiry-context").border_title = "Question"
        self.query_one("#inquiry-fields").border_title = "Response"
        self.show_banner(None)
        fields = self.fields
        if fields:
            fields[0].focus_editor()
        else:
            self.query_one("#inquiry-respond", Button).focus()
        self.load_context()

    # -- context ------------------------------------------------------------------------------------

    @work(exclusive=True, group="inquiry-form-context", description="Loading the question")
    async def load_context(self) -> None:
        executions = self.app.client.executions
        try:
            ask = await executions.get(self.inquiry.id, include_attributes=CONTEXT_FIELDS)
            workflow, tasks = None, []
            if ask.parent_id:
                workflow = await executions.get(ask.parent_id, include_attributes=CONTEXT_FIELDS)
                page = await executions.list(
                    parent=workflow.id, include_attributes=CONTEXT_FIELDS, limit=MAX_TASKS, sort_asc=True
                )
                tasks = sorted(page.items, key=lambda task: task.start_timestamp or formatting.now())
        except St2Error as exc:
            self.post_message(ApiFailed("Loading what the inquiry is about", exc))
            return
        self.post_message(InquiryContextLoaded(ask, workflow, tasks))

    @on(InquiryContextLoaded)
    def _context_loaded(self, event: InquiryContextLoaded) -> None:
        event.stop()
        self.query_one("#inquiry-context", Static).update(
            self._context_text(event.ask, event.workflow, event.tasks)
        )

    def _context_text(
        self, ask: Execution | None, workflow: Execution | None, tasks: list[Execution]
    ) -> Text:
        inquiry = self.inquiry
        text = Text()
        if workflow is not None:
            text.append("Workflow  ", style="dim")
            text.append(workflow.action_ref, style="bold")
            text.append(f"  {workflow.id}  ", style="dim")
            text.append_text(formatting.status_text(workflow.status))
            if workflow.user:
                text.append(f"  started by {workflow.user}", style="dim")
            utc = self.app.settings.timezone.lower() == "utc"
            started = formatting.short_timestamp(workflow.start_timestamp, utc=utc)
            if started:
                text.append(f" at {started}", style="dim")
            shown = json.dumps(workflow.parameters, ensure_ascii=False) if workflow.parameters else "(none)"
            if len(shown) > INPUT_LENGTH:
                shown = shown[: INPUT_LENGTH - 1] + "…"
            text.append("\nInput     ", style="dim")
            text.append(shown)
            if tasks:
                text.append("\nTasks     ", style="dim")
                for index, task in enumerate(tasks):
                    if index:
                        text.append("  ")
                    text.append_text(formatting.status_symbol(task.status))
                    text.append(f" {task.task_name or task.action_ref}")
                    if task.id == inquiry.id:
                        text.append(" ← asks", style="bold magenta")
        else:
            text.append("Standalone inquiry", style="bold")
            if ask is not None and ask.user:
                text.append(f", raised by {ask.user}", style="dim")
        who = ", ".join([*inquiry.users, *(f"@{role}" for role in inquiry.roles)]) or "anyone"
        text.append("\nAnswer    ", style="dim")
        text.append(f"who: {who}")
        if inquiry.ttl:
            text.append(
                f" · times out {formatting.duration(timedelta(minutes=inquiry.ttl))} after it was asked"
            )
        if inquiry.route:
            text.append(f" · route {inquiry.route}")
        return text

    # -- responding -----------------------------------------------------------------------------------

    def submit(self) -> None:
        values = self.check_fields()
        if values is None:
            return
        response = build_payload(self.specs, values, omit_defaults=False)
        self.set_busy(True, "Sending the response…")
        self.respond(response)

    @work(exclusive=True, group="inquiry-form-respond", description="Answering an inquiry")
    async def respond(self, response: dict[str, Any]) -> None:
        try:
            answer = await self.app.client.inquiries.respond(self.inquiry.id, response)
        except St2Error as exc:
            self.post_message(ApiFailed("Answering the inquiry", exc))
            return
        self.post_message(InquiryAnswered(answer.id or self.inquiry.id, answer.response or response))

    @on(InquiryAnswered)
    def _answered(self, event: InquiryAnswered) -> None:
        event.stop()
        self.dismiss(event.response)

    @on(ApiFailed)
    def _failed(self, event: ApiFailed) -> None:
        event.stop()
        self.set_busy(False)
        error = event.error
        if isinstance(error, BadRequest):
            name = field_for_server_error(error.faultstring, [spec.name for spec in self.specs], [])
            field = self.field(name) if name else None
            if field is not None:
                field.show_message(f"The server refused this: {error.faultstring}")
                field.focus_editor()
            self.show_banner(f"Not answered: the server said “{error.faultstring}”. Your answer is kept.")
            return
        reason = error.faultstring if isinstance(error, St2Error) else str(error)
        self.show_banner(f"{event.what} failed: {reason}")
