"""Validate response bodies against the response schemas of StackStorm's Swagger 2.0 spec.

Uses `jsonschema`'s Draft4Validator (Swagger 2.0 schemas are a draft-4 dialect) with a `referencing`
registry holding the whole spec, so `#/definitions/...` references resolve inside it.

`format` keywords are not checked, as st2's own router does not check them either: the spec declares
the token `id` as `format: uuid` while real st2 returns a 24-hex ObjectId (see `examples/token.json`).
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_URI = "urn:st2-openapi"


class OpenApiSpec:
    def __init__(self, path: Path) -> None:
        self.document: dict[str, Any] = yaml.safe_load(path.read_text())
        resource = Resource(contents=self.document, specification=DRAFT4)
        self.registry = Registry().with_resource(SPEC_URI, resource)

    @cached_property
    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        """Spec paths as regexes, literal paths first so `/executions/views/filters` beats `{id}`."""
        templates = sorted(self.document["paths"], key=lambda p: (p.count("{"), -len(p)))
        return [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$"), t) for t in templates
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The spec path (`/api/v1/executions/{id}`) and operation that a concrete request matches.

        One URL can match templates with different parameter names per method (`GET /rules/{ref_or_id}`
        but `PUT /rules/{rule_ref_or_id}`): the first matching template that has the method wins.
        """
        path = path.split("?", 1)[0].rstrip("/") or "/"
        for pattern, template in self._templates:
            if pattern.match(path) or pattern.match(path + "/"):
                operation = self.document["paths"][template].get(method.lower())
                if operation is not None:
                    return template, operation
        raise KeyError(f"the spec has no {method.upper()} operation for {path}")

    def default_limit(self, method: str, path: str) -> int | None:
        _, operation = self.operation(method, path)
        for parameter in operation.get("parameters", []):
            if parameter.get("name") == "limit" and parameter.get("in") == "query":
                return parameter.get("default")
        return None

    def response_schema(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        """The schema declared for this status (or `default`); None when the spec declares no body."""
        template, operation = self.operation(method, path)
        responses = operation["responses"]
        declared = responses.get(str(status)) or responses.get(status) or responses.get("default")
        if declared is None:
            raise KeyError(f"the spec declares no {status} (and no default) for {method.upper()} {template}")
        return declared.get("schema")

    def errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        schema = self.response_schema(method, path, status)
        if schema is None:
            return []
        validator = Draft4Validator(self._rebase(schema), registry=self.registry)
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '<body>'}: {error.message}"
            for error in validator.iter_errors(body)
        ]

    def _rebase(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Point the schema's local `#/definitions/...` references at the spec in the registry."""
        if isinstance(schema, dict):
            return {
                key: (
                    f"{SPEC_URI}{value}" if key == "$ref" and value.startswith("#") else self._rebase(value)
                )
                for key, value in schema.items()
            }
        if isinstance(schema, list):
            return [self._rebase(item) for item in schema]
        return schema
