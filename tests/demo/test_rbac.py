"""RBAC in the embedded server: roles given to the server decide what each user may do, and a refusal
is the 403 real StackStorm (st2-rbac-backend) answers, with the permission it misses in `faultstring`.

Users of the module's server: `st2admin` (system_admin), `ops` (admin and the custom role
`approvers`), `watcher` (observer) and `nobody` (no roles).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.rest import MISSING_ID, run_action, wait_for
from support.st2cli import St2Cli

from st2tui.cli import load_users
from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

PASSWORDS = {"st2admin": "Ch@ngeMe", "ops": "ops-pass", "watcher": "watch-pass", "nobody": "no-pass"}
ROLES = {"st2admin": ["system_admin"], "ops": ["admin", "approvers"], "watcher": ["observer"]}
SEEDED_KEY = "os_version"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_in_thread(
        DemoServer(
            tmp_path_factory.mktemp("rbac") / "st2.sqlite",
            users=PASSWORDS,
            roles=ROLES,
            timers=False,
            history=20,
        )
    )
    yield running
    running.stop()


def login(server: RunningServer, user: str) -> httpx.Client:
    token = httpx.post(
        f"{server.auth_url}/tokens", auth=(user, server.server.users[user]), json={}, timeout=10
    )
    assert token.status_code == 201, token.text
    return httpx.Client(base_url=server.base_url, headers={"X-Auth-Token": token.json()["token"]}, timeout=15)


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with login(server, "st2admin") as client:
        yield client


@pytest.fixture(scope="module")
def ops(server: RunningServer) -> Iterator[httpx.Client]:
    with login(server, "ops") as client:
        yield client


@pytest.fixture(scope="module")
def watcher(server: RunningServer) -> Iterator[httpx.Client]:
    with login(server, "watcher") as client:
        yield client


@pytest.fixture(scope="module")
def nobody(server: RunningServer) -> Iterator[httpx.Client]:
    with login(server, "nobody") as client:
        yield client


@pytest.fixture(scope="module")
def finished(admin: httpx.Client) -> dict[str, Any]:
    """A finished `core.local` execution."""
    execution = run_action(admin, "core.local", {"cmd": "echo rbac"})
    return wait_for(admin, execution["id"])


def refused(response: httpx.Response, faultstring: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {"faultstring": faultstring}


def missing(user: str, permission: str, resource: str | None = None) -> str:
    message = f'User "{user}" doesn\'t have required permission "{permission}"'
    return f'{message} on resource "{resource}"' if resource else message


def total(client: httpx.Client, path: str) -> int:
    response = client.get(path, params={"limit": 1})
    assert response.status_code == 200, response.text
    return int(response.headers["X-Total-Count"])


# ---- who am I ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "roles", "is_admin"),
    [
        ("st2admin", ["system_admin"], True),
        ("ops", ["admin", "approvers"], True),
        ("watcher", ["observer"], False),
        ("nobody", [], False),
    ],
)
def test_whoami_reports_roles(server: RunningServer, user: str, roles: list[str], is_admin: bool) -> None:
    with login(server, user) as client:
        response = client.get("/api/v1/user")

    assert response.status_code == 200
    assert response.json()["rbac"] == {"enabled": True, "roles": roles, "is_admin": is_admin}


def test_without_roles_rbac_is_off_and_everyone_is_admin(st2_server: RunningServer) -> None:
    with login(st2_server, "st2admin") as client:
        assert client.get("/api/v1/user").json()["rbac"] == {"enabled": False, "roles": [], "is_admin": True}
        assert client.get("/api/v1/executions", params={"limit": -1}).status_code == 200


# ---- the observer views everything ---------------------------------------------------------------


def test_observer_reads_everything(watcher: httpx.Client, finished: dict[str, Any]) -> None:
    execution = f"/api/v1/executions/{finished['id']}"
    paths = [
        "/api/v1/executions",
        execution,
        f"{execution}/output",
        f"{execution}/children",
        f"{execution}/attribute/status",
        "/api/v1/executions/views/filters",
        "/api/v1/actions",
        "/api/v1/actions/core.local",
        "/api/v1/actions/views/parameters/core.local",
        "/api/v1/actions/views/overview",
        "/api/v1/actions/views/overview/core.local",
        "/api/v1/actions/views/entry_point/examples.deploy",
        "/api/v1/runnertypes",
        "/api/v1/runnertypes/local-shell-cmd",
        "/api/v1/packs",
        "/api/v1/packs/core",
        "/api/v1/rules",
        "/api/v1/rules/examples.sample_rule_with_webhook",
        "/api/v1/rules/views",
        "/api/v1/ruleenforcements",
        "/api/v1/triggertypes",
        "/api/v1/webhooks",
        "/api/v1/webhooks/sample",
        "/api/v1/inquiries",
        "/api/v1/apikeys",
        f"/api/v1/keys/{SEEDED_KEY}",
    ]
    failures = {path: r.status_code for path in paths if (r := watcher.get(path)).status_code != 200}
    assert failures == {}


def test_observer_lists_system_keys_and_may_decrypt_one(watcher: httpx.Client) -> None:
    names = {key["name"] for key in watcher.get("/api/v1/keys").json()}
    secret = watcher.get("/api/v1/keys/api_password", params={"decrypt": "true"})

    assert SEEDED_KEY in names
    # st2 checks only `key_value_pair_view` on a single key, which lets its viewer decrypt it.
    assert secret.status_code == 200
    assert (secret.json()["value"], secret.json()["encrypted"]) == ("SuperSecret123", False)


def test_observer_follows_the_stream(server: RunningServer, watcher: httpx.Client) -> None:
    with watcher.stream("GET", f"{server.stream_url}/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")


# ---- the observer changes nothing ---------------------------------------------------------------


def test_observer_cannot_run_an_action(admin: httpx.Client, watcher: httpx.Client) -> None:
    before = total(admin, "/api/v1/executions")

    response = watcher.post(
        "/api/v1/executions", json={"action": "core.local", "parameters": {"cmd": "true"}}
    )

    refused(response, missing("watcher", "action_execute", "action:core:local"))
    assert total(admin, "/api/v1/executions") == before


def test_an_unknown_action_is_still_a_400(watcher: httpx.Client) -> None:
    response = watcher.post("/api/v1/executions", json={"action": "core.nope"})

    assert response.status_code == 400
    assert response.json() == {"faultstring": 'Action "core.nope" cannot be found.'}


def test_observer_cannot_stop_pause_or_re_run(
    admin: httpx.Client, watcher: httpx.Client, finished: dict[str, Any]
) -> None:
    execution_id = finished["id"]
    before = total(admin, "/api/v1/executions")

    cancel = watcher.delete(f"/api/v1/executions/{execution_id}")
    pause = watcher.put(f"/api/v1/executions/{execution_id}", json={"status": "pausing"})
    re_run = watcher.post(f"/api/v1/executions/{execution_id}/re_run", json={})

    refused(cancel, missing("watcher", "execution_stop", f"execution:{execution_id}"))
    refused(pause, missing("watcher", "execution_stop", f"execution:{execution_id}"))
    refused(re_run, missing("watcher", "action_execute", "action:core:local"))
    assert admin.get(f"/api/v1/executions/{execution_id}").json()["status"] == finished["status"]
    assert total(admin, "/api/v1/executions") == before


def test_a_missing_execution_is_still_a_404(watcher: httpx.Client) -> None:
    assert watcher.delete(f"/api/v1/executions/{MISSING_ID}").status_code == 404


def rule_body(admin: httpx.Client, ref: str) -> dict[str, Any]:
    rule = admin.get(f"/api/v1/rules/{ref}").json()
    return {k: v for k, v in rule.items() if k not in ("id", "uid", "ref")}


def test_observer_cannot_create_change_or_delete_rules(admin: httpx.Client, watcher: httpx.Client) -> None:
    ref = "examples.sample_rule_with_webhook"
    rule = admin.get(f"/api/v1/rules/{ref}").json()
    new = {**rule_body(admin, ref), "name": "rbac_new_rule"}

    create = watcher.post("/api/v1/rules", json=new)
    disable = watcher.put(f"/api/v1/rules/{rule['id']}", json={**rule_body(admin, ref), "enabled": False})
    delete = watcher.delete(f"/api/v1/rules/{ref}")

    refused(create, missing("watcher", "rule_create", "rule:examples:rbac_new_rule"))
    refused(disable, missing("watcher", "rule_modify", "rule:examples:sample_rule_with_webhook"))
    refused(delete, missing("watcher", "rule_delete", "rule:examples:sample_rule_with_webhook"))
    assert admin.get("/api/v1/rules/examples.rbac_new_rule").status_code == 404
    assert admin.get(f"/api/v1/rules/{ref}").json() == rule


def test_observer_cannot_set_or_delete_system_keys(admin: httpx.Client, watcher: httpx.Client) -> None:
    seeded = admin.get(f"/api/v1/keys/{SEEDED_KEY}").json()

    create = watcher.put("/api/v1/keys/rbac_new_key", json={"name": "rbac_new_key", "value": "x"})
    change = watcher.put(f"/api/v1/keys/{SEEDED_KEY}", json={"name": SEEDED_KEY, "value": "changed"})
    delete = watcher.delete(f"/api/v1/keys/{SEEDED_KEY}")

    refused(create, missing("watcher", "key_value_pair_set", "key_value_pair:st2kv.system:rbac_new_key"))
    refused(change, missing("watcher", "key_value_pair_set", f"key_value_pair:st2kv.system:{SEEDED_KEY}"))
    refused(delete, missing("watcher", "key_value_pair_delete", f"key_value_pair:st2kv.system:{SEEDED_KEY}"))
    assert admin.get("/api/v1/keys/rbac_new_key").status_code == 404
    assert admin.get(f"/api/v1/keys/{SEEDED_KEY}").json() == seeded


def test_observer_keeps_their_own_user_keys(watcher: httpx.Client) -> None:
    created = watcher.put(
        "/api/v1/keys/watch_note", json={"name": "watch_note", "value": "mine", "scope": "user"}
    )
    listed = watcher.get("/api/v1/keys", params={"scope": "user", "decrypt": "true"})
    deleted = watcher.delete("/api/v1/keys/watch_note", params={"scope": "user"})

    assert created.status_code == 200
    assert created.json()["uid"] == "key_value_pair:st2kv.user:watcher:watch_note"
    assert [key["name"] for key in listed.json()] == ["watch_note"]
    assert deleted.status_code == 204


def test_admin_only_key_options(watcher: httpx.Client) -> None:
    decrypt_all = watcher.get("/api/v1/keys", params={"decrypt": "true"})
    other_user = watcher.get("/api/v1/keys", params={"user": "ops"})
    pre_encrypted = watcher.put(
        "/api/v1/keys/watch_secret",
        json={"name": "watch_secret", "value": "00AA", "scope": "user", "encrypted": True},
    )

    refused(decrypt_all, "Decrypt option requires administrator access")
    refused(other_user, '"user" attribute can only be provided by admins')
    refused(pre_encrypted, "Pre-encrypted option requires administrator access")


def test_admin_manages_another_users_keys(admin: httpx.Client, watcher: httpx.Client) -> None:
    given = admin.put(
        "/api/v1/keys/handed_over",
        json={"name": "handed_over", "value": "from admin", "scope": "user", "user": "watcher"},
    )
    seen = watcher.get("/api/v1/keys/handed_over", params={"scope": "user"})
    removed = admin.delete("/api/v1/keys/handed_over", params={"scope": "user", "user": "watcher"})

    assert given.status_code == 200, given.text
    assert seen.json()["value"] == "from admin"
    assert removed.status_code == 204


def test_observer_cannot_respond_to_an_inquiry(admin: httpx.Client, watcher: httpx.Client) -> None:
    asked = run_action(admin, "core.ask")
    wait_for(admin, asked["id"], {"pending"})

    response = watcher.put(
        f"/api/v1/inquiries/{asked['id']}", json={"id": asked["id"], "response": {"continue": True}}
    )

    refused(response, missing("watcher", "inquiry_respond"))
    assert admin.get(f"/api/v1/executions/{asked['id']}").json()["status"] == "pending"


def test_inquiry_roles_need_one_of_the_users_roles(admin: httpx.Client, ops: httpx.Client) -> None:
    asked = run_action(admin, "core.ask", {"roles": ["approvers"]})
    wait_for(admin, asked["id"], {"pending"})
    answer = {"id": asked["id"], "response": {"continue": True}}

    by_admin_without_the_role = admin.put(f"/api/v1/inquiries/{asked['id']}", json=answer)
    by_approver = ops.put(f"/api/v1/inquiries/{asked['id']}", json=answer)

    refused(
        by_admin_without_the_role,
        f'User "st2admin" does not have permission to respond to inquiry "{asked["id"]}".',
    )
    assert by_approver.status_code == 200, by_approver.text
    assert wait_for(admin, asked["id"])["status"] == "succeeded"


def test_observer_cannot_call_a_webhook(admin: httpx.Client, watcher: httpx.Client) -> None:
    before = total(admin, "/api/v1/triggerinstances")

    response = watcher.post("/api/v1/webhooks/sample", json={"name": "st2"})

    refused(response, missing("watcher", "webhook_send", "webhook:sample"))
    assert total(admin, "/api/v1/triggerinstances") == before


def test_observer_cannot_manage_api_keys(admin: httpx.Client, watcher: httpx.Client) -> None:
    created = admin.post("/api/v1/apikeys", json={"metadata": {"purpose": "rbac"}})
    assert created.status_code == 201, created.text
    key_id = created.json()["id"]
    key_hash = hashlib.sha512(b"saltnpepper" + created.json()["key"].encode()).hexdigest()
    before = total(admin, "/api/v1/apikeys")

    create = watcher.post("/api/v1/apikeys", json={})
    disable = watcher.put(f"/api/v1/apikeys/{key_id}", json={"enabled": False})
    delete = watcher.delete(f"/api/v1/apikeys/{key_id}")

    refused(create, missing("watcher", "api_key_create"))
    refused(disable, missing("watcher", "api_key_modify", f"api_key:{key_hash}"))
    refused(delete, missing("watcher", "api_key_delete", f"api_key:{key_hash}"))
    assert total(admin, "/api/v1/apikeys") == before
    assert admin.get(f"/api/v1/apikeys/{key_id}").json()["enabled"] is True


def test_show_secrets_only_unmasks_for_admins(admin: httpx.Client, watcher: httpx.Client) -> None:
    as_observer = watcher.get("/api/v1/apikeys", params={"show_secrets": "true"}).json()
    as_admin = admin.get("/api/v1/apikeys", params={"show_secrets": "true"}).json()

    assert as_observer and {key["key_hash"] for key in as_observer} == {"********"}
    assert as_admin and "********" not in {key["key_hash"] for key in as_admin}


def test_page_size_limits_are_for_admins(admin: httpx.Client, watcher: httpx.Client) -> None:
    refused(
        watcher.get("/api/v1/executions", params={"limit": -1}),
        "Administrator access required to be able to specify limit=-1 and retrieve all the records",
    )
    refused(
        watcher.get("/api/v1/actions", params={"limit": 101}), 'Limit "101" specified, maximum value is "100"'
    )
    assert watcher.get("/api/v1/executions", params={"limit": 100}).status_code == 200
    assert admin.get("/api/v1/executions", params={"limit": -1}).status_code == 200
    assert admin.get("/api/v1/executions", params={"limit": 500}).status_code == 200


# ---- admins do everything; a user without roles nothing ---------------------------------------


def test_admin_runs_and_changes(ops: httpx.Client) -> None:
    execution = run_action(ops, "core.local", {"cmd": "echo by ops"})
    rule = ops.get("/api/v1/rules/examples.every-minute").json()
    body = {k: v for k, v in rule.items() if k not in ("id", "uid", "ref")}

    toggled = ops.put(f"/api/v1/rules/{rule['id']}", json={**body, "enabled": not rule["enabled"]})
    restored = ops.put(f"/api/v1/rules/{rule['id']}", json=body)

    assert wait_for(ops, execution["id"])["status"] == "succeeded"
    assert execution["context"]["user"] == "ops"
    assert toggled.status_code == 200 and toggled.json()["enabled"] is not rule["enabled"]
    assert restored.status_code == 200


@pytest.mark.parametrize(
    ("path", "permission"),
    [
        ("/api/v1/executions", "execution_list"),
        ("/api/v1/executions/views/filters", "execution_views_filters_list"),
        ("/api/v1/actions", "action_list"),
        ("/api/v1/actions/views/overview", "action_list"),
        ("/api/v1/runnertypes", "runner_type_list"),
        ("/api/v1/packs", "pack_list"),
        ("/api/v1/rules", "rule_list"),
        ("/api/v1/ruleenforcements", "rule_enforcement_list"),
        ("/api/v1/webhooks", "webhook_list"),
        ("/api/v1/inquiries", "inquiry_list"),
        ("/api/v1/apikeys", "api_key_list"),
        ("/stream/v1/stream", "stream_view"),
    ],
)
def test_user_without_roles_cannot_list(nobody: httpx.Client, path: str, permission: str) -> None:
    # The list permission comes first, as st2's router checks it before the query parameters.
    refused(nobody.get(path, params={"limit": "x"}), missing("nobody", permission))


def test_user_without_roles_cannot_view_one(nobody: httpx.Client, finished: dict[str, Any]) -> None:
    refused(nobody.get("/api/v1/actions/core.local"), missing("nobody", "action_view", "action:core:local"))
    refused(
        nobody.get(f"/api/v1/executions/{finished['id']}"),
        missing("nobody", "execution_view", f"execution:{finished['id']}"),
    )
    refused(
        nobody.get(f"/api/v1/keys/{SEEDED_KEY}"),
        missing("nobody", "key_value_pair_view", f"key_value_pair:st2kv.system:{SEEDED_KEY}"),
    )


def test_user_without_roles_still_signs_in_and_keeps_own_keys(nobody: httpx.Client) -> None:
    created = nobody.put("/api/v1/keys/scratch", json={"name": "scratch", "value": "v", "scope": "user"})
    # The key list needs no permission (everyone has their own keys), but lists no system keys.
    listed = nobody.get("/api/v1/keys", params={"scope": "all"})

    assert nobody.get("/api/v1/user").status_code == 200
    assert created.status_code == 200
    assert listed.status_code == 200
    assert [(key["scope"], key["name"]) for key in listed.json()] == [("st2kv.user", "scratch")]


# ---- the real st2 CLI --------------------------------------------------------------------------


def test_st2_cli_prints_the_missing_permission(st2_cli: str, server: RunningServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".st2").mkdir(parents=True)
    (home / ".st2" / "config").write_text("[credentials]\nusername = watcher\npassword = watch-pass\n")
    st2 = St2Cli(st2_cli, server, home, credentials=False)

    result = st2("run", "core.local", "cmd=true")

    assert result.returncode != 0, result
    assert "ERROR: 403 Client Error: Forbidden" in result.output, result
    assert (
        'MESSAGE: User "watcher" doesn\'t have required permission "action_execute" on resource '
        f'"action:core:local" for url: {server.api_url}/executions'
    ) in result.output, result


# ---- the users file of `st2tui demo-server --users` -------------------------------------------


def test_users_file_without_roles_keeps_rbac_off(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    path.write_text("st2admin: Ch@ngeMe\nops: s3cret\n")

    assert load_users(str(path)) == ({"st2admin": "Ch@ngeMe", "ops": "s3cret"}, None)


def test_users_file_with_roles_turns_rbac_on(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(
        "st2admin: {password: Ch@ngeMe, roles: [system_admin]}\n"
        "alice:\n  password: a-pass\n  roles: [observer]\n"
        "bob: b-pass\n"
    )

    users, roles = load_users(str(path))

    assert users == {"st2admin": "Ch@ngeMe", "alice": "a-pass", "bob": "b-pass"}
    assert roles == {"st2admin": ["system_admin"], "alice": ["observer"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alice: {password: a, roles: observer}\n", "roles must be a list of role names"),
        ("alice: {password: a, role: [observer]}\n", "unknown setting role"),
        ("alice: {roles: [observer]}\n", "every user name and password must be a non-empty string"),
    ],
)
def test_users_file_mistakes_are_explained(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(text)

    with pytest.raises(ValueError, match=message):
        load_users(str(path))
