"""Pack content over HTTP: actions and their views, runner types and packs, as real st2 answers them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.rest import api_client
from support.shapes import differences, shape

from st2tui.demo.content import load_content
from st2tui.demo.server import RunningServer


@pytest.fixture(scope="module")
def api(st2_server: RunningServer) -> Iterator[httpx.Client]:
    with api_client(st2_server) as client:
        yield client


def example(contract: Path, name: str) -> dict[str, Any]:
    return json.loads((contract / "examples" / name).read_text())


def golden(contract: Path, name: str) -> dict[str, Any]:
    return json.loads((contract / "golden" / "real-st2-shapes.json").read_text())[name]


def without_id(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "id"}


# ---- actions -----------------------------------------------------------------------------------


def test_action_list_returns_every_action_ordered_by_pack_and_name(api: httpx.Client) -> None:
    response = api.get("/api/v1/actions")

    assert response.status_code == 200
    refs = [a["ref"] for a in response.json()]
    assert sorted(refs) == sorted(load_content().actions)
    assert [(a["pack"], a["name"]) for a in response.json()] == sorted(
        (a["pack"], a["name"]) for a in response.json()
    )
    # No default limit: everything, with a total and no X-Limit.
    assert response.headers["X-Total-Count"] == str(len(refs))
    assert "X-Limit" not in response.headers


def test_action_list_filters_and_paging(api: httpx.Client) -> None:
    core = api.get("/api/v1/actions", params={"pack": "core"}).json()
    assert core and {a["pack"] for a in core} == {"core"}

    local = api.get("/api/v1/actions", params={"name": "local"}).json()
    assert [a["ref"] for a in local] == ["core.local"]

    by_id = api.get("/api/v1/actions", params={"id": local[0]["id"]}).json()
    assert [a["ref"] for a in by_id] == ["core.local"]

    page = api.get("/api/v1/actions", params={"limit": 2, "offset": 1})
    everything = api.get("/api/v1/actions").json()
    assert [a["ref"] for a in page.json()] == [a["ref"] for a in everything[1:3]]
    assert page.headers["X-Limit"] == "2"
    assert page.headers["X-Total-Count"] == str(len(everything))


def test_action_list_tag_filter_matches_tag_names(api: httpx.Client) -> None:
    # The demo actions carry no tags, so a tag filter finds nothing (and says so in the total).
    response = api.get("/api/v1/actions", params={"tags": "no-such-tag"})

    assert response.json() == []
    assert response.headers["X-Total-Count"] == "0"


def test_action_list_attribute_selection(api: httpx.Client) -> None:
    included = api.get("/api/v1/actions", params={"include_attributes": "pack,description"}).json()
    assert {frozenset(a) for a in included} == {frozenset({"id", "ref", "pack", "description"})}

    excluded = api.get("/api/v1/actions", params={"exclude_attributes": "parameters"}).json()
    assert all("parameters" not in a and "runner_type" in a for a in excluded)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"exclude_attributes": "description"},
            "Invalid or unsupported exclude attribute specified: description",
        ),
        (
            {"include_attributes": "ref", "exclude_attributes": "parameters"},
            "exclude_fields and include_fields arguments are mutually exclusive. "
            "You need to provide either one or another, but not both.",
        ),
        (
            {"include_attributes": "nope"},
            "Invalid or unsupported include attribute specified: nope",
        ),
        ({"limit": "abc"}, 'Parameter "limit" is not of type integer'),
    ],
)
def test_action_list_rejects_bad_query_values(
    api: httpx.Client, params: dict[str, str], message: str
) -> None:
    response = api.get("/api/v1/actions", params=params)

    assert response.status_code == 400
    assert response.json() == {"faultstring": message}


def test_action_get_matches_real_st2(api: httpx.Client, contract: Path) -> None:
    real = example(contract, "action-core-local.json")

    response = api.get("/api/v1/actions/core.local")

    assert response.status_code == 200
    doc = response.json()
    assert without_id(doc) == without_id(real)
    assert list(doc) == list(real)  # same key order as st2's document
    assert differences(golden(contract, "actions.get")["body"], shape(doc)) == []
    by_id = api.get(f"/api/v1/actions/{doc['id']}")
    assert by_id.json() == doc


@pytest.mark.parametrize("ref_or_id", ["core.nope", "000000000000000000000000", "not-an-id"])
def test_action_get_unknown(api: httpx.Client, ref_or_id: str) -> None:
    response = api.get(f"/api/v1/actions/{ref_or_id}")

    assert response.status_code == 404
    assert response.json() == {"faultstring": f'Resource with a reference or id "{ref_or_id}" not found'}


def test_parameters_view_matches_real_st2(api: httpx.Client, contract: Path) -> None:
    response = api.get("/api/v1/actions/views/parameters/core.local")

    assert response.status_code == 200
    assert response.json() == example(contract, "action-parameters-view.json")
    action_id = api.get("/api/v1/actions/core.local").json()["id"]
    assert api.get(f"/api/v1/actions/views/parameters/{action_id}").json() == response.json()


def test_parameters_view_of_unknown_actions(api: httpx.Client) -> None:
    by_ref = api.get("/api/v1/actions/views/parameters/core.nope")
    assert by_ref.status_code == 404
    assert by_ref.json()["faultstring"] == (
        'Database lookup for ref="core.nope" resulted in exception. Referenced action "core.nope" doesnt exist'
    )
    by_id = api.get("/api/v1/actions/views/parameters/000000000000000000000000")
    assert by_id.status_code == 404
    assert by_id.json()["faultstring"].startswith('Database lookup for id="000000000000000000000000"')


def test_overview_merges_runner_parameters(api: httpx.Client, contract: Path) -> None:
    merged = example(contract, "action-parameters-view.json")["parameters"]

    one = api.get("/api/v1/actions/views/overview/core.local")
    listed = api.get("/api/v1/actions/views/overview", params={"name": "local"})

    assert one.status_code == 200
    assert one.json()["parameters"] == merged
    assert one.json()["ref"] == "core.local"
    assert [a["parameters"] for a in listed.json()] == [merged]
    assert listed.headers["X-Total-Count"] == "1"


def test_entry_point_view(api: httpx.Client) -> None:
    content = load_content()

    workflow = api.get("/api/v1/actions/views/entry_point/examples.orquesta-sequential")
    without = api.get("/api/v1/actions/views/entry_point/core.local")

    assert workflow.status_code == 200
    assert workflow.text == content.workflow_definition("examples.orquesta-sequential")
    assert "yaml" in workflow.headers["content-type"]
    assert without.status_code == 404
    assert without.json() == {"faultstring": "Action ref_or_id=core.local has no entry_point to output"}


def test_every_action_response_is_a_valid_document(api: httpx.Client, contract: Path) -> None:
    expected_keys = set(golden(contract, "actions.get")["body"])
    for action in api.get("/api/v1/actions").json():
        assert set(action) == expected_keys, action["ref"]


# ---- runner types ----------------------------------------------------------------------------------


def test_runner_type_get_matches_real_st2(api: httpx.Client, contract: Path) -> None:
    real = example(contract, "runnertype-local-shell-cmd.json")

    doc = api.get("/api/v1/runnertypes/local-shell-cmd").json()

    assert without_id(doc) == without_id(real)
    assert list(doc) == list(real)
    assert differences(golden(contract, "runnertypes.get")["body"], shape(doc)) == []
    assert api.get(f"/api/v1/runnertypes/{doc['id']}").json() == doc


def test_runner_type_list_and_missing(api: httpx.Client) -> None:
    listed = api.get("/api/v1/runnertypes")
    names = [r["name"] for r in listed.json()]
    assert names == sorted(load_content().runners)
    assert listed.headers["X-Limit"] == "100"
    assert [r["name"] for r in api.get("/api/v1/runnertypes", params={"name": "orquesta"}).json()] == [
        "orquesta"
    ]

    missing = api.get("/api/v1/runnertypes/nope")
    assert missing.status_code == 404
    assert missing.json() == {"faultstring": 'Resource with a name or id "nope" not found'}


# ---- packs ------------------------------------------------------------------------------------------


def test_pack_list_has_the_shape_of_real_st2(api: httpx.Client, contract: Path) -> None:
    real = golden(contract, "packs.list")

    response = api.get("/api/v1/packs")

    assert response.status_code == 200
    assert [p["ref"] for p in response.json()] == sorted(load_content().packs)
    for pack in response.json():
        assert set(pack) == set(real["body"][0]), pack["ref"]
    assert {h.lower() for h in response.headers} >= set(real["headers"])


def test_pack_get_and_missing(api: httpx.Client) -> None:
    core = api.get("/api/v1/packs/core")
    assert core.status_code == 200
    assert core.json()["uid"] == "pack:core"
    assert api.get(f"/api/v1/packs/{core.json()['id']}").json() == core.json()

    missing = api.get("/api/v1/packs/nope")
    assert missing.status_code == 404
    assert missing.json() == {"faultstring": 'Resource with a ref or id "nope" not found'}


def test_content_requires_authentication(st2_server: RunningServer) -> None:
    response = httpx.get(f"{st2_server.api_url}/actions")

    assert response.status_code == 401
    assert response.json() == {"faultstring": "Unauthorized - One of Token or API key required."}
