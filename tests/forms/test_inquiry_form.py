"""The inquiry response form against the embedded server: the answer resumes the waiting workflow;
fields of every schema type, refused when wrong, reach the server typed."""

from __future__ import annotations

from conftest import enter, field_message, shown, signed_in, until
from support.rest import pending_inquiry_for, wait_until
from support.rest import wait_for as wait_for_execution
from textual.widgets import Select

from st2tui.messages import InquiryResponseRequested
from st2tui.models import Inquiry
from st2tui.screens.inquiry_form import InquiryFormScreen

SCHEMA = {
    "type": "object",
    "description": "Ship the release?",
    "properties": {
        "approved": {"type": "boolean", "description": "Go ahead?", "required": True},
        "reason": {"type": "string", "minLength": 3, "description": "Why", "required": True},
        "target": {"type": "string", "enum": ["staging", "production"], "required": True},
        "batch": {"type": "integer", "minimum": 1, "maximum": 10, "default": 2},
        "ratio": {"type": "number"},
    },
}


async def test_answering_from_the_inquiries_pane_resumes_the_waiting_workflow(forms_server, make_app, rest):
    workflow = rest.post("/api/v1/executions", json={"action": "examples.orquesta-ask-basic"}).json()
    ask = wait_until(lambda: pending_inquiry_for(rest, workflow["id"]), message="the inquiry")
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        await pilot.press("5")
        pane = app.screen.query_one("#inquiries-pane")
        await until(pilot, lambda: ask["id"] in pane.pending, what="the inquiry in the pane")
        pane.table.move_to(ask["id"])
        pane.table.focus()
        await until(pilot, lambda: pane.selected is not None and pane.selected.inquiry.id == ask["id"])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InquiryFormScreen), what="the response form")
        screen = app.screen
        context = screen.query_one("#inquiry-context")
        await until(
            pilot, lambda: "examples.orquesta-ask-basic" in shown(context), what="the question's context"
        )
        assert workflow["id"] in shown(context)
        assert "start" in shown(context) and "get_approval ← asks" in shown(context)
        assert screen._focused_field().spec.name == "approved"
        await pilot.press("space", "ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, InquiryFormScreen), what="the answer")
    done = wait_for_execution(rest, workflow["id"])
    assert done["status"] == "succeeded"
    answered = rest.get(f"/api/v1/executions/{ask['id']}").json()
    assert answered["result"]["response"] == {"approved": True}


async def test_every_schema_type_is_checked_and_sent_typed(forms_server, make_app, rest):
    ask = rest.post(
        "/api/v1/executions", json={"action": "core.ask", "parameters": {"schema": SCHEMA}}
    ).json()
    inquiry = Inquiry.from_dict(wait_until(lambda: _pending(rest, ask["id"]), message="the inquiry"))
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        app.post_message(InquiryResponseRequested(inquiry))
        await until(pilot, lambda: isinstance(app.screen, InquiryFormScreen), what="the response form")
        screen = app.screen
        await until(pilot, lambda: "Standalone inquiry" in shown(screen.query_one("#inquiry-context")))
        assert [field.spec.name for field in screen.fields] == [
            "approved",
            "reason",
            "target",
            "batch",
            "ratio",
        ]
        assert screen.field("batch").text == "2"
        reason = await enter(pilot, screen, "reason", "ok")
        batch = await enter(pilot, screen, "batch", "20")
        ratio = await enter(pilot, screen, "ratio", "x")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert field_message(reason) == "✘ Must be at least 3 characters long."
        assert field_message(batch) == "✘ Must be at most 10."
        assert field_message(ratio) == "✘ Must be a number, like 0.5 or 3."
        assert field_message(screen.field("target")) == "✘ Required: enter a value."
        assert _pending(rest, ask["id"]) is not None, "answered despite the errors"

        await enter(pilot, screen, "reason", "tests pass")
        await enter(pilot, screen, "batch", "4")
        await enter(pilot, screen, "ratio", "0.5")
        screen.query_one("#field-target Select", Select).value = 1
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, InquiryFormScreen), what="the answer")
    answered = rest.get(f"/api/v1/executions/{ask['id']}").json()
    assert answered["status"] == "succeeded"
    assert answered["result"]["response"] == {
        "approved": False,
        "reason": "tests pass",
        "target": "production",
        "batch": 4,
        "ratio": 0.5,
    }


def _pending(rest, inquiry_id: str) -> dict | None:
    response = rest.get(f"/api/v1/inquiries/{inquiry_id}")
    return response.json() if response.status_code == 200 else None
