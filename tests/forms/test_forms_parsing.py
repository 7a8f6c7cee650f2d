"""Property tests of the forms' value parsing: for every value of a parameter's declared type, the form
accepts it exactly when the server's schema does, and gives back the very value; whatever text the form
accepts, the server accepts too. The demo server's own validator (st2's rules) is the oracle."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from st2tui import forms
from st2tui.demo import params as server_params
from st2tui.models import KeyValuePair, ParameterSpec

CONTENT = Path(forms.__file__).parent / "demo" / "content"
PROPERTIES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _all_param_types() -> dict[str, ParameterSpec]:
    doc = yaml.safe_load((CONTENT / "packs/examples/actions/all-param-types.yaml").read_text())
    return ParameterSpec.parse_map(doc["parameters"])


ALL = _all_param_types()
# More shapes than the demo action has: bounds that exclude, multiples, typed array items, enums of
# numbers, untyped parameters, nested objects with required and optional properties.
EXTRA = ParameterSpec.parse_map(
    {
        "port": {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 65535},
        "step": {"type": "number", "multipleOf": 0.5, "maximum": 100},
        "ids": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 4},
        "weights": {"type": "array", "items": {"type": "number"}},
        "flags": {"type": "array", "items": {"type": "boolean"}},
        "anything": {"type": "array"},
        "size": {"type": "integer", "enum": [1, 2, 4, 8]},
        "free": {},
        "target": {
            "type": "object",
            "properties": {
                "host": {"type": "string", "required": True},
                "port": {"type": "integer"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        },
        "code": {"type": "string", "minLength": 2, "maxLength": 5},
    }
)
# Immutable parameters are no form fields.
SPECS = {name: spec for name, spec in {**ALL, **EXTRA}.items() if not spec.immutable}
SCALAR_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_.,:/[]{}\"'=+é\t", max_size=12)


def server_accepts(spec: ParameterSpec, value: Any) -> bool:
    """What the demo server (st2's rules) says about this parameter value."""
    try:
        cast = server_params.cast_value(value, spec.raw)
        server_params.validate_parameters({spec.name: spec.raw}, {spec.name: cast})
    except (ValueError, TypeError, SyntaxError):
        return False
    return True


def form_reads(spec: ParameterSpec, value: Any) -> Any:
    """The value the form reads back from the text it shows for `value` (InvalidValue when refused)."""
    parsed = forms.parse_value(spec, forms.format_value(spec, value))
    assert parsed is not None and not parsed.template
    return parsed.value


def _same(left: Any, right: Any) -> bool:
    """Equal, with the same JSON types (1 and 1.0 and True are different values for the server)."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


json_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(-1e6, 1e6) | SCALAR_TEXT
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SCALAR_TEXT, inner, max_size=4),
    max_leaves=8,
)


def values_of_type(spec: ParameterSpec) -> st.SearchStrategy[Any]:
    """Values of the parameter's declared type (valid or not for its other constraints)."""
    kind = spec.type
    if spec.enum is not None:
        return st.sampled_from(spec.enum) | values_of_type(ParameterSpec(spec.name, kind))
    if kind == "string":
        return st.text(max_size=40) | st.from_regex(r"[a-z0-9-]{0,34}", fullmatch=True)
    if kind == "integer":
        return st.integers(-(2**40), 2**40) | st.integers(-3, 70000)
    if kind == "number":
        return st.integers(-1000, 1000) | st.floats(allow_nan=False, allow_infinity=False) | st.floats(-2, 2)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = spec.raw.get("items") or {}
        item_values = values_of_type(ParameterSpec.from_dict("item", items)) if items else json_scalars
        if items.get("type") == "object":
            item_values = _objects_like(items)
        return st.lists(item_values, max_size=5)
    if kind == "object":
        return (
            _objects_like(spec.raw)
            if spec.raw.get("properties")
            else st.dictionaries(SCALAR_TEXT, json_values)
        )
    return json_values


def _objects_like(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the schema's properties (each maybe missing, maybe wrongly typed), maybe more."""
    properties = schema.get("properties") or {}
    optional = {
        name: (values_of_type(ParameterSpec.from_dict(name, prop)) | json_scalars)
        for name, prop in properties.items()
    }
    extra = st.dictionaries(st.sampled_from(["extra", "other"]), json_scalars, max_size=1)
    return st.builds(
        lambda known, more: {**known, **more}, st.fixed_dictionaries({}, optional=optional), extra
    )


def _sendable(value: Any) -> bool:
    """Values a form can express: not empty text (that means "not given") and no templates."""
    if value == "" or value is None:
        return False
    return "{{" not in json.dumps(value) and "<%" not in json.dumps(value) and "{%" not in json.dumps(value)


@pytest.mark.parametrize("name", sorted(SPECS))
@PROPERTIES
@given(data=st.data())
def test_form_accepts_a_typed_value_exactly_when_the_server_does(name: str, data: st.DataObject) -> None:
    spec = SPECS[name]
    value = data.draw(values_of_type(spec))
    assume(_sendable(value))
    accepted = server_accepts(spec, value)
    try:
        read = form_reads(spec, value)
    except forms.InvalidValue as refused:
        assert not accepted, f"the form refused {value!r} ({refused.message}), the server accepts it"
        assert refused.message and refused.message[0].isupper()
        return
    assert accepted, f"the form accepted {value!r}, the server refuses it"
    assert _same(read, value)


@pytest.mark.parametrize("name", sorted(SPECS))
@PROPERTIES
@given(text=st.one_of(SCALAR_TEXT, st.text(max_size=30), json_values.map(json.dumps)))
def test_any_text_the_form_accepts_is_accepted_by_the_server(name: str, text: str) -> None:
    spec = SPECS[name]
    try:
        parsed = forms.parse_value(spec, text)
    except forms.InvalidValue:
        return
    if parsed is None or parsed.template:
        assert parsed is None or forms.is_template(text)
        return
    assert server_accepts(spec, parsed.value), f"{text!r} -> {parsed.value!r} refused by the server"
    # The server gets the type it declares: its casts leave the value as it is.
    assert _same(server_params.cast_value(parsed.value, spec.raw), parsed.value) or spec.type == "number"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_whole_form_of_accepted_values_makes_a_payload_the_server_accepts(data: st.DataObject) -> None:
    values: dict[str, forms.Parsed | None] = {}
    for spec in forms.ordered_fields(ALL.values()):
        value = data.draw(values_of_type(spec))
        if not _sendable(value) or not server_accepts(spec, value):
            value = spec.default if spec.has_default else None
        values[spec.name] = forms.Parsed(value) if value is not None else None
    if values["message"] is None:
        values["message"] = forms.Parsed("hello")
    payload = forms.build_payload(forms.ordered_fields(ALL.values()), values, omit_defaults=True)
    merged = {spec.name: spec.raw for spec in ALL.values()}
    server_params.validate_parameters(merged, payload)
    assert "mode" not in payload  # immutable: never sent
    assert all(payload[name] != ALL[name].default for name in payload if ALL[name].has_default)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("count", "11", "Must be at most 10."),
        ("count", "0", "Must be at least 1."),
        ("count", "3.5", "Must be a whole number (no decimal point or exponent)."),
        ("count", "three", "Must be a whole number, like 42."),
        ("ratio", "1.5", "Must be at most 1."),
        ("ratio", "half", "Must be a number, like 0.5 or 3."),
        ("verbose", "maybe", "Must be true or false."),
        ("level", "loud", "Must be one of: debug, info, warning, error."),
        ("tags", "a, b, a", "Must not list the same value twice."),
        ("servers", '[{"host": "a"}, {"port": 2}]', "Item 2: host is required."),
        ("servers", '[{"host": "a", "port": "22"}]', "Item 1, port: must be a whole number."),
        ("servers", '[{"host": "a", "user": "x"}]', "Item 1: unexpected user (allowed: host, port)."),
        (
            "servers",
            "web-01, web-02",
            'Items of this list are objects: write the whole list as JSON, like [{"a": 1}].',
        ),
        ("options", "[1, 2]", 'Must be a JSON object, like {"key": "value"} (or key=value,key2=value2).'),
        ("options", '{"retries": ', "Not valid JSON: Expecting value (line 1, column 12)."),
        ("slug", "No Spaces", "Must match the pattern ^[a-z0-9-]+$."),
        ("slug", "ab", "Must be at least 3 characters long."),
    ],
)
def test_refusals_say_what_is_wrong_in_plain_words(name: str, text: str, message: str) -> None:
    with pytest.raises(forms.InvalidValue) as refused:
        forms.parse_value(SPECS[name], text)
    assert refused.value.message == message


def test_templates_pass_unchecked_as_text() -> None:
    for name, text in [("count", "{{ st2kv.system.count }}"), ("servers", "<% ctx().servers %>")]:
        parsed = forms.parse_value(SPECS[name], text)
        assert parsed == forms.Parsed(text, template=True)


def test_arrays_read_comma_lists_typed_by_their_items_and_json() -> None:
    assert forms.parse_value(EXTRA["ids"], "1, 2,3").value == [1, 2, 3]
    assert forms.parse_value(EXTRA["flags"], "true, no").value == [True, False]
    assert forms.parse_value(ALL["tags"], "a b, c,").value == ["a b", "c"]
    assert forms.parse_value(ALL["tags"], '["x,y", "z"]').value == ["x,y", "z"]
    assert forms.format_value(ALL["tags"], ["x,y", "z"]) == '["x,y", "z"]'
    assert forms.format_value(ALL["tags"], ["demo", "st2tui"]) == "demo, st2tui"


def test_objects_also_read_the_cli_short_form() -> None:
    assert forms.parse_value(ALL["options"], "a=1, b = two").value == {"a": "1", "b": "two"}


def test_order_is_position_then_required_then_name_without_immutable() -> None:
    names = [spec.name for spec in forms.ordered_fields(ALL.values())]
    assert names[:3] == ["message", "count", "level"]
    assert names[3:5] == ["environment", "api_token"]  # required first, then by name
    assert names[5:] == sorted(names[5:])
    assert "mode" not in names


def test_command_line_is_what_the_st2_cli_reads_back() -> None:
    payload = {
        "message": "hello world",
        "count": 5,
        "tags": ["a", "b"],
        "servers": [{"host": "h", "port": 1}],
        "verbose": True,
        "api_token": "s3cret",
        "ratio": 0.5,
        "options": {"k": "v"},
    }
    line = forms.st2_command("examples.all-param-types", payload, ALL)
    assert line == (
        "st2 run examples.all-param-types 'message=hello world' count=5 tags=a,b "
        """'servers=[{"host":"h","port":1}]' verbose=true 'api_token=********' ratio=0.5 'options={"k":"v"}'"""
    )
    assert "s3cret" not in line
    rerun = forms.st2_command("examples.all-param-types", {"count": 2}, ALL, rerun_of="abc123")
    assert rerun == "st2 execution re-run abc123 count=2"


def test_server_errors_are_placed_on_the_field_they_name() -> None:
    names = list(ALL)
    assert forms.field_for_server_error("'message' is a required property", names, []) == "message"
    assert forms.field_for_server_error('Failed to render parameter "count": boom', names, []) == "count"
    assert forms.field_for_server_error("20 is greater than the maximum of 10", names, ["count"]) == "count"
    assert forms.field_for_server_error("20 is greater than the maximum of 10", names, []) is None
    assert forms.field_for_server_error("Action is disabled", names, ["count", "ratio"]) is None


def test_remembered_values_never_hold_secrets(tmp_path: Path) -> None:
    specs = {
        **ALL,
        **ParameterSpec.parse_map(
            {
                "login": {
                    "type": "object",
                    "properties": {
                        "user": {"type": "string"},
                        "password": {"type": "string", "secret": True},
                    },
                }
            }
        ),
    }
    store = forms.FormValueStore(tmp_path / "state" / "values.json")
    assert store.recall("examples.all-param-types") is None
    payload = {"message": "hi", "api_token": "s3cret", "login": {"user": "u", "password": "pw"}}
    store.remember("examples.all-param-types", payload, specs)
    remembered = store.recall("examples.all-param-types")
    assert remembered is not None and remembered.saved_at is not None
    assert remembered.values == {"message": "hi", "login": {"user": "u"}}
    text = store.path.read_text()
    assert "s3cret" not in text and "pw" not in text


def test_key_values_pretty_print_json_and_keep_its_layout_when_saved() -> None:
    stored = '{"a": 1, "b": [1, 2]}'
    shown = forms.kv_display_value(stored)
    assert shown == '{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}'
    assert forms.kv_value_to_save(shown, stored) == stored
    assert forms.kv_value_to_save(shown.replace("1,", "5,", 1), stored) == '{"a": 5, "b": [1, 2]}'
    assert forms.kv_display_value("plain text") == "plain text"
    assert forms.kv_value_to_save("plain\ntext", None) == "plain\ntext"
    assert forms.kv_value_to_save('{"x": 1}', None) == '{"x": 1}'


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("", None)]
)
def test_ttl_reads_seconds_and_units(text: str, seconds: int | None) -> None:
    assert forms.parse_ttl(text) == seconds


def test_ttl_refuses_nonsense() -> None:
    for text in ("soon", "0", "-5", "5x"):
        with pytest.raises(forms.InvalidValue):
            forms.parse_ttl(text)


def test_key_changes_name_what_changed() -> None:
    opened = KeyValuePair.from_dict({"name": "k", "value": "1", "scope": "st2kv.system"})
    assert forms.key_changes(opened, opened) == []
    changed = KeyValuePair.from_dict({"name": "k", "value": "2", "scope": "st2kv.system", "description": "d"})
    assert forms.key_changes(opened, changed) == ["its value", "its description"]
    assert forms.key_changes(opened, None) == ["it was deleted on the server"]


def test_forms_module_needs_no_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, st2tui.forms; print(any(m.startswith(('textual', 'st2tui.demo')) for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
