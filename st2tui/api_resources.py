"""The REST resources of the client, one class per endpoint group (`client.executions`, `client.keys`, ...)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

import httpx

from st2tui.api_errors import OperationRejected
from st2tui.api_transport import (
    ModelT,
    basic_auth_header,
    build_model,
    compact,
    decode_json,
    malformed,
    mask_url,
)
from st2tui.models import (
    Action,
    Execution,
    Inquiry,
    InquiryResponse,
    KeyValuePair,
    Pack,
    Page,
    ParameterSpec,
    Rule,
    RuleEnforcement,
    RunnerType,
    Token,
    WhoAmI,
)


class ClientCore(Protocol):
    """What a resource asks of its client (`st2tui.api.St2Client` implements it): requests by endpoint
    name, answers as models and pages. A protocol, so that the client imports its resources and none of
    them imports the client back."""

    def set_credentials(self, *, username: str | None = None, password: str | None = None) -> None: ...
    def _adopt(self, token: Token) -> None: ...
    def _build_request(
        self,
        op: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        authenticated: bool = True,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Request: ...
    async def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response: ...
    @staticmethod
    def _raise_for_status(response: httpx.Response) -> None: ...
    async def _request(
        self,
        op: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response: ...
    async def _json(self, op: str, **kwargs: Any) -> tuple[Any, httpx.Response]: ...
    async def _model(self, op: str, model: Callable[[Any], ModelT], **kwargs: Any) -> ModelT: ...
    async def _page(
        self, op: str, model: Callable[[Any], ModelT], params: Mapping[str, Any], **kwargs: Any
    ) -> Page[ModelT]: ...


class _Resource:
    def __init__(self, client: ClientCore) -> None:
        self._client = client


class ServerResource(_Resource):
    async def version(self) -> str:
        """The server's version string (``GET /api/v1/``)."""
        doc, response = await self._client._json("server.root")
        if not isinstance(doc, dict):
            raise malformed(response, "expected a JSON object")
        return str(doc.get("version", ""))


class AuthResource(_Resource):
    async def create_token(self, username: str, password: str, ttl: int | None = None) -> Token:
        """``POST /auth/v1/tokens`` with HTTP basic auth; does not change the client's credentials."""
        client = self._client
        request = client._build_request(
            "auth.create_token",
            json_body={"ttl": ttl} if ttl is not None else {},
            authenticated=False,
            headers={"Authorization": basic_auth_header(username, password)},
        )
        response = await client._send(request)
        client._raise_for_status(response)
        return build_model(Token.from_dict, decode_json(response), response)

    async def login(self, username: str, password: str, ttl: int | None = None) -> Token:
        """Create a token and use it from now on; the credentials are kept for automatic re-login."""
        token = await self.create_token(username, password, ttl)
        self._client.set_credentials(username=username, password=password)
        self._client._adopt(token)
        return token

    async def whoami(self) -> WhoAmI:
        """``GET /api/v1/user``: user, auth method, token expiry and RBAC roles."""
        return await self._client._model("auth.whoami", WhoAmI.from_dict)


class ExecutionsResource(_Resource):
    async def list(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
        sort_asc: bool | None = None,
        sort_desc: bool | None = None,
        id: Iterable[str] | None = None,
        status: str | None = None,
        parent: str | None = None,
        action: str | None = None,
        runner: str | None = None,
        user: str | None = None,
        rule: str | None = None,
        trigger: str | None = None,
        trigger_type: str | None = None,
        trigger_instance: str | None = None,
        liveaction: str | None = None,
        timestamp: str | datetime | None = None,
        timestamp_gt: str | datetime | None = None,
        timestamp_lt: str | datetime | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
        show_secrets: bool | None = None,
        filter: str | None = None,
    ) -> Page[Execution]:
        """``GET /api/v1/executions``. ``parent="null"`` lists top-level executions only (as ``st2 execution list``)."""
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("executions.list", Execution.from_dict, params)

    async def get(
        self,
        id: str,
        *,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
        max_result_size: int | None = None,
        show_secrets: bool | None = None,
    ) -> Execution:
        """``GET /api/v1/executions/{id}``; ``id="last"`` is the newest execution.

        With ``max_result_size`` the server leaves out ``result`` when it is larger (bytes).
        """
        params = {
            "include_attributes": include_attributes,
            "exclude_attributes": exclude_attributes,
            "max_result_size": max_result_size,
            "show_secrets": show_secrets,
        }
        return await self._client._model(
            "executions.get", Execution.from_dict, path={"id": id}, params=params
        )

    async def children(self, id: str, *, depth: int = -1, result_fmt: str | None = None) -> list[Execution]:
        """``GET /api/v1/executions/{id}/children``: descendants down to ``depth`` (-1 = all)."""
        client = self._client
        doc, response = await client._json(
            "executions.children", path={"id": id}, params={"depth": depth, "result_fmt": result_fmt}
        )
        if not isinstance(doc, list):
            raise malformed(response, f"expected a JSON list, got {type(doc).__name__}")
        return [build_model(Execution.from_dict, item, response) for item in doc]

    async def output(self, id: str, *, output_type: str | None = None) -> str:
        """``GET /api/v1/executions/{id}/output``: the output stored so far as text (``all|stdout|stderr``)."""
        response = await self._client._request(
            "executions.output", path={"id": id}, params={"output_type": output_type}
        )
        return response.text

    async def result(self, id: str) -> Any:
        """``GET /api/v1/executions/{id}/result``: the raw result, parsed (for results too big to embed)."""
        doc, _ = await self._client._json("executions.result", path={"id": id})
        return doc

    async def result_text(self, id: str, *, pretty_format: bool = True) -> str:
        """The raw result as JSON text, pretty-printed by the server unless ``pretty_format=False``."""
        response = await self._client._request(
            "executions.result", path={"id": id}, params={"pretty_format": pretty_format}
        )
        return response.text

    async def run(
        self,
        action: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        trace_tag: str | None = None,
        trace_id: str | None = None,
        delay: int | None = None,
        context: Mapping[str, Any] | None = None,
        notify: Mapping[str, Any] | None = None,
        user: str | None = None,
    ) -> Execution:
        """``POST /api/v1/executions``. ``delay`` is in milliseconds; ``user`` (run as) is admin-only."""
        run_context = dict(context or {})
        trace_context = {}
        if trace_tag:
            trace_context["trace_tag"] = trace_tag
        if trace_id:
            trace_context["id_"] = trace_id
        if trace_context:
            run_context["trace_context"] = trace_context
        body = compact(
            {
                "action": action,
                "parameters": dict(parameters or {}),
                "context": run_context or None,
                "notify": dict(notify) if notify else None,
                "delay": delay,
                "user": user,
            }
        )
        return await self._client._model("executions.run", Execution.from_dict, json_body=body)

    async def cancel(self, id: str) -> Execution:
        """``DELETE /api/v1/executions/{id}``; raises ``OperationRejected`` when st2 answers 200 + faultstring."""
        doc, response = await self._client._json("executions.cancel", path={"id": id})
        if isinstance(doc, dict) and "faultstring" in doc:
            raise OperationRejected(
                str(doc["faultstring"]),
                status=response.status_code,
                request_id=response.headers.get("X-Request-ID"),
                method=response.request.method,
                url=mask_url(response.request.url),
            )
        return build_model(Execution.from_dict, doc, response)

    async def pause(self, id: str) -> Execution:
        """Pause a running workflow (``PUT {"status": "pausing"}``)."""
        return await self._client._model(
            "executions.update", Execution.from_dict, path={"id": id}, json_body={"status": "pausing"}
        )

    async def resume(self, id: str) -> Execution:
        """Resume a paused workflow (``PUT {"status": "resuming"}``)."""
        return await self._client._model(
            "executions.update", Execution.from_dict, path={"id": id}, json_body={"status": "resuming"}
        )

    async def rerun(
        self,
        id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        tasks: Iterable[str] | None = None,
        reset: Iterable[str] | None = None,
        delay: int | None = None,
        user: str | None = None,
    ) -> Execution:
        """``POST /api/v1/executions/{id}/re_run``.

        ``parameters`` are merged over the original ones by the server. ``tasks`` (orquesta only) re-runs
        from those tasks; ``reset`` lists with-items tasks whose items all re-run (must be within ``tasks``).
        """
        body = compact(
            {
                "parameters": dict(parameters or {}),
                "tasks": list(tasks) if tasks else [],
                "reset": list(reset) if reset else [],
                "delay": delay,
                "user": user,
            }
        )
        return await self._client._model(
            "executions.rerun", Execution.from_dict, path={"id": id}, json_body=body
        )

    async def filter_values(self, types: Iterable[str] | None = None) -> dict[str, list[str]]:
        """``GET /api/v1/executions/views/filters``: distinct values per filter (action, status, user, ...)."""
        doc, response = await self._client._json("executions.filter_values", params={"types": types})
        if not isinstance(doc, dict):
            raise malformed(response, "expected a JSON object")
        return {str(key): [str(v) for v in values] for key, values in doc.items() if isinstance(values, list)}


class ActionsResource(_Resource):
    async def list(
        self,
        *,
        pack: str | None = None,
        name: str | None = None,
        tags: Iterable[str] | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[Action]:
        """``GET /api/v1/actions`` (all actions unless ``limit`` is given)."""
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("actions.list", Action.from_dict, params)

    async def get(self, ref_or_id: str) -> Action:
        return await self._client._model("actions.get", Action.from_dict, path={"ref_or_id": ref_or_id})

    async def parameters(self, ref_or_id: str) -> dict[str, ParameterSpec]:
        """Runner and action parameters merged (``GET /api/v1/actions/views/parameters/{ref}``), display-ordered."""
        doc, response = await self._client._json("actions.parameters", path={"ref_or_id": ref_or_id})
        if not isinstance(doc, dict):
            raise malformed(response, "expected a JSON object")
        return ParameterSpec.parse_map(doc.get("parameters"))


class RunnerTypesResource(_Resource):
    async def list(
        self,
        *,
        name: str | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[RunnerType]:
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("runner_types.list", RunnerType.from_dict, params)

    async def get(self, name_or_id: str) -> RunnerType:
        return await self._client._model(
            "runner_types.get", RunnerType.from_dict, path={"name_or_id": name_or_id}
        )


class PacksResource(_Resource):
    async def list(
        self,
        *,
        name: str | None = None,
        ref: str | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[Pack]:
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("packs.list", Pack.from_dict, params)

    async def get(self, ref_or_id: str) -> Pack:
        return await self._client._model("packs.get", Pack.from_dict, path={"ref_or_id": ref_or_id})


class RulesResource(_Resource):
    async def list(
        self,
        *,
        pack: str | None = None,
        action: str | None = None,
        trigger: str | None = None,
        enabled: bool | None = None,
        name: str | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
        show_secrets: bool | None = None,
    ) -> Page[Rule]:
        """``GET /api/v1/rules`` (no ``offset``/``sort`` in the API: all rules unless ``limit``)."""
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("rules.list", Rule.from_dict, params)

    async def get(self, ref_or_id: str) -> Rule:
        return await self._client._model("rules.get", Rule.from_dict, path={"ref_or_id": ref_or_id})

    async def enable(self, ref_or_id: str) -> Rule:
        return await self._set_enabled(ref_or_id, True)

    async def disable(self, ref_or_id: str) -> Rule:
        return await self._set_enabled(ref_or_id, False)

    async def _set_enabled(self, ref_or_id: str, enabled: bool) -> Rule:
        # Like st2client: full-object PUT by id (the handler takes the path value as the document id),
        # without the read-only "ref".
        rule = await self.get(ref_or_id)
        body = {key: value for key, value in rule.raw.items() if key != "ref"}
        body["enabled"] = enabled
        return await self._client._model(
            "rules.update", Rule.from_dict, path={"rule_ref_or_id": rule.id}, json_body=body
        )


class RuleEnforcementsResource(_Resource):
    async def list(
        self,
        *,
        rule_ref: str | None = None,
        rule_id: str | None = None,
        execution: str | None = None,
        trigger_instance: str | None = None,
        enforced_at_gt: str | datetime | None = None,
        enforced_at_lt: str | datetime | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[RuleEnforcement]:
        """``GET /api/v1/ruleenforcements``, newest first."""
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("rule_enforcements.list", RuleEnforcement.from_dict, params)

    async def get(self, id: str) -> RuleEnforcement:
        return await self._client._model("rule_enforcements.get", RuleEnforcement.from_dict, path={"id": id})


class KeysResource(_Resource):
    async def list(
        self,
        *,
        scope: str | None = None,
        prefix: str | None = None,
        decrypt: bool | None = None,
        user: str | None = None,
        name: str | None = None,
        id: Iterable[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
    ) -> Page[KeyValuePair]:
        """``GET /api/v1/keys``. The server's default scope is ``st2kv.system``; ``scope="all"`` adds own user keys.

        The keys endpoint sends no ``X-Total-Count``, so ``Page.total`` is None.
        """
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("keys.list", KeyValuePair.from_dict, params)

    async def get(
        self, name: str, *, scope: str | None = None, decrypt: bool | None = None, user: str | None = None
    ) -> KeyValuePair:
        return await self._client._model(
            "keys.get",
            KeyValuePair.from_dict,
            path={"name": name},
            params={"scope": scope, "decrypt": decrypt, "user": user},
        )

    async def set(
        self,
        name: str,
        value: str,
        *,
        secret: bool | None = None,
        encrypted: bool | None = None,
        ttl: int | None = None,
        scope: str | None = None,
        user: str | None = None,
        description: str | None = None,
    ) -> KeyValuePair:
        """Create or update a key (``PUT /api/v1/keys/{name}``); ``ttl`` in seconds; values are strings."""
        body = compact(
            {
                "name": name,
                "value": value,
                "secret": secret,
                "encrypted": encrypted,
                "ttl": ttl,
                "scope": scope,
                "user": user,
                "description": description,
            }
        )
        return await self._client._model(
            "keys.set", KeyValuePair.from_dict, path={"name": name}, json_body=body
        )

    async def delete(self, name: str, *, scope: str | None = None, user: str | None = None) -> None:
        await self._client._request("keys.delete", path={"name": name}, params={"scope": scope, "user": user})


class InquiriesResource(_Resource):
    async def list(
        self,
        *,
        limit: int | None = None,
        include_attributes: Iterable[str] | None = None,
        exclude_attributes: Iterable[str] | None = None,
    ) -> Page[Inquiry]:
        params = {k: v for k, v in locals().items() if k != "self"}
        return await self._client._page("inquiries.list", Inquiry.from_dict, params)

    async def get(self, inquiry_id: str) -> Inquiry:
        return await self._client._model("inquiries.get", Inquiry.from_dict, path={"inquiry_id": inquiry_id})

    async def respond(self, inquiry_id: str, response: Mapping[str, Any]) -> InquiryResponse:
        """Answer an inquiry (``PUT /api/v1/inquiries/{id}`` with ``{"id": ..., "response": {...}}``)."""
        return await self._client._model(
            "inquiries.respond",
            InquiryResponse.from_dict,
            path={"inquiry_id": inquiry_id},
            json_body={"id": inquiry_id, "response": dict(response)},
        )
