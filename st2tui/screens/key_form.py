"""The key-value form: create or edit a datastore item (name, value, scope, secret, TTL, description).

Editing reads the key again first, and reads it once more before saving: if another client changed it
in between, both versions are shown and nothing is overwritten without a yes. A secret's value is only
fetched decrypted when the user asks (ctrl+r); left alone, it is kept as it is without ever being read.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Footer, Label, LoadingIndicator, Static

from st2tui import formatting
from st2tui.api import NotFound, St2Error
from st2tui.forms import (
    InvalidValue,
    check_text,
    key_changes,
    kv_display_value,
    kv_value_to_save,
    parse_ttl,
    printable,
)
from st2tui.messages import ApiFailed, KeyConflictFound, KeyDeleted, KeyLoaded, KeySaved
from st2tui.models import KeyValuePair, ParameterSpec
from st2tui.redact import remember_secret
from st2tui.screens.confirm import ConfirmDialog
from st2tui.screens.form import FormScreen
from st2tui.widgets.fields import (
    BooleanField,
    EnumField,
    FormScroll,
    ParameterField,
    SafeTextArea,
    TextField,
)

SCOPES = {"system": "st2kv.system", "user": "st2kv.user"}
# Lines of a value the conflict dialog shows per side.
CONFLICT_LINES = 12
# The name goes into the key's address (`/keys/{name}`, percent-encoded) and into MongoDB indexes:
# web servers in front of st2 refuse long addresses, so keep names well under that.
NAME_BYTES = 1000
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class KeyFormOutcome:
    """What the form did: saved `key` (as the server answered), or deleted it."""

    key: KeyValuePair
    deleted: bool = False


@dataclass(frozen=True)
class KeyWrite:
    """One `PUT /keys/{name}`."""

    name: str
    value: str
    scope: str
    user: str | None
    secret: bool
    encrypted: bool
    ttl: int | None
    description: str | None


def _parse_name(text: str) -> str:
    check_text(text)
    if text != text.strip():
        raise InvalidValue("No spaces at the start or the end of a key name.")
    if "/" in text:
        raise InvalidValue("A key name cannot contain “/”.")
    if text in (".", ".."):
        # `/keys/..` would address another resource of the API.
        raise InvalidValue(f"“{text}” cannot be a key name.")
    if _NAME_CONTROL.search(text):
        raise InvalidValue("A key name cannot contain control characters (line breaks, tabs, escapes).")
    size = len(text.encode("utf-8"))
    if size > NAME_BYTES:
        raise InvalidValue(
            f"Too long: a key name may take {NAME_BYTES} bytes (UTF-8), this one takes {size}."
        )
    return text


def _parse_value(text: str) -> str:
    check_text(text)
    return text


def _scope_word(key: KeyValuePair) -> str:
    return "user" if key.is_user_scope else "system"


def remaining_seconds(key: KeyValuePair) -> int | None:
    """Seconds until the key expires (at least 1), None when it never does."""
    if key.expire_timestamp is None:
        return None
    left = (key.expire_timestamp - formatting.now()).total_seconds()
    return max(1, math.ceil(left))


class KeyFormScreen(FormScreen[KeyFormOutcome | None]):
    """Creates a key (`key=None`) or edits one; dismisses with what was done, or None."""

    BINDING_GROUP_TITLE = "Key form"
    BINDINGS = [
        Binding(
            "ctrl+r",
            "reveal",
            "Show secret",
            id="key.reveal",
            tooltip="Fetch a stored secret decrypted to see or edit it; show or hide a secret being typed",
        ),
        Binding("f8", "delete", "Delete", id="key.delete", tooltip="Delete this key (asks first)"),
    ]

    def __init__(self, key: KeyValuePair | None) -> None:
        super().__init__()
        self.key = key
        self.editing = key is not None
        # The key as read when the form opened (None: new, or gone from the server).
        self.opened: KeyValuePair | None = None
        self.plain_value: str | None = None
        # The user asked to see the secret value (decrypted, or as typed); until then it shows as •••.
        self.revealed = False
        self.loaded = not self.editing
        self._write: KeyWrite | None = None
        self._preview_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        # Names are anyone's text: shown as written, never read as markup.
        title = Text(f"Edit key {printable(self.key.name)}" if self.key is not None else "New key")
        with Vertical(id="key-form", classes="dialog form-dialog"):
            yield Label(title, classes="dialog-title")
            yield Static(id="key-summary", classes="form-summary")
            yield Static(classes="form-banner")
            with FormScroll(id="key-fields", classes="form-fields"):
                if self.editing:
                    yield LoadingIndicator()
                else:
                    yield from self._fields(None)
            with FormScroll(id="key-preview", classes="form-preview"):
                yield Static(id="key-preview-body")
            with Horizontal(classes="dialog-buttons"):
                if self.editing:
                    yield Button("Delete (F8)", variant="error", compact=True, id="key-delete")
                yield Button(
                    "Save (ctrl+s)", variant="primary", compact=True, classes="form-submit", id="key-save"
                )
                yield Button("Cancel (esc)", compact=True, classes="form-cancel", id="key-cancel")
        yield Footer(compact=True)

    def _fields(self, key: KeyValuePair | None) -> list[ParameterField]:
        locked = key is not None
        value = ""
        if key is not None and not key.secret:
            value = kv_display_value(key.value)
        value_field = TextField(
            ParameterSpec.from_dict(
                "value",
                {"type": "string", "description": "Several lines are fine; JSON is shown pretty-printed."},
            ),
            value,
            multiline=True,
            placeholder=(
                "Secret value hidden: ctrl+r fetches it decrypted; typing here replaces it."
                if key is not None and key.secret
                else "the value"
            ),
            hint="text or JSON",
        )
        value_field.parser = _parse_value
        ttl = remaining_seconds(key) if key is not None else None
        ttl_field = TextField(
            ParameterSpec.from_dict(
                "ttl",
                {
                    "type": "string",
                    "description": "Seconds until the key is deleted; also 15m, 2h, 1d. Empty: it never expires.",
                },
            ),
            str(ttl) if ttl is not None else None,
            parser=parse_ttl,
            label="TTL",
            hint="seconds, or 15m 2h 1d",
            placeholder="never expires",
        )
        if key is not None and key.expire_timestamp is not None:
            ttl_field.note = (
                f"Now expires {key.expire_timestamp:%Y-%m-%d %H:%M:%S} UTC; saving counts the TTL from then."
            )
        return [
            TextField(
                ParameterSpec.from_dict("name", {"type": "string", "required": True}),
                key.name if key is not None else None,
                parser=_parse_name,
                hint="fixed once created" if locked else "",
                placeholder="key name, e.g. deploy_target",
                disabled=locked,
            ),
            EnumField(
                ParameterSpec.from_dict(
                    "scope",
                    {
                        "type": "string",
                        "enum": list(SCOPES),
                        "default": "system",
                        "description": "system: shared (st2kv.system); user: only yours (st2kv.user).",
                    },
                ),
                _scope_word(key) if key is not None else "system",
                hint="",
                disabled=locked,
            ),
            value_field,
            BooleanField(
                ParameterSpec.from_dict(
                    "secret", {"type": "boolean", "description": "Stored encrypted; shown masked."}
                ),
                key.secret if key is not None else False,
                always_send=True,
                hint="",
            ),
            ttl_field,
            TextField(
                ParameterSpec.from_dict("description", {"type": "string"}), key.description if key else None
            ),
        ]

    def on_mount(self) -> None:
        self.query_one("#key-preview").border_title = "Preview"
        self.show_banner(None)
        self.update_preview()
        if self.key is None:
            self.query_one("#key-summary", Static).update("A new datastore item.")
            self._mask_value()
            self.query(ParameterField).first().focus_editor()
            return
        self.set_busy(True)
        self.load_key()

    # -- reading -------------------------------------------------------------------------------------------

    async def _read(self, name: str, scope: str, user: str | None, *, decrypt: bool) -> KeyValuePair | None:
        try:
            return await self.app.client.keys.get(
                name, scope=scope, user=user if scope == SCOPES["user"] else None, decrypt=decrypt
            )
        except NotFound:
            return None

    @work(exclusive=True, group="key-form-load", description="Reading the key")
    async def load_key(self, decrypt: bool = False) -> None:
        assert self.key is not None
        try:
            key = await self._read(self.key.name, self.key.scope, self.key.user, decrypt=decrypt)
        except St2Error as exc:
            self.post_message(ApiFailed(f"Reading key {self.key.name}", exc))
            return
        self.post_message(KeyLoaded(key, decrypted=decrypt))

    @on(KeyLoaded)
    async def _loaded(self, event: KeyLoaded) -> None:
        event.stop()
        if event.decrypted:
            self._show_plain(event.key)
            return
        assert self.key is not None
        self.opened = event.key
        shown = event.key or self.key
        container = self.query_one("#key-fields", FormScroll)
        await container.remove_children()
        await container.mount_all(self._fields(shown))
        summary = Text(f"{_scope_word(shown)} scope" + (f" of {shown.user}" if shown.user else ""))
        if shown.secret:
            summary.append(" · secret: its value stays encrypted unless you press ctrl+r", style="dim")
        self.query_one("#key-summary", Static).update(summary)
        if event.key is None:
            self.show_banner("This key no longer exists on the server: saving creates it again.")
        self.loaded = True
        self.set_busy(False)
        self._mask_value()
        self.update_preview()
        self.field("value").focus_editor()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reveal":
            return self._secret_value()
        if action == "delete":
            return self.editing
        return True

    def action_reveal(self) -> None:
        if not self._secret_value():
            self.notify("The value is not a secret: it is shown as it is.")
            return
        if self.opened is not None and self.opened.secret and self.plain_value is None:
            self.load_key(decrypt=True)  # shown once it arrives
            return
        self.revealed = not self.revealed
        self._mask_value()

    def _secret_value(self) -> bool:
        field = self.field("secret")
        switched_on = isinstance(field, BooleanField) and field.switch_state()
        return switched_on or bool(self.opened and self.opened.secret)

    def _mask_value(self) -> None:
        """A secret's value shows as ••• while typed, unless the user asked to see it."""
        field = self.field("value")
        editor = field.editor if field is not None else None
        if isinstance(editor, SafeTextArea):
            editor.masked = self._secret_value() and not self.revealed
        self.refresh_bindings()

    @on(ParameterField.Changed)
    def _secret_switched(self, event: ParameterField.Changed) -> None:
        if event.field.spec.name == "secret":
            self._mask_value()
        # While keys come fast the preview follows once they pause (a value may be megabytes of JSON).
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self.update_preview)

    # -- preview -------------------------------------------------------------------------------------

    def update_preview(self) -> None:
        """The `st2 key set` line that stores what the form holds now (secrets masked)."""
        values: dict = {}
        refused = []
        for field in self.query(ParameterField):
            try:
                parsed = field.read()
            except InvalidValue:
                refused.append(field.spec.name)
                continue
            if parsed is not None and parsed.template and field.spec.name not in ("value", "description"):
                refused.append(field.spec.name)  # a key's name, scope, secret or TTL is never rendered
                continue
            values[field.spec.name] = parsed
        parts = []
        complete = self.loaded and values.get("name") and not {"name", "scope", "secret"} & set(refused)
        write = self._write_from(values) if complete else None
        if write is None:
            parts.append(Text("st2 key set NAME VALUE", style="dim"))
        else:
            user = write.user if write.user and write.user != self.app.connection.username else None
            parts.append(Text(printable(st2_key_command(write, user=user)), style="bold"))
        if refused:
            parts.append(Text(f"Left out until fixed: {', '.join(refused)}", style="italic red"))
        if write is not None and write.description:
            parts.append(
                Text("The description has no st2 key set option; st2tui saves it with the key.", style="dim")
            )
        self.query_one("#key-preview-body", Static).update(Group(*parts))

    def _show_plain(self, key: KeyValuePair | None) -> None:
        field = self.field("value")
        if key is None or field is None:
            self.show_banner("The key is gone from the server: nothing to decrypt.")
            return
        self.plain_value = key.value
        remember_secret(key.value)  # shown on request; never to be written to the log
        self.revealed = True
        self._mask_value()
        if not field.touched:
            field.set_text(kv_display_value(key.value))
        field.note = "Decrypted at your request."
        field.validate_live()

    # -- saving --------------------------------------------------------------------------------------

    def submit(self) -> None:
        if not self.loaded:
            return
        values = self.check_fields()
        if values is None:
            return
        write = self._build_write(values)
        if write is None:
            return
        self._write = write
        if write.secret:
            remember_secret(write.value)  # never to be written to the log or a crash report
        self.set_busy(True, "Checking the key on the server…")
        self.save_key(write, force=False)

    def _build_write(self, values: dict) -> KeyWrite | None:
        write = self._write_from(values)
        if write is None:
            self.field("secret").show_message("Fetch the value first (ctrl+r) to store it unencrypted.")
            self.show_banner("Nothing was saved: the secret's value has not been read.")
        return write

    def _write_from(self, values: dict) -> KeyWrite | None:
        """What saving would store; None for a secret made plain whose value was never read."""
        value_field = self.field("value")
        assert value_field is not None
        secret = bool(values["secret"].value) if values.get("secret") else False
        opened = self.opened
        scope = SCOPES[values["scope"].value] if values.get("scope") else SCOPES["system"]
        user = opened.user if opened is not None and opened.is_user_scope else None
        ttl = values["ttl"].value if values.get("ttl") else None
        description = values["description"].value if values.get("description") else None
        hidden = opened is not None and opened.secret and self.plain_value is None
        if hidden and not value_field.touched:
            if not secret:
                return None
            # Keep the stored ciphertext: the value is never decrypted on its way.
            value, encrypted = opened.value, True
        else:
            original = (
                self.plain_value
                if opened is not None and opened.secret
                else (opened.value if opened else None)
            )
            value, encrypted = kv_value_to_save(value_field.text, original), False
        return KeyWrite(values["name"].value, value, scope, user, secret, encrypted, ttl, description)

    @work(exclusive=True, group="key-form-save", description="Saving a key")
    async def save_key(self, write: KeyWrite, force: bool) -> None:
        try:
            if not force:
                current = await self._read(write.name, write.scope, write.user, decrypt=False)
                changes = key_changes(self.opened, current) if self.editing or current else []
                if changes:
                    self.post_message(KeyConflictFound(current, changes))
                    return
            saved = await self.app.client.keys.set(
                write.name,
                write.value,
                secret=write.secret or None,
                encrypted=write.encrypted or None,
                ttl=write.ttl,
                scope=write.scope,
                user=write.user,
                description=write.description,
            )
        except St2Error as exc:
            self.post_message(ApiFailed(f"Saving key {write.name}", exc))
            return
        self.post_message(KeySaved(saved))

    @on(KeyConflictFound)
    def _conflict(self, event: KeyConflictFound) -> None:
        event.stop()
        assert self._write is not None
        write = self._write

        def answered(overwrite: bool | None) -> None:
            if overwrite:
                self.set_busy(True, "Saving…")
                self.save_key(write, force=True)
            else:
                self.set_busy(False)
                self.show_banner("Not saved; your changes are still here. ctrl+s asks again.")

        dialog = KeyConflictDialog(event.current, write, event.changes, edited=self.editing)
        self.app.push_screen(dialog, answered)

    @on(KeySaved)
    def _saved(self, event: KeySaved) -> None:
        event.stop()
        self.dismiss(KeyFormOutcome(event.key))

    # -- deleting ------------------------------------------------------------------------------------

    def action_delete(self) -> None:
        key = self.opened or self.key
        if not self.editing or key is None:
            self.notify("A new key has nothing to delete yet.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.set_busy(True, "Deleting…")
                self.delete_key(key)

        # The dialog reads markup: the name is anyone's text.
        body = f"{key.name}  ({_scope_word(key)} scope)\n\nActions and rules that read it will no longer find it."
        self.app.push_screen(ConfirmDialog("Delete key?", body, confirm_label="Delete"), answered)

    @on(Button.Pressed, "#key-delete")
    def _delete_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_delete()

    @work(exclusive=True, group="key-form-delete", description="Deleting a key")
    async def delete_key(self, key: KeyValuePair) -> None:
        try:
            await self.app.client.keys.delete(
                key.name, scope=key.scope, user=key.user if key.is_user_scope else None
            )
        except NotFound:
            pass  # already gone: what the user wanted
        except St2Error as exc:
            self.post_message(ApiFailed(f"Deleting key {key.name}", exc))
            return
        self.post_message(KeyDeleted(key))

    @on(KeyDeleted)
    def _deleted(self, event: KeyDeleted) -> None:
        event.stop()
        self.dismiss(KeyFormOutcome(event.key, deleted=True))

    @on(ApiFailed)
    def _failed(self, event: ApiFailed) -> None:
        event.stop()
        self.set_busy(not self.loaded)
        error = event.error
        reason = error.faultstring if isinstance(error, St2Error) else str(error)
        self.show_banner(f"{event.what} failed: {reason}. Your changes are still here.")


# Seconds after the last change before the preview is drawn again.
PREVIEW_DELAY = 0.15
# Values longer than this are cut in the preview (they are saved whole).
PREVIEW_VALUE = 200


def st2_key_command(write: KeyWrite, *, user: str | None = None) -> str:
    """The `st2 key set` line that stores `write`: a secret's value as `********`, `--encrypt` for a value
    to encrypt, `--encrypted` for stored ciphertext kept as it is."""
    if write.secret or write.encrypted:
        value = formatting.SECRET_MASK
    elif len(write.value) > PREVIEW_VALUE:
        value = write.value[:PREVIEW_VALUE] + "…"
    else:
        value = write.value
    words = ["st2", "key", "set", write.name, value]
    if write.encrypted:
        words.append("--encrypted")
    elif write.secret:
        words.append("--encrypt")
    if write.scope == SCOPES["user"]:
        words += ["--scope", "user"]
    if user:
        words += ["--user", user]
    if write.ttl:
        words += ["--ttl", str(write.ttl)]
    return shlex.join(words)


def _describe(value: str | None, *, secret: bool, encrypted: bool, description: str, expires: str) -> Text:
    text = Text()
    text.append("value\n", style="bold")
    if value is None:
        text.append("(none)\n", style="dim")
    elif secret and encrypted:
        text.append("(secret, kept encrypted)\n", style="dim italic")
    else:
        lines = printable(kv_display_value(value)).splitlines() or [""]
        shown = lines[:CONFLICT_LINES] + (["…"] if len(lines) > CONFLICT_LINES else [])
        text.append("\n".join(shown) + "\n")
    text.append("secret ", style="bold")
    text.append(("yes" if secret else "no") + "\n")
    text.append("description ", style="bold")
    text.append(printable(description or "(none)") + "\n")
    text.append("expires ", style="bold")
    text.append(expires)
    return text


class KeyConflictDialog(ModalScreen[bool]):
    """The key changed on the server since the form read it: both versions side by side, and a question."""

    BINDINGS = [
        Binding("o", "answer(True)", "Overwrite", id="key-conflict.overwrite", tooltip="Save your version"),
        Binding(
            "escape,k", "answer(False)", "Keep editing", id="key-conflict.keep", tooltip="Back to the form"
        ),
    ]

    def __init__(
        self, current: KeyValuePair | None, mine: KeyWrite, changes: list[str], *, edited: bool
    ) -> None:
        super().__init__()
        # Whether the form edited an existing key (else it was creating one).
        self.edited = edited
        self.current = current
        self.mine = mine
        self.changes = changes

    def compose(self) -> ComposeResult:
        with Vertical(id="key-conflict", classes="dialog"):
            yield Label(
                Text(f"Key {printable(self.mine.name)} changed on the server"), classes="dialog-title"
            )
            yield Static(self._explanation(), classes="dialog-body")
            with Horizontal(id="key-conflict-versions"):
                current = self.current
                server = (
                    _describe(
                        current.value,
                        secret=current.secret,
                        encrypted=current.encrypted,
                        description=current.description,
                        expires=f"{current.expire_timestamp:%Y-%m-%d %H:%M:%S} UTC"
                        if current.expire_timestamp
                        else "never",
                    )
                    if current is not None
                    else Text("(deleted)", style="dim")
                )
                yours = _describe(
                    self.mine.value,
                    secret=self.mine.secret,
                    encrypted=self.mine.encrypted or self.mine.secret,
                    description=self.mine.description or "",
                    expires=f"{self.mine.ttl} s after saving" if self.mine.ttl else "never",
                )
                server_side = Static(server, classes="conflict-version", markup=False)
                server_side.border_title = "On the server now"
                yield server_side
                your_side = Static(yours, classes="conflict-version", markup=False)
                your_side.border_title = "Yours"
                yield your_side
            with Horizontal(classes="dialog-buttons"):
                yield Button("Overwrite (o)", variant="warning", id="key-conflict-overwrite")
                yield Button("Keep editing (esc)", id="key-conflict-keep")

    def _explanation(self) -> str:
        if self.current is None:
            return "Since you opened it, the key was deleted on the server. Saving creates it again."
        if not self.edited:
            return "A key with this name already exists on the server. Saving replaces it with yours."
        changed = (
            self.changes[0]
            if len(self.changes) == 1
            else f"{', '.join(self.changes[:-1])} and {self.changes[-1]}"
        )
        return f"Since you opened it, someone changed {changed}. Saving replaces the server's version with yours."

    def on_mount(self) -> None:
        self.query_one("#key-conflict-keep", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "key-conflict-overwrite")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
