"""Secrets st2tui remembers: passwords and API keys in the OS keyring, tokens in the st2 CLI's cache.

st2tui never writes a password or API key to a file. When no keyring backend is usable, the
``SecretStore`` says so (``status()``, ``KeyringUnavailable``) so the UI can ask instead.

The token cache is the ``st2`` CLI's own: ``~/.st2/token-<user>`` holding
``{"token": "...", "expire_timestamp": <unix seconds>}``, directory mode 2770 and file mode 0660,
so a ``st2 login`` session is reused by st2tui and the other way round.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from st2tui.models import TOKEN_GRACE_SECONDS, Token

if TYPE_CHECKING:
    import keyring.backend

__all__ = [
    "CachedToken",
    "KeyringStatus",
    "KeyringUnavailable",
    "SecretStore",
    "TokenCache",
]

logger = logging.getLogger("st2tui.credentials")

API_KEY_ACCOUNT = "api_key"


class KeyringUnavailable(Exception):
    """No usable keyring backend, or the backend failed (locked, denied, D-Bus down)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class KeyringStatus:
    """Whether secrets can be remembered, and why not."""

    available: bool
    backend: str
    reason: str = ""


class SecretStore:
    """Passwords and API keys in the OS keyring, per installation (``Connection.keyring_service``).

    keyring is imported on first use: finding its backends takes ~40 ms that a start with a token, an API
    key or a password given does not need.
    """

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend

    def _keyring(self) -> keyring.backend.KeyringBackend:
        import keyring

        return self._backend if self._backend is not None else keyring.get_keyring()

    def status(self) -> KeyringStatus:
        try:
            backend = self._keyring()
        except Exception as exc:
            return KeyringStatus(False, "unknown", f"keyring could not be initialised: {exc}")
        from keyring.backends import fail, null

        name = f"{type(backend).__module__}.{type(backend).__name__}"
        if isinstance(backend, fail.Keyring):
            return KeyringStatus(False, name, "no keyring backend is installed or reachable")
        if isinstance(backend, null.Keyring):
            return KeyringStatus(False, name, "the keyring is disabled (null backend)")
        return KeyringStatus(True, name)

    def _usable(self) -> keyring.backend.KeyringBackend:
        status = self.status()
        if not status.available:
            raise KeyringUnavailable(status.reason)
        return self._keyring()

    def get_password(self, service: str, username: str) -> str | None:
        """The remembered password, or None when none is stored; ``KeyringUnavailable`` if no keyring works."""
        import keyring.errors

        try:
            return self._usable().get_password(service, username)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"keyring read failed: {exc}") from exc

    def set_password(self, service: str, username: str, password: str) -> None:
        import keyring.errors

        try:
            self._usable().set_password(service, username, password)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"keyring write failed: {exc}") from exc

    def delete_password(self, service: str, username: str) -> None:
        """Forget a password; forgetting one that is not stored is fine."""
        import keyring.errors

        try:
            self._usable().delete_password(service, username)
        except keyring.errors.PasswordDeleteError:
            return
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"keyring delete failed: {exc}") from exc

    def get_api_key(self, service: str) -> str | None:
        return self.get_password(f"{service}:api_key", API_KEY_ACCOUNT)

    def set_api_key(self, service: str, api_key: str) -> None:
        self.set_password(f"{service}:api_key", API_KEY_ACCOUNT, api_key)

    def delete_api_key(self, service: str) -> None:
        self.delete_password(f"{service}:api_key", API_KEY_ACCOUNT)


@dataclass(frozen=True)
class CachedToken:
    """A token read from the st2 CLI cache."""

    user: str
    token: str
    expire_timestamp: int
    path: Path

    @property
    def expiry(self) -> datetime:
        return datetime.fromtimestamp(self.expire_timestamp, tz=timezone.utc)


class TokenCache:
    """The st2 CLI token cache in ``<directory>`` (``~/.st2``), read and written in its exact format."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Said once per file (the app shows them too): a cache others can write may hold their token.
        self.warnings: list[str] = []

    @classmethod
    def for_home(cls, home: Path) -> TokenCache:
        return cls(home / ".st2")

    def path_for(self, user: str) -> Path:
        return self.directory / f"token-{user}"

    def load(self, user: str, *, now: float | None = None) -> CachedToken | None:
        """The cached token of ``user`` unless missing, unreadable, corrupt or within 15 s of expiry.

        The token is not checked against the server; a 401 later makes the client log in again.
        """
        path = self.path_for(user)
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("Cannot read cached token %s: %s", path, exc)
            return None
        if mode & 0o022:
            who = "everyone" if mode & 0o002 else "its group"
            warning = (
                f"The cached token {path} is writable by {who}: someone else could have put their token "
                f"there. Using it; restrict it with chmod 600 {path}"
            )
            if warning not in self.warnings:
                self.warnings.append(warning)
                logger.warning("%s", warning)
        try:
            data = json.loads(text)
            token, expire_timestamp = data["token"], int(data["expire_timestamp"])
            if not isinstance(token, str) or not token:
                raise ValueError("empty token")
        except (ValueError, KeyError, TypeError) as exc:
            # The st2 CLI refuses to run until the file is deleted; st2tui logs in and overwrites it.
            logger.warning("Cached token file %s is corrupt (%s); ignoring it", path, exc)
            return None
        current = time.time() if now is None else now
        if expire_timestamp - TOKEN_GRACE_SECONDS < current:
            return None
        return CachedToken(user=user, token=token, expire_timestamp=expire_timestamp, path=path)

    def save(self, token: Token) -> Path | None:
        """Cache ``token`` under the user the server returned; None (and a warning) when it cannot be written."""
        if not token.user or token.expire_timestamp is None:
            logger.warning("Not caching a token without user or expiry")
            return None
        path = self.path_for(token.user)
        try:
            if not self.directory.is_dir():
                # Ours alone (st2client makes it 2770 for a group; a token is a password for a day).
                self.directory.mkdir(mode=0o700, parents=True)
                os.chmod(self.directory, 0o700)
            data = json.dumps({"token": token.token, "expire_timestamp": token.expire_timestamp})
            # Created with its final mode so other users never get a window to read it. Unlike st2client
            # we truncate, so a longer corrupt file cannot leave trailing garbage.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.chmod(path, 0o600)
        except OSError as exc:
            logger.warning("Cannot cache token in %s: %s", path, exc)
            return None
        return path

    def delete(self, user: str) -> None:
        """Forget the cached token of ``user`` (sign out)."""
        self.path_for(user).unlink(missing_ok=True)
