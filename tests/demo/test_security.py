"""The demo server is safe by default (issue 16): on a shared machine and against a browser on it.

It runs real shell actions (`core.local`) as the user who started it, so its door is the machine's
door. Each attack seen on the old server has a test here: the well-known password, DNS rebinding (a
web page whose name resolves to 127.0.0.1 sends its own `Host`), CORS with credentials for origins
nobody asked for, a world-readable database with live tokens in it. And a walk of every route of the
app (enumerated from the Starlette app, so new routes are covered) without credentials, with a
foreign `Host`, and as a user without roles under RBAC, expecting a refusal from each.
"""

from __future__ import annotations

import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from support.rest import issue_token, wait_until

from st2tui.demo.server import DemoServer, RunningServer, password_file, start_in_thread

FOREIGN_HOST = "evil.example:9101"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _token(server: RunningServer, user: str, password: str) -> str:
    response = httpx.post(f"{server.auth_url}/tokens", auth=(user, password), json={}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["token"]


# -- 1. no well-known password ---------------------------------------------------------------------


def test_the_well_known_password_is_refused_and_each_database_gets_its_own(tmp_path: Path) -> None:
    first = start_in_thread(DemoServer(tmp_path / "one" / "st2.sqlite", seed=False, timers=False))
    try:
        refused = httpx.post(f"{first.auth_url}/tokens", auth=("st2admin", "Ch@ngeMe"), json={}, timeout=10)
        assert refused.status_code == 401
        assert first.username == "st2admin" and first.password != "Ch@ngeMe"
        assert len(first.password) >= 20
        _token(first, "st2admin", first.password)
        kept = password_file(first.db_path)
        assert kept.read_text().strip() == first.password
        assert _mode(kept) == 0o600
    finally:
        first.stop()
    # The same database keeps its password across restarts; another database has another.
    again = DemoServer(tmp_path / "one" / "st2.sqlite", seed=False, timers=False)
    other = DemoServer(tmp_path / "two" / "st2.sqlite", seed=False, timers=False)
    assert again.users == {"st2admin": first.password}
    assert other.users["st2admin"] != first.password
    again.db.close()
    other.db.close()


def test_explicit_users_replace_the_generated_password(tmp_path: Path) -> None:
    server = DemoServer(tmp_path / "st2.sqlite", users={"ops": "ops-pass"}, seed=False, timers=False)
    assert server.users == {"ops": "ops-pass"}
    assert server.password_path is None and not password_file(tmp_path / "st2.sqlite").exists()
    server.db.close()


# -- 2. DNS rebinding: a foreign Host is refused before anything runs -----------------------------


def test_a_foreign_host_can_neither_sign_in_nor_run_a_command(
    fresh_server: RunningServer, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    rebinding = {"Host": FOREIGN_HOST, "Origin": f"http://{FOREIGN_HOST}"}
    signed_in = httpx.post(
        f"{fresh_server.auth_url}/tokens",
        auth=(fresh_server.username, fresh_server.password),
        json={},
        headers=rebinding,
        timeout=10,
    )
    assert signed_in.status_code == 400
    assert signed_in.json() == {"faultstring": "Invalid host header"}
    assert "x-api-url" not in signed_in.headers and "access-control-allow-origin" not in signed_in.headers

    # Even holding a token (the page cannot read one, but say it could), nothing runs.
    token = issue_token(fresh_server)
    with httpx.Client(base_url=fresh_server.base_url, headers={"X-Auth-Token": token}, timeout=10) as client:
        before = client.get("/api/v1/executions", params={"limit": 1}).headers["x-total-count"]
        ran = client.post(
            "/api/v1/executions",
            json={"action": "core.local", "parameters": {"cmd": f"id > {marker}"}},
            headers=rebinding,
        )
        assert ran.status_code == 400
        streamed = client.get("/stream/v1/stream", headers=rebinding)
        assert streamed.status_code == 400
        # A run from the right host goes through and ends, so a refused one would have ended by now too.
        ok = client.post("/api/v1/executions", json={"action": "core.local", "parameters": {"cmd": "true"}})
        assert ok.status_code == 201
        wait_until(
            lambda: client.get(f"/api/v1/executions/{ok.json()['id']}").json()["status"] == "succeeded",
            message="the allowed run",
        )
        after = client.get("/api/v1/executions", params={"limit": 1}).headers["x-total-count"]
    assert int(after) == int(before) + 1
    assert not marker.exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST.", "[::1]"])
def test_loopback_names_are_served_with_or_without_the_port(st2_server: RunningServer, host: str) -> None:
    token = issue_token(st2_server)
    for value in (host, f"{host}:{st2_server.port}"):
        response = httpx.get(
            f"{st2_server.api_url}/user", headers={"Host": value, "X-Auth-Token": token}, timeout=10
        )
        assert response.status_code == 200, (value, response.text)


def test_x_api_url_names_the_bound_address_never_the_request_host(st2_server: RunningServer) -> None:
    response = httpx.post(
        f"{st2_server.auth_url}/tokens",
        auth=(st2_server.username, st2_server.password),
        json={},
        headers={"Host": f"localhost:{st2_server.port}"},
        timeout=10,
    )
    assert response.status_code == 201
    assert response.headers["x-api-url"] == f"http://127.0.0.1:{st2_server.port}/api"


# -- 3. CORS: none unless asked -------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["http://localhost", "http://127.0.0.1:3000", "http://evil.example"])
def test_no_cors_headers_by_default(st2_server: RunningServer, origin: str) -> None:
    token = issue_token(st2_server)
    response = httpx.get(f"{st2_server.api_url}/user", headers={"Origin": origin, "X-Auth-Token": token})
    assert response.status_code == 200
    assert not [name for name in response.headers if name.startswith("access-control-")]

    preflight = httpx.options(
        f"{st2_server.api_url}/executions",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 404
    assert not [name for name in preflight.headers if name.startswith("access-control-")]


def test_cors_goes_to_the_origins_asked_for_only(tmp_path: Path) -> None:
    asked = "http://127.0.0.1:3000"
    running = start_in_thread(
        DemoServer(tmp_path / "st2.sqlite", seed=False, timers=False, allow_origins=[asked])
    )
    try:
        token = issue_token(running)
        allowed = httpx.get(f"{running.api_url}/user", headers={"Origin": asked, "X-Auth-Token": token})
        assert allowed.headers["access-control-allow-origin"] == asked
        assert allowed.headers["access-control-allow-credentials"] == "true"
        preflight = httpx.options(
            f"{running.api_url}/executions",
            headers={"Origin": asked, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200
        for other in ("http://localhost", "http://evil.example", "null"):
            response = httpx.get(f"{running.api_url}/user", headers={"Origin": other, "X-Auth-Token": token})
            assert not [name for name in response.headers if name.startswith("access-control-")], other
            assert (
                httpx.options(f"{running.api_url}/executions", headers={"Origin": other}).status_code == 404
            )
    finally:
        running.stop()


# -- 4. the database: owner-only files, no usable token in it -------------------------------------


def test_the_data_directory_database_and_side_files_are_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "made" / "st2.sqlite"
    running = start_in_thread(DemoServer(db, timers=False, history=5))
    try:
        issue_token(running)  # writes: the -wal and -shm files exist now
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), password_file(db)]
        assert all(path.exists() for path in files)
        assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}
        assert _mode(db.parent) == 0o700
    finally:
        running.stop()


def test_a_world_readable_database_left_by_an_older_version_is_narrowed(tmp_path: Path) -> None:
    db = tmp_path / "st2.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE old (x)").connection.close()
    db.chmod(0o644)
    server = DemoServer(db, seed=False, timers=False)
    assert _mode(db) == 0o600
    server.db.close()


def test_the_database_holds_no_token_that_signs_in(tmp_path: Path) -> None:
    db = tmp_path / "st2.sqlite"
    running = start_in_thread(DemoServer(db, seed=False, timers=False))
    try:
        token = issue_token(running)
        stored = [tuple(row) for row in sqlite3.connect(db).execute("SELECT token, doc FROM tokens")]
        raw = b"".join(Path(f"{db}{suffix}").read_bytes() for suffix in ("", "-wal"))
        assert stored and token.encode() not in raw
        for key, _doc in stored:
            refused = httpx.get(f"{running.api_url}/user", headers={"X-Auth-Token": key}, timeout=10)
            assert refused.status_code == 401
        assert httpx.get(f"{running.api_url}/user", headers={"X-Auth-Token": token}).status_code == 200
    finally:
        running.stop()


# -- 5. every route refuses without credentials, with a foreign Host, and without roles -----------

# Routes a signed-in user without roles may use under RBAC, as st2 serves them (the reason each):
OPEN_TO_EVERY_USER = {
    ("GET", "/api/v1"): "the API root: st2 declares no permission on it",
    ("GET", "/api/v1/"): "the API root: st2 declares no permission on it",
    ("POST", "/auth/v1/tokens"): "signing in with the user's own password (basic auth)",
    ("POST", "/auth/v1/tokens/validate"): "st2 checks only that the caller is signed in",
    ("GET", "/api/v1/user"): "who am I",
    ("GET", "/api/v1/keys"): "lists the user's own user-scope keys only (checked below)",
    ("GET", "/api/v1/triggertypes"): "st2 declares no permission on trigger types",
    ("GET", "/api/v1/triggertypes/{ref_or_id}"): "st2 declares no permission on trigger types",
    ("GET", "/api/v1/triggers"): "st2 declares no permission on triggers",
    ("GET", "/api/v1/triggers/{id}"): "st2 declares no permission on triggers",
    ("GET", "/api/v1/triggerinstances"): "st2 declares no permission on trigger instances",
    ("GET", "/api/v1/triggerinstances/{id}"): "st2 declares no permission on trigger instances",
    # st2's ActionExecutionRawResultController.get checks no permission (every other execution
    # route checks execution_view); the demo answers as st2 does.
    ("GET", "/api/v1/executions/{id}/result"): "st2 checks no permission on an execution's raw result",
    ("GET", "/api/v1/actionexecutions/{id}/result"): "st2 checks no permission on an execution's raw result",
}
# A key named in the request is the user's own unless a system scope is asked for: the walk asks it.
SYSTEM_SCOPE = {"scope": "st2kv.system"}
RUN = {"action": "core.local", "parameters": {"cmd": "true"}}
RULE = {
    "name": "walked",
    "pack": "examples",
    "trigger": {"type": "core.st2.webhook", "parameters": {"url": "walked"}},
    "action": {"ref": "core.local", "parameters": {"cmd": "true"}},
    "criteria": {},
    "enabled": True,
}


def _body(method: str, path: str, ids: dict) -> dict:
    """A valid body for each write (st2 validates a body before it checks permissions)."""
    if method == "POST" and path.endswith("executions"):
        return RUN
    if (method, path) == ("POST", "/api/v1/rules"):
        return RULE
    if (method, path) == ("PUT", "/api/v1/rules/{ref_or_id}"):
        return ids["rule_doc"]
    if (method, path) == ("PUT", "/api/v1/inquiries/{inquiry_id}"):
        return {"id": ids["inquiries"], "response": {"continue": True}}
    if (method, path) == ("PUT", "/api/v1/keys/{name}"):
        return {"name": ids["keys"], "value": "walked", "scope": "st2kv.system"}
    return {}


def _all_routes(server: RunningServer) -> list[tuple[str, str]]:
    app = server.server.build_app()
    while not isinstance(app, Starlette):
        app = app.app
    return sorted(
        (method, route.path) for route in app.routes for method in route.methods if method != "HEAD"
    )


@pytest.fixture(scope="module")
def rbac_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_in_thread(
        DemoServer(
            tmp_path_factory.mktemp("walk") / "st2.sqlite",
            users={"admin": "admin-pass", "nobody": "nobody-pass"},
            roles={"admin": ["admin"]},
            timers=False,
            history=40,
        )
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def real_ids(rbac_server: RunningServer) -> dict[str, str]:
    """An existing object for each collection, so refusals under RBAC are not just 404s."""
    token = _token(rbac_server, "admin", "admin-pass")
    with httpx.Client(base_url=rbac_server.base_url, headers={"X-Auth-Token": token}, timeout=15) as client:
        assert client.post("/api/v1/webhooks/sample", json={"name": "walk"}).status_code == 202
        asked = client.post("/api/v1/executions", json={"action": "core.ask", "parameters": {}}).json()
        wait_until(
            lambda: client.get(f"/api/v1/executions/{asked['id']}").json()["status"] == "pending",
            message="the inquiry",
        )
        enforcement = wait_until(lambda: client.get("/api/v1/ruleenforcements").json(), message="enforcement")
        execution = client.get("/api/v1/executions", params={"limit": 1}).json()[0]
        rule = client.get("/api/v1/rules/examples.sample_rule_with_webhook").json()
        return {
            "rule_doc": {**{k: v for k, v in rule.items() if k != "ref"}, "enabled": False},
            "apikeys": client.post("/api/v1/apikeys", json={}).json()["id"],
            "actions": "core.local",
            "runnertypes": "local-shell-cmd",
            "packs": "core",
            "keys": "os_version",
            "rules": "examples.sample_rule_with_webhook",
            "ruleenforcements": enforcement[0]["id"],
            "triggertypes": "core.st2.webhook",
            "triggers": client.get("/api/v1/triggers").json()[0]["id"],
            "triggerinstances": client.get("/api/v1/triggerinstances").json()[0]["id"],
            "webhooks": "sample",
            "inquiries": asked["id"],
            "executions": execution["id"],
            "actionexecutions": execution["id"],
            "stream": execution["id"],
            "attribute": "status",
        }


def _fill(path: str, ids: dict[str, str]) -> str:
    parts = [*path.split("/"), ""]
    collection = "stream" if parts[1] == "stream" else parts[3]
    return re.sub(
        r"\{([^}:]+)(:[^}]*)?\}",
        lambda m: ids["attribute"] if m.group(1) == "attribute" else ids[collection],
        path,
    )


def _status(method: str, url: str, headers: dict[str, str], body=None, **kwargs) -> httpx.Response:
    """Only the status and headers: an event stream that opened would never end."""
    sent = {"json": body or {}} if method in ("POST", "PUT") else {}
    with httpx.Client(timeout=10) as client:
        with client.stream(method, url, headers=headers, **sent, **kwargs) as response:
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                response.read()
            return response


def test_the_walk_covers_every_route(rbac_server: RunningServer) -> None:
    routes = _all_routes(rbac_server)
    assert len(routes) > 60
    assert ("POST", "/api/v1/executions") in routes and ("GET", "/stream/v1/stream") in routes
    assert set(OPEN_TO_EVERY_USER) <= set(routes)


def test_every_route_refuses_without_credentials(rbac_server: RunningServer, real_ids) -> None:
    answers = {
        route: _status(
            route[0], rbac_server.base_url + _fill(route[1], real_ids), {}, _body(*route, real_ids)
        ).status_code
        for route in _all_routes(rbac_server)
    }
    assert {route: status for route, status in answers.items() if status != 401} == {}


def test_every_route_refuses_a_foreign_host_even_with_an_admin_token(
    rbac_server: RunningServer, real_ids
) -> None:
    headers = {"Host": FOREIGN_HOST, "X-Auth-Token": _token(rbac_server, "admin", "admin-pass")}
    answers = {
        route: _status(
            route[0], rbac_server.base_url + _fill(route[1], real_ids), headers, _body(*route, real_ids)
        ).status_code
        for route in _all_routes(rbac_server)
    }
    assert {route: status for route, status in answers.items() if status != 400} == {}


def test_every_route_refuses_a_user_without_roles(rbac_server: RunningServer, real_ids) -> None:
    headers = {"X-Auth-Token": _token(rbac_server, "nobody", "nobody-pass")}
    answers = {}
    for method, path in _all_routes(rbac_server):
        if (method, path) in OPEN_TO_EVERY_USER:
            continue
        params = SYSTEM_SCOPE if path.startswith("/api/v1/keys/") else None
        url = rbac_server.base_url + _fill(path, real_ids)
        response = _status(method, url, headers, _body(method, path, real_ids), params=params)
        answers[(method, path)] = response.status_code
    assert {route: status for route, status in answers.items() if status != 403} == {}

    keys = httpx.get(f"{rbac_server.api_url}/keys", headers=headers, timeout=10).json()
    assert [key for key in keys if key["scope"] != "st2kv.user"] == []
