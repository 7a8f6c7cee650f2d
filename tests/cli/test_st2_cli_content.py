"""The real `st2` CLI reads the demo's content: actions, packs, runners."""

from __future__ import annotations

import json

import httpx
import pytest
from support.st2cli import St2Cli, parse_properties, parse_table

pytestmark = pytest.mark.cli


def test_action_list_shows_every_action_with_its_pack(st2: St2Cli, rest: httpx.Client) -> None:
    result = st2("action", "list")

    assert result.returncode == 0, result
    rows = parse_table(result.stdout)
    assert list(rows[0]) == ["ref", "pack", "description"], result
    refs = [row["ref"] for row in rows]
    expected = [action["ref"] for action in rest.get("/api/v1/actions").json()]
    assert sorted(refs) == sorted(expected)
    assert {"core.local", "core.echo", "examples.orquesta-sequential"} <= set(refs)
    assert all(row["ref"].startswith(row["pack"] + ".") for row in rows), result


def test_action_list_filtered_by_pack(st2: St2Cli) -> None:
    result = st2("action", "list", "-p", "core")

    assert result.returncode == 0, result
    refs = {row["ref"] for row in parse_table(result.stdout)}
    assert "core.local" in refs
    assert all(ref.startswith("core.") for ref in refs), result


def test_action_get_shows_the_action_document(st2: St2Cli) -> None:
    result = st2("action", "get", "core.local")

    assert result.returncode == 0, result
    props = parse_properties(result.stdout)
    assert props["ref"] == "core.local"
    assert props["pack"] == "core"
    assert props["name"] == "local"
    assert props["uid"] == "action:core:local"
    assert props["runner_type"] == "local-shell-cmd"
    assert '"cmd"' in props["parameters"]

    as_json = st2("action", "get", "core.local", "-j")
    assert as_json.returncode == 0, as_json
    doc = json.loads(as_json.stdout)
    assert doc["parameters"]["cmd"]["required"] is True
    assert doc["parameters"]["sudo"] == {"immutable": True}


def test_action_get_of_an_unknown_action(st2: St2Cli) -> None:
    result = st2("action", "get", "examples.does-not-exist")

    assert result.returncode == 1, result
    assert 'Action "examples.does-not-exist" is not found.' in result.output
    assert "ERROR: Resource examples.does-not-exist not found." in result.output


def test_pack_list_shows_the_installed_packs(st2: St2Cli, rest: httpx.Client) -> None:
    result = st2("pack", "list")

    assert result.returncode == 0, result
    rows = {row["ref"]: row for row in parse_table(result.stdout)}
    assert {"core", "examples"} <= set(rows), result
    for pack in rest.get("/api/v1/packs").json():
        assert rows[pack["ref"]]["version"] == pack["version"]
        assert rows[pack["ref"]]["name"] == pack["name"]


def test_runner_list_and_get(st2: St2Cli) -> None:
    listed = st2("runner", "list")

    assert listed.returncode == 0, listed
    names = {row["name"] for row in parse_table(listed.stdout)}
    assert {"local-shell-cmd", "local-shell-script", "python-script", "orquesta", "inquirer", "noop"} <= names

    got = st2("runner", "get", "local-shell-cmd")
    assert got.returncode == 0, got
    props = parse_properties(got.stdout)
    assert props["name"] == "local-shell-cmd"
    assert props["uid"] == "runner_type:local-shell-cmd"
    assert props["runner_module"] == "local_shell_command_runner"
