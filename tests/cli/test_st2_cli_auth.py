"""The real `st2` CLI signs in to the embedded server: login (token cache, config), auth, whoami, API keys."""

from __future__ import annotations

import configparser
import hashlib
import json
import re
import time
from pathlib import Path

import httpx
import pytest
from support.st2cli import St2Cli, parse_properties, parse_table

from st2tui.demo.server import RunningServer

pytestmark = pytest.mark.cli

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def bare_cli(st2_binary: str, server: RunningServer, home: Path) -> St2Cli:
    """A CLI whose HOME has no config: nothing signs it in unless the test does."""
    return St2Cli(st2_binary, server, home, credentials=False)


def test_login_caches_the_token_and_writes_the_username_to_the_config(
    st2_binary: str, cli_server: RunningServer, tmp_path: Path
) -> None:
    cli = bare_cli(st2_binary, cli_server, tmp_path)

    result = cli("login", cli_server.username, "-p", cli_server.password)

    assert result.returncode == 0, result
    assert f"Logged in as {cli_server.username}" in result.stdout
    cache = json.loads((tmp_path / ".st2" / f"token-{cli_server.username}").read_text())
    assert TOKEN_RE.match(cache["token"]), cache
    # expire_timestamp is whole Unix seconds from the token's `expiry` (default TTL one day).
    assert isinstance(cache["expire_timestamp"], int)
    assert 86400 - 300 < cache["expire_timestamp"] - time.time() <= 86400
    config = configparser.ConfigParser()
    config.read(tmp_path / ".st2" / "config")
    assert config.get("credentials", "username") == cli_server.username
    assert not config.has_option("credentials", "password")

    user = httpx.get(f"{cli_server.api_url}/user", headers={"X-Auth-Token": cache["token"]}, timeout=10)
    assert user.status_code == 200
    assert user.json()["username"] == cli_server.username

    # The next command uses the cached token (no password is stored anywhere).
    whoami = cli("whoami")
    assert whoami.returncode == 0, whoami
    assert f'Currently logged in as "{cli_server.username}".' in whoami.stdout
    assert "Authentication method: authentication token" in whoami.stdout
    assert re.search(r"Authentication token expire time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", whoami.stdout)
    assert " - Enabled: False" in whoami.stdout


def test_login_with_a_ttl_gets_a_token_of_that_lifetime(
    st2_binary: str, cli_server: RunningServer, tmp_path: Path
) -> None:
    cli = bare_cli(st2_binary, cli_server, tmp_path)

    result = cli("login", cli_server.username, "-p", cli_server.password, "-l", "600")

    assert result.returncode == 0, result
    cache = json.loads((tmp_path / ".st2" / f"token-{cli_server.username}").read_text())
    assert 600 - 300 < cache["expire_timestamp"] - time.time() <= 600


def test_login_with_a_wrong_password_fails_with_the_servers_message(
    st2_binary: str, cli_server: RunningServer, tmp_path: Path
) -> None:
    cli = bare_cli(st2_binary, cli_server, tmp_path)

    result = cli("login", cli_server.username, "-p", "not-the-password")

    assert result.returncode == 1, result
    assert f"Failed to log in as {cli_server.username}" in result.output
    assert "401 Client Error" in result.output
    assert "MESSAGE: Invalid or missing credentials" in result.output
    assert not (tmp_path / ".st2" / f"token-{cli_server.username}").exists()


def test_auth_prints_the_token_without_caching_it(
    st2_binary: str, cli_server: RunningServer, tmp_path: Path
) -> None:
    cli = bare_cli(st2_binary, cli_server, tmp_path)

    result = cli("auth", cli_server.username, "-p", cli_server.password)

    assert result.returncode == 0, result
    props = parse_properties(result.stdout)
    assert props["user"] == cli_server.username
    assert TOKEN_RE.match(props["token"]), result
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", props["expiry"]), result
    assert not (tmp_path / ".st2" / f"token-{cli_server.username}").exists()

    only_token = cli("auth", cli_server.username, "-p", cli_server.password, "-t")
    assert only_token.returncode == 0, only_token
    assert TOKEN_RE.match(only_token.stdout.strip()), only_token
    user = httpx.get(
        f"{cli_server.api_url}/user", headers={"X-Auth-Token": only_token.stdout.strip()}, timeout=10
    )
    assert user.status_code == 200


def test_commands_without_credentials_report_the_servers_401(
    st2_binary: str, cli_server: RunningServer, tmp_path: Path
) -> None:
    cli = bare_cli(st2_binary, cli_server, tmp_path)

    result = cli("action", "list")

    assert result.returncode == 1, result
    assert "401 Client Error" in result.output
    assert "MESSAGE: Unauthorized - One of Token or API key required." in result.output

    # st2client tests `if response and ...` on the 401 response, which is falsy (`not response.ok`), so
    # it prints its generic message rather than "Not authenticated".
    whoami = cli("whoami")
    assert "Unable to retrieve currently logged-in user" in whoami.output


def test_bad_token_in_the_environment_is_refused(
    st2_binary: str, cli_server: RunningServer, tmp_path: Path
) -> None:
    cli = bare_cli(st2_binary, cli_server, tmp_path)

    result = cli("action", "list", env={"ST2_AUTH_TOKEN": "0" * 32})

    assert result.returncode == 1, result
    assert "401 Client Error" in result.output


def test_apikey_create_list_and_use(
    st2: St2Cli, st2_binary: str, cli_server: RunningServer, tmp_path: Path
) -> None:
    created = st2("apikey", "create", "-k", "-m", '{"purpose": "cli-conformance"}')

    assert created.returncode == 0, created
    key = created.stdout.strip()
    assert key and "\n" not in key, created

    listed = st2("apikey", "list")
    assert listed.returncode == 0, listed
    rows = parse_table(listed.stdout)
    mine = [row for row in rows if "cli-conformance" in row.get("metadata", "")]
    assert len(mine) == 1, listed
    assert mine[0]["user"] == cli_server.username
    assert re.match(r"^[0-9a-f]{24}$", mine[0]["id"]), listed

    # The key alone (no config, no token) is enough to use the API.
    cli = bare_cli(st2_binary, cli_server, tmp_path)
    actions = cli("action", "list", "-p", "core", env={"ST2_API_KEY": key})
    assert actions.returncode == 0, actions
    assert "core.local" in {row["ref"] for row in parse_table(actions.stdout)}

    refused = cli("action", "list", env={"ST2_API_KEY": "not-a-key"})
    assert refused.returncode == 1, refused
    assert "MESSAGE: Unauthorized - ApiKey with key_hash=" in refused.output


def test_api_key_documents_never_show_the_hash(st2: St2Cli) -> None:
    """Creation answers the key itself and no `key_hash`; later reads mask the hash and the uid.

    st2: `ApiKeyCreateResponseAPI.from_model` pops `key_hash`; GET goes through `ApiKeyDB.mask_secrets`
    (`key_hash` and `uid` become `********`, as `[api] mask_secrets` is on by default). The stored
    hash is st2's salted SHA-512 of the key (`st2common/util/hash.py`), which the uid embeds.
    """
    created = st2("apikey", "create", "-j")

    assert created.returncode == 0, created
    doc = json.loads(created.stdout)
    assert "key_hash" not in doc, doc
    assert doc["uid"] == "api_key:" + hashlib.sha512(b"saltnpepper" + doc["key"].encode()).hexdigest()

    got = st2("apikey", "get", doc["id"], "-j")
    assert got.returncode == 0, got
    stored = json.loads(got.stdout)
    assert stored["key_hash"] == "********"
    assert stored["uid"] == "********"
    assert "key" not in stored
