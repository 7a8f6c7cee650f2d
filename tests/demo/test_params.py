"""Action parameters as st2 handles them: the merged view, rendering, casting, validation, masking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from st2tui.demo import crypto
from st2tui.demo.content import load_content
from st2tui.demo.params import (
    MASK,
    ParameterRenderError,
    ParameterValidationError,
    mask_secrets,
    merge_parameters,
    render_final_parameters,
    render_live_parameters,
    render_parameters,
    validate_parameters,
)

KEYS = {
    ("st2kv.system", "", "os_version"): "Ubuntu 22.04",
    ("st2kv.system", "", "deploy.target"): "web-07",
    ("st2kv.system", "", "retries"): "4",
    ("st2kv.user", "st2admin", "favorite_color"): "blue",
    ("st2kv.user", "alice", "favorite_color"): "green",
}
CONTEXT = {"user": "st2admin", "pack": "core"}


def kv_lookup(scope: str, name: str, user: str) -> str | None:
    return KEYS.get((scope, user if scope == "st2kv.user" else "", name))


@pytest.fixture(scope="module")
def content():
    return load_content()


def definitions(content, ref: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(runner parameters, action parameters, merged view) of an action."""
    action = content.actions[ref]
    runner = content.runners[action["runner_type"]]["runner_parameters"]
    return runner, action["parameters"], merge_parameters(runner, action["parameters"])


def live(content, ref: str, submitted: dict[str, Any], context: dict[str, Any] = CONTEXT) -> dict[str, Any]:
    runner, action, merged = definitions(content, ref)
    values = render_live_parameters(runner, action, submitted, kv_lookup, action_context=context)
    validate_parameters(merged, values)
    return values


def refused(content, ref: str, submitted: dict[str, Any]) -> str:
    with pytest.raises(ParameterValidationError) as info:
        live(content, ref, submitted)
    return info.value.message


# -- the merged view ------------------------------------------------------------------------------


def test_core_local_parameters_view_equals_real_st2(content, contract: Path):
    real = json.loads((contract / "examples" / "action-parameters-view.json").read_text())
    assert {"parameters": definitions(content, "core.local")[2]} == real


def test_merge_lets_the_action_win_except_that_immutable_sticks():
    runner = {"p": {"type": "string", "default": "r", "immutable": True}, "q": {"type": "integer"}}
    action = {"p": {"default": "a", "immutable": False}, "q": {"default": 3}, "extra": {"type": "boolean"}}
    merged = merge_parameters(runner, action)
    assert merged == {
        "p": {"type": "string", "default": "a", "immutable": True},
        "q": {"type": "integer", "default": 3},
        "extra": {"type": "boolean"},
    }
    merged["p"]["default"] = "changed"
    assert runner["p"]["default"] == "r"  # the inputs are not shared with the result


# -- validation -----------------------------------------------------------------------------------


def test_valid_parameters_of_every_type_are_accepted_and_defaults_applied(content):
    submitted = {
        "message": "hello",
        "notes": "one\ntwo",
        "count": 10,
        "ratio": 0.5,
        "verbose": True,
        "level": "error",
        "tags": ["a", "b"],
        "servers": [{"host": "db-01"}],
        "options": {"retries": 1},
        "slug": "my-release-1",
        "api_token": "t0k3n",
    }
    runner, action, merged = definitions(content, "examples.all-param-types")
    values = render_live_parameters(runner, action, submitted, kv_lookup, action_context=CONTEXT)
    assert values == submitted  # stored as submitted: no defaults added
    checked = validate_parameters(merged, values)
    assert checked["environment"] == "staging"
    assert checked["mode"] == "demo"
    assert checked["servers"] == [{"host": "db-01", "port": 22}]  # nested defaults too
    assert checked["timeout"] == 60  # runner parameters take part


def test_optional_parameters_accept_null(content):
    assert live(content, "examples.all-param-types", {"message": "m", "dry_run": None, "slug": None})


@pytest.mark.parametrize(
    ("submitted", "message"),
    [
        ({}, "'message' is a required property"),
        (
            {"message": "m", "colour": "red"},
            "Additional properties are not allowed ('colour' was unexpected)",
        ),
        ({"message": "m", "count": 11}, "11 is greater than the maximum of 10"),
        ({"message": "m", "count": 0}, "0 is less than the minimum of 1"),
        ({"message": "m", "ratio": 1.5}, "1.5 is greater than the maximum of 1"),
        ({"message": "m", "level": "loud"}, "'loud' is not one of ['debug', 'info', 'warning', 'error']"),
        ({"message": "m", "tags": ["a", "a"]}, "['a', 'a'] has non-unique elements"),
        ({"message": "m", "tags": [1]}, "1 is not of type 'string'"),
        ({"message": "m", "servers": [{"port": 1}]}, "'host' is a required property"),
        (
            {"message": "m", "servers": [{"host": "h", "user": "root"}]},
            "Additional properties are not allowed ('user' was unexpected)",
        ),
        ({"message": "m", "options": [1, 2]}, "[1, 2] is not of type 'object'"),
        ({"message": "m", "slug": "Not A Slug"}, "'Not A Slug' does not match '^[a-z0-9-]+$'"),
        ({"message": "m", "slug": "ab"}, "'ab' is too short"),
        ({"message": "m", "mode": "live"}, "Override of immutable parameter(s) ['mode'] is unsupported."),
        ({"message": "m", "verbose": 1}, "1 is not of type 'boolean'"),
    ],
)
def test_invalid_parameters_are_refused_with_st2s_message(content, submitted, message):
    assert refused(content, "examples.all-param-types", submitted) == message


def test_core_local_refusals_match_real_st2(content):
    assert refused(content, "core.local", {}) == "'cmd' is a required property"
    assert refused(content, "core.local", {"cmd": "x", "sudo": True}) == (
        "Override of immutable parameter(s) ['sudo'] is unsupported."
    )
    assert refused(content, "core.local", {"cmd": "x", "env": "[1]"}) == "[1] is not of type 'object', 'null'"


# -- casting (before validation, as st2 does) --------------------------------------------------------


def test_values_are_cast_to_their_declared_types(content):
    values = live(
        content,
        "examples.all-param-types",
        {
            "message": "m",
            "count": "7",
            "ratio": "0.75",
            "verbose": "true",
            "tags": '["x", "y"]',
            "options": "{'a': 1}",
        },
    )
    assert values == {
        "message": "m",
        "count": 7,
        "ratio": 0.75,
        "verbose": True,
        "tags": ["x", "y"],
        "options": {"a": 1},
    }


def test_values_that_cannot_be_cast_are_refused_with_the_python_error(content):
    assert refused(content, "core.local", {"cmd": "x", "timeout": "soon"}) == (
        "invalid literal for int() with base 10: 'soon'"
    )
    assert (
        refused(content, "core.local", {"cmd": 5}) == 'Value "5" must either be a string or None. Got "int".'
    )


# -- rendering ------------------------------------------------------------------------------------


def test_datastore_values_are_rendered_for_the_requesting_user(content):
    cmd = "echo {{ st2kv.system.os_version }} {{ st2kv.user.favorite_color }} [{{ st2kv.system.missing }}]"
    assert live(content, "core.local", {"cmd": cmd})["cmd"] == "echo Ubuntu 22.04 blue []"
    as_alice = live(content, "core.local", {"cmd": cmd}, {"user": "alice", "pack": "core"})
    assert as_alice["cmd"] == "echo Ubuntu 22.04 green []"
    dotted = live(content, "core.local", {"cmd": "ssh {{ st2kv.system.deploy.target }}"})
    assert dotted["cmd"] == "ssh web-07"


def test_rendered_strings_are_cast_and_complex_values_rendered(content):
    values = live(
        content,
        "core.local",
        {
            "cmd": "x",
            "timeout": "{{ st2kv.system.retries }}",
            "env": {"HOST": "{{ st2kv.system.os_version }}"},
        },
    )
    assert values == {"cmd": "x", "timeout": 4, "env": {"HOST": "Ubuntu 22.04"}}


def test_parameters_may_use_each_other_and_the_action_context():
    rendered = render_parameters(
        {"a": "{{ b }}-{{ action_context.user }}", "b": "{{ c | upper }}", "c": "x"},
        kv_lookup,
        action_context=CONTEXT,
    )
    assert rendered == {"a": "X-st2admin", "b": "X", "c": "x"}
    trigger = render_parameters(
        {"cmd": 'echo "{{trigger.body}}"'}, kv_lookup, extra_context={"trigger": {"body": {"name": "st2"}}}
    )
    assert trigger == {"cmd": "echo \"{'name': 'st2'}\""}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cmd": "{{ nope }}"}, 'Dependency unsatisfied in variable "nope"'),
        (
            {"cmd": "{{ cmd }}"},
            "Cyclic dependency found in the following variables: cmd. Likely the variable is referencing itself",
        ),
        ({"cmd": "{{ action_context.missing.deeper }}"}, 'Failed to render parameter "cmd": '),
    ],
)
def test_render_failures_carry_st2s_message(params, message):
    with pytest.raises(ParameterRenderError) as info:
        render_parameters(params, kv_lookup, action_context=CONTEXT)
    assert info.value.message.startswith(message)


def test_secrets_can_be_decrypted_in_templates():
    key = crypto.generate_key()
    stored = crypto.encrypt(key, "SuperSecret123")
    values = render_parameters(
        {"password": "{{ st2kv.system.api_password | decrypt_kv }}"},
        lambda scope, name, user: stored if name == "api_password" else None,
        decrypt=lambda value: crypto.decrypt(key, value),
    )
    assert values == {"password": "SuperSecret123"}


def test_only_submitted_values_and_templated_defaults_are_stored():
    runner = {"timeout": {"type": "integer", "default": 60}}
    action = {
        "name": {"type": "string", "required": True},
        "greeting": {"type": "string", "default": "Hello, {{ name }}"},
        "fixed": {"type": "string", "default": "{{ name }}!", "immutable": True},
        "plain": {"type": "string", "default": "x"},
    }
    values = render_live_parameters(runner, action, {"name": "Ann"}, kv_lookup, action_context=CONTEXT)
    assert values == {"name": "Ann", "greeting": "Hello, Ann"}


def test_final_parameters_fill_defaults_and_render_immutable_templates(content):
    runner, action, _ = definitions(content, "core.echo")
    values = live(content, "core.echo", {"message": "Stanley"})
    assert values == {"message": "Stanley"}  # what real st2 stores for core.echo
    runner_values, action_values = render_final_parameters(
        runner, action, values, kv_lookup, action_context=CONTEXT
    )
    assert action_values == {"message": "Stanley"}
    assert runner_values["cmd"] == 'echo "Stanley"'
    assert runner_values["timeout"] == 60
    assert runner_values["sudo"] is False


# -- secrets --------------------------------------------------------------------------------------


def test_secret_values_are_masked_without_touching_the_input(content):
    _, _, merged = definitions(content, "core.local")
    params = {"cmd": "ls", "sudo_password": "hunter2"}
    assert mask_secrets(params, merged) == {"cmd": "ls", "sudo_password": MASK}
    assert params["sudo_password"] == "hunter2"
    _, _, merged = definitions(content, "examples.all-param-types")
    assert mask_secrets({"message": "m", "api_token": "t"}, merged) == {"message": "m", "api_token": MASK}
    assert mask_secrets({"message": "m"}, merged) == {"message": "m"}


def test_secret_fields_nested_in_objects_and_arrays_are_masked():
    merged = {
        "login": {
            "type": "object",
            "properties": {"user": {"type": "string"}, "password": {"type": "string", "secret": True}},
        },
        "servers": {
            "type": "array",
            "items": {"type": "object", "properties": {"key": {"type": "string", "secret": True}}},
        },
        "whole": {"type": "object", "secret": True},
    }
    params = {
        "login": {"user": "u", "password": "p"},
        "servers": [{"host": "a", "key": "k1"}, {"host": "b", "key": "k2"}],
        "whole": {"a": 1},
    }
    assert mask_secrets(params, merged) == {
        "login": {"user": "u", "password": MASK},
        "servers": [{"host": "a", "key": MASK}, {"host": "b", "key": MASK}],
        "whole": MASK,
    }
