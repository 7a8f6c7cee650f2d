"""The key-value datastore over HTTP: documents as real st2's, secrets, scopes, TTL, errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jinja2
import pytest
from support.rest import api_client, wait_until
from support.shapes import differences, shape

from st2tui.demo import keys
from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

HEX_RE = re.compile(r"^[0-9A-F]+$")


@pytest.fixture
def api(fresh_server: RunningServer) -> Iterator[httpx.Client]:
    with api_client(fresh_server) as client:
        yield client


def example(contract: Path, name: str) -> dict[str, Any]:
    return json.loads((contract / "examples" / name).read_text())


def golden(contract: Path, name: str) -> dict[str, Any]:
    return json.loads((contract / "golden" / "real-st2-shapes.json").read_text())[name]


def put(api: httpx.Client, name: str, **body: Any) -> httpx.Response:
    return api.put(f"/api/v1/keys/{name}", json={"name": name, **body})


def test_system_key_documents_match_real_st2(api: httpx.Client, contract: Path) -> None:
    real = example(contract, "keyvalue-system.json")

    created = put(api, "os_release", value="Ubuntu 22.04")
    fetched = api.get("/api/v1/keys/os_release")

    assert created.status_code == 200
    assert created.json() == fetched.json()
    doc = fetched.json()
    assert list(doc) == list(real)
    assert {k: v for k, v in doc.items() if k not in ("id", "uid", "name")} == {
        k: v for k, v in real.items() if k not in ("id", "uid", "name")
    }
    assert doc["uid"] == "key_value_pair:st2kv.system:os_release"
    assert differences(golden(contract, "keys.put")["body"], shape(created.json())) == []
    assert differences(golden(contract, "keys.get")["body"], shape(doc)) == []


def test_update_keeps_the_id(api: httpx.Client) -> None:
    first = put(api, "counter", value="1").json()
    second = put(api, "counter", value="2").json()

    assert second["id"] == first["id"]
    assert api.get("/api/v1/keys/counter").json()["value"] == "2"


def test_secret_is_returned_as_ciphertext_unless_decrypted(api: httpx.Client, contract: Path) -> None:
    real = example(contract, "keyvalue-secret.json")

    created = put(api, "db_password", value="SuperSecret123", secret=True)
    masked = api.get("/api/v1/keys/db_password")
    decrypted = api.get("/api/v1/keys/db_password", params={"decrypt": "true"})

    for response in (created, masked):
        doc = response.json()
        assert list(doc) == list(real)
        assert HEX_RE.match(doc["value"]) and "SuperSecret123" not in doc["value"]
        assert doc["secret"] is True and doc["encrypted"] is True
    assert decrypted.json()["value"] == "SuperSecret123"
    assert decrypted.json()["encrypted"] is False and decrypted.json()["secret"] is True
    assert differences(golden(contract, "keys.get_secret_decrypt")["body"], shape(decrypted.json())) == []
    # Encrypted anew on every write, as st2 does (random IV).
    again = put(api, "db_password", value="SuperSecret123", secret=True).json()
    assert again["value"] != created.json()["value"]


def test_lists_never_show_plaintext_secrets_without_decrypt(api: httpx.Client) -> None:
    put(api, "list_secret", value="TopSecretValue", secret=True)

    plain = api.get("/api/v1/keys", params={"scope": "all"})
    decrypted = api.get("/api/v1/keys", params={"scope": "all", "decrypt": "true"})

    assert "TopSecretValue" not in plain.text
    assert "ghp_demoToken" not in plain.text  # a seeded user-scope secret
    by_name = {k["name"]: k for k in decrypted.json()}
    assert by_name["list_secret"]["value"] == "TopSecretValue"


def test_pre_encrypted_values_must_come_from_this_server(api: httpx.Client) -> None:
    ciphertext = put(api, "source", value="moved", secret=True).json()["value"]

    moved = put(api, "target", value=ciphertext, encrypted=True)
    forged = put(api, "forged", value="ABCDEF0123", encrypted=True)

    assert moved.status_code == 200
    assert moved.json()["secret"] is True and moved.json()["value"] == ciphertext
    assert api.get("/api/v1/keys/target", params={"decrypt": "true"}).json()["value"] == "moved"
    assert forged.status_code == 400
    assert forged.json() == {
        "faultstring": 'Failed to verify the integrity of the provided value for key "forged". Ensure that the '
        "value is encrypted with the correct key and not corrupted."
    }


def test_user_scope_keys(api: httpx.Client, fresh_server: RunningServer, contract: Path) -> None:
    real = example(contract, "keyvalue-user.json")
    user = fresh_server.username

    created = put(api, "pet", value="cat", scope="st2kv.user")
    fetched = api.get("/api/v1/keys/pet", params={"scope": "st2kv.user"})
    alias = api.get("/api/v1/keys/pet", params={"scope": "user"})
    by_user = api.get("/api/v1/keys/pet", params={"user": user})
    in_system = api.get("/api/v1/keys/pet")

    assert created.status_code == 200
    doc = fetched.json()
    assert list(doc) == list(real)
    assert doc["uid"] == f"key_value_pair:st2kv.user:{user}:pet"
    assert doc["user"] == user and doc["scope"] == "st2kv.user" and doc["name"] == "pet"
    assert alias.json() == doc == by_user.json()
    assert in_system.status_code == 404
    assert in_system.json() == {"faultstring": 'The key "pet" does not exist in the StackStorm datastore.'}


def test_scope_all_lists_system_keys_and_the_requesters_own(api: httpx.Client, contract: Path) -> None:
    put(api, "mine", value="x", scope="user")

    response = api.get("/api/v1/keys", params={"scope": "all"})

    assert response.status_code == 200
    docs = response.json()
    scopes = {(k["scope"], k.get("user")) for k in docs}
    assert ("st2kv.system", None) in scopes and ("st2kv.user", "st2admin") in scopes
    # The seed has a user key of alice's: never listed for st2admin.
    assert ("st2kv.user", "alice") not in scopes
    assert docs.index(next(k for k in docs if k["scope"] == "st2kv.user")) > max(
        i for i, k in enumerate(docs) if k["scope"] == "st2kv.system"
    )
    # A plain list: no paging headers (st2's keys controller returns a list).
    assert "X-Total-Count" not in response.headers and "X-Limit" not in response.headers
    assert set(golden(contract, "keys.list_all")["headers"]) == {"x-request-id"}


def test_default_scope_filters_and_limits(api: httpx.Client) -> None:
    for name in ("deploy_a", "deploy_b", "other_c"):
        put(api, name, value=name)

    system = api.get("/api/v1/keys").json()
    prefixed = api.get("/api/v1/keys", params={"prefix": "deploy_"}).json()
    named = api.get("/api/v1/keys", params={"name": "other_c"}).json()
    limited = api.get("/api/v1/keys", params={"limit": 2, "offset": 1}).json()

    assert {k["scope"] for k in system} == {"st2kv.system"}
    assert {"deploy_a", "deploy_b"} <= {k["name"] for k in prefixed}
    assert all(k["name"].startswith("deploy_") for k in prefixed)
    assert [k["name"] for k in named] == ["other_c"]
    assert [k["name"] for k in limited] == [k["name"] for k in system[1:3]]


def test_ttl_sets_expire_timestamp_and_the_key_expires(
    api: httpx.Client, fresh_server: RunningServer
) -> None:
    created = put(api, "short_lived", value="soon gone", ttl=1, scope="user")

    doc = created.json()
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", doc["expire_timestamp"])
    assert list(doc) == [
        "uid",
        "scope",
        "name",
        "value",
        "secret",
        "expire_timestamp",
        "id",
        "user",
        "encrypted",
    ]
    wait_until(
        lambda: api.get("/api/v1/keys/short_lived", params={"scope": "user"}).status_code == 404,
        timeout=10,
        message="the key to expire",
    )
    assert "short_lived" not in {k["name"] for k in api.get("/api/v1/keys", params={"scope": "all"}).json()}

    async def stored_rows() -> int:
        return fresh_server.server.db.scalar("SELECT COUNT(*) FROM keys WHERE name LIKE '%short_lived'")

    wait_until(lambda: fresh_server.call(stored_rows) == 0, timeout=10, message="the expiry sweep")


def test_delete(api: httpx.Client) -> None:
    put(api, "doomed", value="x")

    deleted = api.delete("/api/v1/keys/doomed")
    again = api.delete("/api/v1/keys/doomed")

    assert deleted.status_code == 204 and deleted.content == b""
    assert api.get("/api/v1/keys/doomed").status_code == 404
    assert again.status_code == 404
    assert again.json() == {"faultstring": 'The key "doomed" does not exist in the StackStorm datastore.'}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        # Recorded from st2 master: `name` is required first, even beside a wrong type.
        ({}, 400, "'name' is a required property"),
        ({"value": 123}, 400, "'name' is a required property"),
        ({"name": "bad", "value": 123}, 400, "123 is not of type 'string'"),
        ({"name": "bad"}, 400, "'value' is a required property"),
        ({"name": "bad", "value": "x", "ttl": "soon"}, 400, "'soon' is not of type 'integer'"),
        (
            {"name": "bad", "value": "x", "scope": "galaxy"},
            400,
            "Scope st2kv.galaxy is not in allowed scopes list: ['system', 'user', 'st2kv.system', 'st2kv.user'].",
        ),
        (
            {"name": "bad", "value": "x", "scope": "user", "user": "alice"},
            403,
            '"user" attribute can only be provided by admins when RBAC is enabled',
        ),
    ],
)
def test_put_rejects_bad_bodies(api: httpx.Client, body: dict[str, Any], status: int, message: str) -> None:
    response = api.put("/api/v1/keys/bad", json=body)

    assert response.status_code == status
    assert response.json() == {"faultstring": message}
    assert api.get("/api/v1/keys/bad").status_code == 404


def test_put_accepts_what_st2client_sends(api: httpx.Client) -> None:
    # `st2 key set` sends the name as `id` and `user: null` when no user is given.
    response = api.put(
        "/api/v1/keys/from_cli",
        json={"id": "from_cli", "name": "from_cli", "value": "v", "scope": "system", "user": None},
    )

    assert response.status_code == 200
    assert response.json()["id"] != "from_cli"


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/api/v1/keys", {"scope": "galaxy"}, 400, "Invalid scope: st2kv.galaxy"),
        (
            "/api/v1/keys",
            {"user": "alice"},
            403,
            '"user" attribute can only be provided by admins when RBAC is enabled',
        ),
        (
            "/api/v1/keys/os_version",
            {"user": "alice"},
            403,
            '"user" attribute can only be provided by admins when RBAC is enabled',
        ),
        ("/api/v1/keys/os_version", {"decrypt": "maybe"}, 400, 'Parameter "decrypt" is not of type boolean'),
    ],
)
def test_get_rejects_bad_queries(
    api: httpx.Client, path: str, params: dict[str, str], status: int, message: str
) -> None:
    response = api.get(path, params=params)

    assert response.status_code == status
    assert response.json() == {"faultstring": message}


def test_seeded_keys_and_crypto_key_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "st2.sqlite"
    first = start_in_thread(DemoServer(db, timers=False, seed=False))
    try:
        with api_client(first) as api:
            seeded = {k["name"] for k in api.get("/api/v1/keys").json()}
            assert {"os_version", "api_password"} <= seeded
            api.delete("/api/v1/keys/os_version")
            put(api, "kept_secret", value="still readable", secret=True)
    finally:
        first.stop()
    second = start_in_thread(DemoServer(db, timers=False, seed=False))
    try:
        with api_client(second) as api:
            # Seeds are written once, on a fresh database: a deleted seed stays deleted.
            assert api.get("/api/v1/keys/os_version").status_code == 404
            decrypted = api.get("/api/v1/keys/kept_secret", params={"decrypt": "true"})
            assert decrypted.json()["value"] == "still readable"
    finally:
        second.stop()


def test_kv_lookup_for_parameter_rendering(api: httpx.Client, fresh_server: RunningServer) -> None:
    put(api, "greeting", value="hello")
    put(api, "a.b", value="dotted")
    put(api, "token", value="s3cret", secret=True)
    put(api, "color", value="teal", scope="user")

    async def render() -> tuple[str, str | None, str]:
        lookup = keys.kv_lookup(fresh_server.server, "st2admin")
        template = jinja2.Template(
            "{{ st2kv.system.greeting }} {{ st2kv.system.a.b }} {{ st2kv.system.token }} "
            "{{ st2kv.user.color }} [{{ st2kv.system.missing }}]"
        )
        stored = lookup("st2kv.system", "token", "st2admin")
        return template.render(st2kv=lookup), stored, lookup.decrypt(stored or "")

    rendered, stored, decrypted = fresh_server.call(render)

    assert rendered == "hello dotted s3cret teal []"
    # Called as params' KvLookup it gives what st2 renders without `decrypt_kv`: the ciphertext.
    assert stored is not None and HEX_RE.match(stored)
    assert decrypted == "s3cret"
