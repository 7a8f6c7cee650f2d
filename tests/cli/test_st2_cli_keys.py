"""`st2 key ...`: system and user scopes, encrypted values, TTLs, listing and deleting."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import httpx
import pytest
from support.st2cli import St2Cli, parse_properties, parse_table

pytestmark = pytest.mark.cli

CIPHERTEXT_RE = re.compile(r"^[0-9A-F]{32,}$")


def keys_listed(st2: St2Cli, *args: str) -> dict[str, dict[str, str]]:
    result = st2("key", "list", *args)
    assert result.returncode == 0, result
    return {row["name"]: row for row in parse_table(result.stdout)}


def test_set_get_list_and_delete_a_system_key(st2: St2Cli, rest: httpx.Client) -> None:
    created = st2("key", "set", "cli_system_key", "hello world")

    assert created.returncode == 0, created
    props = parse_properties(created.stdout)
    assert props == {
        "name": "cli_system_key",
        "value": "hello world",
        "scope": "st2kv.system",
        "expire_timestamp": "",
    }

    got = parse_properties(st2("key", "get", "cli_system_key").stdout)
    assert got["value"] == "hello world"
    assert got["secret"] == "False"
    assert got["encrypted"] == "False"
    assert got["scope"] == "st2kv.system"

    row = keys_listed(st2, "--prefix", "cli_system")["cli_system_key"]
    assert row["value"] == "hello world"
    assert row["scope"] == "st2kv.system"

    deleted = st2("key", "delete", "cli_system_key")
    assert deleted.returncode == 0, deleted
    assert 'Resource with id "cli_system_key" has been successfully deleted.' in deleted.stdout
    assert rest.get("/api/v1/keys/cli_system_key").status_code == 404

    missing = st2("key", "get", "cli_system_key")
    assert missing.returncode == 1, missing
    assert 'Key Value Pair "cli_system_key" is not found.' in missing.output


def test_user_scoped_keys_are_separate_from_system_keys(st2: St2Cli, rest: httpx.Client) -> None:
    created = st2("key", "set", "cli_user_key", "blue", "-s", "user")

    assert created.returncode == 0, created
    assert parse_properties(created.stdout)["scope"] == "st2kv.user"
    got = parse_properties(st2("key", "get", "cli_user_key", "-s", "user").stdout)
    assert got["value"] == "blue"
    assert got["scope"] == "st2kv.user"
    row = keys_listed(st2, "-s", "user", "--prefix", "cli_user")["cli_user_key"]
    assert row["user"] == st2.server.username
    doc = rest.get("/api/v1/keys/cli_user_key", params={"scope": "st2kv.user"}).json()
    assert doc["uid"] == f"key_value_pair:st2kv.user:{st2.server.username}:cli_user_key"

    # Not visible in the system scope.
    assert st2("key", "get", "cli_user_key").returncode == 1

    deleted = st2("key", "delete", "cli_user_key", "-s", "user")
    assert deleted.returncode == 0, deleted
    assert rest.get("/api/v1/keys/cli_user_key", params={"scope": "st2kv.user"}).status_code == 404


def test_encrypted_values_are_shown_only_when_decrypted(st2: St2Cli) -> None:
    created = st2("key", "set", "cli_secret_key", "SuperSecret123", "--encrypt")

    assert created.returncode == 0, created
    shown = parse_properties(created.stdout)["value"].replace(" ", "")
    assert CIPHERTEXT_RE.match(shown), created
    assert "SuperSecret123" not in created.stdout

    got = parse_properties(st2("key", "get", "cli_secret_key").stdout)
    assert CIPHERTEXT_RE.match(got["value"].replace(" ", ""))
    assert got["secret"] == "True"
    assert got["encrypted"] == "True"

    decrypted = parse_properties(st2("key", "get", "cli_secret_key", "-d").stdout)
    assert decrypted["value"] == "SuperSecret123"
    assert decrypted["secret"] == "True"
    assert decrypted["encrypted"] == "False"

    assert keys_listed(st2, "--prefix", "cli_secret")["cli_secret_key"]["value"] != "SuperSecret123"
    assert keys_listed(st2, "--prefix", "cli_secret", "-d")["cli_secret_key"]["value"] == "SuperSecret123"


def test_key_with_a_ttl_gets_an_expiry(st2: St2Cli, rest: httpx.Client) -> None:
    created = st2("key", "set", "cli_ttl_key", "soon gone", "--ttl", "3600")

    assert created.returncode == 0, created
    assert parse_properties(created.stdout)["expire_timestamp"], created
    doc = rest.get("/api/v1/keys/cli_ttl_key").json()
    expires = datetime.strptime(doc["expire_timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    seconds_left = (expires - datetime.now(timezone.utc)).total_seconds()
    assert 3600 - 300 < seconds_left <= 3600
