"""The demo server's content: runner types, packs, actions, rules and datastore seeds.

The files under `content/` are laid out like StackStorm packs (`packs/<pack>/pack.yaml`,
`actions/*.yaml` with their scripts and `actions/workflows/`, `rules/*.yaml`) next to
`runners.yaml`, `triggertypes.yaml` and `keys.yaml`. `load_content()` turns them into the documents
real st2 returns from `GET /api/v1/actions/{ref}`, `/runnertypes/{name}`, `/packs`, `/rules/{ref}`,
`/triggertypes/{ref}` and `/triggers/{ref}`: same keys, same key order, same empty values kept.
Ids are 24-hex strings derived from each document's uid, so they survive restarts.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

__all__ = [
    "ACTION_PARAMETER_SCHEMA",
    "CONTENT_ROOT",
    "RUNNER_PARAM_OVERRIDABLE_ATTRS",
    "Content",
    "ContentError",
    "load_content",
    "stable_id",
]

CONTENT_ROOT = Path(__file__).resolve().parent / "content"

# Files st2 leaves out of a pack's `files` list (st2common/bootstrap/base.py EXCLUDE_FILE_PATTERNS).
PACK_FILE_EXCLUDES = ("*.pyc", ".git/*")

# Attributes an action may set differently from its runner's parameter of the same name
# (st2common/util/schema RUNNER_PARAM_OVERRIDABLE_ATTRS); any other must repeat the runner's value.
RUNNER_PARAM_OVERRIDABLE_ATTRS = ("default", "description", "enum", "immutable", "required")

# Runners whose entry point is a workflow definition or a script file.
WORKFLOW_RUNNERS = frozenset({"orquesta"})
SCRIPT_RUNNERS = frozenset({"local-shell-script", "python-script"})

KEY_SCOPES = ("st2kv.system", "st2kv.user")


def _parameter_meta_schema() -> dict[str, Any]:
    """The schema one action parameter definition must satisfy.

    Written after st2's `st2common/util/schema/action_params.json`: JSON Schema draft 4 where
    `required` is a boolean (draft-3 style), `type` is a single simple type, st2 adds `secret`,
    `immutable` and `position`, and no other keyword is allowed. Nested schemas (`items`,
    `properties`, ...) follow the same rules.
    """
    positive_integer = {"type": "integer", "minimum": 0}
    schema_array = {"type": "array", "minItems": 1, "items": {"$ref": "#"}}
    return {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "default": {},
            "multipleOf": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            "maximum": {"type": "number"},
            "exclusiveMaximum": {"type": "boolean"},
            "minimum": {"type": "number"},
            "exclusiveMinimum": {"type": "boolean"},
            "maxLength": positive_integer,
            "minLength": positive_integer,
            "pattern": {"type": "string", "format": "regex"},
            "additionalItems": {"anyOf": [{"type": "boolean"}, {"$ref": "#"}]},
            "items": {"anyOf": [{"$ref": "#"}, schema_array]},
            "maxItems": positive_integer,
            "minItems": positive_integer,
            "uniqueItems": {"type": "boolean"},
            "maxProperties": positive_integer,
            "minProperties": positive_integer,
            "required": {"type": "boolean"},
            "secret": {"type": "boolean"},
            "additionalProperties": {"anyOf": [{"type": "boolean"}, {"$ref": "#"}]},
            "definitions": {"type": "object", "additionalProperties": {"$ref": "#"}},
            "properties": {"type": "object", "additionalProperties": {"$ref": "#"}},
            "patternProperties": {"type": "object", "additionalProperties": {"$ref": "#"}},
            "dependencies": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [
                        {"$ref": "#"},
                        {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
                    ]
                },
            },
            "enum": {"type": "array", "minItems": 1, "uniqueItems": True},
            "type": {"enum": ["array", "boolean", "integer", "null", "number", "object", "string"]},
            "position": {"type": "number", "minimum": 0},
            "immutable": {"type": "boolean"},
            "allOf": schema_array,
            "anyOf": schema_array,
            "oneOf": schema_array,
            "not": {"$ref": "#"},
        },
        "dependencies": {"exclusiveMaximum": ["maximum"], "exclusiveMinimum": ["minimum"]},
        "additionalProperties": False,
    }


ACTION_PARAMETER_SCHEMA: dict[str, Any] = _parameter_meta_schema()
_PARAMETER_VALIDATOR = jsonschema.Draft4Validator(ACTION_PARAMETER_SCHEMA)


class ContentError(ValueError):
    """A content file is missing, malformed or inconsistent with the others."""


def stable_id(uid: str) -> str:
    """A 24-hex id (the shape of a MongoDB ObjectId) derived from a document's uid."""
    return hashlib.sha1(uid.encode()).hexdigest()[:24]


def trigger_uid(pack: str, name: str, parameters: dict[str, Any]) -> str:
    """st2's trigger uid: `trigger:<pack>:<name>:<md5 of the sorted-keys JSON parameters>`."""
    digest = hashlib.md5(json.dumps(parameters, sort_keys=True).encode()).hexdigest()
    return f"trigger:{pack}:{name}:{digest}"


@dataclass
class Content:
    """Loaded demo content. Documents are shared; copy one before changing it."""

    root: Path
    runners: dict[str, dict[str, Any]] = field(default_factory=dict)
    packs: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: list[dict[str, Any]] = field(default_factory=list)
    trigger_types: dict[str, dict[str, Any]] = field(default_factory=dict)
    triggers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def action(self, ref: str) -> dict[str, Any]:
        try:
            return self.actions[ref]
        except KeyError:
            raise ContentError(f'Action "{ref}" cannot be found.') from None

    def entry_point_path(self, action_ref: str) -> Path | None:
        """The file an action's `entry_point` names (relative to `<pack>/actions/`), if it has one."""
        action = self.action(action_ref)
        if not action["entry_point"]:
            return None
        return self.root / "packs" / action["pack"] / "actions" / action["entry_point"]

    def workflow_definition(self, action_ref: str) -> str:
        """The YAML text of an orquesta action's workflow definition."""
        action = self.action(action_ref)
        if action["runner_type"] not in WORKFLOW_RUNNERS:
            raise ContentError(f'Action "{action_ref}" is not a workflow (runner {action["runner_type"]}).')
        path = self.entry_point_path(action_ref)
        assert path is not None  # load_content checked that workflows have an entry point
        return path.read_text(encoding="utf-8")

    def script_path(self, action_ref: str) -> Path:
        """The script a `local-shell-script` or `python-script` action runs."""
        path = self.entry_point_path(action_ref)
        if path is None:
            raise ContentError(f'Action "{action_ref}" has no entry point.')
        return path

    def trigger_for(self, rule_ref: str) -> dict[str, Any]:
        """The trigger document a rule is bound to."""
        return self.triggers[self.rules[rule_ref]["trigger"]["ref"]]


def load_content(root: Path | None = None) -> Content:
    """Load and check every content file under `root` (default: the packaged `content/`)."""
    root = Path(root) if root is not None else CONTENT_ROOT
    content = Content(root=root)
    for spec in _load_yaml_list(root / "runners.yaml"):
        doc = _runner_doc(spec)
        content.runners[doc["name"]] = doc
    for spec in _load_yaml_list(root / "triggertypes.yaml"):
        doc = _trigger_type_doc(spec)
        content.trigger_types[doc["ref"]] = doc
    packs_dir = root / "packs"
    for pack_dir in sorted(p for p in packs_dir.iterdir() if (p / "pack.yaml").is_file()):
        pack = _pack_doc(pack_dir)
        content.packs[pack["ref"]] = pack
        for path in sorted((pack_dir / "actions").glob("*.yaml")):
            doc = _action_doc(pack["ref"], path, content.runners)
            content.actions[doc["ref"]] = doc
    # Rules after all actions, so that a rule may use an action of any pack.
    for pack_ref in content.packs:
        for path in sorted((packs_dir / pack_ref / "rules").glob("*.yaml")):
            doc, trigger = _rule_doc(pack_ref, path, content)
            content.rules[doc["ref"]] = doc
            content.triggers.setdefault(trigger["ref"], trigger)
    # st2 lists actions and rules ordered by pack, then name.
    content.actions = dict(
        sorted(content.actions.items(), key=lambda item: (item[1]["pack"], item[1]["name"]))
    )
    content.rules = dict(sorted(content.rules.items(), key=lambda item: (item[1]["pack"], item[1]["name"])))
    content.keys = [_check_key_spec(spec) for spec in _load_yaml_list(root / "keys.yaml")]
    return content


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"Unable to load {path}: {exc}") from exc


def _load_yaml_list(path: Path) -> list[dict[str, Any]]:
    data = _load_yaml(path)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ContentError(f"{path} must hold a list of mappings.")
    return data


def _load_yaml_mapping(path: Path) -> dict[str, Any]:
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise ContentError(f"{path} must hold a mapping.")
    return data


def _runner_doc(spec: dict[str, Any]) -> dict[str, Any]:
    name = spec["name"]
    uid = f"runner_type:{name}"
    doc: dict[str, Any] = {
        "name": name,
        "description": spec.get("description", ""),
        "uid": uid,
        "enabled": bool(spec.get("enabled", True)),
        "runner_package": spec["runner_package"],
        "runner_module": spec["runner_module"],
        "runner_parameters": spec.get("runner_parameters") or {},
    }
    # st2 keeps `output_key` only when the runner declares one (None values are dropped).
    if spec.get("output_key"):
        doc["output_key"] = spec["output_key"]
    doc["output_schema"] = spec.get("output_schema") or {}
    doc["id"] = stable_id(uid)
    for param, meta in doc["runner_parameters"].items():
        _check_parameter(f"runner {name}", param, meta)
    return doc


def _trigger_type_doc(spec: dict[str, Any]) -> dict[str, Any]:
    pack, name = spec["pack"], spec["name"]
    uid = f"trigger_type:{pack}:{name}"
    return {
        "description": spec.get("description", ""),
        "tags": spec.get("tags") or [],
        "uid": uid,
        "ref": f"{pack}.{name}",
        "name": name,
        "pack": pack,
        "payload_schema": spec.get("payload_schema") or {},
        "parameters_schema": spec.get("parameters_schema") or {},
        "id": stable_id(uid),
    }


def _pack_files(pack_dir: Path) -> list[str]:
    files = []
    for path in sorted(pack_dir.rglob("*")):
        relative = path.relative_to(pack_dir).as_posix()
        if path.is_file() and not any(fnmatch.fnmatch(relative, pattern) for pattern in PACK_FILE_EXCLUDES):
            files.append(relative)
    return files


def _pack_doc(pack_dir: Path) -> dict[str, Any]:
    meta = _load_yaml_mapping(pack_dir / "pack.yaml")
    ref = meta.get("ref") or meta["name"]
    if ref != pack_dir.name:
        raise ContentError(f'Pack directory "{pack_dir.name}" holds pack "{ref}".')
    uid = f"pack:{ref}"
    doc: dict[str, Any] = {
        "uid": uid,
        "ref": ref,
        "name": meta["name"],
        "description": meta["description"],
        "keywords": meta.get("keywords") or [],
        "version": str(meta["version"]),
    }
    if meta.get("stackstorm_version"):
        doc["stackstorm_version"] = meta["stackstorm_version"]
    doc.update(
        {
            "python_versions": [str(v) for v in meta.get("python_versions") or []],
            "author": meta["author"],
            "email": meta.get("email", ""),
            "contributors": meta.get("contributors") or [],
            "files": _pack_files(pack_dir),
            "path": str(pack_dir),
            "dependencies": meta.get("dependencies") or [],
            "system": meta.get("system") or {},
            "id": stable_id(uid),
        }
    )
    return doc


def _check_parameter(owner: str, name: str, meta: Any) -> None:
    if not isinstance(meta, dict):
        raise ContentError(f'Parameter "{name}" of {owner} must be a mapping.')
    error = jsonschema.exceptions.best_match(_PARAMETER_VALIDATOR.iter_errors(meta))
    if error is not None:
        raise ContentError(f'Parameter "{name}" of {owner} is invalid: {error.message}')


def _action_doc(pack: str, path: Path, runners: dict[str, dict[str, Any]]) -> dict[str, Any]:
    meta = _load_yaml_mapping(path)
    name = meta["name"]
    if meta.get("pack", pack) != pack:
        raise ContentError(f'{path} declares pack "{meta["pack"]}" but lives in pack "{pack}".')
    runner_name = meta["runner_type"]
    if runner_name not in runners:
        raise ContentError(f'Action "{pack}.{name}" uses unknown runner "{runner_name}".')
    runner_params = runners[runner_name]["runner_parameters"]
    parameters = meta.get("parameters") or {}
    for param, param_meta in parameters.items():
        _check_parameter(f"action {pack}.{name}", param, param_meta)
        for attr, value in param_meta.items():
            runner_value = runner_params.get(param, {}).get(attr)
            if (
                param in runner_params
                and attr not in RUNNER_PARAM_OVERRIDABLE_ATTRS
                and value != runner_value
            ):
                raise ContentError(
                    f'The attribute "{attr}" for the runner parameter "{param}" in action '
                    f'"{pack}.{name}" cannot be overridden.'
                )
    entry_point = meta.get("entry_point") or ""
    if runner_name in WORKFLOW_RUNNERS | SCRIPT_RUNNERS:
        if not entry_point or not (path.parent / entry_point).is_file():
            raise ContentError(f'Action "{pack}.{name}" needs an existing entry point, got "{entry_point}".')
    uid = f"action:{pack}:{name}"
    return {
        "tags": meta.get("tags") or [],
        "uid": uid,
        "metadata_file": f"actions/{path.name}",
        "name": name,
        "ref": f"{pack}.{name}",
        "description": meta.get("description", ""),
        "enabled": bool(meta.get("enabled", True)),
        "entry_point": entry_point,
        "pack": pack,
        "runner_type": runner_name,
        "parameters": parameters,
        "output_schema": meta.get("output_schema") or {},
        "notify": meta.get("notify") or {},
        "id": stable_id(uid),
    }


def _trigger_doc(type_doc: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """The trigger a rule binds to: the type itself when it takes no parameters, else a
    `core.<uuid>` trigger shared by every rule with the same type and parameters (as st2 does)."""
    if not parameters:
        name = type_doc["name"]
    else:
        seed = f"{type_doc['ref']}:{json.dumps(parameters, sort_keys=True)}"
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, seed))
    pack = type_doc["pack"]
    uid = trigger_uid(pack, name, parameters)
    return {
        "uid": uid,
        "ref": f"{pack}.{name}",
        "name": name,
        "pack": pack,
        "type": type_doc["ref"],
        "parameters": parameters,
        "id": stable_id(uid),
    }


def _rule_doc(pack: str, path: Path, content: Content) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = _load_yaml_mapping(path)
    name = meta["name"]
    ref = f"{pack}.{name}"
    if meta.get("pack", pack) != pack:
        raise ContentError(f'{path} declares pack "{meta["pack"]}" but lives in pack "{pack}".')
    trigger_spec = meta["trigger"]
    type_doc = content.trigger_types.get(trigger_spec["type"])
    if type_doc is None:
        raise ContentError(f'Rule "{ref}" uses unknown trigger type "{trigger_spec["type"]}".')
    parameters = trigger_spec.get("parameters") or {}
    try:
        jsonschema.Draft4Validator(type_doc["parameters_schema"]).validate(parameters)
    except jsonschema.ValidationError as exc:
        raise ContentError(f'Rule "{ref}" has invalid trigger parameters: {exc.message}') from exc
    action_ref = meta["action"]["ref"]
    if action_ref not in content.actions:
        raise ContentError(f'Rule "{ref}" runs unknown action "{action_ref}".')
    trigger = _trigger_doc(type_doc, parameters)
    uid = f"rule:{pack}:{name}"
    doc = {
        "tags": meta.get("tags") or [],
        "uid": uid,
        "metadata_file": f"rules/{path.name}",
        "name": name,
        "ref": ref,
        "description": meta.get("description", ""),
        "pack": pack,
        "type": {"ref": "standard", "parameters": {}},
        "trigger": {"type": type_doc["ref"], "parameters": parameters, "ref": trigger["ref"]},
        "criteria": meta.get("criteria") or {},
        "action": {"ref": action_ref, "parameters": meta["action"].get("parameters") or {}},
        "context": {},
        "enabled": bool(meta.get("enabled", False)),
        "id": stable_id(uid),
    }
    return doc, trigger


def _check_key_spec(spec: dict[str, Any]) -> dict[str, Any]:
    name = spec.get("name")
    scope = spec.setdefault("scope", "st2kv.system")
    if not name or not isinstance(spec.get("value"), str):
        raise ContentError(f"Key {spec!r} needs a name and a string value.")
    if scope not in KEY_SCOPES:
        raise ContentError(f'Key "{name}" has invalid scope "{scope}".')
    if (scope == "st2kv.user") != bool(spec.get("user")):
        raise ContentError(f'Key "{name}": a user is required for, and only allowed in, user scope.')
    ttl = spec.get("ttl")
    if ttl is not None and (not isinstance(ttl, int) or ttl <= 0):
        raise ContentError(f'Key "{name}" has an invalid ttl {ttl!r}.')
    return spec
