"""Orquesta-style expressions for the embedded demo server.

Strings may hold YAQL-style ``<% ... %>`` expressions or Jinja ``{{ ... }}`` expressions and
``{% ... %}`` blocks (never both kinds in one string, as in Orquesta). A string that is exactly one
expression evaluates to the raw value; otherwise each expression is replaced by ``str(value)``.

YAQL itself is not available, so ``<% %>`` expressions are translated onto a sandboxed Jinja
expression: ``=`` becomes ``==``, ``null`` becomes ``none`` and a bare name passed to ``ctx``,
``item``, ``task`` or ``task_status`` becomes a string (``ctx(x)`` means ``ctx("x")``). Attribute
access on a mapping reads the key, and in ``<% %>`` a missing key reads as null, as in YAQL.
Jinja keeps Orquesta's strict undefined handling: a missing key is an error.

Expressions see the context variables through ``ctx()`` and, for convenience when rendering plain
parameters, also as top-level names; functions always win over variables of the same name.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from itertools import zip_longest
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["ExpressionError", "has_expressions", "render", "validate"]

_YAQL_EXPR = re.compile(r"<%(.*?)%>", re.DOTALL)
_JINJA_EXPR = re.compile(r"{{(.*?)}}", re.DOTALL)
_JINJA_BLOCK = re.compile(r"{%.*?%}", re.DOTALL)
_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", re.DOTALL)
_YAQL_SINGLE_EQUALS = re.compile(r"(?<![=!<>])=(?![=>])")
_YAQL_NULL = re.compile(r"(?<![.\w])null\b")
_YAQL_BARE_NAME_ARG = re.compile(r"\b(ctx|item|task|task_status)\(\s*([A-Za-z_]\w*)\s*\)")

_ERROR_TYPES = {"yaql": "YaqlEvaluationException", "jinja": "JinjaEvaluationException"}


class ExpressionError(ValueError):
    """An expression failed to parse or evaluate; the message quotes the expression."""

    def __init__(self, message: str, *, expression: str = "", language: str = "") -> None:
        super().__init__(message)
        self.expression = expression
        self.language = language

    @property
    def error_type(self) -> str:
        """The exception name real Orquesta reports for this kind of expression."""
        return _ERROR_TYPES.get(self.language, "ExpressionEvaluationException")


class VariableUndefinedError(LookupError):
    """Raised by ``ctx(name)`` for an unknown variable (the name shows in error messages)."""

    def __init__(self, name: str) -> None:
        super().__init__(f'The variable "{name}" is undefined.')


class VariableInaccessibleError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f'The variable "{name}" is for internal use and inaccessible.')


class ExpressionEvaluationException(RuntimeError):
    """Raised by workflow functions used where they have no meaning (``result()`` in output)."""


class _OrquestaEnvironment(ImmutableSandboxedEnvironment):
    """Sandboxed Jinja where ``obj.key`` reads a mapping's key before any dict method."""

    def __init__(self, *, missing_keys_are_null: bool) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self._missing_keys_are_null = missing_keys_are_null

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            if self._missing_keys_are_null:
                return None
        return super().getattr(obj, attribute)


# st2 data helpers, usable as functions and (in Jinja) as filters.
def _to_json_string(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    return json.dumps(value, indent=indent, sort_keys=sort_keys, separators=(",", ": "))


def _from_json_string(value: str) -> Any:
    return json.loads(value)


def _to_yaml_string(value: Any, indent: int | None = None, allow_unicode: bool = True) -> str:
    return yaml.safe_dump(value, indent=indent, allow_unicode=allow_unicode, default_flow_style=False)


def _from_yaml_string(value: str) -> Any:
    return yaml.safe_load(value)


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise TypeError("Given object is not typeof string.")
    return json.loads(value)


def _zip(*lists: Any, pad: Any = None) -> Any:
    lists = tuple([] if value is None else value for value in lists)
    if len(lists) == 1:
        return lists[0]
    return [list(row) for row in zip_longest(*lists, fillvalue=pad)]


def _flags(ignorecase: bool) -> int:
    return re.IGNORECASE if ignorecase else 0


def _regex_match(value: str, pattern: str, ignorecase: bool = False) -> bool:
    return bool(re.match(pattern, value, _flags(ignorecase)))


def _regex_search(value: str, pattern: str, ignorecase: bool = False) -> bool:
    return bool(re.search(pattern, value, _flags(ignorecase)))


def _regex_replace(value: str, pattern: str, replacement: str, ignorecase: bool = False) -> str:
    return re.sub(pattern, replacement, value, flags=_flags(ignorecase))


def _regex_substring(value: str, pattern: str, result_index: int = 0, ignorecase: bool = False) -> Any:
    return re.findall(pattern, value, _flags(ignorecase))[result_index]


_DATA_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": _json,
    "zip": _zip,
    "to_json_string": _to_json_string,
    "json_dump": _to_json_string,
    "from_json_string": _from_json_string,
    "json_parse": _from_json_string,
    "to_yaml_string": _to_yaml_string,
    "yaml_dump": _to_yaml_string,
    "from_yaml_string": _from_yaml_string,
    "yaml_parse": _from_yaml_string,
    "regex_match": _regex_match,
    "regex_search": _regex_search,
    "regex_replace": _regex_replace,
    "regex_substring": _regex_substring,
}

# Plain conversions that YAQL offers as functions; Jinja has them only as filters.
_YAQL_STYLE_BUILTINS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
}

_ENVIRONMENTS = {
    "yaql": _OrquestaEnvironment(missing_keys_are_null=True),
    "jinja": _OrquestaEnvironment(missing_keys_are_null=False),
}
for _environment in _ENVIRONMENTS.values():
    _environment.filters.update(_DATA_FUNCTIONS)


def _no_current_task(*_args: Any) -> Any:
    raise ExpressionEvaluationException("The current task is not set in the context.")


def _default_functions(context: Mapping[str, Any]) -> dict[str, Callable[..., Any]]:
    def ctx(name: str | None = None) -> Any:
        if name is None:
            return {key: value for key, value in context.items() if not str(key).startswith("__")}
        if str(name).startswith("__"):
            raise VariableInaccessibleError(name)
        if name not in context:
            raise VariableUndefinedError(name)
        return context[name]

    def item(key: str | None = None) -> Any:
        if key is None:
            return None
        raise ExpressionEvaluationException("Item is not type of collections.abc.Mapping.")

    return {
        **_YAQL_STYLE_BUILTINS,
        **_DATA_FUNCTIONS,
        "ctx": ctx,
        "item": item,
        "result": _no_current_task,
        "succeeded": _no_current_task,
        "failed": _no_current_task,
        "completed": _no_current_task,
        "task": _no_current_task,
        "task_status": lambda _name=None: "null",
    }


def _yaql_to_jinja(source: str) -> str:
    """Rewrite the YAQL forms used in workflows into Jinja syntax, leaving string literals alone."""

    def translate_code(code: str) -> str:
        code = _YAQL_SINGLE_EQUALS.sub("==", code)
        code = _YAQL_NULL.sub("none", code)
        return _YAQL_BARE_NAME_ARG.sub(r'\1("\2")', code)

    pieces = []
    position = 0
    for literal in _STRING_LITERAL.finditer(source):
        pieces.append(translate_code(source[position : literal.start()]))
        pieces.append(literal.group(0))
        position = literal.end()
    pieces.append(translate_code(source[position:]))
    return "".join(pieces)


def _unable(expression: str, language: str, error: BaseException) -> ExpressionError:
    detail = f"{type(error).__name__}: {error}"
    return ExpressionError(
        f"Unable to evaluate expression '{expression}'. {detail}", expression=expression, language=language
    )


@functools.lru_cache(maxsize=2048)
def _compile(language: str, expression: str, body: str) -> Any:
    source = _yaql_to_jinja(body) if language == "yaql" else body
    try:
        return _ENVIRONMENTS[language].compile_expression(source.strip(), undefined_to_none=False)
    except jinja2.TemplateError as error:
        raise _unable(expression, language, error) from None


@functools.lru_cache(maxsize=512)
def _compile_template(text: str) -> jinja2.Template:
    try:
        return _ENVIRONMENTS["jinja"].from_string(text)
    except jinja2.TemplateError as error:
        raise _unable(text, "jinja", error) from None


def _materialize(value: Any) -> Any:
    """Turn generators into lists and raise for undefined values hidden in the result."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises here with Jinja's own description
    if isinstance(value, Iterator):
        return [_materialize(item) for item in value]
    if isinstance(value, (list, tuple)):
        return type(value)(_materialize(item) for item in value)
    if isinstance(value, dict):
        return {key: _materialize(item) for key, item in value.items()}
    return value


def _language(text: str) -> str | None:
    yaql = _YAQL_EXPR.search(text) is not None
    jinja = _JINJA_EXPR.search(text) is not None or _JINJA_BLOCK.search(text) is not None
    if yaql and jinja:
        raise ExpressionError(f"Expression with multiple types is not supported: '{text}'.", expression=text)
    if yaql:
        return "yaql"
    return "jinja" if jinja else None


def has_expressions(value: Any) -> bool:
    """True when a string holds any ``<% %>``, ``{{ }}`` or ``{% %}`` expression."""
    return isinstance(value, str) and (
        _YAQL_EXPR.search(value) is not None
        or _JINJA_EXPR.search(value) is not None
        or _JINJA_BLOCK.search(value) is not None
    )


def validate(value: Any) -> None:
    """Check the syntax of every expression in ``value`` (recursively); raise ExpressionError."""
    if isinstance(value, dict):
        for key, item in value.items():
            validate(key)
            validate(item)
    elif isinstance(value, list):
        for item in value:
            validate(item)
    elif isinstance(value, str):
        language = _language(value)
        if language == "jinja" and _JINJA_BLOCK.search(value):
            _compile_template(value)
        elif language is not None:
            pattern = _YAQL_EXPR if language == "yaql" else _JINJA_EXPR
            for match in pattern.finditer(value):
                _compile(language, match.group(0), match.group(1))


def _evaluate_string(text: str, namespace: dict[str, Any]) -> Any:
    language = _language(text)
    if language is None:
        return text
    if language == "jinja" and _JINJA_BLOCK.search(text):
        template = _compile_template(text)
        try:
            return template.render(namespace)
        except Exception as error:
            raise _unable(text, language, error) from None

    pattern = _YAQL_EXPR if language == "yaql" else _JINJA_EXPR

    def evaluate(match: re.Match[str]) -> Any:
        compiled = _compile(language, match.group(0), match.group(1))
        try:
            return _materialize(compiled(namespace))
        except ExpressionError:
            raise
        except Exception as error:
            raise _unable(match.group(0), language, error) from None

    matches = list(pattern.finditer(text))
    if len(matches) == 1 and matches[0].group(0) == text:
        return evaluate(matches[0])
    return pattern.sub(lambda match: str(evaluate(match)), text)


def _render(value: Any, namespace: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _evaluate_string(value, namespace)
    if isinstance(value, dict):
        rendered = {}
        for key, item in value.items():
            rendered_key = _render(key, namespace)
            try:
                hash(rendered_key)
            except TypeError:
                raise ExpressionError(
                    f"The key '{key}' evaluated to {type(rendered_key).__name__}, which cannot be a key.",
                    expression=str(key),
                ) from None
            rendered[rendered_key] = _render(item, namespace)
        return rendered
    if isinstance(value, list):
        return [_render(item, namespace) for item in value]
    return value


def render(value: Any, context: Mapping[str, Any], **extra_funcs: Callable[..., Any]) -> Any:
    """Evaluate the expressions in ``value`` (recursively through dicts, keys included, and lists).

    ``context`` holds the variables (``ctx()``); ``extra_funcs`` add or replace expression functions,
    e.g. ``result=lambda: task_result``. Raises ExpressionError naming the failing expression.
    """
    namespace = {key: item for key, item in context.items() if isinstance(key, str)}
    namespace.update(_default_functions(context))
    namespace.update(extra_funcs)
    return _render(value, namespace)
