"""Connection resolution like the st2 CLI, st2tui profiles and settings, keyring and the st2 token cache."""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail

from st2tui.api import St2Client
from st2tui.config import (
    AppConfig,
    ConfigError,
    Profile,
    Settings,
    derive_endpoints,
    load_app_config,
    resolve,
    save_app_config,
)
from st2tui.credentials import KeyringUnavailable, SecretStore, TokenCache
from st2tui.models import Token


def _args(**values) -> argparse.Namespace:
    """Options as st2tui's argument parser produces them (unset flags are None/False)."""
    defaults = dict(
        base_url=None,
        auth_url=None,
        api_url=None,
        stream_url=None,
        api_key=None,
        token=None,
        cacert=None,
        insecure=False,
        config_file=None,
        profile=None,
        readonly=False,
    )
    defaults.update(values)
    return argparse.Namespace(**defaults)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An isolated environment: st2tui's config dir under tmp, no ST2_* variables."""
    return {"ST2TUI_CONFIG_DIR": str(tmp_path / "st2tui-config")}


def write_st2_config(home: Path, text: str) -> Path:
    directory = home / ".st2"
    directory.mkdir(exist_ok=True)
    path = directory / "config"
    path.write_text(text)
    return path


def write_app_config(env: dict[str, str], text: str) -> Path:
    directory = Path(env["ST2TUI_CONFIG_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.yaml"
    path.write_text(text)
    return path


# A config as `st2 login st2admin -p ... --write-password` leaves it, plus the sections people add by hand
# for an nginx-fronted install (st2-cli.md section 3).
CLI_WRITTEN_CONFIG = """\
[credentials]
username = st2admin
password = Ch@ngeMe%%literal

[general]
base_url = https://st2.example.com
silence_ssl_warnings = True

[cli]
cache_token = False
timezone = Europe/Paris

[api]
url = https://st2.example.com/api/v1

[auth]
url = https://st2.example.com/auth/v1

[stream]
url = https://st2.example.com/stream/v1
"""


# -- ~/.st2/config and environment ----------------------------------------------------------------


def test_defaults_without_any_source_are_the_cli_defaults(env, home):
    connection = resolve(_args(), env=env, home=home).connection

    assert connection.base_url == "http://127.0.0.1"
    assert connection.auth_url == "http://127.0.0.1:9100"
    assert connection.api_url == "http://127.0.0.1:9101/v1"
    assert connection.stream_url == "http://127.0.0.1:9102/v1"
    assert connection.sources["api_url"] == "derived from default"
    assert connection.cache_token is True
    assert connection.insecure is False
    assert connection.needs_sign_in


def test_st2_config_as_the_cli_writes_it_is_read_with_cli_types(env, home):
    write_st2_config(home, CLI_WRITTEN_CONFIG)

    resolved = resolve(_args(), env=env, home=home)
    connection = resolved.connection

    assert connection.api_url == "https://st2.example.com/api/v1"
    assert connection.auth_url == "https://st2.example.com/auth/v1"
    assert connection.stream_url == "https://st2.example.com/stream/v1"
    assert connection.username == "st2admin"
    assert connection.password == "Ch@ngeMe%%literal"  # read raw, no interpolation, like st2client
    assert connection.cache_token is False
    assert resolved.st2_config.get("general", "silence_ssl_warnings") is True
    assert resolved.st2_config.get("cli", "timezone") == "Europe/Paris"
    assert connection.sources["api_url"] == "~/.st2/config [api] url"
    assert not connection.needs_sign_in


def test_flag_beats_config_file_which_beats_environment(env, home):
    write_st2_config(home, "[api]\nurl = https://from-file/api/v1\n")
    env.update(ST2_API_URL="https://from-env/api/v1", ST2_AUTH_URL="https://from-env/auth/v1")

    from_flag = resolve(_args(api_url="https://from-flag/api/v1"), env=env, home=home).connection
    from_file = resolve(_args(), env=env, home=home).connection

    assert from_flag.api_url == "https://from-flag/api/v1"
    assert from_flag.sources["api_url"] == "--api-url"
    # The st2 CLI as implemented: the config file wins over ST2_* variables...
    assert from_file.api_url == "https://from-file/api/v1"
    # ...which still fill in what the file does not set.
    assert from_file.auth_url == "https://from-env/auth/v1"
    assert from_file.sources["auth_url"] == "$ST2_AUTH_URL"


def test_environment_variables_cover_every_connection_value(env, home, tmp_path):
    cacert = tmp_path / "ca.pem"
    cacert.write_text("-----BEGIN CERTIFICATE-----\n")
    env.update(
        ST2_BASE_URL="https://st2.example.com:8443",
        ST2_STREAM_URL="https://stream.example.com/stream/v1",
        ST2_CACERT=str(cacert),
        ST2_AUTH_TOKEN="tok-from-env",
        ST2_API_KEY="key-from-env",
    )

    connection = resolve(_args(), env=env, home=home).connection

    # A base URL with a port is a front door: nginx-style paths.
    assert connection.api_url == "https://st2.example.com:8443/api/v1"
    assert connection.auth_url == "https://st2.example.com:8443/auth/v1"
    assert connection.stream_url == "https://stream.example.com/stream/v1"
    assert connection.cacert == str(cacert)
    assert connection.token == "tok-from-env"
    assert connection.api_key == "key-from-env"


def test_token_and_api_key_precedence(env, home):
    write_st2_config(home, "[credentials]\napi_key = key-from-file\n")
    env.update(ST2_AUTH_TOKEN="tok-env", ST2_API_KEY="key-env")

    from_sources = resolve(_args(), env=env, home=home).connection
    from_flags = resolve(_args(token="tok-flag", api_key="key-flag"), env=env, home=home).connection

    assert (from_sources.token, from_sources.api_key) == ("tok-env", "key-from-file")
    assert (from_flags.token, from_flags.api_key) == ("tok-flag", "key-flag")


def test_base_url_derivation_direct_ports_versus_front_door():
    assert derive_endpoints("https://st2.example.com") == (
        "https://st2.example.com:9100",
        "https://st2.example.com:9101/v1",
        "https://st2.example.com:9102/v1",
    )
    assert derive_endpoints("http://127.0.0.1:8080/") == (
        "http://127.0.0.1:8080/auth/v1",
        "http://127.0.0.1:8080/api/v1",
        "http://127.0.0.1:8080/stream/v1",
    )
    assert derive_endpoints("https://h/st2", "v1")[1] == "https://h/st2/api/v1"
    assert derive_endpoints("https://h", front_door=True)[2] == "https://h/stream/v1"


def test_url_flag_derives_all_endpoints_and_explicit_ones_win(env, home):
    connection = resolve(
        _args(base_url="http://st2.local", stream_url="http://st2.local:9999/v1/"), env=env, home=home
    ).connection

    assert connection.api_url == "http://st2.local:9101/v1"
    assert connection.auth_url == "http://st2.local:9100"
    assert connection.stream_url == "http://st2.local:9999/v1"
    assert connection.sources["api_url"] == "derived from --url"


def test_config_file_flag_and_environment_choose_the_file(env, home, tmp_path):
    custom = tmp_path / "custom.ini"
    custom.write_text("[api]\nurl = https://custom/api/v1\n")
    other = tmp_path / "other.ini"
    other.write_text("[api]\nurl = https://other/api/v1\n")
    env["ST2_CONFIG_FILE"] = str(other)

    assert resolve(_args(), env=env, home=home).connection.api_url == "https://other/api/v1"
    chosen = resolve(_args(config_file=str(custom)), env=env, home=home).connection
    assert chosen.api_url == "https://custom/api/v1"
    assert chosen.sources["api_url"] == f"{custom} [api] url"


def test_missing_non_default_config_file_is_an_error_but_missing_default_is_not(env, home, tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        resolve(_args(config_file=str(tmp_path / "nope.ini")), env=env, home=home)
    assert resolve(_args(), env=env, home=home).st2_config.exists is False


def test_skip_config_ignores_the_file(env, home):
    write_st2_config(home, "[api]\nurl = https://from-file/api/v1\n")
    env["ST2_CLI_SKIP_CONFIG"] = "1"

    resolved = resolve(_args(), env=env, home=home)

    assert resolved.st2_config is None
    assert resolved.connection.api_url == "http://127.0.0.1:9101/v1"


def test_invalid_boolean_in_st2_config_is_reported_with_its_place(env, home):
    write_st2_config(home, "[cli]\ncache_token = maybe\n")
    with pytest.raises(ConfigError, match=r"\[cli\] cache_token"):
        resolve(_args(), env=env, home=home)


def test_cacert_true_false_and_paths(env, home, tmp_path):
    assert resolve(_args(cacert="false"), env=env, home=home).connection.insecure is True
    verified = resolve(_args(cacert="true"), env=env, home=home).connection
    assert (verified.insecure, verified.cacert) == (False, None)
    assert resolve(_args(insecure=True), env=env, home=home).connection.insecure is True
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(_args(cacert=str(tmp_path / "missing.pem")), env=env, home=home)


def test_basic_auth_from_config(env, home):
    write_st2_config(home, "[credentials]\nbasic_auth = proxyuser:pro:xy\n")
    assert resolve(_args(), env=env, home=home).connection.basic_auth == ("proxyuser", "pro:xy")

    write_st2_config(home, "[credentials]\nbasic_auth = no-colon\n")
    with pytest.raises(ConfigError, match="username:password"):
        resolve(_args(), env=env, home=home)


def test_plain_mapping_works_as_options(env, home):
    connection = resolve({"api_url": "https://m/api/v1"}, env=env, home=home).connection
    assert connection.api_url == "https://m/api/v1"


# -- st2tui profiles and settings -----------------------------------------------------------------

PROFILES_YAML = """\
current_profile: staging
profiles:
  prod:
    url: https://st2.prod.example.com
    username: alice
    api_key_in_keyring: true
  staging:
    url: https://st2.staging.example.com
    stream_url: https://events.staging.example.com/stream/v1
    username: bob
    insecure: true
settings:
  theme: nord
  refresh_interval: 10
  default_pane: rules
  readonly: true
  timezone: UTC
  keybindings:
    executions.cancel: ctrl+x
    app.quit: q
"""


def test_current_profile_replaces_st2_config_and_environment(env, home):
    write_app_config(env, PROFILES_YAML)
    write_st2_config(
        home, "[api]\nurl = https://cli/api/v1\n[credentials]\nusername = carol\npassword = pw\n"
    )
    env["ST2_AUTH_URL"] = "https://env/auth/v1"

    connection = resolve(_args(), env=env, home=home).connection

    assert connection.profile == "staging"
    assert connection.api_url == "https://st2.staging.example.com/api/v1"
    assert connection.auth_url == "https://st2.staging.example.com/auth/v1"
    assert connection.stream_url == "https://events.staging.example.com/stream/v1"
    assert connection.username == "bob"
    assert connection.password is None
    assert connection.insecure is True
    assert connection.display_name == "staging"
    assert connection.keyring_service == "st2tui:staging"


def test_profile_flag_and_environment_select_a_profile_and_flags_still_win(env, home):
    write_app_config(env, PROFILES_YAML)

    env["ST2TUI_PROFILE"] = "prod"
    from_env = resolve(_args(), env=env, home=home).connection
    from_flag = resolve(
        _args(profile="prod", api_url="https://override/api/v1"), env=env, home=home
    ).connection

    assert from_env.profile == "prod"
    assert from_env.username == "alice"
    assert from_env.api_key_in_keyring is True
    assert from_env.sources["profile"] == "$ST2TUI_PROFILE"
    assert from_flag.api_url == "https://override/api/v1"
    assert from_flag.auth_url == "https://st2.prod.example.com/auth/v1"


def test_unknown_profile_is_an_error_naming_the_known_ones(env, home):
    write_app_config(env, PROFILES_YAML)
    with pytest.raises(ConfigError, match="prod, staging"):
        resolve(_args(profile="qa"), env=env, home=home)


def test_settings_from_yaml_and_readonly_flag(env, home):
    write_app_config(env, PROFILES_YAML)

    settings = resolve(_args(), env=env, home=home).settings

    assert settings == Settings(
        theme="nord",
        refresh_interval=10.0,
        default_pane="rules",
        keybindings={"executions.cancel": "ctrl+x", "app.quit": "q"},
        readonly=True,
        timezone="utc",
    )
    write_app_config(env, "settings:\n  theme: dracula\n")
    assert resolve(_args(readonly=True), env=env, home=home).settings.readonly is True
    assert resolve(_args(), env=env, home=home).settings == Settings(theme="dracula")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("settings:\n  timezone: mars\n", "timezone must be one of local, utc"),
        ("settings:\n  refresh_interval: 0\n", "refresh_interval must be positive"),
        ("settings:\n  colour: red\n", "unknown key"),
        ("settings:\n  keybindings: [a, b]\n", "keybindings must map"),
        ("profiles:\n  p:\n    username: x\n", "needs url"),
        ("profiles:\n  p:\n    url: https://h\n    insecure: 'yes'\n", "insecure must be a bool"),
        ("current_profile: ghost\n", "not one of the profiles"),
        ("profiles: [\n", "Cannot read"),
    ],
)
def test_invalid_app_config_is_reported(env, home, text, message):
    write_app_config(env, text)
    with pytest.raises(ConfigError, match=message):
        resolve(_args(), env=env, home=home)


def test_app_config_save_and_load_round_trip(tmp_path):
    path = tmp_path / "cfg" / "config.yaml"
    config = AppConfig(path=path, settings=Settings(theme="nord", keybindings={"app.quit": "ctrl+q"}))
    config = config.with_profile(Profile(name="prod", url="https://p", username="alice"), make_current=True)
    config = config.with_profile(
        Profile(
            name="lab",
            api_url="https://l/api/v1",
            auth_url="https://l/auth/v1",
            stream_url="https://l/stream/v1",
            api_key_in_keyring=True,
            insecure=True,
        )
    )

    save_app_config(config)

    assert load_app_config(path) == config
    assert [p.name for p in path.parent.iterdir()] == ["config.yaml"]  # no temp file left behind


def test_config_dir_defaults_to_platformdirs_and_env_overrides(tmp_path):
    from platformdirs import user_config_dir

    from st2tui.config import app_config_dir

    assert app_config_dir({}) == Path(user_config_dir("st2tui"))
    assert app_config_dir({"ST2TUI_CONFIG_DIR": str(tmp_path)}) == tmp_path


# -- st2 CLI token cache ---------------------------------------------------------------------------


def _token(user: str = "st2admin", hours: float = 24) -> Token:
    expiry = datetime.now(timezone.utc) + timedelta(hours=hours)
    return Token.from_dict(
        {
            "user": user,
            "token": "866218ad67e141e4aaddbbb92964e67e",
            "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
    )


def test_token_cache_writes_the_cli_format_and_permissions(home):
    cache = TokenCache.for_home(home)
    token = _token()

    path = cache.save(token)

    assert path == home / ".st2" / "token-st2admin"
    assert path.read_text() == json.dumps({"token": token.token, "expire_timestamp": token.expire_timestamp})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / ".st2").stat().st_mode) == 0o700
    cached = cache.load("st2admin")
    assert cached.token == token.token
    assert cached.expire_timestamp == token.expire_timestamp


def test_token_cache_reads_a_file_the_cli_wrote(home):
    directory = home / ".st2"
    directory.mkdir()
    expire = int(time.time()) + 3600
    (directory / "token-st2admin").write_text(json.dumps({"token": "abc123", "expire_timestamp": expire}))

    cached = TokenCache.for_home(home).load("st2admin")

    assert (cached.token, cached.expiry) == ("abc123", datetime.fromtimestamp(expire, tz=timezone.utc))


def test_token_cache_treats_tokens_within_15_seconds_of_expiry_as_expired(home):
    cache = TokenCache.for_home(home)
    cache.save(_token())
    expire = cache.load("st2admin").expire_timestamp

    assert cache.load("st2admin", now=expire - 16) is not None
    assert cache.load("st2admin", now=expire - 14) is None


def test_token_cache_missing_or_corrupt_file_means_log_in_again(home):
    cache = TokenCache.for_home(home)
    assert cache.load("nobody") is None

    cache.directory.mkdir(exist_ok=True)
    cache.path_for("st2admin").write_text("{not json" + " " * 200)
    assert cache.load("st2admin") is None
    cache.save(_token())  # overwrites a longer corrupt file completely
    assert cache.load("st2admin") is not None


def test_token_cache_unwritable_location_is_not_fatal(home):
    # ~/.st2 is a file here, so nothing can be written below it (whatever the user's privileges).
    (home / ".st2").write_text("not a directory")

    assert TokenCache.for_home(home).save(_token()) is None
    assert TokenCache.for_home(home).load("st2admin") is None


def test_client_from_connection_uses_and_refreshes_the_token_cache(home, env):
    write_st2_config(home, "[credentials]\nusername = st2admin\n")
    connection = resolve(_args(), env=env, home=home).connection
    cache = TokenCache.for_home(home)
    cache.save(_token())

    client = St2Client.from_connection(connection, token_cache=cache)
    assert client.token == "866218ad67e141e4aaddbbb92964e67e"

    write_st2_config(home, "[credentials]\nusername = st2admin\n[cli]\ncache_token = false\n")
    not_cached = St2Client.from_connection(resolve(_args(), env=env, home=home).connection, token_cache=cache)
    assert not_cached.token is None


# -- keyring ---------------------------------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.items[(service, username)]


class LockedKeyring(MemoryKeyring):
    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service, username, password):
        raise keyring.errors.PasswordSetError("denied")


def test_secret_store_remembers_passwords_and_api_keys_in_the_keyring():
    backend = MemoryKeyring()
    store = SecretStore(backend)

    store.set_password("st2tui:prod", "alice", "s3cret")
    store.set_api_key("st2tui:prod", "key-123")

    assert store.status().available
    assert store.get_password("st2tui:prod", "alice") == "s3cret"
    assert store.get_api_key("st2tui:prod") == "key-123"
    assert store.get_password("st2tui:prod", "bob") is None
    store.delete_password("st2tui:prod", "alice")
    store.delete_password("st2tui:prod", "alice")  # already gone: fine
    assert store.get_password("st2tui:prod", "alice") is None


def test_secret_store_without_a_backend_reports_it_so_the_ui_can_prompt():
    store = SecretStore(fail.Keyring())

    status = store.status()

    assert not status.available
    assert "no keyring backend" in status.reason
    with pytest.raises(KeyringUnavailable):
        store.get_password("st2tui:prod", "alice")
    with pytest.raises(KeyringUnavailable):
        store.set_api_key("st2tui:prod", "key")


def test_secret_store_backend_errors_become_keyring_unavailable():
    store = SecretStore(LockedKeyring())
    with pytest.raises(KeyringUnavailable, match="locked"):
        store.get_password("s", "u")
    with pytest.raises(KeyringUnavailable, match="denied"):
        store.set_password("s", "u", "p")


# -- interoperability with the real st2 CLI --------------------------------------------------------


def _st2(cli: str, server, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "ST2_AUTH_URL": server.auth_url,
        "ST2_API_URL": server.api_url,
        "ST2_STREAM_URL": server.stream_url,
    }
    return subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.cli
async def test_token_cached_by_st2_login_is_used_by_st2tui(st2_cli, st2_server, home, env):
    result = _st2(st2_cli, st2_server, home, "login", st2_server.username, "-p", st2_server.password)
    assert result.returncode == 0, result.stdout + result.stderr
    env.update(
        ST2_AUTH_URL=st2_server.auth_url, ST2_API_URL=st2_server.api_url, ST2_STREAM_URL=st2_server.stream_url
    )
    connection = resolve(_args(), env=env, home=home).connection
    assert connection.username == st2_server.username  # `st2 login` wrote [credentials] username
    assert connection.password is None  # ...and no password without --write-password
    token_file = home / ".st2" / f"token-{st2_server.username}"
    # What st2client writes (st2tui writes its own caches 0600 and warns about this group-writable one).
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o660
    assert set(json.loads(token_file.read_text())) == {"token", "expire_timestamp"}
    requests = []

    async with St2Client.from_connection(
        connection, token_cache=TokenCache.for_home(home), on_request=requests.append
    ) as client:
        assert client.token is not None
        whoami = await client.auth.whoami()

    assert whoami.username == st2_server.username
    assert whoami.auth_method == "authentication token"
    assert [(r.method, r.url.split("?")[0]) for r in requests] == [("GET", f"{st2_server.api_url}/user")]


@pytest.mark.cli
async def test_token_cached_by_st2tui_is_used_by_st2(st2_cli, st2_server, home, env):
    # No password anywhere: `st2 whoami` can only succeed with the token st2tui cached.
    write_st2_config(home, f"[credentials]\nusername = {st2_server.username}\n")
    cache = TokenCache.for_home(home)
    async with St2Client(
        api_url=st2_server.api_url,
        auth_url=st2_server.auth_url,
        stream_url=st2_server.stream_url,
        on_token=cache.save,
    ) as client:
        await client.auth.login(st2_server.username, st2_server.password)

    result = _st2(st2_cli, st2_server, home, "whoami")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f'Currently logged in as "{st2_server.username}"' in result.stdout


@pytest.mark.cli
async def test_config_written_by_st2_login_with_password_signs_st2tui_in(st2_cli, st2_server, home, env):
    result = _st2(st2_cli, st2_server, home, "login", st2_server.username, "-p", st2_server.password, "-w")
    assert result.returncode == 0, result.stdout + result.stderr
    (home / ".st2" / f"token-{st2_server.username}").unlink()  # force a password login
    env.update(
        ST2_AUTH_URL=st2_server.auth_url, ST2_API_URL=st2_server.api_url, ST2_STREAM_URL=st2_server.stream_url
    )

    connection = resolve(_args(), env=env, home=home).connection
    async with St2Client.from_connection(connection, token_cache=TokenCache.for_home(home)) as client:
        whoami = await client.auth.whoami()

    assert connection.password == st2_server.password
    assert whoami.username == st2_server.username
    assert TokenCache.for_home(home).load(st2_server.username).token == client.token


def test_a_group_writable_token_cache_is_warned_about_once_and_still_used(home, caplog):
    cache = TokenCache.for_home(home)
    path = cache.save(_token())
    path.chmod(0o620)

    with caplog.at_level("WARNING", logger="st2tui"):
        assert cache.load("st2admin") is not None
        assert cache.load("st2admin") is not None

    assert cache.warnings == [
        f"The cached token {path} is writable by its group: someone else could have put their token there. "
        f"Using it; restrict it with chmod 600 {path}"
    ]
    assert [record.getMessage() for record in caplog.records] == cache.warnings


def test_username_from_the_flag_then_the_st2_config_then_st2tui_username(env, home):
    from st2tui.cli import build_parser

    def username(argv: list[str], **variables: str) -> tuple[str | None, str | None]:
        resolved = resolve(build_parser().parse_args(argv), env={**env, **variables}, home=home)
        return resolved.connection.username, resolved.connection.sources.get("username")

    assert username([], ST2TUI_USERNAME="carol") == ("carol", "$ST2TUI_USERNAME")
    write_st2_config(home, "[credentials]\nusername = bob\n")
    assert username([], ST2TUI_USERNAME="carol") == ("bob", "~/.st2/config [credentials] username")
    assert username(["--username", "alice"], ST2TUI_USERNAME="carol") == ("alice", "--username")
    assert username(["-u", "alice"])[0] == "alice"
    # A username alone is no credential: the sign-in dialog asks for the password.
    assert resolve(build_parser().parse_args(["-u", "alice"]), env=env, home=home).connection.needs_sign_in


# -- the st2web link ---------------------------------------------------------------------------------


def test_st2web_link_is_under_the_base_url_else_the_api_host_without_port(env, home):
    execution = "5f0000000000000000000001"
    behind_nginx = resolve(_args(base_url="https://st2.example.com/"), env=env, home=home).connection
    assert behind_nginx.st2web_url(execution) == f"https://st2.example.com/#/history/{execution}/general"
    direct = resolve(
        _args(api_url="http://st2.lan:9101/v1", auth_url="http://st2.lan:9100"), env=env, home=home
    ).connection
    assert direct.st2web_url(execution) == f"http://st2.lan/#/history/{execution}/general"
    ipv6 = resolve(_args(api_url="https://[fd00::5]:9101/v1"), env=env, home=home).connection
    assert ipv6.st2web_url(execution) == f"https://[fd00::5]/#/history/{execution}/general"
