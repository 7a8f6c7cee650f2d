"""The command line as a user meets it: version, help, `python -m st2tui`, `st2tui demo-server`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from st2tui import __version__


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "st2tui", *args], capture_output=True, text=True, timeout=timeout
    )


def test_version_is_printed():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"st2tui {__version__}"


def test_help_lists_connection_options_and_demo():
    result = run("--help")
    assert result.returncode == 0
    for option in (
        "--demo",
        "--url",
        "--api-url",
        "--api-key",
        "--token",
        "--cacert",
        "--readonly",
        "--debug",
    ):
        assert option in result.stdout
    assert "demo-server" in result.stdout


def test_demo_server_refuses_a_non_loopback_address():
    result = run("demo-server", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr


def test_demo_server_refuses_a_users_file_without_passwords(tmp_path):
    users = tmp_path / "users.yaml"
    users.write_text("- alice\n- bob\n")
    result = run("demo-server", "--port", "0", "--users", str(users))
    assert result.returncode == 2
    assert "must map user names to passwords" in result.stderr


def test_bad_config_file_is_reported_without_a_traceback(tmp_path):
    result = run("--config-file", str(tmp_path / "missing.ini"))
    assert result.returncode == 2
    assert "missing.ini" in result.stderr
    assert "Traceback" not in result.stderr


def _start_demo_server(*options: str) -> tuple[subprocess.Popen, str]:
    """`st2tui demo-server OPTIONS` and what it printed up to its credentials line."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "st2tui", "demo-server", "--port", "0", "--no-timers", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("credentials:"):
            break
    return proc, "".join(lines)


@pytest.mark.timeout(60)
def test_demo_server_prints_exports_and_serves_the_st2_api_to_its_users(tmp_path):
    users = tmp_path / "users.yaml"
    users.write_text("ops: s3cret-pass\n")
    proc, output = _start_demo_server("--db", str(tmp_path / "d.sqlite"), "--users", str(users))
    try:
        exports = dict(re.findall(r"^export (ST2_\w+)=(\S+)$", output, re.MULTILINE))
        assert set(exports) >= {"ST2_AUTH_URL", "ST2_API_URL", "ST2_STREAM_URL"}
        assert "ops / s3cret-pass" in output
        refused = httpx.post(f"{exports['ST2_AUTH_URL']}/tokens", auth=("st2admin", "Ch@ngeMe"), timeout=10)
        assert refused.status_code == 401
        token = httpx.post(f"{exports['ST2_AUTH_URL']}/tokens", auth=("ops", "s3cret-pass"), timeout=10)
        assert token.status_code == 201
        whoami = httpx.get(
            f"{exports['ST2_API_URL']}/user", headers={"X-Auth-Token": token.json()["token"]}, timeout=10
        )
        assert whoami.json()["username"] == "ops"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert (tmp_path / "d.sqlite").exists()


@pytest.mark.timeout(90)
def test_demo_server_prints_the_password_made_for_its_database_and_the_st2_cli_logs_in(tmp_path, st2_cli):
    db = tmp_path / "private" / "d.sqlite"
    proc, output = _start_demo_server("--db", str(db))
    try:
        login = re.search(r"^credentials: st2admin / (\S+) +\(st2 login st2admin -p '(\S+)'\)$", output, re.M)
        assert login and login.group(1) == login.group(2), output
        password = login.group(1)
        assert password != "Ch@ngeMe" and f"{db}.password" in output
        assert (tmp_path / "private" / "d.sqlite.password").read_text().strip() == password
        exports = dict(re.findall(r"^export (ST2_\w+)=(\S+)$", output, re.MULTILINE))
        refused = httpx.post(f"{exports['ST2_AUTH_URL']}/tokens", auth=("st2admin", "Ch@ngeMe"), timeout=10)
        assert refused.status_code == 401
        home = tmp_path / "home"
        home.mkdir()
        env = {**os.environ, **exports, "HOME": str(home)}
        result = subprocess.run(
            [st2_cli, "login", "st2admin", "-p", password],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Logged in as st2admin" in result.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


def test_demo_server_warns_when_it_serves_beyond_loopback(tmp_path):
    # A port already taken on every interface: it warns, then fails to listen and exits.
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run(
            "demo-server", "--host", "0.0.0.0", "--port", port, "--allow-remote", "--db", str(tmp_path / "d")
        )
    assert "WARNING: serving 0.0.0.0 beyond this machine" in result.stderr
    assert result.returncode == 1
