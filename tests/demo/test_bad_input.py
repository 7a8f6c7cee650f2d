"""Bad input gets the status and `faultstring` real st2 gives, never crashes the server or changes state.

Expected wording is st2's own, read from StackStorm/st2 at the contract's commit (c2eaf56):
- `st2common/st2common/router.py` (`Router.__call__`): body parsing (`Failed to parse request body: %s`,
  `Unsupported Content-Type: "%s"`; the JSON error text is Python's `json` message, as WebOb's
  `req.json` uses `json.loads`), body validation against the spec's schema (the jsonschema error
  `message`), query parameter casting (`Parameter "%s" is not of type integer|boolean`);
- `st2common/st2common/middleware/error_handling.py`: `{"faultstring": ...}`, ValueError → 400,
  StackStormDBObjectNotFoundError → 404, unknown routes → 404 `The resource could not be found.`;
- `st2api/st2api/controllers/resource.py`: `validate_limit_query_param` (limit 0 / <= -2),
  `_validate_exclude_fields`, include+exclude exclusivity, `Resource with a reference or id "%s" not
  found`, `Unable to identify resource with id "%s".`, `KeyValuePair with name: %s and scope: %s not
  found in db.`;
- `st2common/st2common/util/isotime.py` (`validate`): bad `timestamp_gt` → `Datetime value does not
  match expected format.`;
- `st2api/st2api/controllers/v1/actionexecutions.py`: `Action "%s" cannot be found.`, `Execution is
  already in completed state.`, `_validate_max_result_size`, the attribute controller's `Invalid
  attribute "%s" specified. Valid attributes are: %s`; `st2common/st2common/services/action.py` + `util/schema`: parameter
  validation errors are the jsonschema message (`'cmd' is a required property`, ...);
- `st2api/st2api/controllers/v1/keyvalue.py`: `Scope %s is not in allowed scopes list: %s.`,
  `Invalid scope: %s`; `st2common/st2common/exceptions/inquiry.py` and `services/inquiry.py`;
- auth: `router.py` `abort_unauthorized` (`Unauthorized - %s`), `persistence/auth.py` (`ApiKey with
  key_hash=%s not found.`, the hash being `st2common/util/hash.py`'s salted SHA-512), TokenRequest's
  `minimum: 1` in the spec.

Oversize bodies: st2's API processes have no body limit of their own; deployments put the reference
nginx in front, whose default `client_max_body_size` (1 MiB, not raised by `conf/nginx/st2.conf`)
answers 413. The demo follows the 413, with a JSON `faultstring` (its text is the demo's own: nginx's
is an HTML page).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from support.rest import MISSING_ID, issue_token, run_action, wait_for

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

OVERSIZE = 17 * 1024 * 1024
ALLOWED_SCOPES = "['system', 'user', 'st2kv.system', 'st2kv.user']"
OTHER_USER = '"user" attribute can only be provided by admins when RBAC is enabled'


def json_error(raw: bytes) -> str:
    """Python's own message for unparsable JSON (what st2 puts after `Failed to parse request body: `)."""
    try:
        json.loads(raw)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{raw!r} parses")


def st2_api_key_hash(key: str) -> str:
    return hashlib.sha512(b"saltnpepper" + key.encode()).hexdigest()


@dataclass
class Bad:
    name: str
    method: str
    path: str
    status: int
    faultstring: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True
    # st2 appends str() of a jsonschema ValidationError (message, then the failing schema and instance,
    # laid out by the jsonschema version): only the stable beginning is compared.
    prefix: bool = False


BROKEN_JSON = b'{"action": "core.local", "parameters": {'
CASES = [
    # Bodies
    Bad(
        "malformed json",
        "POST",
        "/api/v1/executions",
        400,
        f"Failed to parse request body: {json_error(BROKEN_JSON)}",
        content=BROKEN_JSON,
        headers={"Content-Type": "application/json"},
    ),
    Bad(
        "malformed json key",
        "PUT",
        "/api/v1/keys/bad_key",
        400,
        f"Failed to parse request body: {json_error(b'not json')}",
        content=b"not json",
        headers={"Content-Type": "application/json"},
    ),
    Bad(
        "wrong content type",
        "POST",
        "/api/v1/executions",
        400,
        'Failed to parse request body: Unsupported Content-Type: "application/xml"',
        content=b"<action>core.local</action>",
        headers={"Content-Type": "application/xml"},
    ),
    Bad("body not an object", "POST", "/api/v1/executions", 400, "[] is not of type 'object'", json=[]),
    Bad(
        "execution without action",
        "POST",
        "/api/v1/executions",
        400,
        "'action' is a required property",
        json={},
    ),
    Bad(
        "action of wrong type",
        "POST",
        "/api/v1/executions",
        400,
        "123 is not of type 'string'",
        json={"action": 123},
    ),
    Bad(
        "parameters of wrong type",
        "POST",
        "/api/v1/executions",
        400,
        "'echo' is not of type 'object'",
        json={"action": "core.local", "parameters": "echo"},
    ),
    Bad(
        "unknown action",
        "POST",
        "/api/v1/executions",
        400,
        'Action "examples.nope" cannot be found.',
        json={"action": "examples.nope"},
    ),
    Bad(
        "missing required parameter",
        "POST",
        "/api/v1/executions",
        400,
        "'cmd' is a required property",
        json={"action": "core.local", "parameters": {}},
    ),
    Bad(
        "unknown parameter",
        "POST",
        "/api/v1/executions",
        400,
        "Additional properties are not allowed ('bogus' was unexpected)",
        json={"action": "core.local", "parameters": {"cmd": "true", "bogus": 1}},
    ),
    Bad(
        "parameter out of bounds",
        "POST",
        "/api/v1/executions",
        400,
        "42 is greater than the maximum of 10",
        json={"action": "examples.all-param-types", "parameters": {"message": "hi", "count": 42}},
    ),
    Bad(
        "immutable parameter",
        "POST",
        "/api/v1/executions",
        400,
        "Override of immutable parameter(s) ['sudo'] is unsupported.",
        json={"action": "core.local", "parameters": {"cmd": "true", "sudo": True}},
    ),
    Bad(
        "execution update with a bad status",
        "PUT",
        "/api/v1/executions/{finished}",
        400,
        "'bogus' is not one of ['requested', 'scheduled', 'delayed', 'running', 'succeeded', 'failed', "
        "'timeout', 'abandoned', 'canceling', 'canceled', 'pending', 'pausing', 'paused', 'resuming']",
        json={"status": "bogus"},
    ),
    Bad(
        "pause a finished execution",
        "PUT",
        "/api/v1/executions/{finished}",
        400,
        "Execution is already in completed state.",
        json={"status": "pausing"},
    ),
    Bad(
        "key value of wrong type",
        "PUT",
        "/api/v1/keys/bad_key",
        400,
        "5 is not of type 'string'",
        json={"name": "bad_key", "value": 5},
    ),
    Bad(
        "key without value",
        "PUT",
        "/api/v1/keys/bad_key",
        400,
        "'value' is a required property",
        json={"name": "bad_key"},
    ),
    Bad(
        "key ttl of wrong type",
        "PUT",
        "/api/v1/keys/bad_key",
        400,
        "'soon' is not of type 'integer'",
        json={"name": "bad_key", "value": "v", "ttl": "soon"},
    ),
    Bad(
        "rule body not an object",
        "PUT",
        "/api/v1/rules/{rule_id}",
        400,
        "[] is not of type 'object'",
        json=[],
    ),
    Bad(
        "inquiry response without response",
        "PUT",
        "/api/v1/inquiries/{inquiry}",
        400,
        "'response' is a required property",
        json={"id": "{inquiry}"},
    ),
    Bad(
        "inquiry response failing its schema",
        "PUT",
        "/api/v1/inquiries/{inquiry}",
        400,
        "Response for inquiry \"{inquiry}\" did not pass schema validation. 'yes' is not of type 'boolean'",
        json={"id": "{inquiry}", "response": {"continue": "yes"}},
        prefix=True,
    ),
    Bad(
        "token ttl below minimum",
        "POST",
        "/auth/v1/tokens",
        400,
        "0 is less than the minimum of 1",
        json={"ttl": 0},
    ),
    Bad(
        "token ttl above maximum",
        "POST",
        "/auth/v1/tokens",
        400,
        "TTL specified 999999999 is greater than max allowed 86400.",
        json={"ttl": 999999999},
    ),
    # Unknown things
    Bad(
        "unknown execution",
        "GET",
        f"/api/v1/executions/{MISSING_ID}",
        404,
        f'Unable to identify resource with id "{MISSING_ID}".',
    ),
    Bad(
        "cancel unknown execution",
        "DELETE",
        f"/api/v1/executions/{MISSING_ID}",
        404,
        f'Unable to identify resource with id "{MISSING_ID}".',
    ),
    Bad(
        "re-run unknown execution",
        "POST",
        f"/api/v1/executions/{MISSING_ID}/re_run",
        404,
        f'Unable to identify resource with id "{MISSING_ID}".',
        json={},
    ),
    Bad(
        "unknown action document",
        "GET",
        "/api/v1/actions/examples.nope",
        404,
        'Resource with a reference or id "examples.nope" not found',
    ),
    Bad(
        "unknown rule",
        "GET",
        "/api/v1/rules/examples.nope",
        404,
        'Resource with a reference or id "examples.nope" not found',
    ),
    Bad(
        "delete unknown rule",
        "DELETE",
        "/api/v1/rules/examples.nope",
        404,
        'Resource with a reference or id "examples.nope" not found',
    ),
    Bad(
        "unknown key",
        "GET",
        "/api/v1/keys/no_such_key",
        404,
        'The key "no_such_key" does not exist in the StackStorm datastore.',
    ),
    Bad(
        "delete unknown key",
        "DELETE",
        "/api/v1/keys/no_such_key",
        404,
        'The key "no_such_key" does not exist in the StackStorm datastore.',
    ),
    Bad(
        "key in an unknown scope",
        "GET",
        "/api/v1/keys/os_version",
        400,
        f"Scope st2kv.bogus is not in allowed scopes list: {ALLOWED_SCOPES}.",
        params={"scope": "bogus"},
    ),
    Bad(
        "keys list in an unknown scope",
        "GET",
        "/api/v1/keys",
        400,
        "Invalid scope: st2kv.bogus",
        params={"scope": "bogus"},
    ),
    Bad(
        "key put in an unknown scope",
        "PUT",
        "/api/v1/keys/bad_key",
        400,
        f"Scope st2kv.bogus is not in allowed scopes list: {ALLOWED_SCOPES}.",
        json={"name": "bad_key", "value": "v", "scope": "bogus"},
    ),
    # With RBAC off, naming another user is refused outright (rbac/backends/noop.py).
    Bad(
        "keys of another user",
        "GET",
        "/api/v1/keys",
        403,
        OTHER_USER,
        params={"scope": "st2kv.user", "user": "alice"},
    ),
    Bad(
        "key of another user",
        "GET",
        "/api/v1/keys/favorite_color",
        403,
        OTHER_USER,
        params={"scope": "st2kv.user", "user": "alice"},
    ),
    Bad(
        "key put for another user",
        "PUT",
        "/api/v1/keys/bad_key",
        403,
        OTHER_USER,
        json={"name": "bad_key", "value": "v", "scope": "st2kv.user", "user": "alice"},
    ),
    Bad("unknown inquiry", "GET", f"/api/v1/inquiries/{MISSING_ID}", 404, "The resource could not be found."),
    Bad(
        "execution that is not an inquiry",
        "GET",
        "/api/v1/inquiries/{finished}",
        400,
        'Action execution "{finished}" is not an inquiry.',
    ),
    Bad("unknown route", "GET", "/api/v1/no-such-thing", 404, "The resource could not be found."),
    Bad("unsupported method", "PATCH", "/api/v1/actions/core.local", 404, "The resource could not be found."),
    # Query values
    Bad(
        "limit not an integer",
        "GET",
        "/api/v1/executions",
        400,
        'Parameter "limit" is not of type integer',
        params={"limit": "abc"},
    ),
    Bad(
        "limit zero",
        "GET",
        "/api/v1/executions",
        400,
        'Limit, "0" specified, must be a positive number or -1 for full result set.',
        params={"limit": "0"},
    ),
    Bad(
        "limit negative",
        "GET",
        "/api/v1/executions",
        400,
        'Limit, "-5" specified, must be a positive number.',
        params={"limit": "-5"},
    ),
    Bad(
        "limit negative on actions",
        "GET",
        "/api/v1/actions",
        400,
        'Limit, "-5" specified, must be a positive number.',
        params={"limit": "-5"},
    ),
    Bad(
        "offset not an integer",
        "GET",
        "/api/v1/executions",
        400,
        'Parameter "offset" is not of type integer',
        params={"offset": "1.5"},
    ),
    Bad(
        "bad timestamp_gt",
        "GET",
        "/api/v1/executions",
        400,
        "Datetime value does not match expected format.",
        params={"timestamp_gt": "yesterday"},
    ),
    Bad(
        "bad boolean",
        "GET",
        "/api/v1/keys",
        400,
        'Parameter "decrypt" is not of type boolean',
        params={"decrypt": "maybe"},
    ),
    Bad(
        "bad boolean on executions",
        "GET",
        "/api/v1/executions",
        400,
        'Parameter "show_secrets" is not of type boolean',
        params={"show_secrets": "perhaps"},
    ),
    Bad(
        "unknown exclude attribute",
        "GET",
        "/api/v1/executions",
        400,
        "Invalid or unsupported exclude attribute specified: bogus",
        params={"exclude_attributes": "bogus"},
    ),
    Bad(
        "unknown exclude attribute on one",
        "GET",
        "/api/v1/executions/{finished}",
        400,
        "Invalid or unsupported exclude attribute specified: action",
        params={"exclude_attributes": "action"},
    ),
    Bad(
        "unknown execution attribute",
        "GET",
        "/api/v1/executions/{finished}/attribute/bogus",
        400,
        'Invalid attribute "bogus" specified. Valid attributes are: result, trigger_instance, status',
    ),
    Bad(
        "negative max_result_size",
        "GET",
        "/api/v1/executions/{finished}",
        400,
        "max_result_size must be a positive number",
        params={"max_result_size": "-5"},
    ),
    Bad(
        "max_result_size above 14 MB",
        "GET",
        "/api/v1/executions/{finished}",
        400,
        "max_result_size query parameter must be smaller than 14 MB",
        params={"max_result_size": str(15 * 1024 * 1024)},
    ),
    Bad(
        "include and exclude together",
        "GET",
        "/api/v1/executions",
        400,
        "exclude_fields and include_fields arguments are mutually exclusive. "
        "You need to provide either one or another, but not both.",
        params={"include_attributes": "id", "exclude_attributes": "result"},
    ),
    # Credentials
    Bad(
        "missing auth",
        "GET",
        "/api/v1/actions",
        401,
        "Unauthorized - One of Token or API key required.",
        auth=False,
    ),
    Bad(
        "missing auth on stream",
        "GET",
        "/stream/v1/stream",
        401,
        "Unauthorized - One of Token or API key required.",
        auth=False,
    ),
    Bad(
        "bad token",
        "GET",
        "/api/v1/actions",
        401,
        "Unauthorized",
        auth=False,
        headers={"X-Auth-Token": "0" * 32},
    ),
    Bad(
        "bad token in query",
        "GET",
        "/api/v1/actions",
        401,
        "Unauthorized",
        auth=False,
        params={"x-auth-token": "f" * 32},
    ),
    Bad(
        "bad api key",
        "GET",
        "/api/v1/actions",
        401,
        f"Unauthorized - ApiKey with key_hash={st2_api_key_hash('not-a-key')} not found.",
        auth=False,
        headers={"St2-Api-Key": "not-a-key"},
    ),
    Bad(
        "bad password",
        "POST",
        "/auth/v1/tokens",
        401,
        "Invalid or missing credentials",
        auth=False,
        headers={"Authorization": "Basic c3QyYWRtaW46bm9wZQ=="},
    ),
]
# Token requests carry the demo user's basic auth, not a token.
BASIC = {"token ttl below minimum", "token ttl above maximum"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_in_thread(
        DemoServer(tmp_path_factory.mktemp("bad-input") / "st2.sqlite", seed=False, timers=False)
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def token(server: RunningServer) -> str:
    return issue_token(server)


@pytest.fixture(scope="module")
def client(server: RunningServer, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"X-Auth-Token": token}, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def ids(client: httpx.Client) -> dict[str, str]:
    finished = run_action(client, "core.local", {"cmd": "true"})
    wait_for(client, finished["id"])
    inquiry = run_action(client, "core.ask")
    wait_for(client, inquiry["id"], {"pending"})
    rule = client.get("/api/v1/rules/examples.sample_rule_with_webhook").json()
    return {"finished": finished["id"], "inquiry": inquiry["id"], "rule_id": rule["id"]}


def snapshot(client: httpx.Client) -> dict[str, Any]:
    """The state bad requests must not change."""
    keys = client.get("/api/v1/keys", params={"scope": "all", "decrypt": "true"}).json()
    executions = client.get(
        "/api/v1/executions", params={"limit": -1, "include_attributes": "id,status"}
    ).json()
    return {
        "keys": sorted((k["scope"], k["name"], k["value"]) for k in keys),
        "rules": client.get("/api/v1/rules").json(),
        "actions": client.get("/api/v1/actions").json(),
        "executions": sorted((e["id"], e["status"]) for e in executions),
    }


@pytest.fixture(scope="module")
def before(client: httpx.Client, ids: dict[str, str]) -> dict[str, Any]:
    return snapshot(client)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_st2s_answer(
    case: Bad, server: RunningServer, token: str, ids: dict[str, str], before: dict[str, Any]
) -> None:
    headers = dict(case.headers)
    auth = None
    if case.name in BASIC:
        auth = (server.username, server.password)
    elif case.auth:
        headers["X-Auth-Token"] = token
    request: dict[str, Any] = {"params": case.params, "headers": headers, "auth": auth, "timeout": 30}
    if case.content is not None:
        request["content"] = case.content
    elif case.json is not None:
        request["json"] = _fill(case.json, ids)
    path = _fill(case.path, ids)

    response = httpx.request(case.method, f"{server.base_url}{path}", **request)

    assert response.status_code == case.status, (
        f"{case.method} {path}: {response.status_code} {response.text[:300]}"
    )
    assert response.headers.get("content-type", "").startswith("application/json")
    body = response.json()
    expected = _fill(case.faultstring, ids)
    assert set(body) == {"faultstring"}, body
    if case.prefix:
        assert body["faultstring"].startswith(expected), body
    else:
        assert body["faultstring"] == expected


def test_oversize_body_is_refused(
    server: RunningServer, client: httpx.Client, before: dict[str, Any]
) -> None:
    body = json.dumps({"name": "huge", "value": "x" * OVERSIZE}).encode()

    response = client.put("/api/v1/keys/huge", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert isinstance(response.json()["faultstring"], str) and response.json()["faultstring"]
    assert client.get("/api/v1/keys/huge").status_code == 404


def test_server_still_answers_and_state_is_intact_after_the_sweep(
    client: httpx.Client, before: dict[str, Any]
) -> None:
    assert client.get("/api/v1/user").status_code == 200
    assert snapshot(client) == before
    # And it still does real work.
    done = wait_for(client, run_action(client, "core.local", {"cmd": "echo still here"})["id"])
    assert done["result"]["stdout"] == "still here"
