"""Issue 8's bad-input sweep over the forms: every field of the run form (every parameter type), the
key form, the inquiry form and the sign-in dialog gets empty, huge (1 MB), binary, unicode,
injection-looking and wrong-type values.

For each value: the app keeps running; a refused value gets a message at its field and the submit is
refused with everything kept as typed, and nothing reaches the server (a recording transport sees every
request); an accepted value reaches the server exactly as typed (read back over REST); and no control
character is handed to the terminal.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from conftest import PATIENCE, executions_of, open_run_form, shown, signed_in, until
from support.bad_input import TEMPLATES, VALUES, control_on_screen, recording
from support.rest import wait_until
from textual.widgets import Input, TextArea

from st2tui.forms import parse_value
from st2tui.messages import InquiryResponseRequested, KeyEditRequested
from st2tui.models import Inquiry
from st2tui.screens.confirm import ConfirmDialog
from st2tui.screens.form import FormScreen
from st2tui.screens.inquiry_form import InquiryFormScreen
from st2tui.screens.key_form import KeyFormScreen
from st2tui.screens.run_action import RunActionScreen
from st2tui.screens.sign_in import SignInScreen
from st2tui.widgets.fields import BooleanField, EnumField, ParameterField

ACTION = "examples.all-param-types"
STRINGS = ("message", "notes", "environment", "api_token")
# Values at least this long are only plain letters or brackets.
BIG = 10_000


def put(field: ParameterField, text: str) -> None:
    """Put text into a field as a paste does (choices and switches take it as a re-run would)."""
    editor = field.editor
    if isinstance(field, (EnumField, BooleanField)):
        field.set_text(text, baseline=False)
    elif isinstance(editor, TextArea):
        editor.load_text(text)
    else:
        assert isinstance(editor, Input)
        editor.value = text


def schema_refuses(field: ParameterField, name: str, text: str) -> bool:
    """Whether a form must refuse `text` in a field built from a parameter schema (any type)."""
    spec = field.spec
    if name == "lone surrogate":
        return True  # not encodable: it could never be sent
    if name == "empty":
        # Required without a default (a switch always has a value); the others fall back to theirs.
        return field.needs_value and not isinstance(field, BooleanField)
    if name in TEMPLATES:
        return False  # the server renders templates: they pass unchecked
    if spec.enum is not None:
        return True
    if spec.type == "string":
        pattern = spec.raw.get("pattern")
        short = len(text) < spec.raw.get("minLength", 0)
        long = len(text) > spec.raw.get("maxLength", len(text))
        return short or long or (pattern is not None and re.search(pattern, text) is None)
    if spec.type == "array" and (spec.raw.get("items") or {}).get("type") == "string":
        return text.startswith("[")  # a JSON list: broken, of objects or too deep
    if spec.type in ("integer", "number"):
        return not (name == "negative" and spec.raw.get("minimum") is None)
    return True  # booleans, lists of objects, objects: none of the values fit


# Messages the sweep expects for values that used to crash the form or slip through to the server.
RUN_FORM_MESSAGES = {
    ("count", "5000 digits"): "✘ Too large: StackStorm stores whole numbers",
    ("count", "huge (1 MB)"): "✘ Must be a whole number",
    ("count", "1e400"): "✘ Must be a whole number (no decimal point or exponent).",
    ("ratio", "1e400"): "✘ This number is too large.",
    ("ratio", "5000 digits"): "✘ Too large",
    ("ratio", "NaN"): "✘ Must be a number",
    ("options", "JSON NaN"): "✘ Not valid JSON: NaN is not a JSON number.",
    ("options", "deep nesting"): "✘ Nested too deeply",
    ("options", "5000 digits"): "✘ Too large",
    ("servers", "deep nesting"): "✘ Nested too deeply",
    ("tags", "deep nesting"): "✘ Nested too deeply",
    ("message", "lone surrogate"): "✘ Contains an invalid character (an unpaired surrogate)",
    ("verbose", "maybe"): "✘ Must be true or false.",
    ("level", "SQL"): "✘ Must be one of: debug, info, warning, error.",
    ("message", "NUL"): "Holds control characters (␀)",
    ("notes", "ANSI"): "Holds control characters",
}


def value_groups() -> list[list[str]]:
    """The values in groups a test each, so that xdist spreads them and none runs for minutes on a busy
    machine: each big value (1 MB, 100,000 brackets: redrawing megabytes of fields takes seconds) alone,
    the small ones in two halves."""
    big = [name for name, text in VALUES.items() if len(text) >= BIG]
    small = [name for name in VALUES if name not in big]
    return [[name] for name in big] + [small[0::2], small[1::2]]


VALUE_GROUPS = value_groups()
GROUP_IDS = [
    group[0] if len(group) == 1 else f"{len(group)} small values from {group[0]}" for group in VALUE_GROUPS
]


def accepted_by(screen: FormScreen, refuses) -> dict[str, list[str]]:
    """Per field, the values it accepts: what the sweeps check field by field (refused exactly when
    `refuses` says so), so the sending tests can choose their values without sweeping again."""
    return {
        field.spec.name: [name for name, text in VALUES.items() if not refuses(field, name, text)]
        for field in screen.fields
    }


async def sweep_form(
    pilot, screen: FormScreen, refuses, messages: dict, writes, names: list[str]
) -> dict[str, list[str]]:
    """Put each of the values `names` into every field at once and submit. Returns, per field, the values
    it accepted.

    A round some field refuses must send nothing (`writes()` lists what changed the server); a template
    every field accepts goes to the server, which refuses it (nothing is created). Either way the form
    stays, filled as typed, and each field's outcome is checked.
    """
    app = pilot.app
    accepted: dict[str, list[str]] = {field.spec.name: [] for field in screen.fields}
    for name in names:
        text = VALUES[name]
        for field in screen.fields:
            put(field, text)
        await pilot.pause()
        written = len(writes())
        await pilot.press("ctrl+s")
        await pilot.pause()
        banner = screen.query_one(".form-banner")
        if any(refuses(field, name, text) for field in screen.fields):
            assert "Nothing was sent" in shown(banner), (
                f"{name}: the submit was not refused ({shown(banner)!r})"
            )
            assert writes()[written:] == [], f"{name}: reached the server: {writes()[written:]}"
        else:
            await until(
                pilot, lambda banner=banner: "kept" in shown(banner), what=f"{name}: the server answered"
            )
            refusals = [sent.status for sent in writes()[written:]]
            assert refusals and all(400 <= status < 500 for status in refusals), f"{name}: {refusals}"
        assert app.is_running and app.screen is screen, f"{name}: the form closed or the app stopped"
        for field in screen.fields:
            where = f"{field.spec.name} = {name}"
            assert field.text == text, f"{where}: the field lost what was typed"
            refused = field.message.startswith("✘") and "The server refused" not in field.message
            assert refused == refuses(field, name, text), f"{where}: {field.message or 'accepted'}"
            expected = messages.get((field.spec.name, name))
            if expected is not None:
                assert field.message.startswith(expected), f"{where}: {field.message!r}"
            if not refused:
                accepted[field.spec.name].append(name)
        if len(text) < BIG:
            # (Drawing megabytes of text areas again takes seconds; the big values are plain letters.)
            assert control_on_screen(app) == [], f"{name}: control characters drawn: {control_on_screen(app)}"
    return accepted


async def discard(pilot, screen: FormScreen) -> None:
    """Close a form the sweep filled, answering yes to “Discard this form?”."""
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), what="the discard question")
    await pilot.press("y")
    await until(pilot, lambda: screen not in pilot.app.screen_stack, what="the form to close")


def odd_texts(accepted: list[str], *, big: bool = True) -> list[str]:
    """The accepted values worth sending (not empty, not templates, which the server renders); the big
    ones (1 MB, 100,000 brackets) only when `big`."""
    return [
        VALUES[name]
        for name in accepted
        if name != "empty" and name not in TEMPLATES and (big or len(VALUES[name]) < BIG)
    ]


@pytest.mark.parametrize("names", VALUE_GROUPS, ids=GROUP_IDS)
async def test_run_form_sweep_refuses_at_the_field(forms_server, make_app, names):
    app = make_app(forms_server)
    transport = await recording(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run_form(pilot, ACTION)
        await sweep_form(
            pilot, screen, schema_refuses, RUN_FORM_MESSAGES, lambda: transport.writes("/executions"), names
        )
        await discard(pilot, screen)
    assert transport.server_errors() == []


async def test_run_form_sends_every_value_its_fields_accept_exactly(forms_server, make_app, rest):
    app = make_app(forms_server)
    transport = await recording(app)
    async with app.run_test(size=(120, 40)) as pilot:
        # Every odd value a field accepts reaches the server byte for byte: one run, each string field
        # holding all of them (joined with “|”; the big ones in the message only), the list every one of
        # them as an item.
        screen = await open_run_form(pilot, ACTION)
        accepted = accepted_by(screen, schema_refuses)
        texts = {field: "|".join(odd_texts(accepted[field], big=field == "message")) for field in STRINGS}
        texts["tags"] = json.dumps(odd_texts(accepted["tags"], big=False), ensure_ascii=False)
        for field, text in texts.items():
            put(screen.field(field), text)
        await pilot.pause()
        expected = {field: parse_value(screen.field(field).spec, text).value for field, text in texts.items()}
        assert expected["tags"] == odd_texts(accepted["tags"], big=False)
        before = len(executions_of(rest, ACTION))
        await pilot.press("ctrl+s")
        try:
            await until(pilot, lambda: not isinstance(app.screen, RunActionScreen), what="the run")
        except AssertionError as exc:
            # Seen twice in many runs, under xdist: say what the form was doing, for the next sighting.
            raise AssertionError(f"{exc}; {form_state(screen, transport)}") from exc
        posted = json.loads(transport.writes("/executions")[-1].body)["parameters"]
        runs = executions_of(rest, ACTION)
        assert len(runs) == before + 1
        for field, value in expected.items():
            assert posted[field] == value, f"{field}: sent differently"
            assert runs[0]["parameters"][field] == value, f"{field}: stored differently"
    assert VALUES["huge (1 MB)"] in expected["message"] and VALUES["ANSI"] in expected["notes"]
    assert transport.server_errors() == []


async def test_a_template_is_sent_as_typed_and_a_refusal_by_the_server_keeps_the_form(
    forms_server, make_app, rest
):
    app = make_app(forms_server)
    transport = await recording(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run_form(pilot, ACTION)
        put(screen.field("message"), VALUES["Jinja"])
        put(screen.field("count"), "{{ 11 }}")
        await pilot.pause()
        await pilot.press("ctrl+s")
        banner = screen.query_one(".form-banner")
        await until(pilot, lambda: "Your values are kept" in shown(banner), what="the server's refusal")
        assert "11 is greater than the maximum of 10" in shown(banner)
        body = json.loads(transport.writes("/executions")[-1].body)
        assert body["parameters"] == {"message": VALUES["Jinja"], "count": "{{ 11 }}"}
        assert app.screen is screen
        assert (screen.field("message").text, screen.field("count").text) == (VALUES["Jinja"], "{{ 11 }}")


# -- key form ---------------------------------------------------------------------------------------------


def key_form_refuses(field: ParameterField, name: str, text: str) -> bool:
    if field.spec.name == "name" and name != "lone surrogate":
        # Required; no “/”, no control characters, at most 1000 bytes (it goes into the key's address).
        return (
            text == ""
            or text != text.strip()
            or "/" in text
            or re.search(r"[\x00-\x1f\x7f-\x9f]", text) is not None
            or len(text.encode()) > 1000
        )
    if field.spec.name == "ttl":
        return text != ""
    return schema_refuses(field, name, text)


KEY_FORM_MESSAGES = {
    ("name", "NUL"): "✘ A key name cannot contain control characters",
    ("name", "huge (1 MB)"): "✘ Too long: a key name may take 1000 bytes",
    ("name", "path"): "✘ A key name cannot contain “/”.",
    ("ttl", "5000 digits"): "✘ At most 100 years",
    ("ttl", "negative"): "✘ Must be a number of seconds",
    ("secret", "maybe"): "✘ Must be true or false.",
    ("scope", "SQL"): "✘ Must be one of: system, user.",
    ("value", "lone surrogate"): "✘ Contains an invalid character",
}


async def open_new_key_form(pilot) -> KeyFormScreen:
    await signed_in(pilot)
    pilot.app.post_message(KeyEditRequested(None))
    await until(pilot, lambda: isinstance(pilot.app.screen, KeyFormScreen), what="the key form")
    return pilot.app.screen


@pytest.mark.parametrize("names", VALUE_GROUPS, ids=GROUP_IDS)
async def test_key_form_sweep_refuses_at_the_field(forms_server, make_app, names):
    app = make_app(forms_server)
    transport = await recording(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_new_key_form(pilot)
        await sweep_form(
            pilot, screen, key_form_refuses, KEY_FORM_MESSAGES, lambda: transport.writes("/keys"), names
        )
        await discard(pilot, screen)
    assert transport.server_errors() == []


async def test_key_form_saves_every_value_its_fields_accept_exactly(forms_server, make_app, rest):
    app = make_app(forms_server)
    transport = await recording(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_new_key_form(pilot)
        # All accepted odd names in one name, all accepted odd values in one value: saved, read back exactly.
        accepted = accepted_by(screen, key_form_refuses)
        name = "|".join(odd_texts(accepted["name"]))
        value = "|".join(odd_texts(accepted["value"]))
        assert VALUES["SQL"] in name and VALUES["huge (1 MB)"] in value and VALUES["ANSI"] in value
        put(screen.field("name"), name)
        put(screen.field("value"), value)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, KeyFormScreen), what="saving the key")
        stored = rest.get("/api/v1/keys/" + quote(name, safe=""))
        assert stored.status_code == 200, stored.text[:200]
        assert stored.json()["name"] == name, "name stored differently"
        assert stored.json()["value"] == value, "value stored differently"
    assert transport.server_errors() == []


# -- inquiry form -----------------------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "approved": {"type": "boolean", "required": True},
        "reason": {"type": "string", "required": True},
        "target": {"type": "string", "enum": ["staging", "production"]},
        "batch": {"type": "integer", "minimum": 1, "maximum": 10},
        "ratio": {"type": "number"},
        "hosts": {"type": "array", "items": {"type": "string"}},
        "extra": {"type": "object"},
    },
}


INQUIRY_MESSAGES = {
    ("ratio", "1e400"): "✘ This number is too large.",
    ("ratio", "Infinity"): "✘ Must be a number",
    ("batch", "huge integer"): "✘ Too large: StackStorm stores whole numbers",
    ("extra", "JSON NaN"): "✘ Not valid JSON: NaN is not a JSON number.",
    ("approved", "maybe"): "✘ Must be true or false.",
}


async def _ask(rest) -> Inquiry:
    ask = rest.post(
        "/api/v1/executions", json={"action": "core.ask", "parameters": {"schema": SCHEMA}}
    ).json()

    def pending() -> dict[str, Any] | None:
        response = rest.get(f"/api/v1/inquiries/{ask['id']}")
        return response.json() if response.status_code == 200 else None

    return Inquiry.from_dict(wait_until(pending, message="the inquiry"))


async def open_response_form(pilot, inquiry: Inquiry) -> InquiryFormScreen:
    await signed_in(pilot)
    pilot.app.post_message(InquiryResponseRequested(inquiry))
    await until(pilot, lambda: isinstance(pilot.app.screen, InquiryFormScreen), what="the response form")
    return pilot.app.screen


@pytest.mark.parametrize("names", VALUE_GROUPS, ids=GROUP_IDS)
async def test_inquiry_form_sweep_refuses_at_the_field(forms_server, make_app, rest, names):
    inquiry = await _ask(rest)
    app = make_app(forms_server)
    transport = await recording(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_response_form(pilot, inquiry)
        accepted = await sweep_form(
            pilot, screen, schema_refuses, INQUIRY_MESSAGES, lambda: transport.writes("/inquiries"), names
        )
        odd = {"huge (1 MB)", "ANSI", "RTL", "SQL", "NUL"} & set(names)
        assert odd <= set(accepted["reason"])
    assert transport.server_errors() == []


async def test_inquiry_form_sends_odd_text_exactly(forms_server, make_app, rest):
    inquiry = await _ask(rest)
    app = make_app(forms_server)
    transport = await recording(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_response_form(pilot, inquiry)
        # A valid answer with odd text in it is sent and stored exactly.
        odd = VALUES["ANSI"] + VALUES["RTL"] + VALUES["SQL"] + VALUES["NUL"] + VALUES["huge (1 MB)"]
        for field in screen.fields:
            put(field, "")
        put(screen.field("reason"), odd)
        put(screen.field("hosts"), VALUES["emoji"])
        put(screen.field("batch"), "3")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, InquiryFormScreen), what="the answer")
        assert json.loads(transport.writes("/inquiries")[-1].body)["response"] == {
            "approved": False,
            "reason": odd,
            "batch": 3,
            "hosts": [VALUES["emoji"]],
        }
    answered = rest.get(f"/api/v1/executions/{inquiry.id}").json()
    assert answered["result"]["response"]["reason"] == odd
    assert transport.server_errors() == []


# -- sign-in ----------------------------------------------------------------------------------------------

SIGN_IN_REFUSED = {
    "empty username": ("", "x", "Enter both a username and a password."),
    "empty password": ("st2admin", "", "Enter both a username and a password."),
    "huge username": (VALUES["huge (1 MB)"], "x", "Too long"),
    "huge password": ("st2admin", VALUES["huge (1 MB)"], "Too long"),
    "NUL username": (VALUES["NUL"], "x", "cannot contain a NUL character"),
    "NUL password": ("st2admin", VALUES["NUL"], "cannot contain a NUL character"),
    "ANSI username": (VALUES["ANSI"], "x", "A username cannot contain control characters"),
    "surrogate password": ("st2admin", VALUES["lone surrogate"], "unpaired surrogate"),
    "colon username": ("st2admin:Ch@ngeMe", "x", "A username cannot contain “:”."),
}
# Sent as typed; the server answers that they do not sign in.
SIGN_IN_SENT = {
    "injection": (VALUES["SQL"], VALUES["shell"] + VALUES["Jinja"]),
    "control password": ("st2admin", "\x1b[31mred\x1b[0m\x07"),
}


@pytest.mark.timeout(PATIENCE * 4)
async def test_sign_in_refuses_what_cannot_be_sent_and_sends_the_rest_as_typed(forms_server, make_app):
    app = make_app(forms_server, username=None, password=None)
    transport = await recording(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")

        async def submit(username: str, password: str) -> SignInScreen:
            dialog = app.screen
            assert isinstance(dialog, SignInScreen)
            dialog.query_one("#sign-in-username", Input).value = username
            dialog.query_one("#sign-in-password", Input).value = password
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            return dialog

        for case, (username, password, says) in SIGN_IN_REFUSED.items():
            dialog = await submit(username, password)
            assert app.screen is dialog, f"{case}: the dialog closed"
            assert says in shown(dialog.query_one("#sign-in-error")), (
                f"{case}: {shown(dialog.query_one('#sign-in-error'))!r}"
            )
            assert dialog.query_one("#sign-in-username", Input).value == username, f"{case}: username lost"
            assert dialog.query_one("#sign-in-password", Input).value == password, f"{case}: password lost"
            assert transport.writes("/tokens") == [], f"{case}: reached the server"
            assert control_on_screen(app) == [], f"{case}: {control_on_screen(app)}"

        for case, (username, password) in SIGN_IN_SENT.items():
            before = len(transport.writes("/tokens"))
            dialog = await submit(username, password)
            await until(
                pilot,
                lambda dialog=dialog: isinstance(app.screen, SignInScreen) and app.screen is not dialog,
                what=f"{case}: the dialog again",
            )
            again = app.screen
            error = again.query_one("#sign-in-error")
            await until(
                pilot, lambda error=error: "Sign-in failed" in shown(error), what=f"{case}: the refusal"
            )
            assert again.query_one("#sign-in-username", Input).value == username.strip(), (
                f"{case}: username lost"
            )
            request = transport.writes("/tokens")[before]
            scheme, _, encoded = request.headers["authorization"].partition(" ")
            assert scheme == "Basic"
            assert base64.b64decode(encoded).decode() == f"{username.strip()}:{password}", (
                f"{case}: sent differently"
            )
            assert control_on_screen(app) == [], f"{case}: {control_on_screen(app)}"

        await submit("st2admin", forms_server.password)
        await signed_in(pilot)
    assert transport.server_errors() == []


async def test_unicode_credentials_are_sent_as_typed_and_refused_as_a_wrong_password(forms_server, make_app):
    username, password = VALUES["RTL"] + VALUES["emoji"], VALUES["combining"] + VALUES["zero-width"]
    app = make_app(forms_server, username=username, password=password)
    transport = await recording(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SignInScreen), what="the sign-in dialog")
        error = app.screen.query_one("#sign-in-error")
        await until(pilot, lambda: "Sign-in failed" in shown(error), what="the refusal drawn in the dialog")
        _, _, encoded = transport.writes("/tokens")[0].headers["authorization"].partition(" ")
        assert base64.b64decode(encoded).decode() == f"{username}:{password}"
    assert transport.server_errors() == []


def form_state(screen, transport) -> str:
    banners = [banner.render() for banner in screen.query(".form-banner")]
    return (
        f"form busy={screen.busy} loaded={screen.loaded}, banners {banners!r}, "
        f"invalid fields {[widget.id for widget in screen.query('.-invalid')]}, "
        f"sent {[(sent.method, sent.path, sent.status) for sent in transport.sent[-5:]]}"
    )
