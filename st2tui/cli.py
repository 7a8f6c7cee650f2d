"""Command line: `st2tui [options]`, `st2tui --demo`, `st2tui demo-server`."""

from __future__ import annotations

import argparse
import gc
import ipaddress
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from st2tui import __version__
from st2tui.demo_paths import default_demo_db, demo_db

DEMO_SERVER_HELP = "run the embedded StackStorm-compatible demo server in the foreground"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="st2tui",
        description="A keyboard-driven terminal UI for StackStorm.",
        epilog=f"Run 'st2tui demo-server --help' to {DEMO_SERVER_HELP}.",
    )
    parser.add_argument("--version", action="version", version=f"st2tui {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="start the embedded demo server and connect to it"
    )
    parser.add_argument("--db", metavar="PATH", help="database of the demo server (with --demo)")
    conn = parser.add_argument_group("connection (as the st2 CLI: flags > ~/.st2/config > ST2_* variables)")
    conn.add_argument("--url", dest="base_url", metavar="URL", help="base URL, e.g. https://st2.example.com")
    conn.add_argument("--auth-url", metavar="URL", help="auth API URL, e.g. https://st2:9100")
    conn.add_argument("--api-url", metavar="URL", help="API URL, e.g. https://st2:9101")
    conn.add_argument("--stream-url", metavar="URL", help="stream API URL, e.g. https://st2:9102")
    conn.add_argument(
        "--username",
        "-u",
        metavar="NAME",
        help="sign in as NAME (asks for the password; also $ST2TUI_USERNAME)",
    )
    conn.add_argument("--api-key", metavar="KEY", help="StackStorm API key")
    conn.add_argument("--token", "-t", metavar="TOKEN", help="StackStorm auth token")
    conn.add_argument("--cacert", metavar="PATH", help="CA bundle to verify the server's certificate")
    conn.add_argument(
        "--insecure", action="store_true", help="do not verify TLS certificates (shown in the header)"
    )
    conn.add_argument("--config-file", metavar="PATH", help="st2 CLI config file (default ~/.st2/config)")
    conn.add_argument(
        "--profile", "-p", metavar="NAME", help="st2tui profile (one per StackStorm installation)"
    )
    ui = parser.add_argument_group("interface")
    ui.add_argument("--readonly", action="store_true", help="hide everything that changes state")
    ui.add_argument(
        "--execution",
        metavar="ID|last",
        help="open straight to this execution's screen (`last`: the newest execution)",
    )
    ui.add_argument("--debug", action="store_true", help="log each request as the equivalent curl command")
    return parser


def build_demo_server_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="st2tui demo-server", description=DEMO_SERVER_HELP + ".")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=9101, help="port to bind (default 9101; 0 picks a free one)"
    )
    parser.add_argument("--db", metavar="PATH", help=f"SQLite database (default {default_demo_db()})")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback address: anyone who can reach it and has a password "
        "runs commands as you (the demo is not hardened)",
    )
    parser.add_argument(
        "--allow-origin",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="let web pages from ORIGIN (e.g. http://127.0.0.1:3000) call the server with CORS; "
        "repeatable (default: none)",
    )
    parser.add_argument("--no-timers", action="store_true", help="do not fire interval-timer rules")
    parser.add_argument(
        "--users",
        metavar="FILE",
        help="YAML file mapping user names to passwords, or to {password, roles} to turn RBAC on "
        "(default: st2admin with a random password kept beside the database, printed on start)",
    )
    return parser


def load_users(path: str) -> tuple[dict[str, str], dict[str, list[str]] | None]:
    """Passwords and roles from a small YAML file; raises ValueError with a message for the user.

    Each user maps to a password (`st2admin: s3cret`) or to `{password: ..., roles: [...]}`. Roles
    given for any user turn RBAC on; then users without roles may do nothing but sign in. Returns
    `({user: password}, {user: roles} or None when RBAC stays off)`.
    """
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict) or not doc:
        raise ValueError(f"{path} must map user names to passwords, e.g. 'st2admin: s3cret'")
    users: dict[str, str] = {}
    roles: dict[str, list[str]] = {}
    rbac = False
    for name, entry in doc.items():
        if isinstance(entry, dict):
            unknown = sorted(str(key) for key in entry if key not in ("password", "roles"))
            if unknown:
                raise ValueError(f"{path}: user {name}: unknown setting {', '.join(unknown)}")
            password = entry.get("password")
            if "roles" in entry:
                rbac = True
                names = entry["roles"] or []
                if not isinstance(names, list) or not all(isinstance(r, str) and r for r in names):
                    raise ValueError(f"{path}: user {name}: roles must be a list of role names")
                roles[name] = names
        else:
            password = entry
        if not (isinstance(name, str) and isinstance(password, str) and name and password):
            raise ValueError(f"{path}: every user name and password must be a non-empty string")
        users[name] = password
    return users, roles if rbac else None


def run_demo_server(argv: list[str]) -> int:
    args = build_demo_server_parser().parse_args(argv)
    if not _is_loopback(args.host) and not args.allow_remote:
        print(
            f"st2tui demo-server: refusing to bind {args.host}: it is not a loopback address. "
            "Pass --allow-remote if you really mean to expose the demo server.",
            file=sys.stderr,
        )
        return 2
    if args.allow_remote and not _is_loopback(args.host):
        print(
            f"st2tui demo-server: WARNING: serving {args.host} beyond this machine. Anyone who reaches "
            "it and signs in runs shell commands as you; the demo is not hardened.",
            file=sys.stderr,
        )
    from st2tui.demo.server import DemoServer, serve_forever

    try:
        users, roles = load_users(args.users) if args.users else (None, None)
    except ValueError as exc:
        print(f"st2tui demo-server: {exc}", file=sys.stderr)
        return 2
    db = demo_db(args.db)
    server = DemoServer(
        db, users=users, roles=roles, timers=not args.no_timers, allow_origins=args.allow_origin
    )
    user, password = next(iter(server.users.items()))

    def announce(port: int) -> None:
        base = f"http://{args.host if ':' not in args.host else f'[{args.host}]'}:{port}"
        print(f"st2tui demo server (StackStorm-compatible) listening on {base}", flush=True)
        print(f"database: {db}")
        print("Point the st2 CLI or st2tui at it:\n")
        print(f"export ST2_BASE_URL={base}")
        print(f"export ST2_AUTH_URL={base}/auth/v1")
        print(f"export ST2_API_URL={base}/api/v1")
        print(f"export ST2_STREAM_URL={base}/stream/v1")
        if roles is not None:
            granted = ", ".join(
                f"{name} ({', '.join(roles.get(name, [])) or 'no roles'})" for name in server.users
            )
            print(f"\nRBAC on: {granted}")
        if server.password_path is not None:
            print(f"\npassword of {user} (made for this database): {server.password_path}")
        if args.allow_origin:
            print(f"CORS allowed for: {', '.join(args.allow_origin)}")
        print(f"\ncredentials: {user} / {password}   (st2 login {user} -p '{password}')", flush=True)

    try:
        serve_forever(server, args.host, args.port, announce)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(
            f"st2tui demo-server: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr
        )
        return 1
    return 0


def main(argv: list[str] | None = None, run: Callable[[Any], None] | None = None) -> int:
    """`st2tui`; `run` runs the app instead of the terminal (the benchmarks run it headless)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["demo-server"]:
        return run_demo_server(argv[1:])
    # Start-up creates the objects that live for the whole session (modules, styles, widgets); collecting
    # garbage among them while they are made only slows the first frame. The app turns collection back
    # on once the main screen is up (St2TuiApp._started).
    gc.disable()
    # httpx imports its own command-line client (click, pygments, rich.progress: ~25 ms) unless that fails;
    # st2tui never runs it, so the import is made to fail (httpx then defines a stub `main`).
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    args = build_parser().parse_args(argv)
    from st2tui.launch import run_tui

    return run_tui(args, run)
