"""Form fields, one widget per parameter type (the form screen they sit in is `st2tui.screens.form`).

A field shows its label (name, `*` when required, type and limits), the editor, the description and
an error line. It checks its text as it changes (with `st2tui.forms`), so a wrong value is refused in
the field itself; "required" is only reported once the user tries to submit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static, Switch, TextArea

from st2tui.forms import (
    InvalidValue,
    Parsed,
    format_value,
    is_template,
    parse_bool,
    parse_value,
    printable,
)
from st2tui.models import ParameterSpec
from st2tui.widgets.safe_input import CONTROL_CHARACTERS, SafeInput, without_control

# Defaults longer than this are not repeated under the field (the field shows them anyway).
SHORT_DEFAULT = 40
# Control characters a terminal would act on (escape sequences, bell, NUL); tabs and line breaks are
# laid out by the editors themselves.


def field_id(name: str) -> str:
    """A widget id for a parameter name (ids allow letters, digits, `_` and `-`)."""
    return "field-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _limits(spec: ParameterSpec) -> str:
    raw = spec.raw
    low, high = raw.get("minimum"), raw.get("maximum")
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"≥ {low}"
    if high is not None:
        return f"≤ {high}"
    shortest, longest = raw.get("minLength"), raw.get("maxLength")
    if shortest is not None or longest is not None:
        return f"{shortest or 0} to {longest if longest is not None else 'any'} chars"
    return ""


def type_hint(spec: ParameterSpec) -> str:
    """What the field takes, in a few words: `integer 1 to 10`, `list of object`, `secret string`."""
    kind = spec.type or "any"
    if kind == "array":
        items = spec.raw.get("items")
        item_type = items.get("type") if isinstance(items, dict) else None
        kind = f"list of {item_type}" if isinstance(item_type, str) else "list"
    elif spec.enum is not None:
        kind = "choice"
    return " ".join(word for word in [("secret " if spec.secret else "") + kind, _limits(spec)] if word)


def describe(spec: ParameterSpec) -> Text:
    """The description, and the default when it is short enough to repeat."""
    text = Text(spec.description)
    if spec.has_default and spec.default is not None and not spec.secret:
        shown = format_value(spec, spec.default)
        if shown and "\n" not in shown and len(shown) <= SHORT_DEFAULT:
            text.append(f"{' ' if spec.description else ''}Default: {shown}", style="italic")
    return text


class ParameterField(Horizontal):
    """One field of a form. Subclasses provide the editor; the text is what `st2tui.forms` parses."""

    class Changed(Message):
        """The user (or the form) changed the field's value."""

        def __init__(self, field: ParameterField) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> ParameterField:
            return self.field

    # Whether `$EDITOR` can edit this kind of field.
    EXTERNAL_EDIT: ClassVar[bool] = True

    def __init__(
        self,
        spec: ParameterSpec,
        value: Any = None,
        *,
        parser: Callable[[str], Any] | None = None,
        label: str | None = None,
        hint: str | None = None,
        placeholder: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(id=field_id(spec.name), classes="form-field")
        self.spec = spec
        self.parser = parser
        self.label = label or spec.name
        self.hint = type_hint(spec) if hint is None else hint
        self.placeholder = placeholder
        self.locked = disabled
        self._text = format_value(spec, value)
        # What the form put in the field; the user changed it when the text differs.
        self.baseline = self._text
        self.submitted_once = False
        # A dim line under the field (a re-run's kept secret says so); empty for none.
        self.note = ""
        self.flag = ""
        # An empty required field is fine (a re-run keeps the original secret).
        self.may_be_empty = False
        # The (error, note) under the field.
        self._shown: tuple[str | None, str] = (None, "")

    # -- layout ---------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Few widgets per field: a form has dozens of fields, and each focus change lays them out.
        yield Static(self._label_text(), classes="field-label")
        with Vertical(classes="field-body"):
            yield from self.compose_editor()
            yield Static(self._notes_text(), classes="field-notes")

    def compose_editor(self) -> ComposeResult:
        yield from ()

    def _label_text(self) -> Text:
        text = Text(self.label, style="bold")
        if self.spec.required:
            text.append(" *", style="bold red")
        if self.flag:
            text.append(f" {self.flag}", style="bold yellow")
        if self.hint:
            text.append(f"\n{self.hint}", style="dim")
        return text

    def _notes_text(self) -> Text:
        """The description, then the error (or a note) of the last check."""
        text = describe(self.spec)
        text.stylize("dim")
        error, note = self._shown
        if error is not None:
            # Errors may quote the value (or the server's echo of it): never raw control characters.
            text.append(("\n" if text else "") + f"✘ {printable(error)}", style="bold red")
        elif note:
            text.append(("\n" if text else "") + printable(note), style="italic")
        return text

    def set_flag(self, flag: str) -> None:
        """A short mark beside the name (a re-run shows `changed` on overridden values)."""
        if flag != self.flag:
            self.flag = flag
            for label in self.query(".field-label").results(Static):
                label.update(self._label_text())

    def default_placeholder(self) -> str:
        if self.placeholder is not None:
            return self.placeholder
        if self.spec.has_default and self.spec.default is not None:
            shown = format_value(self.spec, self.spec.default).replace("\n", " ")
            return f"empty: the default ({shown[:60]})"
        return "required" if self.spec.required else "optional"

    # -- value ------------------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self._text

    @property
    def touched(self) -> bool:
        return self._text != self.baseline

    def set_text(self, text: str, *, baseline: bool = True) -> None:
        """Put `text` in the field (as the form's own value when `baseline`, else as the user's)."""
        self._text = text
        if baseline:
            self.baseline = text
        self.show_editor_text(text)
        self.validate_live()
        self.post_message(self.Changed(self))

    def set_value(self, value: Any, *, baseline: bool = True) -> None:
        self.set_text(format_value(self.spec, value), baseline=baseline)

    def show_editor_text(self, text: str) -> None:
        """Subclasses put the text into their editor."""

    def editor_changed(self, text: str) -> None:
        """Subclasses call this when the user edited the value."""
        if text == self._text:
            return
        self._text = text
        self.validate_live()
        self.post_message(self.Changed(self))

    def read(self) -> Parsed | None:
        """The value to send, None when not given; raises `InvalidValue` when the text is refused."""
        if self.parser is not None:
            if self._text.strip() == "":
                return None
            return Parsed(self.parser(self._text))
        return parse_value(self.spec, self._text)

    @property
    def needs_value(self) -> bool:
        return self.spec.required and not self.spec.has_default and not self.may_be_empty

    def check(self, *, submitting: bool = False) -> str | None:
        """Check the value and show the outcome under the field; returns the error, if any.

        An empty required field only shows its error once the user has tried to submit.
        """
        if submitting:
            self.submitted_once = True
        try:
            parsed = self.read()
        except InvalidValue as exc:
            self.show_message(exc.message)
            return exc.message
        if parsed is None and self.needs_value:
            message = "Required: enter a value."
            self.show_message(message if self.submitted_once else None, note=self.note)
            return message
        if parsed is not None and parsed.template:
            self.show_message(None, note="Template: the server fills this in, so it is not checked here.")
        elif CONTROL_CHARACTERS.search(self._text):
            self.show_message(None, note=self._control_note())
        else:
            self.show_message(None, note=self.note)
        return None

    def _control_note(self) -> str:
        """Says that the value holds control characters, which the editor does not draw."""
        found = sorted(set(CONTROL_CHARACTERS.findall(self._text)))
        names = " ".join(printable(character) for character in found[:8])
        return f"Holds control characters ({names}), not drawn in the editor: they are sent as typed."

    def validate_live(self) -> None:
        """Check as the user types ("required" waits for a submit)."""
        self.check()

    def show_message(self, error: str | None, *, note: str = "") -> None:
        """An error (red) or a note (dim) under the field."""
        shown = (error, note if error is None else "")
        if shown == self._shown:
            return  # checked on every key press: redraw only what changes
        self._shown = shown
        self.set_class(error is not None, "-invalid")
        # Before the field is composed there is nothing to update: compose shows the notes.
        for notes in self.query(".field-notes").results(Static):
            notes.update(self._notes_text())
        if error is not None and self.has_focus_within:
            # The error is under the editor: bring it into view with it.
            self.call_after_refresh(self.scroll_visible, animate=False)

    @property
    def message(self) -> str:
        """The error (with its ✘) or note under the field; empty when there is none."""
        error, note = self._shown
        return f"✘ {error}" if error is not None else note

    def on_mount(self) -> None:
        self.validate_live()

    # -- focus --------------------------------------------------------------------------------------

    @property
    def editor(self) -> Widget | None:
        return next(iter(self.query(".field-editor")), None)

    def focus_editor(self) -> None:
        editor = self.editor
        if editor is not None:
            editor.focus()


class TextField(ParameterField):
    """Text, numbers, comma lists, untyped values: one line; several lines (a text area) when the
    value has line breaks, is an object, or is a list of objects."""

    def __init__(
        self, spec: ParameterSpec, value: Any = None, *, multiline: bool | None = None, **kwargs: Any
    ):
        super().__init__(spec, value, **kwargs)
        self.multiline = "\n" in self._text if multiline is None else multiline

    def compose_editor(self) -> ComposeResult:
        if self.multiline:
            area = SafeTextArea(
                self._text,
                soft_wrap=True,
                tab_behavior="focus",
                compact=True,
                placeholder=self.default_placeholder(),
                classes="field-editor",
                read_only=self.locked,
            )
            yield area
        else:
            yield SafeInput(
                self._text,
                placeholder=self.default_placeholder(),
                compact=True,
                classes="field-editor",
                disabled=self.locked,
                select_on_focus=False,
            )

    def show_editor_text(self, text: str) -> None:
        if "\n" in text and not self.multiline:
            # A line break needs the multi-line editor.
            self.multiline = True
            self.refresh(recompose=True)
            return
        editor = self.editor
        if isinstance(editor, Input):
            editor.value = text
        elif isinstance(editor, TextArea):
            editor.load_text(text)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.editor_changed(event.value)

    @on(TextArea.Changed)
    def _area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.editor_changed(event.text_area.text)


class SafeTextArea(TextArea):
    """A text area that never hands control characters to the terminal; the text keeps them. With
    `masked` every character shows as • (a secret being typed), cell for cell, so the cursor and
    selection stay where they are."""

    masked: reactive[bool] = reactive(False)

    def render_line(self, y: int) -> Strip:
        strip = without_control(super().render_line(y))
        if self.masked and self.text:
            strip = _masked(strip)
        return strip


def _masked(strip: Strip) -> Strip:
    """The line with its text (up to the padding after it) drawn as •, one per cell."""
    visible = len("".join(segment.text for segment in strip if not segment.control).rstrip(" "))
    segments, seen = [], 0
    for segment in strip:
        if segment.control:
            segments.append(segment)
            continue
        text = "".join(
            "•" * cell_len(char) if seen + index < visible else char
            for index, char in enumerate(segment.text)
        )
        seen += len(segment.text)
        segments.append(Segment(text, segment.style, segment.control))
    return Strip(segments, strip.cell_length)


class SecretField(TextField):
    """A masked single-line value; ctrl+r (or the button) shows it while you check it."""

    BINDINGS = [
        Binding(
            "ctrl+r",
            "toggle_reveal",
            "Show/hide",
            id="form.reveal",
            tooltip="Show or hide the secret typed in this field",
        )
    ]

    def __init__(self, spec: ParameterSpec, value: Any = None, **kwargs: Any) -> None:
        super().__init__(spec, value, multiline=False, **kwargs)
        self.revealed = False

    def compose_editor(self) -> ComposeResult:
        with Horizontal(classes="secret-row"):
            yield SafeInput(
                self._text,
                placeholder=self.default_placeholder(),
                password=True,
                compact=True,
                classes="field-editor",
                disabled=self.locked,
                select_on_focus=False,
            )
            reveal = Button("show", compact=True, classes="reveal-button")
            reveal.can_focus = False
            yield reveal

    def show_editor_text(self, text: str) -> None:
        editor = self.editor
        if isinstance(editor, Input):
            editor.value = text

    def action_toggle_reveal(self) -> None:
        self.revealed = not self.revealed
        editor = self.editor
        if isinstance(editor, Input):
            editor.password = not self.revealed
        self.query_one(".reveal-button", Button).label = "hide" if self.revealed else "show"

    @on(Button.Pressed, ".reveal-button")
    def _reveal_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_toggle_reveal()


class _Toggle(Switch):
    """A switch that space toggles; enter is left to the form (it submits)."""

    inherit_bindings = False
    BINDINGS = [
        Binding("space", "toggle_switch", "Toggle", show=False, id="form.switch", tooltip="Switch on or off")
    ]


class BooleanField(ParameterField):
    """A switch. Without a default an optional boolean stays "not set" (not sent) until switched;
    `always_send` sends what the switch shows (inquiry answers, required booleans)."""

    EXTERNAL_EDIT = False

    def __init__(self, spec: ParameterSpec, value: Any = None, *, always_send: bool = False, **kwargs: Any):
        super().__init__(spec, value, **kwargs)
        self.always_send = always_send or spec.required

    def compose_editor(self) -> ComposeResult:
        with Horizontal(classes="switch-row"):
            yield _Toggle(self.switch_state(), animate=False, classes="field-editor", disabled=self.locked)
            yield Static(self._state_words(), classes="switch-state")

    def switch_state(self) -> bool:
        try:
            return parse_bool(self._text) if self._text else False
        except InvalidValue:
            return False

    def _state_words(self) -> Text:
        if self._text == "" and not self.always_send:
            default = self.spec.default if self.spec.has_default else None
            if isinstance(default, bool):
                return Text(f"not set: the default ({'on' if default else 'off'})", style="dim")
            return Text("not set (space switches it)", style="dim")
        return Text("on" if self.switch_state() else "off", style="bold" if self.switch_state() else "")

    def read(self) -> Parsed | None:
        if self._text == "":
            return Parsed(False) if self.always_send else None
        if is_template(self._text):
            return Parsed(self._text, template=True)
        return Parsed(parse_bool(self._text))

    def show_editor_text(self, text: str) -> None:
        for switch in self.query(_Toggle):
            with switch.prevent(Switch.Changed):
                switch.value = self.switch_state()
        for state in self.query(".switch-state").results(Static):
            state.update(self._state_words())

    @on(Switch.Changed)
    def _switched(self, event: Switch.Changed) -> None:
        event.stop()
        self.editor_changed("true" if event.value else "false")
        self.query_one(".switch-state", Static).update(self._state_words())


class EnumField(ParameterField):
    """A choice among the schema's `enum` values; blank (not sent) only when there is no default."""

    EXTERNAL_EDIT = False

    def compose_editor(self) -> ComposeResult:
        options = [
            (format_value(self.spec, option), index) for index, option in enumerate(self.spec.enum or [])
        ]
        yield Select(
            options,
            value=self._index(self._text),
            allow_blank=self.allow_blank,
            prompt="(not set)",
            compact=True,
            classes="field-editor",
            disabled=self.locked,
        )

    def _index(self, text: str) -> int | Any:
        for index, option in enumerate(self.spec.enum or []):
            if format_value(self.spec, option) == text:
                return index
        return Select.NULL

    @property
    def allow_blank(self) -> bool:
        return not self.spec.has_default or self.spec.default not in (self.spec.enum or [])

    def show_editor_text(self, text: str) -> None:
        index = self._index(text)
        if index is Select.NULL and not self.allow_blank:
            return  # not one of the choices: the field says so, the list keeps its choice
        for select in self.query(Select):
            with select.prevent(Select.Changed):
                select.value = index

    @on(Select.Changed)
    def _selected(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        if isinstance(value, int):
            self.editor_changed(format_value(self.spec, (self.spec.enum or [])[value]))
        else:
            self.editor_changed("")


def field_for(spec: ParameterSpec, value: Any = None, **kwargs: Any) -> ParameterField:
    """The widget for a parameter: enum → select, boolean → switch, secret → masked input,
    object and lists of objects → JSON text area, the rest → one line (more when it has line breaks)."""
    kind = spec.type
    if spec.enum is not None and kind not in ("array", "object"):
        return EnumField(spec, value, **kwargs)
    if kind == "boolean":
        return BooleanField(spec, value, **kwargs)
    if spec.secret and kind in (None, "string", "integer", "number"):
        return SecretField(spec, value, **kwargs)
    items = spec.raw.get("items") if kind == "array" else None
    nested = isinstance(items, dict) and items.get("type") in ("object", "array")
    if kind == "object" or nested:
        return TextField(spec, value, multiline=True, **kwargs)
    return TextField(spec, value, **kwargs)


class FormScroll(VerticalScroll, can_focus=False):
    """A scrolling part of a form; tab goes through its fields, never stops on it."""
