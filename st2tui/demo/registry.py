"""Registers the demo content into the database at start (what `st2ctl reload` does for st2).

Runner types, packs, actions, trigger types and triggers always follow the content files. Rules
follow them too until a user changes a rule through the API: from then on the stored rule is the
user's and a restart keeps it (enabled flag included), and a content rule the user deleted stays
deleted. Datastore seed keys are written once, on a fresh database.
"""

from __future__ import annotations

import json
from typing import Any

from . import keys
from .content import Content, load_content, stable_id, trigger_uid
from .state import DemoState

# Tables of the rules engine and indexes for the rule and key routes (kept here, beside the code
# that fills them; `Database.SCHEMA` holds the tables shared with the execution engine).
RESOURCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS triggertypes (ref TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS triggers (
    ref TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, parameters TEXT NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS triggers_type ON triggers (type, parameters);
-- Rules this registry has created; `user_modified` marks those a user changed through the API.
CREATE TABLE IF NOT EXISTS rule_registrations (ref TEXT PRIMARY KEY, user_modified INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS trigger_instances_time ON trigger_instances (occurrence_time);
CREATE INDEX IF NOT EXISTS enforcements_rule ON enforcements (rule_ref, enforced_at);
CREATE INDEX IF NOT EXISTS keys_expiry ON keys (expire_timestamp) WHERE expire_timestamp IS NOT NULL;
"""

KEYS_SEEDED_META = "keys_seeded"


def ensure_schema(server: DemoState) -> None:
    server.db.conn.executescript(RESOURCE_SCHEMA)


def canonical(parameters: dict[str, Any]) -> str:
    """The form trigger parameters are compared in (st2 looks triggers up by type and parameters)."""
    return json.dumps(parameters, sort_keys=True, separators=(",", ":"))


def shadow_trigger(type_doc: dict[str, Any]) -> dict[str, Any]:
    """The trigger st2 creates for a trigger type without parameters; it has the type's ref."""
    uid = trigger_uid(type_doc["pack"], type_doc["name"], {})
    return {
        "uid": uid,
        "ref": type_doc["ref"],
        "name": type_doc["name"],
        "pack": type_doc["pack"],
        "type": type_doc["ref"],
        "parameters": {},
        "id": stable_id(uid),
    }


def store_trigger(server: DemoState, doc: dict[str, Any]) -> None:
    server.db.execute(
        "INSERT INTO triggers (ref, id, type, parameters, doc) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(ref) DO UPDATE SET type = excluded.type, parameters = excluded.parameters, "
        "doc = excluded.doc",
        (doc["ref"], doc["id"], doc["type"], canonical(doc["parameters"]), json.dumps(doc)),
    )


def _sync_table(
    server: DemoState, table: str, key: str, docs: dict[str, dict[str, Any]], extra: tuple[str, ...]
) -> None:
    """Make `table` hold exactly `docs` (keyed by column `key`), keeping ids of existing rows."""
    db = server.db
    existing = {row[0]: row[1] for row in db.query(f"SELECT {key}, id FROM {table}")}
    for stale in set(existing) - set(docs):
        db.execute(f"DELETE FROM {table} WHERE {key} = ?", (stale,))
    columns = (key, "id", *extra, "doc")
    placeholders = ", ".join("?" * len(columns))
    updates = ", ".join(f"{column} = excluded.{column}" for column in (*extra, "doc"))
    for value, doc in docs.items():
        doc = {**doc, "id": existing.get(value, doc["id"])}
        db.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
            f"ON CONFLICT({key}) DO UPDATE SET {updates}",
            (value, doc["id"], *(doc[column] for column in extra), json.dumps(doc)),
        )


def _register_rules(server: DemoState, content: Content) -> None:
    db = server.db
    registered = {
        row["ref"]: bool(row["user_modified"]) for row in db.query("SELECT * FROM rule_registrations")
    }
    for ref, doc in content.rules.items():
        row = db.query_one("SELECT id FROM rules WHERE ref = ?", (ref,))
        if row is None:
            if ref in registered:
                continue  # registered before and deleted by a user since
            db.execute(
                "INSERT INTO rules (ref, id, pack, name, doc) VALUES (?, ?, ?, ?, ?)",
                (ref, doc["id"], doc["pack"], doc["name"], json.dumps(doc)),
            )
            db.execute("INSERT OR IGNORE INTO rule_registrations (ref) VALUES (?)", (ref,))
        elif not registered.get(ref, False):
            doc = {**doc, "id": row["id"]}
            db.execute("UPDATE rules SET doc = ? WHERE ref = ?", (json.dumps(doc), ref))
            db.execute("INSERT OR IGNORE INTO rule_registrations (ref) VALUES (?)", (ref,))


def _seed_keys(server: DemoState, content: Content) -> None:
    if server.db.get_meta(KEYS_SEEDED_META):
        return
    for spec in content.keys:
        keys.store_key(
            server,
            name=spec["name"],
            value=spec["value"],
            scope=spec.get("scope", keys.SYSTEM_SCOPE),
            user=spec.get("user"),
            secret=bool(spec.get("secret")),
            ttl=spec.get("ttl"),
            description=spec.get("description"),
        )
    server.db.set_meta(KEYS_SEEDED_META, "1")


def register(server: DemoState, content: Content) -> None:
    """Write `content` into the database (idempotent; see the module docstring for rules)."""
    with server.db.transaction():
        _sync_table(server, "runnertypes", "name", content.runners, ())
        _sync_table(server, "packs", "ref", content.packs, ())
        _sync_table(server, "actions", "ref", content.actions, ("pack", "name"))
        _sync_table(server, "triggertypes", "ref", content.trigger_types, ())
        for type_doc in content.trigger_types.values():
            if not type_doc.get("parameters_schema"):
                store_trigger(server, shadow_trigger(type_doc))
        for trigger in content.triggers.values():
            store_trigger(server, trigger)
        _register_rules(server, content)
        _seed_keys(server, content)


class Registry:
    """Service registering the content before the other services start; keeps it as `server.content`."""

    def __init__(self, server: DemoState) -> None:
        self.server = server
        ensure_schema(server)

    async def start(self) -> None:
        content = load_content()
        register(self.server, content)
        self.server.content = content

    async def stop(self) -> None:
        return None
