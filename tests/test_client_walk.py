"""Every kind of request the client sends, with the app's own parameters, against the demo: each is
answered as st2 answers it (the same walk runs against a real StackStorm in tests/real_st2)."""

from __future__ import annotations

from support.client_walk import make_client, unwalked, walk_everything

# What st2 answers for the steps that are refusals by design (the rest are 2xx).
EXPECTED_REFUSALS = {("executions.update", "pause a non-workflow (refused)"): 400}


async def test_every_request_the_client_sends_is_answered_as_st2_answers(fresh_server) -> None:
    client, walk = make_client(
        fresh_server.api_url,
        fresh_server.auth_url,
        fresh_server.stream_url,
        fresh_server.username,
        fresh_server.password,
    )
    async with client:
        steps = await walk_everything(walk, "client_walk_key")

    assert unwalked(steps) == set()
    wrong = [
        (step.op, step.what, step.status, step.fault)
        for step in steps
        if step.status
        != EXPECTED_REFUSALS.get(
            (step.op, step.what), step.status if step.status and step.status < 300 else 200
        )
    ]
    assert wrong == []
