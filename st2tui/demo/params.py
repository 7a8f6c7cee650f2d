"""Action parameters the way st2 handles them: merging, rendering, casting, validation and masking.

What each function reproduces (StackStorm/st2 at commit c2eaf56, read, not copied):

- `merge_parameters`: `st2common/models/utils/action_param_utils.py` `get_params_view` (the
  `GET /api/v1/actions/views/parameters/{ref}` answer).
- `render_live_parameters`: `st2common/util/param.py` `render_live_params`, which the executions
  controller runs on submitted parameters before anything else. Jinja in values (`{{ st2kv.system.x }}`,
  `{{ other_param }}`) is rendered and values are cast to their declared type with st2's casts
  (`st2common/util/casts.py`: `int()`, `float()`, `ast.literal_eval` for booleans, JSON or Python
  literals for arrays and objects). The result is what st2 stores as `execution.parameters`: the
  submitted parameters, plus defaults only where a default is a Jinja template.
- `validate_parameters`: `st2common/services/action.py` `create_request` validating those live
  parameters with `st2common/util/schema` (`validate(..., use_default=True, allow_default_none=True)`
  and its draft-4 validator that checks `required: true` the draft-3 way), then refusing overrides
  of immutable parameters. The 400 `faultstring` st2 answers is the jsonschema error's `message`
  (`st2api/controllers/v1/actionexecutions.py`), e.g. `'cmd' is a required property`,
  `Additional properties are not allowed ('foo' was unexpected)`, `11 is greater than the maximum of 10`,
  `'x' is not one of ['a', 'b']`, or `Override of immutable parameter(s) ['sudo'] is unsupported.`
- `render_final_parameters`: `render_final_params`, which the runner uses to get every value
  (defaults included, templates such as core.echo's `echo "{{message}}"` rendered), split into
  runner and action parameters.
- `mask_secrets`: `st2common/util/secrets.py` (`get_secret_parameters`, `mask_secret_parameters`).
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from graphlib import CycleError, TopologicalSorter
from typing import Any

import jinja2
import jinja2.meta
import jinja2.sandbox
import jsonschema
import yaml
from jsonschema import Draft3Validator, Draft4Validator

__all__ = [
    "MASK",
    "KvLookup",
    "ParameterRenderError",
    "ParameterValidationError",
    "cast_value",
    "is_jinja_expression",
    "mask_secrets",
    "merge_parameters",
    "render_final_parameters",
    "render_live_parameters",
    "render_parameters",
    "validate_parameters",
]

MASK = "********"

# The magic string st2's `use_none` Jinja filter renders None as; casts turn it back into None.
NONE_MAGIC_VALUE = "%*****__%NONE%__*****%"

# `kv_lookup(scope, name, user)` returns a datastore value as stored (secrets as ciphertext), or
# None when the key does not exist. `scope` is "st2kv.system" or "st2kv.user"; `user` is the user
# whose user-scope keys are meant (the execution's `context.api_user` or `context.user`).
KvLookup = Callable[[str, str, str], "str | None"]

# What a parameter without a definition accepts (st2's SCHEMA_ANY_TYPE).
_ANY_TYPE = {
    "anyOf": [
        {"type": "array"},
        {"type": "boolean"},
        {"type": "integer"},
        {"type": "number"},
        {"type": "object"},
        {"type": "string"},
    ]
}

# Draft 4, except that `properties` is draft 3's (so `required: true` inside a property works) and
# the draft-4 `required` keyword is off, as in st2's CustomValidator.
_VALIDATORS = {name: fn for name, fn in Draft4Validator.VALIDATORS.items() if name != "required"}
_VALIDATORS["properties"] = Draft3Validator.VALIDATORS["properties"]
ParameterValidator = jsonschema.validators.create(
    meta_schema=Draft4Validator.META_SCHEMA,
    validators=_VALIDATORS,
    version="st2-action-parameters",
    type_checker=Draft4Validator.TYPE_CHECKER,
    id_of=Draft4Validator.ID_OF,
)

_DEFAULT_SYSTEM_USER = "stanley"


class ParameterValidationError(ValueError):
    """Submitted parameters st2 refuses with HTTP 400 before creating an execution."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ParameterRenderError(ValueError):
    """A Jinja template in the parameters could not be rendered.

    st2 still creates the execution, marks it `failed` with result `{"error": message,
    "traceback": ...}`, and answers the POST with 400 and this message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------------
# Merging


def merge_parameters(
    runner_parameters: Mapping[str, Any], action_parameters: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Runner and action parameter definitions merged as `views/parameters` shows them.

    Key by key the action's value wins, except `immutable`, which is the runner's OR the action's.
    """
    merged: dict[str, dict[str, Any]] = {}
    for name in {**runner_parameters, **action_parameters}:
        runner_meta = runner_parameters.get(name) or {}
        action_meta = action_parameters.get(name) or {}
        meta = dict(runner_meta) if runner_meta.get("immutable", False) else {}
        for key in {**runner_meta, **action_meta}:
            if key in action_meta and key not in runner_meta:
                meta[key] = copy.deepcopy(action_meta[key])
            elif key in runner_meta and key not in action_meta:
                meta[key] = copy.deepcopy(runner_meta[key])
            elif key == "immutable":
                meta[key] = runner_meta.get(key, False) or action_meta.get(key, False)
            else:
                meta[key] = copy.deepcopy(action_meta[key])
        merged[name] = meta
    return merged


# --------------------------------------------------------------------------------------------------
# Validation


def validate_parameters(merged: Mapping[str, Any], submitted: Mapping[str, Any]) -> dict[str, Any]:
    """Validate live parameters against merged definitions; return them with defaults applied.

    Raises `ParameterValidationError` with st2's message. The returned dict is what the checks saw
    (defaults filled in); st2 stores the parameters as submitted, not this.

    st2 builds the schema from a deep merge of runner and action definitions; `merge_parameters`
    gives the same result unless an action overrides a dict-valued attribute of a runner parameter.
    """
    schema = _allow_default_none(
        {
            "type": "object",
            "properties": {name: copy.deepcopy(meta or _ANY_TYPE) for name, meta in merged.items()},
            "additionalProperties": False,
        }
    )
    instance = _assign_defaults_object(copy.deepcopy(dict(submitted)), schema)
    error = jsonschema.exceptions.best_match(ParameterValidator(schema).iter_errors(instance))
    if error is not None:
        # st2 strips Python 2 `u'...'` prefixes; harmless here, kept for the same wording.
        raise ParameterValidationError(re.sub("u'([^']*)'", r"'\1'", error.message))
    immutable = [name for name, meta in merged.items() if (meta or {}).get("immutable", False)]
    overridden = [name for name in submitted if name in immutable]
    if overridden:
        raise ParameterValidationError(f"Override of immutable parameter(s) {overridden} is unsupported.")
    return instance


def _type_is(schema: Mapping[str, Any], name: str) -> bool:
    kind = schema.get("type")
    return kind == name or (isinstance(kind, list) and name in kind)


def _assign_defaults_object(instance: Any, schema: Mapping[str, Any]) -> Any:
    if not isinstance(instance, dict):
        return instance
    properties = schema.get("properties", {})
    dependencies = schema.get("dependencies", {})
    for name, prop in properties.items():
        has_default = "default" in prop
        if has_default and name in dependencies:
            for needed in dependencies[name]:
                if "default" not in properties.get(needed, {}) and needed not in instance:
                    has_default = False
                    break
        if has_default and instance.get(name) is None:
            instance[name] = copy.deepcopy(prop["default"])
        value = instance.get(name)
        if value is None:
            continue
        if _type_is(prop, "array"):
            instance[name] = _assign_defaults_array(value, prop)
        elif _type_is(prop, "object"):
            instance[name] = _assign_defaults_object(value, prop)
    return instance


def _assign_defaults_array(instance: Any, schema: Mapping[str, Any]) -> Any:
    items = schema.get("items")
    if not isinstance(instance, list) or not items:
        return instance
    item_schemas = [items] * len(instance) if isinstance(items, dict) else list(items)
    for index, item_schema in enumerate(item_schemas[: len(instance)]):
        if "default" in item_schema and instance[index] is None:
            instance[index] = copy.deepcopy(item_schema["default"])
        if instance[index] is None:
            continue
        if _type_is(item_schema, "array"):
            instance[index] = _assign_defaults_array(instance[index], item_schema)
        if _type_is(item_schema, "object"):
            instance[index] = _assign_defaults_object(instance[index], item_schema)
    return instance


def _nullable(types: Any) -> bool:
    if isinstance(types, list):
        return any(t == "null" or (isinstance(t, dict) and t.get("type", "string") == "null") for t in types)
    return isinstance(types, dict) and types.get("type", "string") == "null"


def _allow_default_none(schema: dict[str, Any]) -> dict[str, Any]:
    """Let optional parameters, and those whose default is null, also accept null (st2 does)."""
    for name, prop in schema.get("properties", {}).items():
        optional = not prop.get("required", False)
        if ("default" in prop or optional) and prop.get("default") is None:
            if "anyOf" in prop and not _nullable(prop["anyOf"]):
                prop["anyOf"].append({"type": "null"})
            elif "oneOf" in prop and not _nullable(prop["oneOf"]):
                prop["oneOf"].append({"type": "null"})
            elif isinstance(prop.get("type"), list) and not _nullable(prop["type"]):
                prop["type"].append("null")
            elif "anyOf" not in prop and "oneOf" not in prop and not isinstance(prop.get("type"), list):
                if not _nullable(prop):
                    prop["type"] = [prop.get("type", "string"), "null"]
        items = prop.get("items")
        if _type_is(prop, "array") and isinstance(items, dict) and items.get("properties"):
            prop["items"] = _allow_default_none(items)
        if _type_is(prop, "object") and prop.get("properties"):
            schema["properties"][name] = _allow_default_none(prop)
    return schema


# --------------------------------------------------------------------------------------------------
# Casting


def _cast_none(value: Any) -> Any:
    return None if isinstance(value, str) and value == NONE_MAGIC_VALUE else value


def _cast_object(value: Any) -> Any:
    value = _cast_none(value)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return ast.literal_eval(value)
    return value


def _cast_boolean(value: Any) -> Any:
    value = _cast_none(value)
    if isinstance(value, str):
        return ast.literal_eval(value.capitalize())
    return value


def _cast_integer(value: Any) -> Any:
    return int(_cast_none(value))


def _cast_number(value: Any) -> Any:
    return float(_cast_none(value))


def _cast_string(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f'Value "{value}" must either be a string or None. Got "{type(value).__name__}".')
    return _cast_none(value)


_CASTS: dict[str, Callable[[Any], Any]] = {
    "array": _cast_object,
    "boolean": _cast_boolean,
    "integer": _cast_integer,
    "number": _cast_number,
    "object": _cast_object,
    "string": _cast_string,
}


def cast_value(value: Any, definition: Mapping[str, Any] | None) -> Any:
    """Cast a value to its parameter's declared type, as st2 does before validating.

    Raises ValueError (with the Python error st2 shows, e.g. `invalid literal for int() with base
    10: 'abc'`) when the value cannot be cast.
    """
    if value is None or not definition:
        return value
    cast = _CASTS.get(definition.get("type")) if isinstance(definition.get("type"), str) else None
    return cast(value) if cast else value


# --------------------------------------------------------------------------------------------------
# Rendering


def is_jinja_expression(value: Any) -> bool:
    """st2's quick test: a string containing `{{` or `{%`."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


class _KeyValueLookup:
    """`st2kv.system.<name>` / `st2kv.user.<name>` in templates; dotted names join with `.`.

    Renders as the stored value, or "" when the key does not exist (as st2's KeyValueLookup).
    """

    def __init__(self, lookup: KvLookup, scope: str, user: str, key: str = "") -> None:
        self._lookup = lookup
        self._scope = scope
        self._user = user
        self._key = key

    def _get(self, name: str) -> _KeyValueLookup:
        key = f"{self._key}.{name}" if self._key else name
        return _KeyValueLookup(self._lookup, self._scope, self._user, key)

    def __getattr__(self, name: str) -> _KeyValueLookup:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._get(name)

    def __getitem__(self, name: str) -> _KeyValueLookup:
        return self._get(name)

    def __str__(self) -> str:
        value = self._lookup(self._scope, self._key, self._user) if self._key else None
        return "" if value is None else value

    def __int__(self) -> int:
        return int(float(self))

    def __float__(self) -> float:
        return float(str(self))


def _to_json_string(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    return json.dumps(_plain(value), indent=indent, sort_keys=sort_keys)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, _KeyValueLookup) else value


def _environment(decrypt: Callable[[str], str] | None) -> jinja2.sandbox.SandboxedEnvironment:
    env = jinja2.sandbox.SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )

    def decrypt_kv(value: Any) -> str:
        if decrypt is None:
            raise ValueError("decrypt_kv is not available: the server has no crypto key")
        return decrypt(str(value))

    env.filters.update(
        {
            "decrypt_kv": decrypt_kv,
            "from_json_string": lambda value: json.loads(str(value)),
            "from_yaml_string": lambda value: yaml.safe_load(str(value)),
            "json_escape": lambda value: json.dumps(str(value))[1:-1],
            "to_complex": lambda value: json.dumps(_plain(value)),
            "to_json_string": _to_json_string,
            "to_yaml_string": lambda value: yaml.safe_dump(_plain(value), default_flow_style=False),
            "use_none": lambda value: NONE_MAGIC_VALUE if value is None else value,
        }
    )
    env.tests["in"] = lambda item, container: item in container
    return env


class _Graph:
    """st2's parameter dependency graph: a node holds a plain `value` or a Jinja `template`
    (a template wins once set); an edge `a -> b` means b's template uses a."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.nodes: dict[str, dict[str, Any]] = {}
        self.deps: dict[str, set[str]] = {}

    def add_value(self, name: str, value: Any) -> None:
        self.nodes.setdefault(name, {})["value"] = value
        self.deps.setdefault(name, set())

    def add(self, name: str, value: Any) -> None:
        """Add a parameter value, as a template when it contains Jinja."""
        source = str(value) if isinstance(value, (list, dict)) else value
        if not is_jinja_expression(source):
            self.add_value(name, value)
            return
        try:
            variables = jinja2.meta.find_undeclared_variables(self.env.parse(source))
        except jinja2.TemplateSyntaxError:
            self.add_value(name, value)  # not Jinja after all
            return
        self.nodes.setdefault(name, {})["template"] = value
        self.deps.setdefault(name, set()).update(variables)
        for variable in variables:
            self.nodes.setdefault(variable, {})
            self.deps.setdefault(variable, set())

    def add_defaults(self, schemas: Iterable[Mapping[str, Any]]) -> None:
        for schema in schemas:
            for name, meta in schema.items():
                meta = meta or {}
                absent = name not in self.nodes
                is_none = self.nodes.get(name, {}).get("value") is None
                if absent or is_none or meta.get("immutable", False):
                    self.add(name, meta.get("default"))

    def resolve(self) -> dict[str, Any]:
        for name, node in self.nodes.items():
            if "value" not in node and "template" not in node:
                raise ParameterRenderError(f'Dependency unsatisfied in variable "{name}"')
        try:
            order = list(TopologicalSorter(self.deps).static_order())
        except CycleError as exc:
            names = ", ".join(sorted(set(exc.args[1])))
            raise ParameterRenderError(
                f"Cyclic dependency found in the following variables: {names}. "
                "Likely the variable is referencing itself"
            ) from None
        context: dict[str, Any] = {}
        for name in order:
            try:
                context[name] = self._render(self.nodes[name], context)
            except Exception as exc:
                raise ParameterRenderError(f'Failed to render parameter "{name}": {exc}') from exc
        return context

    def _render(self, node: dict[str, Any], context: dict[str, Any]) -> Any:
        if "template" not in node:
            return node.get("value")
        template = node["template"]
        if isinstance(template, (list, dict)):
            # A whole-value "{{name}}" inside a list or object keeps the referenced value's type.
            source = re.sub(r'"{{([A-z0-9_-]+)}}"', r"{{\1 | to_complex}}", json.dumps(template))
            return json.loads(self.env.from_string(source).render(context))
        return self.env.from_string(str(template)).render(context)


def _new_graph(
    kv_lookup: KvLookup,
    action_context: Mapping[str, Any],
    decrypt: Callable[[str], str] | None,
    extra_context: Mapping[str, Any] | None,
) -> _Graph:
    graph = _Graph(_environment(decrypt))
    user = action_context.get("api_user") or action_context.get("user") or _DEFAULT_SYSTEM_USER
    graph.add_value(
        "st2kv",
        {
            "system": _KeyValueLookup(kv_lookup, "st2kv.system", user),
            "user": _KeyValueLookup(kv_lookup, "st2kv.user", user),
        },
    )
    graph.add_value("action_context", dict(action_context))
    graph.add_value("config_context", {})
    for name, value in (extra_context or {}).items():
        graph.add_value(name, value)
    return graph


def render_parameters(
    params: Mapping[str, Any],
    kv_lookup: KvLookup,
    *,
    action_context: Mapping[str, Any] | None = None,
    extra_context: Mapping[str, Any] | None = None,
    decrypt: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Render Jinja in parameter values (which may use each other, `st2kv`, `action_context`
    and `extra_context`, e.g. `{"trigger": payload}` for a rule's action parameters), uncast.

    Raises `ParameterRenderError` with st2's message.
    """
    graph = _new_graph(kv_lookup, action_context or {}, decrypt, extra_context)
    for name, value in params.items():
        graph.add(name, value)
    context = graph.resolve()
    return {name: context[name] for name in params}


def _cast_checked(value: Any, definition: Mapping[str, Any] | None) -> Any:
    try:
        return cast_value(value, definition)
    except (ValueError, TypeError, SyntaxError) as exc:
        raise ParameterValidationError(str(exc)) from exc


def _cast_from(
    names: Iterable[str], context: Mapping[str, Any], schemas: list[Mapping[str, Any]]
) -> dict[str, Any]:
    """Cast each named value by its definition; the last schema that defines it wins (runner's)."""
    result: dict[str, Any] = {}
    for name in names:
        definition: Mapping[str, Any] = {}
        for schema in schemas:
            if name in schema:
                definition = schema[name] or {}
        result[name] = _cast_checked(context[name], definition)
    return result


def render_live_parameters(
    runner_parameters: Mapping[str, Any],
    action_parameters: Mapping[str, Any],
    submitted: Mapping[str, Any],
    kv_lookup: KvLookup,
    *,
    action_context: Mapping[str, Any],
    extra_context: Mapping[str, Any] | None = None,
    decrypt: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """The parameters st2 stores on a new execution: submitted values rendered and cast, plus
    non-immutable defaults that are Jinja templates (rendered). Plain defaults are not added.

    Raises `ParameterRenderError` (st2 creates a failed execution) or `ParameterValidationError`
    (a value that cannot be cast: 400, no execution).
    """
    schemas = [action_parameters, runner_parameters]
    graph = _new_graph(kv_lookup, action_context, decrypt, extra_context)
    for name, value in submitted.items():
        graph.add(name, value)
    graph.add_defaults(schemas)
    context = graph.resolve()
    live = _cast_from(submitted, context, schemas)
    for schema in schemas:
        for name, meta in schema.items():
            meta = meta or {}
            if meta.get("immutable") or "default" not in meta or name in submitted:
                continue
            if meta["default"] == context[name] or not is_jinja_expression(meta["default"]):
                continue
            live[name] = _cast_checked(context[name], meta)
    return live


def render_final_parameters(
    runner_parameters: Mapping[str, Any],
    action_parameters: Mapping[str, Any],
    live: Mapping[str, Any],
    kv_lookup: KvLookup,
    *,
    action_context: Mapping[str, Any],
    decrypt: Callable[[str], str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every parameter value a runner needs: `(runner_params, action_params)`.

    Live values are taken as they are; defaults fill the rest and templated defaults are rendered
    (core.echo's `cmd` default `echo "{{message}}"` becomes `echo "hello"`).
    """
    schemas = [action_parameters, runner_parameters]
    graph = _new_graph(kv_lookup, action_context, decrypt, None)
    for name, value in live.items():
        graph.add_value(name, value)
    graph.add_defaults(schemas)
    context = graph.resolve()
    names = [n for n in context if n in runner_parameters or n in action_parameters or n in live]
    values = _cast_from(names, context, schemas)
    runner = {k: v for k, v in values.items() if k in runner_parameters}
    action = {k: v for k, v in values.items() if k in action_parameters and k not in runner_parameters}
    return runner, action


# --------------------------------------------------------------------------------------------------
# Secrets


def _secret_parameters(definitions: Mapping[str, Any]) -> Any:
    """Which values are secret, as a tree shaped like the values: a dict for objects, a one-item
    list for arrays, a type name for a value that is secret as a whole."""
    kind = definitions.get("type")
    if definitions.get("secret", False):
        return kind
    secrets: Any
    if kind == "object":
        secrets, entries = {}, list(definitions.get("properties", {}).items())
    elif kind == "array":
        secrets, entries = [], list(enumerate([definitions.get("items", {})]))
    elif kind in ("integer", "number", "boolean", "null", "string"):
        secrets, entries = {}, list(enumerate([definitions]))
    else:
        secrets, entries = {}, list(definitions.items())
    for name, options in entries:
        if not isinstance(options, dict):
            continue
        if options.get("secret", False):
            found = options.get("type")
        elif options.get("type") in ("object", "array"):
            found = _secret_parameters(options)
            if not found:
                continue
        else:
            continue
        if isinstance(secrets, list):
            secrets.append(found)
        else:
            secrets[name] = found
    return secrets


def _mask(value: Any, secrets: Any) -> Any:
    if isinstance(secrets, dict):
        if not isinstance(value, dict):
            return value
        return {k: (_mask(v, secrets[k]) if k in secrets else v) for k, v in value.items()}
    if isinstance(secrets, list):
        if not isinstance(value, list):
            return value
        for sub in secrets:
            value = [_mask(item, sub) for item in value]
        return value
    return MASK


def mask_secrets(params: Mapping[str, Any], merged: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `params` with secret values (including secret fields nested in objects and
    arrays) replaced by `"********"`, as st2 shows them unless `show_secrets=true`."""
    secrets = _secret_parameters(merged)
    if not isinstance(secrets, dict) or not secrets:
        return copy.deepcopy(dict(params))
    return _mask(copy.deepcopy(dict(params)), secrets)
