"""Keeping secrets out of what st2tui writes: the log file, `--debug` curl lines and crash reports.

Masking by field name (``password``, ``X-Auth-Token``, ...) happens where requests are logged; this
module is the second line: every value known to be secret in this process (the password, the token,
the API key, secret parameters and keys the user typed) is registered here, and every line st2tui
writes passes through :func:`redact`, whatever the field was called.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "********"

# Shorter values would mask ordinary words (a password "st2" would blank every "st2" in the log).
MIN_SECRET_LENGTH = 4

# Credential-looking fragments masked even when the value was never registered (e.g. a token from
# another process in a traceback): st2 headers, query parameters and JSON fields.
_CREDENTIAL_PATTERNS = [
    re.compile(
        r"(?i)((?:x-auth-token|st2-api-key|authorization)['\"]?\s*[:=]\s*['\"]?)(?:basic\s+)?[^\s'\",}]+"
    ),
    re.compile(r"(?i)((?:x-auth-token|st2-api-key|password|token)=)[^&\s'\"]+"),
    re.compile(r"(?i)(['\"](?:password|token|api_key|key_hash)['\"]\s*:\s*['\"])[^'\"]*"),
]


class SecretRegistry:
    """The secret values this process knows; thread-safe (the demo server and log handlers may run
    in other threads).

    Adding is O(1) (a form may register megabyte values on every submit); redacting tests each value
    with `in`, which costs nothing for values longer than the text at hand, as most are.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        # Longest first, so a secret containing another is masked whole.
        self._ordered: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, *values: object) -> None:
        """Register secret values; None, non-strings and very short strings are ignored."""
        fresh = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH} - self._values
        if not fresh:
            return
        with self._lock:
            self._values |= fresh
            self._ordered = tuple(sorted(self._values, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for value in self._ordered:
            if value in text:
                text = text.replace(value, MASK)
        for credential in _CREDENTIAL_PATTERNS:
            text = credential.sub(lambda match: match.group(1) + MASK, text)
        return text


secrets = SecretRegistry()


def remember_secret(*values: object) -> None:
    """Register values that must never be written anywhere (see module docstring)."""
    secrets.add(*values)


def redact(text: str) -> str:
    """``text`` with every registered secret and credential-looking fragment masked."""
    return secrets.redact(text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments and tracebacks alike) goes through :func:`redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
