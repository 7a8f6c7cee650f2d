"""The rules engine and what feeds it: webhooks and interval timers.

A trigger instance (a webhook call or a timer tick) is matched against the enabled rules bound to
its trigger; each matching rule gets an enforcement, which runs the rule's action through the
engine with its parameters rendered over the trigger payload, as st2's rules engine does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import params, rbac
from .actions import (
    server_of,
    st2_validate,
)
from .auth import authenticate
from .criteria import OPERATORS, payload_value, render_pattern
from .keys import kv_lookup
from .rules import all_rules, trigger_doc, trigger_type_doc
from .state import DemoState
from .util import (
    ApiError,
    drop_falsy,
    isotime,
    isotime_ms,
    json_body,
    json_response,
    new_id,
    utcnow,
)

SYSTEM_USER = "stanley"
WEBHOOK_TYPE = "core.st2.webhook"
INTERVAL_TIMER_TYPE = "core.st2.IntervalTimer"
TIMER_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
# Request headers a webhook leaves out of the trigger payload: credentials, and the trace tag,
# which names the trace instead.
WEBHOOK_SKIPPED_HEADERS = {"st2-api-key", "x-auth-token", "cookie", "st2-trace-tag"}


# ---- the rules engine --------------------------------------------------------------------------


def _match(rule: dict[str, Any], instance: dict[str, Any]) -> tuple[bool, str | None]:
    """Does `rule` apply to the trigger instance? A broken criterion yields a failure reason instead."""
    criteria = rule.get("criteria") or {}
    payload = instance.get("payload")
    if criteria and not payload:
        return False, None
    return _check_criteria(criteria, {"trigger": payload}, rule, instance)


def _check_criteria(
    criteria: dict[str, Any], context: dict[str, Any], rule: dict[str, Any], instance: dict[str, Any]
) -> tuple[bool, str | None]:
    def failure(reason: str, exc: Exception) -> tuple[bool, str]:
        return False, (
            f'Failed to match rule "{rule["ref"]}" against trigger instance "{instance["id"]}": {reason}: {exc}'
        )

    for key, criterion in criteria.items():
        if "type" not in criterion:
            return False, None
        operator = str(criterion["type"]).lower()
        pattern = criterion.get("pattern")
        try:
            pattern = render_pattern(pattern, context) if isinstance(pattern, str) else pattern
        except jinja2.TemplateError as exc:
            return failure(f'Failed to render pattern value "{pattern}" for key "{key}"', exc)
        value = payload_value(context, key.split("#", 1)[0])
        try:
            if operator == "search":
                matched = _search(value, pattern, criterion.get("condition"), rule, instance)
            elif operator in OPERATORS:
                matched = OPERATORS[operator](value, pattern)
            else:
                raise ValueError(f"Invalid operator: {operator}")
        except Exception as exc:
            return failure(f"There might be a problem with the criteria in rule {rule['ref']}", exc)
        if not matched:
            return False, None
    return True, None


def _search(value: Any, pattern: Any, condition: Any, rule: dict[str, Any], instance: dict[str, Any]) -> bool:
    """st2's `search` operator: match sub-criteria (keys `item.<path>`) against list items."""
    items = [value] if isinstance(value, dict) else value
    if condition not in ("any", "all", "all2any", "any2any"):
        raise ValueError(
            f"The '{condition}' condition is not recognized for type search, 'any', 'all', 'any2any' and 'all2any' are allowed"
        )
    over_items = any if condition in ("any", "any2any") else all
    over_patterns = any if condition in ("all2any", "any2any") else all
    return over_items(
        over_patterns(
            _check_criteria({key: criterion}, {"item": item}, rule, instance)[0]
            for key, criterion in pattern.items()
        )
        for item in items
    )


def _live_parameters(
    server: DemoState, rule: dict[str, Any], action: dict[str, Any], payload: Any, context: dict[str, Any]
) -> dict[str, Any]:
    """The rule's action parameters rendered over the trigger payload and cast (st2's
    `render_live_params` with the `trigger` context)."""
    runner = server.db.doc("SELECT doc FROM runnertypes WHERE name = ?", (action.get("runner_type"),)) or {}
    lookup = kv_lookup(server, SYSTEM_USER)
    return params.render_live_parameters(
        runner.get("runner_parameters") or {},
        action.get("parameters") or {},
        rule.get("action", {}).get("parameters") or {},
        lookup,
        action_context=context,
        extra_context={"trigger": payload},
        decrypt=lookup.decrypt,
    )


async def enforce(
    server: DemoState,
    rule: dict[str, Any],
    trigger: dict[str, Any],
    trigger_type: dict[str, Any] | None,
    instance: dict[str, Any],
    trace_context: dict[str, Any],
) -> dict[str, Any] | None:
    """Match one rule against a trigger instance and, if it applies, run its action.

    Returns the stored enforcement document, or None when the rule did not match.
    """
    if not rule.get("enabled"):
        return None
    matched, failure = _match(rule, instance)
    if not matched and failure is None:
        return None
    enforcement: dict[str, Any] = {
        "trigger_instance_id": instance["id"],
        "execution_id": None,
        "failure_reason": failure,
        "rule": {"ref": rule["ref"], "id": rule["id"], "uid": rule["uid"]},
        "enforced_at": isotime(utcnow()),
        "status": "failed",
        "id": new_id(),
    }
    if failure is None:
        try:
            execution = await _invoke(server, rule, trigger, trigger_type, instance, trace_context)
        except ApiError as exc:
            enforcement["failure_reason"] = exc.faultstring
        except Exception as exc:
            enforcement["failure_reason"] = str(exc) or type(exc).__name__
        else:
            enforcement["execution_id"] = execution["id"]
            enforcement["status"] = "succeeded"
    doc = drop_falsy(enforcement)
    server.db.execute(
        "INSERT INTO enforcements (id, rule_ref, rule_id, execution_id, trigger_instance_id, enforced_at, doc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            doc["id"],
            rule["ref"],
            rule["id"],
            doc.get("execution_id"),
            instance["id"],
            doc["enforced_at"],
            json.dumps(doc),
        ),
    )
    return doc


async def _invoke(
    server: DemoState,
    rule: dict[str, Any],
    trigger: dict[str, Any],
    trigger_type: dict[str, Any] | None,
    instance: dict[str, Any],
    trace_context: dict[str, Any],
) -> dict[str, Any]:
    action_ref = rule["action"]["ref"]
    action = server.db.doc("SELECT doc FROM actions WHERE ref = ?", (action_ref,))
    if action is None:
        raise ValueError(f'Action "{action_ref}" doesn\'t exist')
    context = {
        "trigger_instance": {"id": instance["id"], "name": None},
        "rule": {"id": rule["id"], "name": rule["name"]},
        "user": SYSTEM_USER,
        "pack": action["pack"],
        "trace_context": trace_context,
    }
    parameters = _live_parameters(server, rule, action, instance.get("payload"), context)
    return await server.engine.run_action(
        action_ref,
        parameters,
        user=SYSTEM_USER,
        context=context,
        rule=rule,
        trigger=trigger,
        trigger_type=trigger_type,
        trigger_instance=instance,
    )


async def dispatch(
    server: DemoState, trigger: dict[str, Any], payload: Any, trace_tag: str
) -> dict[str, Any]:
    """Record a trigger instance and enforce every enabled rule bound to its trigger."""
    instance = {
        "trigger": trigger["ref"],
        "occurrence_time": isotime_ms(utcnow()),
        "status": "processing",
        "id": new_id(),
        "payload": payload,
    }
    server.db.execute(
        "INSERT INTO trigger_instances (id, trigger, occurrence_time, doc) VALUES (?, ?, ?, ?)",
        (instance["id"], instance["trigger"], instance["occurrence_time"], json.dumps(instance)),
    )
    trace_context = {"id_": new_id(), "trace_tag": trace_tag}
    trigger_type = trigger_type_doc(server, trigger["type"])
    rules = [r for r in all_rules(server) if r.get("trigger", {}).get("ref") == trigger["ref"]]
    for rule in sorted(rules, key=lambda r: r["ref"]):
        await enforce(server, rule, trigger, trigger_type, dict(instance), trace_context)
    instance["status"] = "processed"
    server.db.execute(
        "UPDATE trigger_instances SET doc = ? WHERE id = ?", (json.dumps(instance), instance["id"])
    )
    return instance


# ---- webhooks ---------------------------------------------------------------------------------


def webhook_triggers(server: DemoState, hook: str | None = None) -> list[dict[str, Any]]:
    """Webhook triggers that some rule uses (st2 listens on exactly those), optionally for one URL."""
    refs = sorted(
        {
            rule["trigger"]["ref"]
            for rule in all_rules(server)
            if rule.get("trigger", {}).get("type") == WEBHOOK_TYPE
        }
    )
    triggers = [doc for doc in (trigger_doc(server, ref) for ref in refs) if doc]
    if hook is not None:
        triggers = [t for t in triggers if str(t["parameters"].get("url", "")).strip("/") == hook]
    return triggers


def _webhook_headers(request: Request) -> dict[str, str]:
    """Request headers as WebOb presents them (`Content-Type`), without credentials."""
    headers = {}
    for name, value in request.headers.items():
        if name.lower() not in WEBHOOK_SKIPPED_HEADERS:
            headers["-".join(part.capitalize() for part in name.split("-"))] = value
    return headers


async def post_webhook(request: Request) -> Response:
    principal = authenticate(request)
    server = server_of(request)
    hook = request.path_params["hook"].strip("/")
    body = await json_body(request)
    if not isinstance(body, (dict, list)):
        raise ApiError(400, f"{body!r} is not of type 'object', 'array'")
    rbac.require(principal, rbac.WEBHOOK_SEND, f"webhook:{hook}")
    trace_tag = request.headers.get("st2-trace-tag") or f"webhook-{hook}-{uuid.uuid4().hex}"
    if hook == "st2":
        await _generic_webhook(server, body, trace_tag)
        return json_response(body, status=202)
    triggers = webhook_triggers(server, hook)
    if not triggers:
        raise ApiError(404, f"Webhook {hook} not registered with st2")
    headers = _webhook_headers(request)
    payload = {"headers": headers, "headers_lower": {k.lower(): v for k, v in headers.items()}, "body": body}
    for trigger in triggers:
        await dispatch(server, trigger, payload, trace_tag)
    return json_response(body, status=202)


async def _generic_webhook(server: DemoState, body: Any, trace_tag: str) -> None:
    """`POST /webhooks/st2` with `{"trigger": <ref>, "payload": {...}}` dispatches any trigger."""
    if not isinstance(body, dict):
        kind = "array" if isinstance(body, list) else type(body).__name__
        raise ApiError(400, f"Webhook body needs to be an object, got: {kind}")
    ref = body.get("trigger")
    if not ref:
        raise ApiError(400, "Trigger not specified.")
    payload = body.get("payload")
    trigger = trigger_doc(server, ref) if isinstance(ref, str) else None
    type_doc = trigger_type_doc(server, trigger["type"] if trigger else str(ref))
    if type_doc is None:
        raise ApiError(
            400,
            f'Trigger payload validation failed and validation is enabled, not dispatching a trigger "{ref}" '
            f'({payload}): Trigger type with reference "{ref}" doesn\'t exist in the database',
        )
    if type_doc.get("payload_schema"):
        try:
            payload = st2_validate(payload, type_doc["payload_schema"])
        except ApiError as exc:
            raise ApiError(
                400,
                "Trigger payload validation failed and validation is enabled, not dispatching a trigger "
                f'"{ref}" ({payload}): {exc.faultstring}',
            ) from None
    if trigger is None:
        trigger = trigger_doc(server, type_doc["ref"])
    if trigger is not None:
        await dispatch(server, trigger, payload, trace_tag)


async def list_webhooks(request: Request) -> Response:
    authenticate(request, rbac.WEBHOOK_LIST)
    return json_response(webhook_triggers(server_of(request)))


async def get_webhook(request: Request) -> Response:
    principal = authenticate(request)
    url = request.path_params["url"].strip("/")
    triggers = webhook_triggers(server_of(request), url)
    if not triggers:
        raise ApiError(404, "The resource could not be found.")
    rbac.require(principal, rbac.WEBHOOK_VIEW, f"webhook:{url}")
    return json_response(triggers[0])


# ---- interval timers ------------------------------------------------------------------------


class IntervalTimers:
    """Service firing `core.st2.IntervalTimer` triggers on schedule (only when `server.timers`).

    Each tick of a timer trigger goes through the normal enforcement path. st2 schedules every timer
    trigger a rule uses; this schedules only those of enabled rules, so that a disabled rule's timer
    does not fill the database with trigger instances nothing acts on. `server.timer_interval`
    (seconds), when set, replaces every timer's own interval (tests use it to fire quickly).
    """

    TICK = 0.5

    def __init__(self, server: DemoState) -> None:
        self.server = server
        self._task: asyncio.Task[None] | None = None
        self._due: dict[str, float] = {}

    async def start(self) -> None:
        if self.server.timers:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _interval(self, trigger: dict[str, Any]) -> float:
        override = getattr(self.server, "timer_interval", None)
        if override:
            return float(override)
        parameters = trigger.get("parameters") or {}
        return float(parameters.get("delta", 0)) * TIMER_UNITS.get(parameters.get("unit", ""), 0)

    def _timer_triggers(self) -> list[dict[str, Any]]:
        refs = {
            rule["trigger"]["ref"]
            for rule in all_rules(self.server)
            if rule.get("enabled") and rule.get("trigger", {}).get("type") == INTERVAL_TIMER_TYPE
        }
        return [doc for doc in (trigger_doc(self.server, ref) for ref in sorted(refs)) if doc]

    async def tick(self, now: float) -> None:
        triggers = self._timer_triggers()
        current = {t["ref"] for t in triggers}
        for ref in set(self._due) - current:
            del self._due[ref]
        for trigger in triggers:
            interval = self._interval(trigger)
            if interval <= 0:
                continue
            due = self._due.setdefault(trigger["ref"], now + interval)
            if now >= due:
                self._due[trigger["ref"]] = now + interval
                payload = {"executed_at": str(utcnow()), "schedule": None}
                await dispatch(self.server, trigger, payload, f"st2.IntervalTimer-{trigger['name']}")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.tick(loop.time())
            interval = getattr(self.server, "timer_interval", None)
            await asyncio.sleep(min(self.TICK, interval) if interval else self.TICK)


def routes() -> list[Route]:
    return [
        Route("/api/v1/webhooks", list_webhooks, methods=["GET"]),
        Route("/api/v1/webhooks/{url}", get_webhook, methods=["GET"]),
        Route("/api/v1/webhooks/{hook:path}", post_webhook, methods=["POST"]),
    ]
