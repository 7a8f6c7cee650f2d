"""SQLite storage of the demo server (standard library sqlite3, WAL mode).

Documents are stored as JSON next to the columns the API filters and sorts on, so that list
queries stay index-only until the page is chosen. The connection is used from the server's event
loop thread only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, id TEXT NOT NULL, user TEXT NOT NULL, expiry TEXT NOT NULL, doc TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS apikeys (
    id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, user TEXT NOT NULL, enabled INTEGER NOT NULL,
    doc TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS runnertypes (name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS packs (ref TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
    ref TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, pack TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    parent TEXT,
    status TEXT NOT NULL,
    action_ref TEXT NOT NULL,
    runner TEXT,
    user TEXT,
    rule TEXT,
    trigger TEXT,
    trigger_type TEXT,
    trigger_instance TEXT,
    liveaction TEXT,
    start_timestamp TEXT NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS executions_start ON executions (start_timestamp);
CREATE INDEX IF NOT EXISTS executions_toplevel ON executions (start_timestamp) WHERE parent IS NULL;
CREATE INDEX IF NOT EXISTS executions_parent ON executions (parent, start_timestamp);
CREATE INDEX IF NOT EXISTS executions_status ON executions (status, start_timestamp);
CREATE INDEX IF NOT EXISTS executions_action ON executions (action_ref, start_timestamp);

CREATE TABLE IF NOT EXISTS output (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, execution_id TEXT NOT NULL,
    output_type TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS output_execution ON output (execution_id, seq);

CREATE TABLE IF NOT EXISTS keys (
    uid TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, user TEXT, name TEXT NOT NULL,
    expire_timestamp TEXT, doc TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS rules (
    ref TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, pack TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS trigger_instances (
    id TEXT PRIMARY KEY, trigger TEXT NOT NULL, occurrence_time TEXT NOT NULL, doc TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS enforcements (
    id TEXT PRIMARY KEY, rule_ref TEXT, rule_id TEXT, execution_id TEXT, trigger_instance_id TEXT,
    enforced_at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS enforcements_at ON enforcements (enforced_at);

-- Workflow engine state per workflow execution (definition context, task statuses) for re-run.
CREATE TABLE IF NOT EXISTS workflows (execution_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
"""


SIDE_FILES = ("", "-wal", "-shm", "-journal")


def make_private(path: str | Path) -> None:
    """The database readable by its owner only (it holds key hashes, secrets and run output).

    The file is made 0600 before SQLite opens it: SQLite gives the -wal and -shm files it creates
    later the database file's mode. Files left by an older, world-readable version are narrowed.
    """
    path = Path(path)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in SIDE_FILES:
        side = Path(f"{path}{suffix}")
        if side.exists() and side.stat().st_mode & 0o077:
            os.chmod(side, 0o600)


class Database:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            make_private(self.path)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA)
        if self.get_meta("tokens_hashed") is None:
            # Older databases kept tokens in plain text: they are dropped (their users sign in again).
            self.execute("DELETE FROM tokens")
            self.set_meta("tokens_hashed", "1")

    def close(self) -> None:
        self.conn.close()

    def execute(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def docs(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Run a query whose first column is a JSON document and decode each."""
        return [json.loads(row[0]) for row in self.conn.execute(sql, params)]

    def doc(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else json.loads(row[0])

    def get_meta(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM meta WHERE key = ?", (key,))

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
