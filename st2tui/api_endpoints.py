"""The endpoint table: every operation the client calls, with its method, its path as StackStorm's OpenAPI
spec writes it, and the query parameters it may send (the spec-coverage test checks it against the spec)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """One operation of the st2 API as the spec declares it."""

    method: str
    path: str
    query: frozenset[str] = frozenset()

    @property
    def prefix(self) -> str:
        """The service prefix of the spec path: ``/auth/v1``, ``/api/v1`` or ``/stream/v1``."""
        return "/" + "/".join(self.path.split("/")[1:3])


def _ep(method: str, path: str, *query: str) -> Endpoint:
    return Endpoint(method, path, frozenset(query))


_LIST_ATTRS = ("include_attributes", "exclude_attributes")
_EXECUTION_FILTERS = (
    "id",
    "status",
    "parent",
    "action",
    "runner",
    "user",
    "rule",
    "trigger",
    "trigger_type",
    "trigger_instance",
    "liveaction",
    "timestamp",
    "timestamp_gt",
    "timestamp_lt",
    "filter",
)

ENDPOINTS: dict[str, Endpoint] = {
    "server.root": _ep("GET", "/api/v1/"),
    "auth.create_token": _ep("POST", "/auth/v1/tokens"),
    "auth.whoami": _ep("GET", "/api/v1/user"),
    "executions.list": _ep(
        "GET",
        "/api/v1/executions",
        "limit",
        "offset",
        "sort",
        "sort_asc",
        "sort_desc",
        "show_secrets",
        *_LIST_ATTRS,
        *_EXECUTION_FILTERS,
    ),
    "executions.get": _ep("GET", "/api/v1/executions/{id}", *_LIST_ATTRS, "show_secrets", "max_result_size"),
    "executions.children": _ep("GET", "/api/v1/executions/{id}/children", "depth", "result_fmt"),
    "executions.output": _ep("GET", "/api/v1/executions/{id}/output", "output_type"),
    "executions.result": _ep("GET", "/api/v1/executions/{id}/result", "pretty_format"),
    "executions.run": _ep("POST", "/api/v1/executions", "show_secrets"),
    "executions.cancel": _ep("DELETE", "/api/v1/executions/{id}", "show_secrets"),
    "executions.update": _ep("PUT", "/api/v1/executions/{id}", "show_secrets"),
    "executions.rerun": _ep("POST", "/api/v1/executions/{id}/re_run", "show_secrets"),
    "executions.filter_values": _ep("GET", "/api/v1/executions/views/filters", "types"),
    "actions.list": _ep(
        "GET", "/api/v1/actions", *_LIST_ATTRS, "limit", "offset", "id", "name", "pack", "tags"
    ),
    "actions.get": _ep("GET", "/api/v1/actions/{ref_or_id}"),
    "actions.parameters": _ep("GET", "/api/v1/actions/views/parameters/{ref_or_id}"),
    "runner_types.list": _ep(
        "GET", "/api/v1/runnertypes", *_LIST_ATTRS, "limit", "offset", "sort", "id", "name"
    ),
    "runner_types.get": _ep("GET", "/api/v1/runnertypes/{name_or_id}"),
    "packs.list": _ep("GET", "/api/v1/packs", *_LIST_ATTRS, "limit", "offset", "sort", "id", "name", "ref"),
    "packs.get": _ep("GET", "/api/v1/packs/{ref_or_id}"),
    "rules.list": _ep(
        "GET",
        "/api/v1/rules",
        *_LIST_ATTRS,
        "limit",
        "id",
        "name",
        "pack",
        "action",
        "trigger",
        "enabled",
        "show_secrets",
    ),
    "rules.get": _ep("GET", "/api/v1/rules/{ref_or_id}", "show_secrets"),
    "rules.update": _ep("PUT", "/api/v1/rules/{rule_ref_or_id}"),
    "rule_enforcements.list": _ep(
        "GET",
        "/api/v1/ruleenforcements",
        *_LIST_ATTRS,
        "limit",
        "offset",
        "sort",
        "id",
        "rule_ref",
        "rule_id",
        "execution",
        "trigger_instance",
        "enforced_at_gt",
        "enforced_at_lt",
    ),
    "rule_enforcements.get": _ep("GET", "/api/v1/ruleenforcements/{id}"),
    "keys.list": _ep(
        "GET", "/api/v1/keys", "prefix", "scope", "decrypt", "user", "limit", "offset", "sort", "id", "name"
    ),
    "keys.get": _ep("GET", "/api/v1/keys/{name}", "scope", "decrypt", "user"),
    "keys.set": _ep("PUT", "/api/v1/keys/{name}"),
    "keys.delete": _ep("DELETE", "/api/v1/keys/{name}", "scope", "user"),
    "inquiries.list": _ep("GET", "/api/v1/inquiries", *_LIST_ATTRS, "limit"),
    "inquiries.get": _ep("GET", "/api/v1/inquiries/{inquiry_id}"),
    "inquiries.respond": _ep("PUT", "/api/v1/inquiries/{inquiry_id}"),
    "streams.events": _ep(
        "GET", "/stream/v1/stream", "events", "action_refs", "execution_ids", "end_event", "end_execution_id"
    ),
    "streams.output": _ep("GET", "/stream/v1/executions/{id}/output", "output_type"),
}
