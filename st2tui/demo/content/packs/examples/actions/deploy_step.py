#!/usr/bin/env python3
"""examples.deploy-step: print the output of one step of a release, with short pauses.

Arguments arrive the way st2's local-shell-script runner passes them: parameters with a `position`
positionally (step, version, environment, target, fail_step, pace), any other as `--name=value`.
The output is deterministic for given arguments, so seeded history can show the same lines.
"""

from __future__ import annotations

import hashlib
import sys
import time

POSITIONAL = ("step", "version", "environment", "target", "fail_step", "pace")

PACKAGES = ("flask 3.0.3", "gunicorn 22.0.0", "sqlalchemy 2.0.31", "redis 5.0.7", "celery 5.4.0")
ASSETS = ("app.js", "vendor.js", "admin.js", "app.css", "print.css", "icons.svg")
TEST_FILES = (
    ("tests/test_api.py", 41),
    ("tests/test_auth.py", 14),
    ("tests/test_orders.py", 27),
    ("tests/test_invoices.py", 19),
    ("tests/test_search.py", 22),
    ("tests/test_workers.py", 25),
)
SMOKE_CHECKS = (
    ("GET", "/", "200 OK", 112),
    ("GET", "/api/health", "200 OK", 38),
    ("POST", "/api/login", "200 OK", 201),
    ("GET", "/api/orders?limit=1", "200 OK", 87),
)


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _previous_version(version: str) -> str:
    head, _, patch = version.rpartition(".")
    if head and patch.isdigit() and int(patch) > 0:
        return f"{head}.{int(patch) - 1}"
    return "the previous release"


def step_lines(
    step: str, version: str, environment: str = "staging", target: str = "", fail: bool = False
) -> tuple[list[tuple[str, str, float]], int]:
    """The lines a step prints as (stream, text, pause before it in seconds), and its exit code."""
    out: list[tuple[str, str, float]] = []
    code = 1 if fail else 0
    size_mb = 20 + int(_digest(version)[:2], 16) % 80 / 10

    def say(text: str, pause: float = 0.4, stream: str = "stdout") -> None:
        out.append((stream, text, pause))

    if step == "build":
        say(f"==> Building release {version} for {environment}", 0.2)
        say(f"Cloning git@git.example.com:acme/webapp.git (ref v{version})", 0.8)
        say("Resolving dependencies...", 1.0)
        for package in PACKAGES:
            say(f"  + {package}", 0.3)
        say(
            "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
            0.6,
            "stderr",
        )
        for index, asset in enumerate(ASSETS, 1):
            say(f"Compiling assets [{index}/{len(ASSETS)}] {asset}", 0.9)
        if fail:
            say("ERROR in ./src/admin.js: Module not found: Error: Can't resolve './charts'", 0.5, "stderr")
            say("Build failed with 1 error.", 0.1, "stderr")
            return out, code
        say("Linting: ruff check . (0 problems)", 1.2)
        say(f"Packaging build/app-{version}.tar.gz", 1.5)
        say(
            f"Artifact app-{version}.tar.gz ({size_mb:.1f} MB, sha256 {_digest(version, 'artifact')[:16]})",
            0.8,
        )
    elif step == "test":
        total = sum(count for _, count in TEST_FILES)
        say(f"==> Running the test suite against app-{version}.tar.gz", 0.2)
        say("============================= test session starts ==============================", 0.6)
        say("platform linux -- Python 3.11.9, pytest-8.3.2, pluggy-1.5.0", 0.1)
        say(f"collected {total} items", 0.8)
        say("", 0.0)
        done = 0
        for index, (name, count) in enumerate(TEST_FILES):
            done += count
            marks = "." * count
            if fail and index == 2:
                marks = marks[:-1] + "F"
            say(f"{name:<24}{marks:<42} [{done * 100 // total:3d}%]", 1.7)
        if fail:
            say("", 0.2)
            say(
                "FAILED tests/test_orders.py::test_checkout_total - AssertionError: assert 41.99 == 42.0", 0.1
            )
            say(f"=================== 1 failed, {total - 1} passed in 11.87s ====================", 0.1)
            return out, code
        say("", 0.2)
        say(f"======================= {total} passed, 2 skipped in 11.42s ========================", 0.1)
    elif step == "migrate":
        say(f"==> Migrating the {environment} database", 0.2)
        say(f"Connecting to postgres://db-{environment}.internal:5432/webapp", 0.7)
        say("Current schema revision: 0041_add_orders_index", 0.5)
        say("Applying 0042_add_invoice_table ...", 1.2)
        if fail:
            say('ERROR: relation "invoices" already exists', 0.4, "stderr")
            say("Migration 0042_add_invoice_table failed; transaction rolled back.", 0.1, "stderr")
            return out, code
        say("Applying 0043_backfill_invoice_numbers ...", 2.1)
        say("Schema is at revision 0043_backfill_invoice_numbers", 0.8)
    elif step == "deploy":
        say(f"==> Deploying app-{version}.tar.gz to {target} ({environment})", 0.2)
        say(f"[{target}] Uploading artifact ({size_mb:.1f} MB) ... 100%", 1.6)
        say(f"[{target}] Unpacking to /srv/webapp/releases/{version}", 1.1)
        if fail:
            say(f"[{target}] tar: /srv/webapp/releases/{version}: No space left on device", 0.3, "stderr")
            say(f"[{target}] Deploy failed.", 0.1, "stderr")
            return out, code
        say(f"[{target}] Linking /srv/webapp/current -> releases/{version}", 0.4)
        say(f"[{target}] Restarting webapp.service", 1.3)
        latency = 20 + int(_digest(target)[:2], 16) % 60
        say(f"[{target}] Health check http://{target}:8080/healthz ... ok (HTTP 200, {latency} ms)", 1.2)
        say(f"[{target}] Deployed {version}", 0.2)
    elif step == "smoke_test":
        say(f"==> Smoke-testing {environment}", 0.2)
        for index, (method, path, status, millis) in enumerate(SMOKE_CHECKS):
            if fail and index == len(SMOKE_CHECKS) - 1:
                say(f"{method} https://{environment}.example.com{path} ... 502 Bad Gateway (30012 ms)", 1.5)
                say(f"Smoke test failed: {index}/{len(SMOKE_CHECKS)} checks passed", 0.1, "stderr")
                return out, code
            say(f"{method} https://{environment}.example.com{path} ... {status} ({millis} ms)", 1.2)
        say(f"Smoke test passed: {len(SMOKE_CHECKS)}/{len(SMOKE_CHECKS)} checks", 0.2)
    elif step == "rollback":
        previous = _previous_version(version)
        say(f"==> Rolling back {target} ({environment})", 0.2)
        say(f"[{target}] Linking /srv/webapp/current -> releases/{previous}", 0.6)
        say(f"[{target}] Restarting webapp.service", 1.2)
        say(f"[{target}] Rolled back to {previous}", 0.2)
    else:
        say(f"Unknown step: {step}", 0.0, "stderr")
        code = 2
    return out, code


def parse_args(argv: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    positional: list[str] = []
    for arg in argv:
        if arg.startswith("-") and "=" in arg:
            name, _, value = arg.lstrip("-").partition("=")
            values[name] = value
        else:
            positional.append(arg)
    for name, value in zip(POSITIONAL, positional, strict=False):
        values.setdefault(name, value)
    return values


def main() -> int:
    args = parse_args(sys.argv[1:])
    step = args.get("step", "")
    pace = float(args.get("pace") or 1.0)
    lines, code = step_lines(
        step,
        args.get("version", "0.0.0"),
        args.get("environment") or "staging",
        args.get("target", ""),
        fail=args.get("fail_step") == step,
    )
    for stream, text, pause in lines:
        if pause and pace:
            time.sleep(pause * pace)
        target = sys.stderr if stream == "stderr" else sys.stdout
        target.write(text + "\n")
        target.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
