"""Text from a server made safe to draw: one cleaner for every string st2tui did not write itself.

A terminal acts on control characters: ESC starts sequences that set the window title (OSC 0/2), write
the clipboard (OSC 52), make links (OSC 8), move the cursor or clear the screen (CSI), or talk to the
terminal itself (DCS); C1 controls (U+0080-U+009F, e.g. U+009B, a one-byte CSI) do the same on many
terminals, and bidi overrides and isolates make text read other than it is. So each such character is
shown as a visible stand-in, as `cat -v` and `less` do, and the rest of the sequence stays as plain text:

- C0 controls and DEL as Unicode control pictures: ESC as ␛, BEL as ␇, NUL as ␀, DEL as ␡;
- C1 controls and bidi controls as their code point in angle brackets: <U+009B>, <U+202E>;
- lone surrogates (invalid UTF-8 decoded with surrogateescape, or JSON escapes) as U+FFFD.

Tabs and newlines stay (a carriage return before a newline goes). No Textual here: api-side code and
widgets share it.
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE_RE", "visible", "without_colours"]

# C0 but tab and newline, DEL, C1, bidi embeddings/overrides (U+202A-E) and isolates (U+2066-9), surrogates.
UNSAFE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# SGR (colour and weight) sequences only: harmless but noisy, so the Output tab drops them.
_SGR_RE = re.compile(r"\x1b\[[0-9;:]*m")


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "␡"
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """`text` with every control character a terminal would act on shown as a visible stand-in."""
    if UNSAFE_RE.search(text) is None:
        return text
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return UNSAFE_RE.sub(_stand_in, text)


def without_colours(text: str) -> str:
    """`text` without its SGR colour sequences (a command's `ls --color`), every other control shown."""
    if "\x1b" in text:
        text = _SGR_RE.sub("", text)
    return visible(text)
