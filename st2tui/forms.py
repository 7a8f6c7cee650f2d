"""What the forms do with values, without any UI: turn a field's text into the JSON value StackStorm
expects (or a plain-words reason why not), build the payload, render the equivalent ``st2`` command
line, remember the last values per action, and the key-value and 400-error helpers.

Validation follows st2's own parameter validator: JSON Schema draft 4, except that ``required: true``
inside ``properties`` counts (draft 3 style) and the draft-4 ``required`` list does not, and optional
nested properties also accept null. Values containing Jinja (``{{ }}``, ``{% %}``) or YAQL (``<% %>``)
are templates: the server renders them, so they pass unchecked, as text.

Beyond the schema, values that cannot be sent or stored are refused here with a reason (an unpaired
surrogate, NaN and Infinity, whole numbers outside 64 bits, nesting deeper than MongoDB allows), so that
nothing half-sendable leaves the form.

No Textual here: these functions are property-tested against the server's schema.

Over 800 lines because parsing, validation and the st2 command line all follow one reading of st2's
parameter schema, which is kept in one place.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from st2tui.models import KeyValuePair, ParameterSpec
from st2tui.text import visible

if TYPE_CHECKING:
    from jsonschema import ValidationError

__all__ = [
    "SERVER_MASK",
    "FormValueStore",
    "InvalidValue",
    "Parsed",
    "Remembered",
    "build_payload",
    "check_sendable",
    "check_text",
    "contains_mask",
    "edit_externally",
    "editor_command",
    "field_for_server_error",
    "format_value",
    "is_template",
    "key_changes",
    "kv_display_value",
    "kv_value_to_save",
    "masked_payload",
    "ordered_fields",
    "parse_bool",
    "parse_ttl",
    "parse_value",
    "printable",
    "scrub_secrets",
    "st2_command",
    "validate_value",
]

# How st2 shows a secret value it will not reveal (execution parameters, results).
SERVER_MASK = "********"

_TEMPLATE_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|<%.*?%>", re.DOTALL)
_INTEGER_RE = re.compile(r"[+-]?\d+")
# st2 stores values in MongoDB: 64-bit whole numbers, and at most 100 levels of nesting in a document
# (the execution document holds the parameters a few levels down).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 90
_TOO_LARGE = f"Too large: StackStorm stores whole numbers from {INT64_MIN} to {INT64_MAX}."
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0"})
_SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean"})

# Keys of a parameter definition that are st2's own, not JSON Schema.
_ST2_KEYS = ("required", "secret", "immutable", "position", "default")

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a JSON object",
    "null": "empty",
}


class InvalidValue(ValueError):
    """A value the form refuses, with the reason in words a person understands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Parsed:
    """A field's value: the JSON value to send, and whether it is a template sent as text unchecked."""

    value: Any
    template: bool = False


# -- order and templates --------------------------------------------------------------------------------


def ordered_fields(specs: Iterable[ParameterSpec]) -> list[ParameterSpec]:
    """The fields a form shows: immutable ones hidden; by position, then required first, then name."""

    def key(spec: ParameterSpec) -> tuple[bool, float, bool, str]:
        return (spec.position is None, spec.position or 0.0, not spec.required, spec.name)

    return sorted((spec for spec in specs if not spec.immutable), key=key)


def is_template(text: Any) -> bool:
    """True for text holding a Jinja ``{{ }}``/``{% %}`` or YAQL ``<% %>`` expression."""
    return isinstance(text, str) and _TEMPLATE_RE.search(text) is not None


def contains_mask(value: Any) -> bool:
    """True when st2's secret mask appears anywhere in a value (it must never be sent back)."""
    if isinstance(value, str):
        return value == SERVER_MASK
    if isinstance(value, list):
        return any(contains_mask(item) for item in value)
    if isinstance(value, dict):
        return any(contains_mask(item) for item in value.values())
    return False


def check_text(text: str) -> None:
    """Raise `InvalidValue` for text that cannot be sent: an unpaired surrogate is not encodable as UTF-8."""
    if _SURROGATE_RE.search(text):
        raise InvalidValue("Contains an invalid character (an unpaired surrogate), which cannot be sent.")


def check_sendable(value: Any, path: tuple[Any, ...] = ()) -> None:
    """Raise `InvalidValue` (saying where) unless every part of a parsed value can be stored by st2."""
    if len(path) > MAX_DEPTH:
        raise InvalidValue(f"Nested too deeply: at most {MAX_DEPTH} levels of lists and objects.")
    try:
        if isinstance(value, str):
            check_text(value)
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise InvalidValue(_TOO_LARGE)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidValue("This number is too large.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                check_sendable(item, (*path, index))
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(key)
                check_sendable(item, (*path, key))
    except InvalidValue as exc:
        if not path or exc.message.startswith(_where(path)):
            raise
        where = _where(path)
        raise InvalidValue(f"{where}{exc.message[0].lower()}{exc.message[1:]}") from None


def printable(text: str) -> str:
    """Text safe to draw: the one cleaner, st2tui.text.visible (control characters shown as ␛, ␇,
    <U+202E>...; line breaks and tabs stay)."""
    return visible(text)


# -- parsing ---------------------------------------------------------------------------------------------


def _schema_of(spec: ParameterSpec) -> dict[str, Any]:
    schema = {key: value for key, value in spec.raw.items() if key not in _ST2_KEYS}
    if spec.type and "type" not in schema:
        schema["type"] = spec.type
    return _optional_nested_nullable(schema)


def _optional_nested_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """st2 lets optional nested properties, and those whose default is null, be null."""
    schema = copy.deepcopy(schema)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, prop in list(properties.items()):
            if isinstance(prop, dict):
                prop = _optional_nested_nullable(prop)
                optional = not prop.get("required", False)
                if ("default" in prop or optional) and prop.get("default") is None:
                    kind = prop.get("type", "string")
                    if isinstance(kind, str) and kind != "null":
                        prop["type"] = [kind, "null"]
                    elif isinstance(kind, list) and "null" not in kind:
                        prop["type"] = [*kind, "null"]
                properties[name] = prop
    items = schema.get("items")
    if isinstance(items, dict):
        schema["items"] = _optional_nested_nullable(items)
    return schema


def _with_defaults(value: Any, schema: Mapping[str, Any]) -> Any:
    """A copy of `value` with nested nulls replaced by their defaults, as st2 does before checking."""
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, dict):
        filled = dict(value)
        for name, prop in properties.items():
            if not isinstance(prop, dict):
                continue
            if "default" in prop and filled.get(name) is None:
                filled[name] = copy.deepcopy(prop["default"])
            if filled.get(name) is not None:
                filled[name] = _with_defaults(filled[name], prop)
        return filled
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        return [
            _with_defaults(
                copy.deepcopy(items["default"]) if item is None and "default" in items else item, items
            )
            for item in value
        ]
    return value


def _item_spec(spec: ParameterSpec) -> ParameterSpec:
    items = spec.raw.get("items")
    return ParameterSpec.from_dict(f"{spec.name}[]", items if isinstance(items, dict) else {})


def parse_bool(text: str) -> bool:
    """true/false, yes/no, on/off, 1/0 (any case)."""
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise InvalidValue("Must be true or false.")


def _whole_number(text: str) -> int:
    """An integer from digits, refused beyond 64 bits (before Python's own limit on long digit strings)."""
    if len(text.lstrip("+-").lstrip("0")) > len(str(INT64_MAX)):
        raise InvalidValue(_TOO_LARGE)
    number = int(text)
    if not INT64_MIN <= number <= INT64_MAX:
        raise InvalidValue(_TOO_LARGE)
    return number


def _parse_integer(text: str) -> int:
    text = text.strip()
    if _INTEGER_RE.fullmatch(text):
        return _whole_number(text)
    if _NUMBER_RE.fullmatch(text):
        raise InvalidValue("Must be a whole number (no decimal point or exponent).")
    raise InvalidValue("Must be a whole number, like 42.")


def _parse_number(text: str) -> int | float:
    text = text.strip()
    if _INTEGER_RE.fullmatch(text):
        return _whole_number(text)
    if not _NUMBER_RE.fullmatch(text):
        raise InvalidValue("Must be a number, like 0.5 or 3.")
    number = float(text)
    if not math.isfinite(number):
        raise InvalidValue("This number is too large.")
    return number


def _json_error(exc: json.JSONDecodeError) -> InvalidValue:
    return InvalidValue(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).")


def _no_constants(name: str) -> Any:
    raise InvalidValue(f"Not valid JSON: {name} is not a JSON number.")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise _json_error(exc) from None
    except InvalidValue:
        raise
    except RecursionError:
        raise InvalidValue(f"Nested too deeply: at most {MAX_DEPTH} levels of lists and objects.") from None
    except ValueError:
        # Python refuses to read integers of thousands of digits.
        raise InvalidValue(_TOO_LARGE) from None


def _parse_scalar_item(spec: ParameterSpec, text: str, position: int) -> Any:
    kind = spec.type
    try:
        if kind == "integer":
            return _parse_integer(text)
        if kind == "number":
            return _parse_number(text)
        if kind == "boolean":
            return parse_bool(text)
    except InvalidValue as exc:
        raise InvalidValue(f"Item {position}: {exc.message[0].lower()}{exc.message[1:]}") from None
    if kind in ("object", "array"):
        raise InvalidValue('Items of this list are objects: write the whole list as JSON, like [{"a": 1}].')
    return text


def _parse_array(spec: ParameterSpec, text: str) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("["):
        value = _parse_json(stripped)
        if not isinstance(value, list):
            raise InvalidValue("Must be a list: comma-separated values or a JSON list.")
        return value
    item_spec = _item_spec(spec)
    parts = [part.strip() for part in stripped.split(",")]
    return [
        _parse_scalar_item(item_spec, part, index) for index, part in enumerate(parts, start=1) if part != ""
    ]


def _parse_object(text: str) -> dict[str, Any]:
    stripped = text.strip()
    if not stripped.startswith("{") and "=" in stripped:
        # The st2 CLI's short form: key1=value1,key2=value2 (values are text).
        pairs = [part.split("=", 1) for part in stripped.split(",") if part.strip()]
        if all(len(pair) == 2 and pair[0].strip() for pair in pairs):
            return {key.strip(): value.strip() for key, value in pairs}
    value = _parse_json(stripped)
    if not isinstance(value, dict):
        raise InvalidValue('Must be a JSON object, like {"key": "value"} (or key=value,key2=value2).')
    return value


def parse_value(spec: ParameterSpec, text: str) -> Parsed | None:
    """A field's text as the value to send; None when the field is empty (not given).

    Raises `InvalidValue` for text the server would refuse. Templates pass as text, unchecked.
    """
    if spec.type != "string" and text.strip() == "":
        return None
    if text == "":
        return None
    check_text(text)
    if is_template(text):
        return Parsed(text, template=True)
    kind = spec.type
    value: Any
    if spec.enum is not None and kind not in ("array", "object"):
        value = _parse_enum(spec, text)
    elif kind == "string":
        value = text
    elif kind == "integer":
        value = _parse_integer(text)
    elif kind == "number":
        value = _parse_number(text)
    elif kind == "boolean":
        value = parse_bool(text)
    elif kind == "array":
        value = _parse_array(spec, text)
    elif kind == "object":
        value = _parse_object(text)
    else:
        # No declared type: JSON when it parses, else the text itself.
        try:
            value = _parse_json(text)
        except InvalidValue:
            if _looks_like_json_or_int(text):
                raise
            value = text
    check_sendable(value)
    validate_value(spec, value)
    return Parsed(value)


def _parse_enum(spec: ParameterSpec, text: str) -> Any:
    options = spec.enum or []
    for option in options:
        if format_value(spec, option) == text:
            return option
    for option in options:
        if format_value(spec, option).strip().lower() == text.strip().lower():
            return option
    raise InvalidValue(f"Must be one of: {', '.join(format_value(spec, option) for option in options)}.")


@functools.cache
def _st2_validator_class() -> Any:
    """st2's validator: draft 4 keywords, draft 3 `properties` (per-property `required: true`), no
    draft-4 `required` list. Built on first use: importing jsonschema costs ~40 ms of start-up."""
    import jsonschema
    from jsonschema import Draft3Validator, Draft4Validator

    keywords = {name: check for name, check in Draft4Validator.VALIDATORS.items() if name != "required"}
    keywords["properties"] = Draft3Validator.VALIDATORS["properties"]
    return jsonschema.validators.create(
        meta_schema=Draft4Validator.META_SCHEMA,
        validators=keywords,
        version="st2tui-parameters",
        type_checker=Draft4Validator.TYPE_CHECKER,
    )


@functools.lru_cache(maxsize=512)
def _validator(schema_json: str) -> Any:
    return _st2_validator_class()(json.loads(schema_json))


def validate_value(spec: ParameterSpec, value: Any) -> None:
    """Raise `InvalidValue` unless the parameter's schema accepts `value` (as the server checks it)."""
    # Forms check on every key press: one validator per distinct schema.
    schema = _schema_of(spec)
    validator = _validator(json.dumps(schema, sort_keys=True, default=str))
    errors = list(validator.iter_errors(_with_defaults(value, schema)))
    if not errors:
        return
    # Report the first place in the value that is wrong (item 1 before item 2), its most telling error.
    first = min(_path_order(error) for error in errors)
    from jsonschema.exceptions import best_match

    error = best_match(error for error in errors if _path_order(error) == first)
    raise InvalidValue(_plain_message(error))


def _path_order(error: ValidationError) -> tuple[int, list[str]]:
    path = list(error.absolute_path)
    return (len(path), [f"{part:012d}" if isinstance(part, int) else str(part) for part in path])


def _where(path: Iterable[Any]) -> str:
    parts = [f"item {part + 1}" if isinstance(part, int) else str(part) for part in path]
    if not parts:
        return ""
    where = ", ".join(parts)
    return f"{where[0].upper()}{where[1:]}: "


def _expected(types: Any) -> str:
    names = types if isinstance(types, list) else [types]
    words = [_TYPE_WORDS.get(name, str(name)) for name in names if name != "null"]
    return " or ".join(words) or "empty"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _plain_message(error: ValidationError) -> str:
    """A jsonschema error in plain words, prefixed with where in the value it is."""
    keyword, limit, path = error.validator, error.validator_value, list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = _where(path)
    if keyword == "required" and path:
        where, text = _where(path[:-1]), f"{path[-1]} is required."
    elif keyword == "type":
        text = f"must be {_expected(limit)}."
    elif keyword == "enum":
        text = f"must be one of: {', '.join(_short(option) for option in limit)}."
    elif keyword == "minimum":
        exclusive = schema.get("exclusiveMinimum") is True
        text = f"must be {'more than' if exclusive else 'at least'} {limit}."
    elif keyword == "maximum":
        exclusive = schema.get("exclusiveMaximum") is True
        text = f"must be {'less than' if exclusive else 'at most'} {limit}."
    elif keyword == "multipleOf":
        text = f"must be a multiple of {limit}."
    elif keyword == "minLength":
        text = f"must be at least {limit} character{'s' if limit != 1 else ''} long."
    elif keyword == "maxLength":
        text = f"must be at most {limit} character{'s' if limit != 1 else ''} long."
    elif keyword == "pattern":
        text = f"must match the pattern {limit}."
    elif keyword == "minItems":
        text = f"needs at least {limit} item{'s' if limit != 1 else ''}."
    elif keyword == "maxItems":
        text = f"allows at most {limit} item{'s' if limit != 1 else ''}."
    elif keyword == "uniqueItems":
        text = "must not list the same value twice."
    elif keyword == "additionalProperties":
        allowed = sorted((schema.get("properties") or {}).keys())
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        names = ", ".join(extra) or "some keys"
        text = f"unexpected {names}" + (f" (allowed: {', '.join(allowed)})." if allowed else ".")
    elif keyword in ("minProperties", "maxProperties"):
        text = f"{'needs at least' if keyword == 'minProperties' else 'allows at most'} {limit} keys."
    else:
        text = error.message[0].lower() + error.message[1:] + ("" if error.message.endswith(".") else ".")
    return f"{where}{text}" if where else text[0].upper() + text[1:]


# -- formatting ------------------------------------------------------------------------------------------


def _format_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False)


def format_value(spec: ParameterSpec, value: Any) -> str:
    """The text a field shows for a value; `parse_value` of it gives the value back."""
    if value is None:
        return ""
    if isinstance(value, str) and is_template(value):
        return value
    kind = spec.type
    if kind == "array" and isinstance(value, list):
        return _format_array(spec, value)
    if kind == "object" and isinstance(value, dict):
        return json.dumps(value, indent=2, ensure_ascii=False)
    if kind is None and spec.enum is None and isinstance(value, str):
        # Untyped fields read JSON first: text that would parse as JSON is shown quoted.
        return json.dumps(value, ensure_ascii=False) if _looks_like_json_or_int(value) else value
    if isinstance(value, (str, bool, int, float)):
        return _format_scalar(value)
    return json.dumps(value, ensure_ascii=False)


def _format_array(spec: ParameterSpec, value: list[Any]) -> str:
    """A comma list when it reads back the same; JSON otherwise (multi-line for nested values)."""
    scalars = all(isinstance(item, (str, int, float, bool)) and not is_template(item) for item in value)
    if value and scalars:
        comma = ", ".join(_format_scalar(item) for item in value)
        try:
            back = _parse_array(spec, comma)
        except InvalidValue:
            back = None
        same = back is not None and len(back) == len(value)
        if same and all(type(a) is type(b) and a == b for a, b in zip(back, value, strict=True)):
            return comma
    if any(isinstance(item, (dict, list)) for item in value):
        return json.dumps(value, indent=2, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


# -- payload and command line -----------------------------------------------------------------------------


def build_payload(
    specs: Iterable[ParameterSpec], values: Mapping[str, Parsed | None], *, omit_defaults: bool
) -> dict[str, Any]:
    """The parameters to send, in form order: given values, without those equal to their default
    when `omit_defaults` (the server applies defaults itself, and the command line stays short)."""
    payload: dict[str, Any] = {}
    for spec in specs:
        parsed = values.get(spec.name)
        if parsed is None:
            continue
        if omit_defaults and spec.has_default and not parsed.template and parsed.value == spec.default:
            continue
        payload[spec.name] = parsed.value
    return payload


def _cli_value(spec: ParameterSpec | None, value: Any) -> str:
    """A value as the st2 CLI's `key=value` argument casts it back (see its `transform_array`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _format_scalar(value)
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        comma = ",".join(value)
        plain = all(item and item == item.strip() and "," not in item for item in value)
        if plain and not _looks_like_json_or_int(comma):
            return comma
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _looks_like_json_or_int(text: str) -> bool:
    """True when text parses as JSON (which covers integers): the CLI would read it as such."""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    except (ValueError, RecursionError):
        # JSON Python will not read (thousands of digits, thousands of levels): JSON all the same.
        return True
    return True


def st2_command(
    action_ref: str,
    payload: Mapping[str, Any],
    specs: Mapping[str, ParameterSpec],
    *,
    rerun_of: str | None = None,
) -> str:
    """The `st2 run ...` (or `st2 execution re-run ...`) line that sends the same payload; secrets masked."""
    words = ["st2", "execution", "re-run", rerun_of] if rerun_of else ["st2", "run", action_ref]
    for name, value in payload.items():
        spec = specs.get(name)
        shown = SERVER_MASK if spec is not None and spec.secret else _cli_value(spec, value)
        words.append(f"{name}={shown}")
    return shlex.join(words)


def masked_payload(payload: Mapping[str, Any], specs: Mapping[str, ParameterSpec]) -> dict[str, Any]:
    """The payload with secret parameters shown as st2 shows them."""
    return {
        name: SERVER_MASK if name in specs and specs[name].secret else scrub_secrets(specs.get(name), value)
        for name, value in payload.items()
    }


def scrub_secrets(spec: ParameterSpec | None, value: Any, replacement: Any = SERVER_MASK) -> Any:
    """A value with nested secret properties (``secret: true`` inside ``properties``/``items``) masked."""
    if spec is None:
        return value
    return _scrub(spec.raw, value, replacement)


def _scrub(schema: Mapping[str, Any], value: Any, replacement: Any) -> Any:
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        out = {}
        for key, item in value.items():
            sub = schema["properties"].get(key)
            if isinstance(sub, dict) and sub.get("secret"):
                out[key] = replacement
            else:
                out[key] = _scrub(sub, item, replacement) if isinstance(sub, dict) else item
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_scrub(schema["items"], item, replacement) for item in value]
    return value


# -- server errors ---------------------------------------------------------------------------------------

_NAMED_ERRORS = (
    re.compile(r"^'(?P<name>[^']+)' is a required property"),
    re.compile(r"Failed to render parameter \"(?P<name>[^\"]+)\""),
    re.compile(r"Dependency unsatisfied in variable \"(?P<name>[^\"]+)\""),
    re.compile(r"Override of immutable parameter\(s\) \['(?P<name>[^']+)'"),
    re.compile(r"\('(?P<name>[^']+)' was unexpected\)"),
)
_QUOTED = re.compile(r"['\"]([A-Za-z_][\w-]*)['\"]")


def field_for_server_error(faultstring: str, names: Iterable[str], unchecked: Iterable[str]) -> str | None:
    """Which field a 400's message is about: the one it names, else the only value the form could not
    check itself (a template, rendered by the server); None when it cannot tell."""
    names = list(names)
    for pattern in _NAMED_ERRORS:
        match = pattern.search(faultstring)
        if match and match.group("name") in names:
            return match.group("name")
    for quoted in _QUOTED.findall(faultstring):
        if quoted in names:
            return quoted
    unchecked = [name for name in unchecked if name in names]
    return unchecked[0] if len(unchecked) == 1 else None


# -- remembered values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Remembered:
    """An action's remembered values and when they were run."""

    values: dict[str, Any]
    saved_at: datetime | None


class FormValueStore:
    """The last values run per action, in a small JSON file; secret parameters are never written."""

    FILE_NAME = "form-values.json"
    # Keep the file small: the actions run most recently win.
    MAX_ACTIONS = 200

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> FormValueStore:
        """``$ST2TUI_STATE_DIR``, else the platform's user state dir for st2tui."""
        env = os.environ if env is None else env
        override = env.get("ST2TUI_STATE_DIR")
        if override:
            return cls(Path(override).expanduser() / cls.FILE_NAME)
        from platformdirs import user_state_dir

        return cls(Path(user_state_dir("st2tui")) / cls.FILE_NAME)

    def _load(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        actions = doc.get("actions") if isinstance(doc, dict) else None
        return actions if isinstance(actions, dict) else {}

    def recall(self, action_ref: str) -> Remembered | None:
        entry = self._load().get(action_ref)
        if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
            return None
        saved_at = None
        if isinstance(entry.get("saved_at"), str):
            try:
                saved_at = datetime.fromisoformat(entry["saved_at"])
            except ValueError:
                saved_at = None
        return Remembered(entry["values"], saved_at)

    def remember(
        self,
        action_ref: str,
        payload: Mapping[str, Any],
        specs: Mapping[str, ParameterSpec],
        *,
        now: datetime | None = None,
    ) -> None:
        """Store `payload` minus secrets (whole secret parameters and secret nested properties)."""
        values = {}
        for name, value in payload.items():
            spec = specs.get(name)
            if spec is None or spec.secret:
                continue
            scrubbed = _scrub(spec.raw, value, _DROP)
            values[name] = _drop_marked(scrubbed)
        actions = self._load()
        actions.pop(action_ref, None)
        stamp = (now or datetime.now(timezone.utc)).isoformat()
        actions[action_ref] = {"saved_at": stamp, "values": values}
        kept = dict(list(actions.items())[-self.MAX_ACTIONS :])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".form-values-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"version": 1, "actions": kept}, handle, indent=1, ensure_ascii=False)
        os.replace(tmp, self.path)


class _Drop:
    """Marks a secret nested value for removal before remembering."""


_DROP = _Drop()


def _drop_marked(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_marked(item) for key, item in value.items() if item is not _DROP}
    if isinstance(value, list):
        return [_drop_marked(item) for item in value if item is not _DROP]
    return value


# -- $EDITOR ---------------------------------------------------------------------------------------------


def editor_command(env: Mapping[str, str] | None = None) -> list[str]:
    """``$VISUAL``, else ``$EDITOR``, else vi; split like a shell would (``code --wait``)."""
    env = os.environ if env is None else env
    return shlex.split(env.get("VISUAL") or env.get("EDITOR") or "vi")


def edit_externally(text: str, *, suffix: str = ".txt", env: Mapping[str, str] | None = None) -> str:
    """Let the user's editor change `text` (in a private temporary file); returns the saved text.

    Raises OSError when the editor cannot be started or exits with an error.
    """
    fd, name = tempfile.mkstemp(prefix="st2tui-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        result = subprocess.run([*editor_command(env), str(path)], check=False)
        if result.returncode != 0:
            raise OSError(f"the editor exited with status {result.returncode}")
        edited = path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
    # Editors add a final newline; a single-line value should not grow one.
    return edited[:-1] if edited.endswith("\n") and not text.endswith("\n") else edited


# -- key-value pairs -------------------------------------------------------------------------------------


def kv_display_value(value: str) -> str:
    """A stored value for editing: JSON objects and lists pretty-printed, anything else as it is."""
    try:
        parsed = json.loads(value)
    except (ValueError, TypeError, RecursionError):
        return value
    if isinstance(parsed, (dict, list)):
        return json.dumps(parsed, indent=2, ensure_ascii=False)
    return value


def kv_value_to_save(text: str, original: str | None) -> str:
    """What to store for the edited text: the original untouched when only the layout changed, JSON
    kept on one line when it was (or is new), anything else exactly as typed."""
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if not isinstance(parsed, (dict, list)):
        return text
    if original is not None:
        try:
            if json.loads(original) == parsed:
                return original
        except (ValueError, RecursionError):
            pass
        if "\n" in original:
            return text
    return json.dumps(parsed, ensure_ascii=False)


# The longest TTL: st2 computes the expiry as now + TTL, which must stay a date it can store.
MAX_TTL = 100 * 365 * 86400
_TTL_RE = re.compile(r"(?:([0-9]{1,12})d)?(?:([0-9]{1,12})h)?(?:([0-9]{1,12})m)?(?:([0-9]{1,12})s)?")


def parse_ttl(text: str) -> int | None:
    """A TTL in seconds; accepts 90, 90s, 15m, 2h, 1d (and combinations like 1h30m); None when empty."""
    text = text.strip().lower().replace(" ", "")
    if not text:
        return None
    if text.isascii() and text.isdigit():
        seconds = int(text) if len(text) <= 12 else MAX_TTL + 1
    else:
        parts = _TTL_RE.fullmatch(text)
        if not parts or not any(parts.groups()):
            raise InvalidValue("Must be a number of seconds, or like 15m, 2h, 1d.")
        days, hours, minutes, secs = (int(group or 0) for group in parts.groups())
        seconds = days * 86400 + hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise InvalidValue("Must be more than 0 seconds (leave empty for no expiry).")
    if seconds > MAX_TTL:
        raise InvalidValue(f"At most 100 years ({MAX_TTL} seconds); leave empty for no expiry.")
    return seconds


def key_changes(opened: KeyValuePair | None, current: KeyValuePair | None) -> list[str]:
    """How the key on the server differs from the one the form opened (empty when it does not)."""
    if opened is None and current is None:
        return []
    if opened is None:
        return ["a key with this name already exists on the server"]
    if current is None:
        return ["it was deleted on the server"]
    changes = []
    if current.value != opened.value:
        changes.append("its secret value" if opened.secret or current.secret else "its value")
    if current.secret != opened.secret:
        changes.append("whether it is secret")
    if current.description != opened.description:
        changes.append("its description")
    if current.expire_timestamp != opened.expire_timestamp:
        changes.append("its expiry")
    return changes
