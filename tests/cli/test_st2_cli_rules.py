"""`st2 rule ...` and `st2 rule-enforcement list` against the demo's rules."""

from __future__ import annotations

import httpx
import pytest
from support.rest import wait_for, wait_until
from support.st2cli import St2Cli, parse_properties, parse_table

pytestmark = pytest.mark.cli

WEBHOOK_RULE = "examples.sample_rule_with_webhook"
# A rule nothing else in the suite fires (interval timer, timers are off): safe to toggle.
TOGGLED_RULE = "examples.sample_rule_with_timer"


def test_rule_list_shows_every_rule(st2: St2Cli, rest: httpx.Client) -> None:
    result = st2("rule", "list")

    assert result.returncode == 0, result
    rows = parse_table(result.stdout)
    assert list(rows[0]) == ["ref", "pack", "description", "enabled"], result
    listed = {row["ref"]: row for row in rows}
    for rule in rest.get("/api/v1/rules").json():
        assert listed[rule["ref"]]["enabled"] == str(rule["enabled"])
        assert listed[rule["ref"]]["pack"] == rule["pack"]
    assert WEBHOOK_RULE in listed


def test_rule_get_shows_the_rule_document(st2: St2Cli) -> None:
    result = st2("rule", "get", WEBHOOK_RULE)

    assert result.returncode == 0, result
    props = parse_properties(result.stdout)
    assert props["ref"] == WEBHOOK_RULE
    assert props["uid"] == "rule:examples:sample_rule_with_webhook"
    assert props["enabled"] == "True"
    assert '"type": "core.st2.webhook"' in props["trigger"]
    assert '"url": "sample"' in props["trigger"]
    assert '"ref": "core.local"' in props["action"]
    assert '"trigger.body.name"' in props["criteria"]


def test_rule_enable_and_disable_change_only_the_enabled_flag(st2: St2Cli, rest: httpx.Client) -> None:
    before = rest.get(f"/api/v1/rules/{TOGGLED_RULE}").json()

    enabled = st2("rule", "enable", TOGGLED_RULE)

    assert enabled.returncode == 0, enabled
    assert parse_properties(st2("rule", "get", TOGGLED_RULE).stdout)["enabled"] == "True"
    enabled_refs = {row["ref"] for row in parse_table(st2("rule", "list", "--enabled").stdout)}
    assert TOGGLED_RULE in enabled_refs

    disabled = st2("rule", "disable", TOGGLED_RULE)

    assert disabled.returncode == 0, disabled
    assert parse_properties(st2("rule", "get", TOGGLED_RULE).stdout)["enabled"] == "False"
    disabled_rows = parse_table(st2("rule", "list", "--disabled").stdout)
    assert TOGGLED_RULE in {row["ref"] for row in disabled_rows}
    assert all(row["enabled"] == "False" for row in disabled_rows)

    after = rest.get(f"/api/v1/rules/{TOGGLED_RULE}").json()
    for field in ("id", "ref", "name", "pack", "trigger", "criteria", "action", "description"):
        assert after.get(field) == before.get(field), field


def test_rule_enforcement_list_after_a_webhook_fires_a_rule(st2: St2Cli, rest: httpx.Client) -> None:
    posted = rest.post("/api/v1/webhooks/sample", json={"name": "st2", "message": "from the CLI suite"})
    assert posted.status_code == 202, posted.text

    enforcement = wait_until(
        lambda: rest.get("/api/v1/ruleenforcements", params={"rule_ref": WEBHOOK_RULE}).json(),
        timeout=30,
        message="an enforcement of the webhook rule",
    )[0]
    wait_for(rest, enforcement["execution_id"])

    result = st2("rule-enforcement", "list", "--rule", WEBHOOK_RULE)

    assert result.returncode == 0, result
    rows = parse_table(result.stdout)
    assert list(rows[0]) == ["id", "rule.ref", "trigger_instance_id", "execution_id", "enforced_at"], result
    row = next(row for row in rows if row["id"] == enforcement["id"])
    assert row["rule.ref"] == WEBHOOK_RULE
    assert row["execution_id"] == enforcement["execution_id"]
    assert row["trigger_instance_id"] == enforcement["trigger_instance_id"]
