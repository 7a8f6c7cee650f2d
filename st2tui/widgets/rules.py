"""The rules pane: every rule with its trigger and action; enable/disable; details with enforcements."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from st2tui.api_errors import St2Error
from st2tui.formatting import short_timestamp, status_text
from st2tui.forms import printable
from st2tui.messages import (
    ApiFailed,
    ConfirmationRequested,
    ExecutionOpenRequested,
    RuleDetailLoaded,
    RulesLoaded,
    RuleToggled,
)
from st2tui.models import Rule, RuleEnforcement
from st2tui.widgets.filter_bar import FilterBar
from st2tui.widgets.pane import Pane, PaneCommand
from st2tui.widgets.table import Column, RecordTable, TableRow

ENFORCEMENTS_LIMIT = 20
RULE_COLUMNS = (
    Column("enabled", "On", 3),
    Column("ref", "Rule", 20, flex=2),
    Column("pack", "Pack", 10, drop=1),
    Column("trigger", "Trigger type", 16, flex=1),
    Column("action", "Action", 16, flex=1),
)
ENFORCEMENT_COLUMNS = (
    Column("enforced", "Enforced", 15),
    Column("status", "Status", 11),
    Column("execution", "Execution", 9),
    Column("reason", "Failure reason", 10, flex=1, drop=1),
)
RULES_FILTER_HELP = "pack:examples  enabled:true|false  words in ref, trigger or action"


class RulesTable(RecordTable):
    BINDINGS = [
        Binding(
            "enter",
            "activate",
            "Details",
            id="rules.details",
            tooltip="Show the rule's details and enforcements",
        )
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(RULE_COLUMNS, id=id)


class EnforcementsTable(RecordTable):
    BINDINGS = [
        Binding(
            "enter",
            "activate",
            "Open execution",
            id="rules.open-execution",
            tooltip="Open the execution it started",
        )
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(ENFORCEMENT_COLUMNS, id=id)


def _enabled_mark(enabled: bool) -> Text:
    return Text("✔", style="bold green") if enabled else Text("✘", style="dim red")


def _mapping_table(values: dict[str, Any], empty: str) -> Table | Text:
    if not values:
        return Text(empty, style="dim")
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1)
    for key, value in values.items():
        table.add_row(key, value if isinstance(value, str) else json.dumps(value))
    return table


def _criteria_table(criteria: dict[str, Any]) -> Table | Text:
    if not criteria:
        return Text("none: every trigger instance fires the rule", style="dim")
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(style="cyan", no_wrap=True)
    table.add_column(ratio=1)
    for key, spec in criteria.items():
        spec = spec if isinstance(spec, dict) else {"pattern": spec}
        table.add_row(key, str(spec.get("type", "equals")), json.dumps(spec.get("pattern")))
    return table


class RulesPane(Pane):
    """Rules, filterable by pack and state; enter shows details, `e` enables or disables."""

    BINDING_GROUP_TITLE = "Rules"
    MUTATING_ACTIONS = frozenset({"toggle"})

    BINDINGS = [
        Binding(
            "e", "toggle", "Enable/disable", id="rules.toggle", tooltip="Enable or disable the selected rule"
        ),
        Binding("slash", "filter", "Filter", id="rules.filter", tooltip=f"Filter: {RULES_FILTER_HELP}"),
    ]

    utc: reactive[bool] = reactive(False, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rules: dict[str, Rule] = {}
        self.filters: dict[str, Any] = {}
        self.words: list[str] = []
        self.loaded = False
        self.detail: RuleDetailLoaded | None = None

    def compose(self) -> ComposeResult:
        yield FilterBar(RULES_FILTER_HELP, id="rules-filter")
        yield RulesTable(id="rules-table")
        with Vertical(id="rule-detail", classes="subpane"):
            with VerticalScroll(id="rule-info-scroll"):
                yield Static(id="rule-info")
            yield Static("Latest enforcements", classes="section-title")
            yield EnforcementsTable(id="rule-enforcements")

    def on_mount(self) -> None:
        self.border_title = "Rules"
        self.query_one("#rule-detail").display = False
        self.table.empty_text = "Loading rules…"
        self.query_one(EnforcementsTable).empty_text = "Never enforced."

    @property
    def table(self) -> RulesTable:
        return self.query_one(RulesTable)

    def focus_main(self) -> None:
        self.focus_now(self.table)

    @property
    def selected_rule(self) -> Rule | None:
        key = self.table.cursor_key
        return self.rules.get(key) if key else None

    # -- loading -----------------------------------------------------------------------------------------

    def reload(self) -> None:
        self.loaded = True
        self.load_rules()

    def resync(self) -> None:
        if self.loaded:
            self.load_rules()

    @work(exclusive=True, group="rules-list", description="Loading rules")
    async def load_rules(self) -> None:
        try:
            page = await self.app.client.rules.list(**self.filters)
        except St2Error as exc:
            self.post_message(ApiFailed("Loading rules", exc))
            return
        self.post_message(RulesLoaded(page.items))

    @work(exclusive=True, group="rule-detail", description="Loading the rule")
    async def load_detail(self, ref: str) -> None:
        client = self.app.client
        try:
            rule = await client.rules.get(ref)
            enforcements = await client.rule_enforcements.list(rule_ref=ref, limit=ENFORCEMENTS_LIMIT)
        except St2Error as exc:
            self.post_message(ApiFailed(f"Loading rule {ref}", exc))
            return
        self.post_message(RuleDetailLoaded(rule, enforcements))

    @on(RulesLoaded)
    def _show_rules(self, event: RulesLoaded) -> None:
        event.stop()
        self.rules = {rule.ref: rule for rule in event.rules}
        self.table.empty_text = "No rules match this filter." if self.filters or self.words else "No rules."
        self._show_rows()

    def _matches(self, rule: Rule) -> bool:
        haystack = f"{rule.ref} {rule.trigger_type} {rule.action_ref} {rule.description}".lower()
        return all(word in haystack for word in self.words)

    def _show_rows(self) -> None:
        self.table.set_rows(self._row(rule) for rule in self.rules.values() if self._matches(rule))
        enabled = sum(1 for rule in self.rules.values() if rule.enabled)
        self.border_title = Text(  # as typed: a filter is not markup
            "Rules"
            + (f"  {printable(self.query_one(FilterBar).value)}" if self.filters or self.words else "")
        )
        self.border_subtitle = f"{len(self.rules)} rules, {enabled} enabled"

    def _row(self, rule: Rule) -> TableRow:
        return TableRow(
            rule.ref,
            [
                _enabled_mark(rule.enabled),
                Text(rule.ref, style="" if rule.enabled else "dim"),
                rule.pack,
                rule.trigger_type,
                rule.action_ref,
            ],
        )

    # -- details -----------------------------------------------------------------------------------------

    @on(RecordTable.RowActivated, "#rules-table")
    def _rule_activated(self, event: RecordTable.RowActivated) -> None:
        event.stop()
        self.action_details()

    @on(RecordTable.CursorMoved, "#rules-table")
    def _rule_moved(self, event: RecordTable.CursorMoved) -> None:
        event.stop()
        if event.key and self.query_one("#rule-detail").display:
            self.load_detail(event.key)

    @on(RuleDetailLoaded)
    def _show_detail(self, event: RuleDetailLoaded) -> None:
        event.stop()
        self.detail = event
        self._render_detail()

    def _render_detail(self) -> None:
        if self.detail is None:
            return
        rule = self.detail.rule
        heading = Text.assemble((rule.ref, "bold"), "  ", _enabled_mark(rule.enabled))
        heading.append(" enabled" if rule.enabled else " disabled", style="dim")
        section = "bold underline"
        info = Group(
            heading,
            Text(rule.description or "No description.", style="italic"),
            Text(""),
            Text.assemble(("Trigger ", section), ("  ", ""), (rule.trigger_type, "cyan")),
            _mapping_table(rule.trigger_parameters, "no parameters"),
            Text("Criteria", style=section),
            _criteria_table(rule.criteria),
            Text.assemble(("Action ", section), ("  ", ""), (rule.action_ref, "cyan")),
            _mapping_table(rule.action_parameters, "no parameters"),
        )
        self.query_one("#rule-info", Static).update(info)
        self.query_one("#rule-detail").border_title = rule.ref
        enforcements = self.detail.enforcements
        total = enforcements.total if enforcements.total is not None else len(enforcements)
        self.query_one("#rule-detail").border_subtitle = f"{total:,} enforcements"
        self.query_one(EnforcementsTable).set_rows(self._enforcement_row(item) for item in enforcements)

    def _enforcement_row(self, enforcement: RuleEnforcement) -> TableRow:
        execution = enforcement.execution_id
        return TableRow(
            execution or enforcement.id,
            [
                short_timestamp(enforcement.enforced_at, utc=self.utc),
                status_text(enforcement.status),
                Text(execution[-8:], style="dim") if execution else Text("none", style="dim italic"),
                enforcement.failure_reason,
            ],
        )

    @on(RecordTable.RowActivated, "#rule-enforcements")
    def _enforcement_activated(self, event: RecordTable.RowActivated) -> None:
        event.stop()
        if self.detail is None:
            return
        for enforcement in self.detail.enforcements:
            if enforcement.execution_id == event.key:
                self.post_message(ExecutionOpenRequested(event.key))
                return
        self.notify("This enforcement started no execution.", severity="warning")

    def back(self) -> bool:
        detail = self.query_one("#rule-detail")
        if not detail.display:
            return False
        detail.display = False
        self.remove_class("-detail")
        self.focus_main()
        return True

    def watch_utc(self) -> None:
        self._render_detail()

    # -- filter and toggle -------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def apply_filter(self, text: str) -> bool:
        filters: dict[str, Any] = {}
        words: list[str] = []
        for token in text.split():
            key, sep, value = token.partition(":")
            if sep and key == "pack" and value:
                filters["pack"] = value
            elif sep and key == "enabled" and value.lower() in ("true", "false", "yes", "no"):
                filters["enabled"] = value.lower() in ("true", "yes")
            elif sep and key in ("pack", "enabled"):
                self.notify(
                    f"{printable(token)}: use {RULES_FILTER_HELP}",
                    title="Filter",
                    severity="error",
                    markup=False,
                )
                return False
            else:
                words.append(token.lower())
        self.query_one(FilterBar).set_applied(text)
        server_side_changed = filters != self.filters
        self.filters, self.words = filters, words
        if server_side_changed or not self.loaded:
            self.reload()
        else:
            self._show_rows()
        return True

    def action_toggle(self) -> None:
        rule = self.selected_rule
        if rule is None:
            return
        verb = "Disable" if rule.enabled else "Enable"
        body = f"{rule.ref}\n  on {rule.trigger_type} → {rule.action_ref}"
        if rule.enabled:
            body += "\n\nIt stops firing until it is enabled again."

        def answered(yes: bool | None) -> None:
            if yes:
                self.toggle_rule(rule.ref, not rule.enabled)

        self.post_message(ConfirmationRequested(f"{verb} rule?", body, verb, answered))

    @work(exclusive=True, group="rule-toggle", description="Changing the rule")
    async def toggle_rule(self, ref: str, enable: bool) -> None:
        rules = self.app.client.rules
        try:
            rule = await (rules.enable(ref) if enable else rules.disable(ref))
        except St2Error as exc:
            self.post_message(ApiFailed(f"{'Enabling' if enable else 'Disabling'} rule {ref}", exc))
            return
        self.post_message(RuleToggled(rule))

    @on(RuleToggled)
    def _toggled(self, event: RuleToggled) -> None:
        event.stop()
        rule = event.rule
        self.rules[rule.ref] = rule
        self._show_rows()
        self.notify(f"Rule {rule.ref} {'enabled' if rule.enabled else 'disabled'}.")
        if self.detail is not None and self.detail.rule.ref == rule.ref:
            self.load_detail(rule.ref)

    def palette_commands(self) -> Iterable[PaneCommand]:
        rule = self.selected_rule
        if rule is not None:
            verb = "Disable" if rule.enabled else "Enable"
            yield PaneCommand(f"{verb} rule {rule.ref}", "After a confirmation", "toggle")
            yield PaneCommand(
                f"Show details of rule {rule.ref}", "Trigger, criteria, action, enforcements", "details"
            )
        yield PaneCommand("Filter rules…", RULES_FILTER_HELP, "filter")

    def action_details(self) -> None:
        rule = self.selected_rule
        if rule is not None:
            self.query_one("#rule-detail").display = True
            self.add_class("-detail")
            self.load_detail(rule.ref)
