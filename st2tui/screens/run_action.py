"""The run form: one field per parameter of an action (runner and action parameters merged, as
`GET /actions/views/parameters/{ref}` gives them), with a live preview of the payload and of the
equivalent `st2` command line. The same form re-runs an execution, pre-filled with its parameters."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Group
from rich.json import JSON
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, Footer, Label, LoadingIndicator, Static

from st2tui.api import BadRequest, St2Error
from st2tui.forms import (
    SERVER_MASK,
    FormValueStore,
    InvalidValue,
    Parsed,
    Remembered,
    build_payload,
    contains_mask,
    field_for_server_error,
    format_value,
    masked_payload,
    ordered_fields,
    printable,
    st2_command,
)
from st2tui.messages import ActionParametersLoaded, ApiFailed, ExecutionSubmitted
from st2tui.models import ParameterSpec
from st2tui.redact import remember_secret
from st2tui.screens.form import FormScreen
from st2tui.widgets.fields import FormScroll, ParameterField, field_for

# How much of the remembered values the offer line shows.
OFFER_LENGTH = 90
# Seconds after the last change before the preview is drawn again.
PREVIEW_DELAY = 0.15
# Text values longer than this are cut in the preview (drawing megabytes would stall the form); the
# values sent are whole.
PREVIEW_TEXT = 1000


class RunActionScreen(FormScreen[str | None]):
    """Runs (or re-runs) an action; dismisses with the new execution's id, or None when cancelled."""

    BINDING_GROUP_TITLE = "Run form"
    BINDINGS = [
        Binding(
            "ctrl+l",
            "use_last_values",
            "Last values",
            id="run.last-values",
            tooltip="Fill in the values of your last run of this action",
        ),
    ]

    def __init__(
        self,
        action_ref: str,
        *,
        parameters: dict[str, Any] | None = None,
        rerun_of: str | None = None,
        store: FormValueStore | None = None,
    ) -> None:
        super().__init__()
        self.action_ref = action_ref
        self.initial = dict(parameters or {})
        self.prefilled = parameters is not None
        self.rerun_of = rerun_of
        self.store = store or FormValueStore.default()
        self.specs: dict[str, ParameterSpec] = {}
        self.loaded = False
        self.remembered: Remembered | None = None
        # Fields whose pre-filled value holds st2's secret mask (never to be sent back as such).
        self.masked: set[str] = set()
        self._sent: dict[str, Any] = {}
        self._preview_timer: Timer | None = None

    # -- layout ---------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        title = (
            f"Re-run {self.rerun_of[-8:]} · {self.action_ref}" if self.rerun_of else f"Run {self.action_ref}"
        )
        with Vertical(id="run-form", classes="dialog form-dialog"):
            yield Label(title, classes="dialog-title")
            yield Static(id="run-summary", classes="form-summary")
            yield Static(classes="form-banner")
            with Horizontal(id="run-offer", classes="form-offer"):
                yield Static(id="run-offer-text", classes="form-offer-text")
                offer = Button("Fill them in (ctrl+l)", compact=True, id="run-use-last")
                offer.can_focus = False
                yield offer
            with FormScroll(id="run-fields", classes="form-fields"):
                yield LoadingIndicator()
            with FormScroll(id="run-preview", classes="form-preview"):
                yield Static(id="run-preview-body")
            with Horizontal(classes="dialog-buttons"):
                verb = "Re-run" if self.rerun_of else "Run"
                yield Button(
                    f"{verb} (ctrl+s)",
                    variant="primary",
                    compact=True,
                    classes="form-submit",
                    id="run-submit",
                )
                yield Button("Cancel (esc)", compact=True, classes="form-cancel", id="run-cancel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#run-fields").border_title = "Parameters"
        self.query_one("#run-preview").border_title = "Preview"
        self.query_one("#run-offer").display = False
        self.show_banner(None)
        self.set_busy(True)
        self.load_parameters()

    # -- loading ----------------------------------------------------------------------------------------

    @work(exclusive=True, group="run-form-load", description="Loading parameters")
    async def load_parameters(self) -> None:
        client = self.app.client
        try:
            action, parameters = await asyncio.gather(
                client.actions.get(self.action_ref), client.actions.parameters(self.action_ref)
            )
        except St2Error as exc:
            self.post_message(ApiFailed(f"Loading the parameters of {self.action_ref}", exc))
            return
        self.post_message(ActionParametersLoaded(action, parameters))

    @on(ActionParametersLoaded)
    async def _parameters_loaded(self, event: ActionParametersLoaded) -> None:
        event.stop()
        self.specs = event.parameters
        self.query_one("#run-summary", Static).update(self._summary(event.action.description))
        fields = [self._field(spec) for spec in ordered_fields(self.specs.values())]
        container = self.query_one("#run-fields", FormScroll)
        await container.remove_children()
        if fields:
            await container.mount_all(fields)
            fields[0].focus_editor()
        else:
            await container.mount(Static("This action takes no parameters.", classes="form-summary"))
            self.query_one("#run-submit").focus()
        self.loaded = True
        self.set_busy(False)
        self._offer_remembered()
        self.update_preview()

    def _summary(self, description: str) -> Text:
        text = Text(description or "", style="italic")
        if self.rerun_of:
            text.append(
                "\nValues as the original run had them are not sent: the server keeps them. "
                "Secrets stay as they were unless you type new ones.",
                style="",
            )
        return text

    def _original(self, spec: ParameterSpec) -> Any:
        """The value a field starts from: the execution's (re-run), else the default."""
        if spec.name in self.initial:
            return self.initial[spec.name]
        return spec.default if spec.has_default else None

    def _field(self, spec: ParameterSpec) -> ParameterField:
        value = self._original(spec)
        if spec.secret and contains_mask(value):
            # st2 hid the secret: never send the mask back.
            field = field_for(spec, None)
            if self.rerun_of:
                field.note = "Kept from the original run unless you type a new value."
                field.may_be_empty = True
            else:
                field.note = f"The server showed this secret as {SERVER_MASK}: enter it again."
            return field
        if contains_mask(value):
            self.masked.add(spec.name)
        return field_for(spec, value)

    # -- remembered values --------------------------------------------------------------------------------

    def _offer_remembered(self) -> None:
        if self.prefilled:
            return
        remembered = self.store.recall(self.action_ref)
        if remembered is None or not remembered.values:
            return
        self.remembered = remembered
        when = f" ({remembered.saved_at:%Y-%m-%d %H:%M})" if remembered.saved_at else ""
        summary = ", ".join(
            f"{name}={format_value(self.specs[name], value)}".replace("\n", " ")
            for name, value in remembered.values.items()
            if name in self.specs
        )
        if len(summary) > OFFER_LENGTH:
            summary = summary[: OFFER_LENGTH - 1] + "…"
        self.query_one("#run-offer-text", Static).update(
            Text.assemble(("Your last run", "bold"), f"{when}: {printable(summary)}")
        )
        self.query_one("#run-offer").display = True
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_last_values":
            return self.remembered is not None
        return True

    def action_use_last_values(self) -> None:
        if self.remembered is None:
            self.notify("No values remembered for this action yet: they are kept after each run.")
            return
        values = self.remembered.values
        for field in self.fields:
            spec = field.spec
            if spec.secret:
                continue  # never remembered: keep what was typed
            value = values[spec.name] if spec.name in values else self._original(spec)
            field.set_value(value, baseline=False)
        self.query_one("#run-offer").display = False
        self.notify("Filled in the values of your last run.")

    @on(Button.Pressed, "#run-use-last")
    def _use_last_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_use_last_values()

    # -- preview -------------------------------------------------------------------------------------

    @on(ParameterField.Changed)
    def _field_changed(self, event: ParameterField.Changed) -> None:
        event.stop()
        if not self.loaded:
            return
        # While keys come fast the preview follows once they pause.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self.update_preview)

    def _values(self) -> tuple[dict[str, Parsed | None], list[str]]:
        """What each field holds now (refused ones left out, by name)."""
        values: dict[str, Parsed | None] = {}
        refused: list[str] = []
        for field in self.fields:
            try:
                values[field.spec.name] = field.read()
            except InvalidValue:
                refused.append(field.spec.name)
        return values, refused

    def payload(self, values: dict[str, Parsed | None]) -> dict[str, Any]:
        """What to send: values that differ from the default (run), or from the original run (re-run);
        untouched masked values never."""
        fields = {field.spec.name: field for field in self.fields}
        visible = ordered_fields(self.specs.values())
        if not self.rerun_of:
            payload = build_payload(visible, values, omit_defaults=True)
        else:
            payload = {}
            for spec in visible:
                parsed = values.get(spec.name)
                if parsed is None or (not parsed.template and parsed.value == self._original(spec)):
                    continue
                payload[spec.name] = parsed.value
        for name in self.masked:
            if name in payload and not fields[name].touched:
                del payload[name]
        return payload

    def update_preview(self) -> None:
        values, refused = self._values()
        payload = self.payload(values)
        if self.rerun_of:
            for field in self.fields:
                field.set_flag("changed" if field.spec.name in payload else "")
        cut = _cut(payload)
        # Values may hold control characters: shown as symbols, never handed to the terminal.
        command = Text(
            printable(st2_command(self.action_ref, cut, self.specs, rerun_of=self.rerun_of)), style="bold"
        )
        parts: list[Any] = [command]
        if refused:
            parts.append(Text(f"Left out until fixed: {', '.join(refused)}", style="italic red"))
        if cut != payload:
            parts.append(
                Text(f"Texts over {PREVIEW_TEXT} characters are cut here; they are sent whole.", style="dim")
            )
        shown = masked_payload(cut, self.specs)
        unchanged = "the original run's values" if self.rerun_of else "all defaults"
        parts.append(_json_view(shown) if shown else Text(f"{{}}  ({unchanged})", style="dim"))
        self.query_one("#run-preview-body", Static).update(Group(*parts))

    # -- submitting ------------------------------------------------------------------------------------

    def submit(self) -> None:
        if not self.loaded:
            return
        values = self.check_fields()
        if values is None:
            return
        payload = self.payload(values)
        masked = [name for name, value in payload.items() if contains_mask(value)]
        if masked:
            for name in masked:
                field = self.field(name)
                if field is not None:
                    field.show_message(
                        f"Holds {SERVER_MASK} where the server hid a secret: type the real value."
                    )
            self.show_banner(
                f"Nothing was sent: {', '.join(masked)} still hold a hidden secret ({SERVER_MASK})."
            )
            return
        self._sent = payload
        # Secret parameters are never to be written to the log or a crash report, whatever their name.
        remember_secret(*(value for name, value in payload.items() if self._is_secret(name)))
        self.set_busy(True, "Starting the execution…")
        self.start_execution(payload)

    def _is_secret(self, name: str) -> bool:
        field = self.field(name)
        return field is not None and field.spec.secret

    @work(exclusive=True, group="run-form-submit", description="Starting an execution")
    async def start_execution(self, payload: dict[str, Any]) -> None:
        client = self.app.client
        try:
            if self.rerun_of:
                execution = await client.executions.rerun(self.rerun_of, parameters=payload)
            else:
                execution = await client.executions.run(self.action_ref, payload)
        except St2Error as exc:
            self.post_message(ApiFailed("Starting the execution", exc))
            return
        self.post_message(ExecutionSubmitted(execution))

    @on(ExecutionSubmitted)
    def _started(self, event: ExecutionSubmitted) -> None:
        event.stop()
        try:
            self.store.remember(self.action_ref, self._sent, self.specs)
        except OSError as exc:
            self.notify(f"Could not remember these values: {exc}", severity="warning")
        self.dismiss(event.execution.id)

    @on(ApiFailed)
    def _failed(self, event: ApiFailed) -> None:
        event.stop()
        self.set_busy(not self.loaded)
        error = event.error
        if isinstance(error, BadRequest) and self.loaded:
            values, _ = self._values()
            templates = [name for name, parsed in values.items() if parsed is not None and parsed.template]
            name = field_for_server_error(error.faultstring, list(self.specs), templates)
            field = self.field(name) if name else None
            if field is not None:
                field.show_message(f"The server refused this: {error.faultstring}")
                field.focus_editor()
                field.scroll_visible()
                self.show_banner(
                    f"Nothing was started: the server refused {field.label}. Your values are kept."
                )
            else:
                self.show_banner(
                    f"Nothing was started: the server said “{error.faultstring}”. Your values are kept."
                )
            return
        self.show_banner(f"{event.what} failed: {_plain_error(error)}")


def _cut(value: Any) -> Any:
    """The value with texts over PREVIEW_TEXT characters cut (and saying how long they are)."""
    if isinstance(value, str) and len(value) > PREVIEW_TEXT:
        return f"{value[:PREVIEW_TEXT]}… ({len(value):,} characters)"
    if isinstance(value, list):
        return [_cut(item) for item in value]
    if isinstance(value, dict):
        return {key: _cut(item) for key, item in value.items()}
    return value


def _json_view(data: Any) -> Text:
    """Highlighted JSON; JSON escapes C0 control characters itself, not C1 ones (like the CSI, \\x9b)."""
    text = JSON.from_data(data, indent=2).text
    return text if printable(text.plain) == text.plain else Text(printable(text.plain))


def _plain_error(error: Exception) -> str:
    if isinstance(error, St2Error):
        return error.faultstring or str(error)
    return str(error) or type(error).__name__
