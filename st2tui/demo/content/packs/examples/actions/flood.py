#!/usr/bin/env python3
"""examples.flood: print `lines` numbered lines of `line_length` characters at `rate` lines/second.

Arguments arrive as st2's local-shell-script runner passes them: positionally (lines, rate,
line_length) or as `--name=value`. st2 serializes the integer 0 of a positional argument as an empty
string, so an empty value means the default.
"""

from __future__ import annotations

import sys
import time

POSITIONAL = ("lines", "rate", "line_length")
DEFAULTS = {"lines": 5000, "rate": 0, "line_length": 80}
BATCH = 500
TICK = 0.02
WORDS = "the quick brown fox jumps over the lazy dog while stackstorm streams every line "


def parse_args(argv: list[str]) -> dict[str, int]:
    raw: dict[str, str] = {}
    positional: list[str] = []
    for arg in argv:
        if arg.startswith("-") and "=" in arg:
            name, _, value = arg.lstrip("-").partition("=")
            raw[name] = value
        else:
            positional.append(arg)
    for name, value in zip(POSITIONAL, positional, strict=False):
        raw.setdefault(name, value)
    return {name: int(raw.get(name) or default) for name, default in DEFAULTS.items()}


def make_line(number: int, total: int, filler: str, length: int) -> str:
    head = f"{number:0{len(str(total))}d} "
    return (head + filler)[:length] + "\n"


def main() -> int:
    args = parse_args(sys.argv[1:])
    total, rate, length = args["lines"], args["rate"], max(args["line_length"], 16)
    filler = (WORDS * (length // len(WORDS) + 2))[:length]
    out, err = sys.stdout, sys.stderr
    started = time.monotonic()
    number = 0
    while number < total:
        if rate > 0:
            due = min(total, int((time.monotonic() - started) * rate) + 1)
            if due <= number:
                time.sleep(TICK)
                continue
        else:
            due = min(total, number + BATCH)
        chunk = []
        while number < due:
            number += 1
            chunk.append(make_line(number, total, filler, length))
            if number % 1000 == 0:
                out.write("".join(chunk))
                out.flush()
                chunk = []
                err.write(f"progress: {number}/{total} lines\n")
                err.flush()
        out.write("".join(chunk))
        out.flush()
    elapsed = time.monotonic() - started
    err.write(f"done: {total} lines in {elapsed:.2f}s ({total / max(elapsed, 1e-6):.0f} lines/s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
