"""The demo refuses what StackStorm refuses, with st2's status and faultstring, for every bad request
of the recorded table (tests/data/st2_refusals.json, recorded from st2 master; the same table runs
against a real st2 in tests/real_st2 when one is given)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support.refusals import CASES, answer, case_id
from support.rest import api_client


@pytest.fixture(scope="module")
def api(st2_server) -> Iterator[httpx.Client]:
    with api_client(st2_server) as client:
        yield client


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_demo_answers_a_bad_request_as_st2_does(api: httpx.Client, case) -> None:
    assert answer(api, case) == (case["status"], case["faultstring"])
