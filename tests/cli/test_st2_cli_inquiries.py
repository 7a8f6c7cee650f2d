"""`st2 inquiry list/get/respond` on the inquiry of `examples.orquesta-ask-basic`."""

from __future__ import annotations

import httpx
import pytest
from support.rest import children, pending_inquiry_for, run_action, wait_for, wait_until
from support.st2cli import St2Cli, parse_properties, parse_table

pytestmark = pytest.mark.cli


def test_list_get_and_respond_to_an_inquiry(st2: St2Cli, rest: httpx.Client) -> None:
    workflow = run_action(rest, "examples.orquesta-ask-basic")
    inquiry = wait_until(
        lambda: pending_inquiry_for(rest, workflow["id"]), timeout=30, message="the workflow's inquiry"
    )
    assert wait_for(rest, workflow["id"], {"paused"}, timeout=30)["status"] == "paused"

    listed = st2("inquiry", "list")
    assert listed.returncode == 0, listed
    rows = {row["id"]: row for row in parse_table(listed.stdout)}
    assert list(next(iter(rows.values()))) == ["id", "roles", "users", "route", "ttl"], listed
    assert rows[inquiry["id"]]["ttl"] == "1440"

    got = st2("inquiry", "get", inquiry["id"])
    assert got.returncode == 0, got
    props = parse_properties(got.stdout)
    assert props["id"] == inquiry["id"]
    assert props["ttl"] == "1440"
    assert '"approved"' in props["schema"]

    rejected = st2("inquiry", "respond", inquiry["id"], "-r", '{"approved": "yes"}')
    assert rejected.returncode == 1, rejected
    assert (
        f'MESSAGE: Response for inquiry "{inquiry["id"]}" did not pass schema validation.' in rejected.output
    )
    assert rest.get(f"/api/v1/executions/{inquiry['id']}").json()["status"] == "pending"

    accepted = st2("inquiry", "respond", inquiry["id"], "-r", '{"approved": true}')
    assert accepted.returncode == 0, accepted
    assert f"Response accepted for inquiry {inquiry['id']}." in accepted.stdout

    final = wait_for(rest, workflow["id"], timeout=30)
    assert final["status"] == "succeeded", final.get("result")
    answered = rest.get(f"/api/v1/executions/{inquiry['id']}").json()
    assert answered["status"] == "succeeded"
    assert answered["result"]["response"] == {"approved": True}
    tasks = {
        child["context"]["orquesta"]["task_name"]: child["status"] for child in children(rest, workflow["id"])
    }
    assert tasks == {"start": "succeeded", "get_approval": "succeeded", "finish": "succeeded"}

    after = st2("inquiry", "list")
    assert inquiry["id"] not in {row["id"] for row in parse_table(after.stdout)}

    # The server refuses an answered inquiry with a 400; st2client's lookup swallows non-401 errors
    # and reports the inquiry as missing.
    refused = rest.get(f"/api/v1/inquiries/{inquiry['id']}")
    assert refused.status_code == 400
    assert refused.json() == {"faultstring": f'Inquiry "{inquiry["id"]}" has already been responded to.'}
    again = st2("inquiry", "respond", inquiry["id"], "-r", '{"approved": true}')
    assert again.returncode == 1, again
    assert f'Resource with id "{inquiry["id"]}" doesn\'t exist.' in again.output
