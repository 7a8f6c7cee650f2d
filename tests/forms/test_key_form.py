"""The key-value form against the embedded server: create with a JSON value and a TTL, the warning when
another client changed the key since the form opened, secrets kept without being decrypted, delete."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from conftest import enter, field_message, shown, signed_in, until

from st2tui.messages import KeyEditRequested
from st2tui.models import KeyValuePair
from st2tui.screens.confirm import ConfirmDialog
from st2tui.screens.key_form import KeyConflictDialog, KeyFormScreen


def _key(rest, name: str, **params) -> dict | None:
    response = rest.get(f"/api/v1/keys/{name}", params=params)
    return response.json() if response.status_code == 200 else None


async def _open(pilot, key: KeyValuePair | None) -> KeyFormScreen:
    app = pilot.app
    await signed_in(pilot)
    app.post_message(KeyEditRequested(key))
    await until(
        pilot, lambda: isinstance(app.screen, KeyFormScreen) and app.screen.loaded, what="the key form"
    )
    return app.screen


async def _closed(pilot) -> None:
    await until(pilot, lambda: not isinstance(pilot.app.screen, KeyFormScreen), what="the form to close")


async def test_a_new_key_stores_json_on_one_line_with_its_ttl_and_description(forms_server, make_app, rest):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, None)
        await enter(pilot, screen, "name", "release_plan")
        await enter(pilot, screen, "value", '{\n  "version": "2.5",\n  "hosts": ["a", "b"]\n}')
        ttl = await enter(pilot, screen, "ttl", "soon")
        assert field_message(ttl) == "✘ Must be a number of seconds, or like 15m, 2h, 1d."
        await enter(pilot, screen, "ttl", "2h")
        await enter(pilot, screen, "description", "Next release")
        saved_at = datetime.now(timezone.utc)
        await pilot.press("ctrl+s")
        await _closed(pilot)
    stored = _key(rest, "release_plan")
    assert stored["value"] == '{"version": "2.5", "hosts": ["a", "b"]}'
    assert stored["description"] == "Next release"
    expires = datetime.fromisoformat(stored["expire_timestamp"].replace("Z", "+00:00"))
    assert 7100 < (expires - saved_at).total_seconds() <= 7210


async def test_editing_warns_when_another_client_changed_the_key_and_asks_before_overwriting(
    forms_server, make_app, rest
):
    rest.put("/api/v1/keys/rollout", json={"name": "rollout", "value": '{"batch": 1}', "description": "v1"})
    key = KeyValuePair.from_dict(_key(rest, "rollout"))
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, key)
        value = screen.field("value")
        assert value.text == '{\n  "batch": 1\n}'  # pretty-printed to edit
        await enter(pilot, screen, "value", '{"batch": 5}')
        # Meanwhile another client changes the key.
        rest.put(
            "/api/v1/keys/rollout", json={"name": "rollout", "value": '{"batch": 2}', "description": "v2"}
        )
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, KeyConflictDialog), what="the warning")
        dialog = app.screen
        body = shown(dialog.query_one(".dialog-body"))
        assert "someone changed its value and its description" in body
        server_side, your_side = dialog.query(".conflict-version")
        assert '"batch": 2' in shown(server_side) and "v2" in shown(server_side)
        assert '"batch": 5' in shown(your_side)
        await pilot.press("escape")  # keep editing
        await until(pilot, lambda: app.screen is screen, what="back to the form")
        assert _key(rest, "rollout")["value"] == '{"batch": 2}', "overwritten without a yes"
        assert value.text == '{"batch": 5}' and "ctrl+s asks again" in shown(screen.query_one(".form-banner"))

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, KeyConflictDialog), what="the warning again")
        await pilot.press("o")
        await _closed(pilot)
    stored = _key(rest, "rollout")
    assert stored["value"] == '{"batch": 5}'
    assert stored["description"] == "v1"  # the description as the form showed it


async def test_an_unchanged_key_saves_without_a_warning(forms_server, make_app, rest):
    rest.put("/api/v1/keys/quiet", json={"name": "quiet", "value": "one"})
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, KeyValuePair.from_dict(_key(rest, "quiet")))
        await enter(pilot, screen, "value", "two")
        await pilot.press("ctrl+s")
        await _closed(pilot)
    assert _key(rest, "quiet")["value"] == "two"


async def test_a_secret_is_kept_encrypted_unless_the_user_asks_to_see_it(forms_server, make_app, rest):
    rest.put("/api/v1/keys/vault", json={"name": "vault", "value": "hunter2", "secret": True})
    key = KeyValuePair.from_dict(_key(rest, "vault"))
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, key)
        value = screen.field("value")
        assert value.text == "" and screen.plain_value is None
        await enter(pilot, screen, "description", "rotated monthly")
        await pilot.press("ctrl+s")
        await _closed(pilot)
        assert _key(rest, "vault", decrypt="true")["value"] == "hunter2"
        assert _key(rest, "vault")["description"] == "rotated monthly"

        screen = await _open(pilot, KeyValuePair.from_dict(_key(rest, "vault")))
        await pilot.press("ctrl+r")
        await until(pilot, lambda: value_text(screen) == "hunter2", what="the decrypted value")
        assert "Decrypted at your request." in field_message(screen.field("value"))
        await enter(pilot, screen, "value", "hunter3")
        await pilot.press("ctrl+s")
        await _closed(pilot)
    stored = _key(rest, "vault")
    assert stored["secret"] is True and stored["value"] != "hunter3"  # stored encrypted
    assert _key(rest, "vault", decrypt="true")["value"] == "hunter3"


async def test_a_new_secret_shows_masked_while_typed_unless_asked(forms_server, make_app, rest):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, None)
        await enter(pilot, screen, "name", "deploy_pass")
        await enter(pilot, screen, "value", "Zebra-4412")
        editor = screen.field("value").editor
        assert "Zebra-4412" in shown(editor), "not a secret yet: shown as typed"
        screen.field("secret").focus_editor()
        await pilot.press("space")
        await until(pilot, lambda: "Zebra-4412" not in shown(editor) and "••••••••••" in shown(editor))
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Zebra-4412" in shown(editor), what="shown on request")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Zebra-4412" not in shown(editor), what="hidden again")
        await pilot.press("ctrl+s")
        await _closed(pilot)
    stored = _key(rest, "deploy_pass")
    assert stored["secret"] is True and stored["value"] != "Zebra-4412"
    assert _key(rest, "deploy_pass", decrypt="true")["value"] == "Zebra-4412"


def value_text(screen: KeyFormScreen) -> str:
    field = screen.field("value")
    return field.text if field is not None else ""


async def test_delete_asks_first(forms_server, make_app, rest):
    rest.put("/api/v1/keys/doomed", json={"name": "doomed", "value": "x"})
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, KeyValuePair.from_dict(_key(rest, "doomed")))
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, KeyFormScreen), what="back to the form")
        assert _key(rest, "doomed") is not None
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await pilot.press("y")
        await _closed(pilot)
    assert _key(rest, "doomed") is None


async def test_the_keys_pane_opens_the_form_and_shows_the_saved_key(forms_server, make_app, rest):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot)
        await pilot.press("4")
        await until(pilot, lambda: app.screen.query_one("#keys-pane").loaded, what="the keys pane")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, KeyFormScreen), what="the key form")
        screen = app.screen
        await enter(pilot, screen, "name", "from_pane")
        await enter(pilot, screen, "value", "[1, 2]")
        await pilot.press("ctrl+s")
        await _closed(pilot)
        pane = app.screen.query_one("#keys-pane")
        await until(pilot, lambda: any(k.name == "from_pane" for k in pane.keys.values()), what="the new row")
    assert json.loads(_key(rest, "from_pane")["value"]) == [1, 2]


async def test_creating_a_key_that_already_exists_asks_before_replacing_it(forms_server, make_app, rest):
    existing = _key(rest, "deploy_target")["value"]
    app = make_app(forms_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, None)
        await enter(pilot, screen, "name", "deploy_target")
        await enter(pilot, screen, "value", "production")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, KeyConflictDialog), what="the warning")
        assert "already exists" in shown(app.screen.query_one(".dialog-body"))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="back to the form")
    assert _key(rest, "deploy_target")["value"] == existing


def preview(screen: KeyFormScreen) -> str:
    return shown(screen.query_one("#key-preview-body"))


async def test_the_preview_shows_the_st2_key_set_command_with_secrets_masked(forms_server, make_app, rest):
    app = make_app(forms_server)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await _open(pilot, None)
        await enter(pilot, screen, "name", "deploy_window")
        await enter(pilot, screen, "value", "sat 02:00")
        await until(
            pilot, lambda: "st2 key set deploy_window 'sat 02:00'" in preview(screen), what="the command"
        )
        await enter(pilot, screen, "ttl", "2h")
        screen.field("scope").editor.value = 1  # user
        await until(
            pilot,
            lambda: "st2 key set deploy_window 'sat 02:00' --scope user --ttl 7200" in preview(screen),
            what="scope and TTL",
        )
        screen.field("secret").focus_editor()
        await pilot.press("space")
        await until(
            pilot,
            lambda: (
                "st2 key set deploy_window '********' --encrypt --scope user --ttl 7200" in preview(screen)
            ),
            what="the secret masked",
        )
        assert "sat 02:00" not in preview(screen)
        await pilot.press("escape")

    # Editing a secret without reading it keeps the ciphertext: --encrypted, still masked.
    rest.put("/api/v1/keys/vault_preview", json={"name": "vault_preview", "value": "hunter2", "secret": True})
    key = KeyValuePair.from_dict(_key(rest, "vault_preview"))
    app = make_app(forms_server)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await _open(pilot, key)
        await until(
            pilot,
            lambda: "st2 key set vault_preview '********' --encrypted" in preview(screen),
            what="the kept secret",
        )
        assert key.value not in preview(screen)
