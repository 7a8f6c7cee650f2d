"""Inquiries over HTTP: a workflow pauses on `core.ask`, the inquiry is listed, read and answered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.rest import api_client, pending_inquiry_for, run_action, wait_for, wait_until
from support.shapes import differences, shape

from st2tui.demo.server import RunningServer

WORKFLOW = "examples.orquesta-ask-basic"


@pytest.fixture
def api(fresh_server: RunningServer) -> Iterator[httpx.Client]:
    with api_client(fresh_server) as client:
        yield client


def example(contract: Path, name: str) -> Any:
    return json.loads((contract / "examples" / name).read_text())


def golden(contract: Path, name: str) -> dict[str, Any]:
    return json.loads((contract / "golden" / "real-st2-shapes.json").read_text())[name]


def paused_workflow(api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the ask workflow until it waits; returns (workflow, inquiry execution)."""
    workflow = run_action(api, WORKFLOW)
    inquiry = wait_until(
        lambda: pending_inquiry_for(api, workflow["id"]), timeout=30, message="a pending inquiry"
    )
    wait_for(api, workflow["id"], {"paused"})
    return workflow, inquiry


def test_inquiry_documents_match_real_st2(api: httpx.Client, contract: Path) -> None:
    _, inquiry = paused_workflow(api)
    real = example(contract, "inquiry.json")

    listed = api.get("/api/v1/inquiries")
    one = api.get(f"/api/v1/inquiries/{inquiry['id']}")

    assert one.status_code == 200
    assert list(one.json()) == list(real)
    assert {k: v for k, v in one.json().items() if k != "id"} == {k: v for k, v in real.items() if k != "id"}
    assert one.json()["id"] == inquiry["id"]
    assert differences(golden(contract, "inquiries.get")["body"], shape(one.json())) == []
    # The seeded history may hold inquiries of its own: only ours is known here.
    assert one.json() in listed.json()
    assert int(listed.headers["X-Total-Count"]) >= 1 and listed.headers["X-Limit"] == "20"


def test_bad_responses_are_refused_and_a_good_one_resumes_the_workflow(
    api: httpx.Client, contract: Path
) -> None:
    workflow, inquiry = paused_workflow(api)
    inquiry_id = inquiry["id"]

    wrong_type = api.put(
        f"/api/v1/inquiries/{inquiry_id}", json={"id": inquiry_id, "response": {"approved": "yes"}}
    )
    empty = api.put(f"/api/v1/inquiries/{inquiry_id}", json={"id": inquiry_id, "response": {}})
    no_response = api.put(f"/api/v1/inquiries/{inquiry_id}", json={"id": inquiry_id})

    prefix = f'Response for inquiry "{inquiry_id}" did not pass schema validation. '
    assert wrong_type.status_code == 400
    assert wrong_type.json()["faultstring"].startswith(prefix + "'yes' is not of type 'boolean'")
    assert empty.status_code == 400
    assert empty.json()["faultstring"].startswith(prefix + "'approved' is a required property")
    assert no_response.status_code == 400
    assert no_response.json() == {"faultstring": "'response' is a required property"}
    assert api.get(f"/api/v1/executions/{inquiry_id}").json()["status"] == "pending"

    answered = api.put(
        f"/api/v1/inquiries/{inquiry_id}", json={"id": inquiry_id, "response": {"approved": True}}
    )

    assert answered.status_code == 200
    assert answered.json() == {"id": inquiry_id, "response": {"approved": True}}
    assert list(answered.json()) == list(example(contract, "inquiry-response.json"))
    asked = wait_for(api, inquiry_id)
    assert asked["status"] == "succeeded"
    assert asked["result"]["response"] == {"approved": True}
    finished = wait_for(api, workflow["id"])
    assert finished["status"] == "succeeded"
    assert inquiry_id not in [i["id"] for i in api.get("/api/v1/inquiries").json()]

    again = api.get(f"/api/v1/inquiries/{inquiry_id}")
    assert again.status_code == 400
    assert again.json() == {"faultstring": f'Inquiry "{inquiry_id}" has already been responded to.'}
    late = api.put(
        f"/api/v1/inquiries/{inquiry_id}", json={"id": inquiry_id, "response": {"approved": False}}
    )
    assert late.status_code == 400


def test_only_listed_users_may_respond(api: httpx.Client) -> None:
    asked = run_action(api, "core.ask", {"users": ["alice"]})
    wait_for(api, asked["id"], {"pending"})

    response = api.put(
        f"/api/v1/inquiries/{asked['id']}", json={"id": asked["id"], "response": {"continue": True}}
    )

    assert response.status_code == 403
    assert response.json() == {
        "faultstring": f'User "st2admin" does not have permission to respond to inquiry "{asked["id"]}".'
    }
    assert api.get(f"/api/v1/inquiries/{asked['id']}").json()["users"] == ["alice"]


def test_not_inquiries(api: httpx.Client) -> None:
    plain = run_action(api, "core.noop")

    not_an_inquiry = api.get(f"/api/v1/inquiries/{plain['id']}")
    missing = api.get("/api/v1/inquiries/000000000000000000000000")

    assert not_an_inquiry.status_code == 400
    assert not_an_inquiry.json() == {"faultstring": f'Action execution "{plain["id"]}" is not an inquiry.'}
    assert missing.status_code == 404
