"""Seeded execution history for the demo server.

`generate_history` builds a few days of executions in the exact shape real st2 returns from
`GET /api/v1/executions/{id}`: manual runs of every demo action, workflows with their task
executions (linked both ways through `parent`/`children`, `context.parent` and `context.orquesta`),
sub-workflows, inquiries, rule-fired runs carrying `rule`/`trigger`/`trigger_type`/
`trigger_instance`, and a realistic mix of statuses. `generate_output` gives the output chunks those
executions would have streamed, `generate_rule_records` the trigger instances and rule
enforcements behind the rule-fired ones, and `generate_bulk` streams many light executions for
load tests. Everything is deterministic for a given `now` and `rng`.

Documents follow `ActionExecutionAPI.from_model`: falsy attributes are left out, timestamps carry
microseconds, `log` timestamps are milliseconds padded to six digits. Parameters are stored as
submitted (unmasked); mask secrets when serving them, as for live executions.
"""

from __future__ import annotations

from .bulk import generate_bulk
from .documents import DEFAULT_USERS, result_size
from .history import generate_history
from .output import generate_output, generate_rule_records

__all__ = [
    "DEFAULT_USERS",
    "generate_bulk",
    "generate_history",
    "generate_output",
    "generate_rule_records",
    "result_size",
]
