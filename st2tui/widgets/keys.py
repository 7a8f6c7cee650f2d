"""The key-value pane: the datastore by scope and prefix; secrets stay masked until asked for."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from st2tui.api_errors import St2Error
from st2tui.formatting import SECRET_MASK, countdown
from st2tui.messages import (
    ApiFailed,
    ConfirmationRequested,
    KeyDeleted,
    KeyEditRequested,
    KeyRevealed,
    KeysLoaded,
)
from st2tui.models import KeyValuePair
from st2tui.redact import remember_secret
from st2tui.text import visible
from st2tui.widgets.filter_bar import FilterBar
from st2tui.widgets.pane import Pane, PaneCommand
from st2tui.widgets.table import Column, RecordTable, TableRow

# What the scope switch offers -> the API's `scope` parameter.
SCOPES = {"system": "st2kv.system", "user": "st2kv.user", "all": "all"}
KEY_COLUMNS = (
    Column("name", "Name", 16, flex=2),
    Column("value", "Value", 16, flex=3),
    Column("secret", "Secret", 6),
    Column("scope", "Scope", 6),
    Column("user", "User", 8, drop=2),
    Column("expires", "Expires", 9, drop=1),
)


def key_id(key: KeyValuePair) -> str:
    """Names repeat across scopes and users: the row key includes both."""
    return f"{key.scope}/{key.user or ''}/{key.name}"


class KeysTable(RecordTable):
    BINDINGS = [Binding("enter", "activate", "Edit", id="keys.edit", tooltip="Open the key in the edit form")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(KEY_COLUMNS, id=id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "activate" and self.app.settings.readonly:
            return False
        return True


class KeysPane(Pane):
    """Datastore items; `s` switches scope, `/` filters by prefix, `v` reveals a secret."""

    BINDING_GROUP_TITLE = "Keys"
    MUTATING_ACTIONS = frozenset({"new", "edit", "delete"})

    BINDINGS = [
        Binding(
            "v", "reveal", "Reveal", id="keys.reveal", tooltip="Show (or hide again) the value of a secret"
        ),
        Binding("s", "scope", "Scope", id="keys.scope", tooltip="Switch between system, user and all keys"),
        Binding(
            "slash", "filter", "Prefix", id="keys.filter", tooltip="Show only keys whose name starts with…"
        ),
        Binding("n", "new", "New", id="keys.new", tooltip="Create a key"),
        Binding("d,delete", "delete", "Delete", id="keys.delete", tooltip="Delete the selected key"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scope = "system"
        self.prefix = ""
        self.keys: dict[str, KeyValuePair] = {}
        self.revealed: dict[str, str] = {}
        self.loaded = False
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Static(id="keys-summary", classes="pane-summary")
        yield FilterBar("prefix of the key names…", id="keys-filter")
        yield KeysTable(id="keys-table")

    def on_mount(self) -> None:
        self.border_title = "Key-value pairs"
        self.table.empty_text = "Loading keys…"
        # Expiry counts down.
        self.set_interval(1.0, self._tick)
        # st2stream carries no key events (its listener subscribes to executions, live actions, output,
        # aliases and announcements only), so a key set or deleted elsewhere (`st2 key set`, a workflow)
        # shows up by reading the shown scope again while the pane is on screen.
        self.set_interval(self.app.settings.refresh_interval, self._poll)
        self._update_summary()

    @property
    def table(self) -> KeysTable:
        return self.query_one(KeysTable)

    def focus_main(self) -> None:
        self.focus_now(self.table)

    @property
    def selected_key(self) -> KeyValuePair | None:
        row = self.table.cursor_key
        return self.keys.get(row) if row else None

    # -- loading -----------------------------------------------------------------------------------------

    def reload(self) -> None:
        self.loaded = True
        self._generation += 1
        self.load_keys(self._generation)

    def resync(self) -> None:
        if self.loaded:
            self.reload()

    def _poll(self) -> None:
        if self.loaded and self.is_on_screen and self.app.screen is self.screen:
            self.reload()

    @work(exclusive=True, group="keys-list", description="Loading keys")
    async def load_keys(self, generation: int) -> None:
        try:
            page = await self.app.client.keys.list(scope=SCOPES[self.scope], prefix=self.prefix or None)
        except St2Error as exc:
            self.post_message(ApiFailed("Loading keys", exc))
            return
        self.post_message(KeysLoaded(page.items, generation))

    @on(KeysLoaded)
    def _show_keys(self, event: KeysLoaded) -> None:
        event.stop()
        if event.generation != self._generation:
            return
        # By name (st2 lists them in storage order); a name in both scopes: system first, then by user.
        ordered = sorted(event.keys, key=lambda key: (key.name, key.is_user_scope, key.user or ""))
        self.keys = {key_id(key): key for key in ordered}
        self.revealed = {name: value for name, value in self.revealed.items() if name in self.keys}
        self.table.empty_text = f"No {self.scope} keys" + (
            f" starting with “{self.prefix}”." if self.prefix else "."
        )
        self.table.set_rows(self._row(key) for key in self.keys.values())
        self._update_summary()

    def _update_summary(self) -> None:
        summary = Text("scope ")
        for name in SCOPES:
            summary.append(f" {name} ", style="bold reverse" if name == self.scope else "")
        if self.prefix:
            summary.append(f" · prefix “{self.prefix}”")
        if self.loaded:
            summary.append(f" · {len(self.keys)} keys")
            summary.append(f" · re-read every {self.app.settings.refresh_interval:g} s", style="dim")
        self.query_one("#keys-summary", Static).update(summary, layout=False)

    def _row(self, key: KeyValuePair) -> TableRow:
        row_id = key_id(key)
        if key.secret and not key.value and row_id not in self.revealed:
            # Nothing stored to hide: a mask would claim a value that is not there.
            value = Text("(empty)", style="dim italic")
        elif key.secret and row_id not in self.revealed:
            value = Text(SECRET_MASK, style="dim")
        else:
            shown = self.revealed.get(row_id, key.value)
            value = Text(
                visible(shown).replace("\n", "⏎"), style="bold yellow" if row_id in self.revealed else ""
            )
        return TableRow(
            row_id,
            [
                key.name,
                value,
                Text("yes", style="bold yellow") if key.secret else Text("no", style="dim"),
                "user" if key.is_user_scope else "system",
                key.user or "",
                countdown(key.expire_timestamp),
            ],
        )

    def _tick(self) -> None:
        for key in self.keys.values():
            if key.expire_timestamp is not None:
                self.table.update_row(self._row(key))

    # -- scope, prefix, reveal ---------------------------------------------------------------------------

    def action_scope(self) -> None:
        names = list(SCOPES)
        self.scope = names[(names.index(self.scope) + 1) % len(names)]
        self._update_summary()
        self.reload()

    def action_set_scope(self, scope: str) -> None:
        self.scope = scope
        self._update_summary()
        self.reload()

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def apply_filter(self, prefix: str) -> bool:
        self.prefix = prefix
        self.query_one(FilterBar).set_applied(prefix)
        self._update_summary()
        self.reload()
        return True

    def action_reveal(self) -> None:
        key = self.selected_key
        if key is None:
            return
        if not key.secret:
            self.notify(f"{key.name} is not a secret: its value is shown as it is.")
            return
        row_id = key_id(key)
        if row_id in self.revealed:
            del self.revealed[row_id]
            self.table.update_row(self._row(key))
            return
        self.reveal_key(key)

    @work(exclusive=True, group="keys-reveal", description="Decrypting a key")
    async def reveal_key(self, key: KeyValuePair) -> None:
        try:
            plain = await self.app.client.keys.get(
                key.name, scope=key.scope, user=key.user if key.is_user_scope else None, decrypt=True
            )
        except St2Error as exc:
            self.post_message(ApiFailed(f"Decrypting {key.name}", exc))
            return
        # Shown on request, but never to be written to the log or a crash report.
        remember_secret(plain.value)
        self.post_message(KeyRevealed(plain))

    @on(KeyRevealed)
    def _revealed(self, event: KeyRevealed) -> None:
        event.stop()
        row_id = key_id(event.key)
        if row_id in self.keys:
            self.revealed[row_id] = event.key.value
            self.table.update_row(self._row(self.keys[row_id]))

    # -- changes (the forms are on their own screens) ----------------------------------------------------

    def action_new(self) -> None:
        self.post_message(KeyEditRequested(None))

    def action_edit(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(KeyEditRequested(key))

    @on(RecordTable.RowActivated)
    def _activated(self, event: RecordTable.RowActivated) -> None:
        event.stop()
        self.action_edit()

    def action_delete(self) -> None:
        key = self.selected_key
        if key is None:
            return
        where = f"{'user' if key.is_user_scope else 'system'} scope" + (f" of {key.user}" if key.user else "")

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_key(key)

        body = f"{key.name}  ({where})\n\nActions and rules that read it will no longer find it."
        self.post_message(ConfirmationRequested("Delete key?", body, "Delete", answered))

    @work(exclusive=True, group="keys-delete", description="Deleting a key")
    async def delete_key(self, key: KeyValuePair) -> None:
        try:
            await self.app.client.keys.delete(
                key.name, scope=key.scope, user=key.user if key.is_user_scope else None
            )
        except St2Error as exc:
            self.post_message(ApiFailed(f"Deleting {key.name}", exc))
            return
        self.post_message(KeyDeleted(key))

    @on(KeyDeleted)
    def _deleted(self, event: KeyDeleted) -> None:
        event.stop()
        row_id = key_id(event.key)
        self.keys.pop(row_id, None)
        self.revealed.pop(row_id, None)
        self.table.set_rows(self._row(key) for key in self.keys.values())
        self._update_summary()
        self.notify(f"Deleted key {event.key.name}.")

    def palette_commands(self) -> Iterable[PaneCommand]:
        key = self.selected_key
        if key is not None:
            if key.secret:
                verb = "Hide" if key_id(key) in self.revealed else "Reveal"
                yield PaneCommand(f"{verb} secret {key.name}", "Fetches the value decrypted", "reveal")
            yield PaneCommand(f"Edit key {key.name}", "Open the key form", "edit")
            yield PaneCommand(f"Delete key {key.name}", "After a confirmation", "delete")
        yield PaneCommand("New key…", "Open the key form", "new")
        for scope in SCOPES:
            if scope != self.scope:
                yield PaneCommand(f"Show {scope} keys", "Switch the scope", f"set_scope('{scope}')")
