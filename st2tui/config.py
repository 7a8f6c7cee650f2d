"""Where to connect and how st2tui behaves: st2 CLI sources plus st2tui's own YAML profiles and settings.

Connection values are resolved the way the ``st2`` CLI (st2client) resolves them, per field:
command-line flag > ``~/.st2/config`` > ``ST2_*`` environment variable > default. That is the
CLI's behaviour as implemented (its own comment claims env beats the file; the code does not).

st2tui adds named profiles (one per StackStorm installation, like k9s contexts) in
``<config dir>/config.yaml``. A selected profile (``--profile``, ``$ST2TUI_PROFILE`` or the file's
``current_profile``) replaces ``~/.st2/config`` and ``ST2_*`` for endpoints and identity, so values
of another installation never mix in; flags still win.

Base-URL derivation: with ``--url``/``ST2_BASE_URL``/``[general] base_url`` and no explicit endpoint,
a bare host (no port, no path) gets the CLI's direct service ports (``:9100``, ``:9101/v1``,
``:9102/v1``); a URL with a port or a path, and a profile's ``url``, are taken as the nginx front
door (``/auth/v1``, ``/api/v1``, ``/stream/v1``), which is how StackStorm is normally exposed.

Nothing here reads the keyring or the network: ``resolve`` is a pure function of its inputs.
"""

from __future__ import annotations

import configparser
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_BASE_URL",
    "AppConfig",
    "ConfigError",
    "Connection",
    "Profile",
    "Resolved",
    "Settings",
    "St2CliConfig",
    "app_config_dir",
    "app_config_path",
    "derive_endpoints",
    "load_app_config",
    "load_st2_config",
    "resolve",
    "save_app_config",
]

DEFAULT_BASE_URL = "http://127.0.0.1"
DEFAULT_API_VERSION = "v1"
AUTH_PORT, API_PORT, STREAM_PORT = 9100, 9101, 9102
APP_NAME = "st2tui"
APP_CONFIG_FILE = "config.yaml"
TIMEZONES = ("local", "utc")

# Options of ~/.st2/config as st2client's CLIConfigParser declares them: (type, default).
ST2_CONFIG_OPTIONS: dict[str, dict[str, tuple[str, Any]]] = {
    "general": {
        "base_url": ("str", None),
        "api_version": ("str", None),
        "cacert": ("str", None),
        "silence_ssl_warnings": ("bool", False),
        "silence_schema_output": ("bool", True),
    },
    "cli": {
        "debug": ("bool", False),
        "cache_token": ("bool", True),
        "timezone": ("str", "UTC"),
    },
    "credentials": {
        "username": ("str", None),
        "password": ("str", None),
        "api_key": ("str", None),
        "basic_auth": ("str", None),
    },
    "api": {"url": ("str", None)},
    "auth": {"url": ("str", None)},
    "stream": {"url": ("str", None)},
}


class ConfigError(Exception):
    """A configuration file or value that cannot be used; the message names the file and the problem."""


# --------------------------------------------------------------------------------------------------
# ~/.st2/config


@dataclass(frozen=True)
class St2CliConfig:
    """``~/.st2/config`` parsed with the st2 CLI's option types and defaults."""

    path: Path
    exists: bool
    values: dict[str, dict[str, Any]]

    def get(self, section: str, option: str) -> Any:
        return self.values.get(section, {}).get(option)

    @property
    def cache_token(self) -> bool:
        return bool(self.get("cli", "cache_token"))


def _defaults() -> dict[str, dict[str, Any]]:
    return {
        section: {key: default for key, (_, default) in keys.items()}
        for section, keys in ST2_CONFIG_OPTIONS.items()
    }


def load_st2_config(path: Path) -> St2CliConfig:
    """Parse an st2 CLI config file; a missing file yields the CLI defaults."""
    values = _defaults()
    if not path.is_file():
        return St2CliConfig(path=path, exists=False, values=values)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read st2 config {path}: {exc}") from exc
    for section, keys in ST2_CONFIG_OPTIONS.items():
        for key, (kind, _) in keys.items():
            if not parser.has_option(section, key):
                continue
            try:
                values[section][key] = (
                    parser.getboolean(section, key) if kind == "bool" else parser.get(section, key, raw=True)
                )
            except ValueError as exc:
                raise ConfigError(f"{path}: [{section}] {key}: {exc}") from exc
    return St2CliConfig(path=path, exists=True, values=values)


def st2_config_path(args: Any, env: Mapping[str, str], home: Path) -> tuple[Path, bool]:
    """The st2 CLI config path (``--config-file`` > ``$ST2_CONFIG_FILE`` > ``~/.st2/config``) and whether it is the default."""
    default = home / ".st2" / "config"
    chosen = _arg(args, "config_file") or env.get("ST2_CONFIG_FILE")
    if not chosen:
        return default, True
    expanded = home / chosen[2:] if chosen.startswith("~/") else Path(chosen)
    path = Path(os.path.abspath(expanded))
    return path, path == default


# --------------------------------------------------------------------------------------------------
# st2tui's YAML config


@dataclass(frozen=True)
class Profile:
    """One StackStorm installation. ``url`` is its front door (nginx); the specific URLs override it."""

    name: str
    url: str | None = None
    auth_url: str | None = None
    api_url: str | None = None
    stream_url: str | None = None
    username: str | None = None
    api_key_in_keyring: bool = False
    cacert: str | None = None
    insecure: bool = False


@dataclass(frozen=True)
class Settings:
    """How the UI behaves (section ``settings`` of the YAML file)."""

    theme: str = "textual-dark"
    refresh_interval: float = 5.0
    default_pane: str = "executions"
    keybindings: dict[str, str] = field(default_factory=dict)
    readonly: bool = False
    timezone: str = "local"
    # What st2tui reads of an answer at most (MB): a hostile or broken server must not fill memory.
    max_response_mb: int = 16
    max_output_mb: int = 256
    max_event_mb: int = 16

    def client_limits(self) -> dict[str, int]:
        """The St2Client arguments for these limits."""
        mb = 1024 * 1024
        return {
            "max_body_bytes": self.max_response_mb * mb,
            "max_output_bytes": self.max_output_mb * mb,
            "max_event_bytes": self.max_event_mb * mb,
        }


@dataclass(frozen=True)
class AppConfig:
    """st2tui's own configuration file."""

    path: Path
    profiles: dict[str, Profile] = field(default_factory=dict)
    current_profile: str | None = None
    settings: Settings = field(default_factory=Settings)

    def with_profile(self, profile: Profile, *, make_current: bool = False) -> AppConfig:
        """A copy with ``profile`` added or replaced (for saving from the sign-in screen)."""
        profiles = {**self.profiles, profile.name: profile}
        return replace(
            self, profiles=profiles, current_profile=profile.name if make_current else self.current_profile
        )


def app_config_dir(env: Mapping[str, str]) -> Path:
    """``$ST2TUI_CONFIG_DIR``, else the platform's user config dir for st2tui."""
    override = env.get("ST2TUI_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME))


def app_config_path(env: Mapping[str, str]) -> Path:
    return app_config_dir(env) / APP_CONFIG_FILE


_PROFILE_KEYS = {
    "url",
    "auth_url",
    "api_url",
    "stream_url",
    "username",
    "api_key_in_keyring",
    "cacert",
    "insecure",
}
_LIMIT_KEYS = ("max_response_mb", "max_output_mb", "max_event_mb")
_SETTINGS_KEYS = {
    "theme",
    "refresh_interval",
    "default_pane",
    "keybindings",
    "readonly",
    "timezone",
    *_LIMIT_KEYS,
}
_TOP_KEYS = {"current_profile", "profiles", "settings"}


def _check_keys(where: str, doc: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(str(key) for key in doc if key not in allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _typed(where: str, value: Any, kind: type | tuple[type, ...], name: str) -> Any:
    if value is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        expected = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}: {name} must be a {expected}, got {value!r}")
    return value


def _parse_profile(path: Path, name: str, doc: Any) -> Profile:
    where = f"{path}: profiles.{name}"
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{where} must be a mapping")
    _check_keys(where, doc, _PROFILE_KEYS)
    values = {
        key: _typed(where, doc.get(key), str, key) for key in ("url", "auth_url", "api_url", "stream_url")
    }
    profile = Profile(
        name=name,
        username=_typed(where, doc.get("username"), str, "username"),
        api_key_in_keyring=bool(_typed(where, doc.get("api_key_in_keyring"), bool, "api_key_in_keyring")),
        cacert=_typed(where, doc.get("cacert"), str, "cacert"),
        insecure=bool(_typed(where, doc.get("insecure"), bool, "insecure")),
        **values,
    )
    if not (profile.url or profile.api_url):
        raise ConfigError(f"{where} needs url (or api_url, auth_url and stream_url)")
    if not profile.url and not (profile.auth_url and profile.stream_url):
        raise ConfigError(f"{where}: without url, auth_url and stream_url are required too")
    return profile


def _parse_settings(path: Path, doc: Any) -> Settings:
    where = f"{path}: settings"
    if doc is None:
        return Settings()
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{where} must be a mapping")
    _check_keys(where, doc, _SETTINGS_KEYS)
    defaults = Settings()
    refresh = _typed(where, doc.get("refresh_interval"), float, "refresh_interval")
    if refresh is not None and refresh <= 0:
        raise ConfigError(f"{where}: refresh_interval must be positive, got {refresh!r}")
    timezone_name = _typed(where, doc.get("timezone"), str, "timezone")
    if timezone_name is not None and timezone_name.lower() not in TIMEZONES:
        raise ConfigError(f"{where}: timezone must be one of {', '.join(TIMEZONES)}, got {timezone_name!r}")
    bindings = doc.get("keybindings") or {}
    if not isinstance(bindings, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in bindings.items()
    ):
        raise ConfigError(
            f"{where}: keybindings must map binding ids to key strings, e.g. 'executions.cancel: c'"
        )
    limits = {}
    for name in _LIMIT_KEYS:
        value = _typed(where, doc.get(name), int, name)
        if value is not None and value <= 0:
            raise ConfigError(f"{where}: {name} must be a positive whole number of MB, got {value!r}")
        limits[name] = value if value is not None else getattr(defaults, name)
    return Settings(
        **limits,
        theme=_typed(where, doc.get("theme"), str, "theme") or defaults.theme,
        refresh_interval=refresh if refresh is not None else defaults.refresh_interval,
        default_pane=_typed(where, doc.get("default_pane"), str, "default_pane") or defaults.default_pane,
        keybindings=dict(bindings),
        readonly=bool(_typed(where, doc.get("readonly"), bool, "readonly")),
        timezone=(timezone_name or defaults.timezone).lower(),
    )


def load_app_config(path: Path) -> AppConfig:
    """Read st2tui's YAML config; a missing file is an empty config."""
    if not path.is_file():
        return AppConfig(path=path)
    import yaml  # on first use: most starts have no st2tui config file

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from exc
    if doc is None:
        return AppConfig(path=path)
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{path}: the top level must be a mapping")
    _check_keys(str(path), doc, _TOP_KEYS)
    profiles_doc = doc.get("profiles") or {}
    if not isinstance(profiles_doc, Mapping):
        raise ConfigError(f"{path}: profiles must be a mapping of name -> profile")
    profiles = {str(name): _parse_profile(path, str(name), spec) for name, spec in profiles_doc.items()}
    current = _typed(str(path), doc.get("current_profile"), str, "current_profile")
    if current is not None and current not in profiles:
        raise ConfigError(f"{path}: current_profile {current!r} is not one of the profiles")
    return AppConfig(
        path=path,
        profiles=profiles,
        current_profile=current,
        settings=_parse_settings(path, doc.get("settings")),
    )


def _profile_doc(profile: Profile) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key in ("url", "auth_url", "api_url", "stream_url", "username", "cacert"):
        value = getattr(profile, key)
        if value:
            doc[key] = value
    if profile.api_key_in_keyring:
        doc["api_key_in_keyring"] = True
    if profile.insecure:
        doc["insecure"] = True
    return doc


def save_app_config(config: AppConfig) -> None:
    """Write st2tui's YAML config (atomically). It holds no secrets: those go to the keyring."""
    settings = config.settings
    doc: dict[str, Any] = {}
    if config.current_profile:
        doc["current_profile"] = config.current_profile
    doc["profiles"] = {name: _profile_doc(profile) for name, profile in config.profiles.items()}
    doc["settings"] = {
        "theme": settings.theme,
        "refresh_interval": settings.refresh_interval,
        "default_pane": settings.default_pane,
        "keybindings": dict(settings.keybindings),
        "readonly": settings.readonly,
        "timezone": settings.timezone,
        **{name: getattr(settings, name) for name in _LIMIT_KEYS},
    }
    import yaml

    config.path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".yaml", dir=config.path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(doc, handle, sort_keys=False, default_flow_style=False)
        os.replace(tmp, config.path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------------
# Resolution


@dataclass(frozen=True)
class Connection:
    """Everything needed to talk to one StackStorm installation.

    ``sources`` says where each value came from (``--api-url``, ``~/.st2/config [api] url``,
    ``$ST2_API_URL``, ``profile 'prod'``, ``derived from ...``, ``default``) for ``--debug`` and the UI.
    """

    api_url: str
    auth_url: str
    stream_url: str
    base_url: str = DEFAULT_BASE_URL
    profile: str | None = None
    token: str | None = None
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    cacert: str | None = None
    insecure: bool = False
    basic_auth: tuple[str, str] | None = None
    cache_token: bool = True
    api_key_in_keyring: bool = False
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def display_name(self) -> str:
        """Short name for the header: the profile, else the API host."""
        return self.profile or (urlsplit(self.api_url).netloc or self.api_url)

    def st2web_url(self, execution_id: str) -> str:
        """st2web's page of an execution, as this client reaches the installation.

        The server's own `web_url` comes from its `[webui] webui_base_url` (by default `https://` and the
        server's host name, often `localhost`), so it is only right when that was configured; st2client
        prints no link. With a base URL (`--url`, a profile's `url`, `[general] base_url`,
        `$ST2_BASE_URL`) the page is under it, as st2web is served there. With only direct service URLs
        it is the API's scheme and host without the port: st2web is served by the front door, not by
        st2api's port.
        """
        given = self.sources.get("base_url", "default" if self.base_url == DEFAULT_BASE_URL else "given")
        if given != "default" and self.base_url:
            root = self.base_url.rstrip("/")
        else:
            parts = urlsplit(self.api_url)
            host = parts.hostname or ""
            root = f"{parts.scheme}://[{host}]" if ":" in host else f"{parts.scheme}://{host}"
        return f"{root}/#/history/{execution_id}/general"

    @property
    def keyring_service(self) -> str:
        """Keyring service name under which this installation's password / API key are stored."""
        return f"st2tui:{self.profile}" if self.profile else f"st2tui:{self.api_url}"

    @property
    def needs_sign_in(self) -> bool:
        """True when there is no token, API key or username+password: the UI must ask."""
        return not (self.token or self.api_key or (self.username and self.password))


@dataclass(frozen=True)
class Resolved:
    """The outcome of ``resolve``: the connection, UI settings and the files they came from."""

    connection: Connection
    settings: Settings
    app_config: AppConfig
    st2_config: St2CliConfig | None


def derive_endpoints(
    base_url: str, api_version: str = DEFAULT_API_VERSION, *, front_door: bool | None = None
) -> tuple[str, str, str]:
    """(auth_url, api_url, stream_url) for ``base_url``.

    ``front_door=None`` applies the CLI-compatible rule: a bare host gets the direct service ports,
    a URL with a port or path is an nginx front door. ``True``/``False`` force one style.
    """
    base = base_url.rstrip("/")
    if front_door is None:
        parts = urlsplit(base)
        front_door = parts.port is not None or parts.path not in ("", "/")
    if front_door:
        return f"{base}/auth/{api_version}", f"{base}/api/{api_version}", f"{base}/stream/{api_version}"
    return f"{base}:{AUTH_PORT}", f"{base}:{API_PORT}/{api_version}", f"{base}:{STREAM_PORT}/{api_version}"


def _arg(args: Any, name: str) -> Any:
    if args is None:
        return None
    if isinstance(args, Mapping):
        return args.get(name)
    return getattr(args, name, None)


class _Chain:
    """First non-empty value among (source label, value) candidates, remembering the source."""

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}

    def pick(self, name: str, *candidates: tuple[str, Any]) -> Any:
        for label, value in candidates:
            if value not in (None, ""):
                self.sources[name] = label
                return value
        return None


def _cacert_value(value: Any) -> tuple[str | None, bool | None]:
    """st2 accepts ``--cacert true|false`` as well as a path: returns (path, verify flag)."""
    if value is None or isinstance(value, bool):
        return None, value
    text = str(value)
    lowered = text.lower()
    if lowered in ("true", "1", "t", "y", "yes"):
        return None, True
    if lowered in ("false", "0", "f", "n", "no"):
        return None, False
    return text, None


def _select_profile(args: Any, env: Mapping[str, str], app: AppConfig) -> tuple[Profile | None, str]:
    for label, name in (("--profile", _arg(args, "profile")), ("$ST2TUI_PROFILE", env.get("ST2TUI_PROFILE"))):
        if name:
            if name not in app.profiles:
                known = ", ".join(sorted(app.profiles)) or "none defined"
                raise ConfigError(f"Unknown profile {name!r} (from {label}; profiles in {app.path}: {known})")
            return app.profiles[name], label
    if app.current_profile:
        return app.profiles[app.current_profile], f"current_profile in {app.path}"
    return None, ""


def resolve(args: Any = None, *, env: Mapping[str, str] | None = None, home: Path | None = None) -> Resolved:
    """Turn parsed options (argparse namespace or mapping), environment and files into one ``Resolved``.

    Reads the attributes ``base_url, api_url, auth_url, stream_url, api_version, api_key, token, cacert,
    insecure, basic_auth, config_file, skip_config, profile, readonly`` when present. ``env`` and ``home``
    default to the process environment and the user's home; tests pass their own.
    """
    env = dict(os.environ) if env is None else env
    home = Path.home() if home is None else home

    app = load_app_config(app_config_path(env))
    profile, profile_label = _select_profile(args, env, app)

    skip_config = bool(_arg(args, "skip_config")) or env.get("ST2_CLI_SKIP_CONFIG", "0").strip() not in (
        "",
        "0",
    )
    st2_path, is_default = st2_config_path(args, env, home)
    if not is_default and not st2_path.is_file():
        raise ConfigError(f'Config "{st2_path}" not found')
    st2 = None if skip_config else load_st2_config(st2_path)
    file_label = f"{st2_path} " if not is_default else "~/.st2/config "

    def from_file(section: str, option: str) -> tuple[str, Any]:
        return f"{file_label}[{section}] {option}", st2.get(section, option) if st2 and not profile else None

    def from_env(name: str) -> tuple[str, Any]:
        return f"${name}", env.get(name) if not profile else None

    def from_profile(attr: str) -> tuple[str, Any]:
        return f"profile {profile.name!r}" if profile else "", getattr(profile, attr) if profile else None

    chain = _Chain()
    api_version = chain.pick(
        "api_version",
        ("--api-version", _arg(args, "api_version")),
        from_file("general", "api_version"),
        from_env("ST2_API_VERSION"),
        ("default", DEFAULT_API_VERSION),
    )
    flag_base = _arg(args, "base_url")
    base_url = chain.pick(
        "base_url",
        ("--url", flag_base),
        from_profile("url"),
        from_file("general", "base_url"),
        from_env("ST2_BASE_URL"),
        ("default", DEFAULT_BASE_URL),
    )
    # A profile's url is always a front door; CLI-sourced base URLs follow the CLI-compatible rule.
    front_door = True if (profile and not flag_base and profile.url) else None
    auth_derived, api_derived, stream_derived = derive_endpoints(base_url, api_version, front_door=front_door)
    derived = {"auth_url": auth_derived, "api_url": api_derived, "stream_url": stream_derived}
    endpoints = {}
    for name, section, variable in (
        ("api_url", "api", "ST2_API_URL"),
        ("auth_url", "auth", "ST2_AUTH_URL"),
        ("stream_url", "stream", "ST2_STREAM_URL"),
    ):
        endpoints[name] = chain.pick(
            name,
            (f"--{name.replace('_', '-')}", _arg(args, name)),
            from_profile(name),
            from_file(section, "url"),
            from_env(variable),
            (f"derived from {chain.sources['base_url']}", derived[name]),
        ).rstrip("/")

    cacert_raw = chain.pick(
        "cacert",
        ("--cacert", _arg(args, "cacert")),
        from_profile("cacert"),
        from_file("general", "cacert"),
        from_env("ST2_CACERT"),
    )
    cacert, verify = _cacert_value(cacert_raw)
    if cacert is not None:
        cacert = os.path.expanduser(cacert)
        if not Path(cacert).is_file():
            raise ConfigError(f'CA cert file "{cacert}" does not exist (from {chain.sources["cacert"]})')
    insecure = bool(_arg(args, "insecure")) or bool(profile and profile.insecure) or verify is False
    if insecure:
        chain.sources["insecure"] = (
            "--insecure" if _arg(args, "insecure") else chain.sources.get("cacert", "profile")
        )

    token = chain.pick("token", ("--token", _arg(args, "token")), from_env("ST2_AUTH_TOKEN"))
    api_key = chain.pick(
        "api_key",
        ("--api-key", _arg(args, "api_key")),
        from_file("credentials", "api_key"),
        from_env("ST2_API_KEY"),
    )
    # st2 itself reads no username variable (`st2 login` writes [credentials] username): ours says st2tui.
    username = chain.pick(
        "username",
        ("--username", _arg(args, "username")),
        from_profile("username"),
        from_file("credentials", "username"),
        ("$ST2TUI_USERNAME", env.get("ST2TUI_USERNAME")),
    )
    password = chain.pick("password", from_file("credentials", "password"))
    basic_auth_raw = chain.pick(
        "basic_auth", ("--basic-auth", _arg(args, "basic_auth")), from_file("credentials", "basic_auth")
    )
    basic_auth = None
    if basic_auth_raw:
        user, sep, secret = str(basic_auth_raw).partition(":")
        if not sep:
            raise ConfigError("basic_auth needs the username:password notation")
        basic_auth = (user, secret)

    connection = Connection(
        api_url=endpoints["api_url"],
        auth_url=endpoints["auth_url"],
        stream_url=endpoints["stream_url"],
        base_url=base_url.rstrip("/"),
        profile=profile.name if profile else None,
        token=token,
        api_key=api_key,
        username=username,
        password=password,
        cacert=cacert,
        insecure=insecure,
        basic_auth=basic_auth,
        cache_token=st2.cache_token if st2 else True,
        api_key_in_keyring=bool(profile and profile.api_key_in_keyring),
        sources={**chain.sources, **({"profile": profile_label} if profile else {})},
    )
    settings = app.settings
    if _arg(args, "readonly"):
        settings = replace(settings, readonly=True)
    return Resolved(connection=connection, settings=settings, app_config=app, st2_config=st2)
