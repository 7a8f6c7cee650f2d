"""Every kind of request the client sends, with the app's own parameters, against the demo: each is
answered as st2 answers it (the same walk runs against a real StackStorm in tests/real_st2)."""

from __future__ import annotations

from support.client_walk import make_client, unexpected, unwalked, walk_everything


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
    assert unexpected(steps) == []
