#!/usr/bin/env python3
"""examples.all-param-types: print the arguments received from st2's local-shell-script runner.

st2 passes parameters that have a `position` positionally (message, count, level) after the others,
which arrive as `--name=value` (booleans as a bare `--name` when true, and are left out when false
or empty). Arrays and objects of named arguments arrive as Python literals.
"""

from __future__ import annotations

import sys

POSITIONAL = ("message", "count", "level")
SECRETS = {"api_token"}


def describe(name: str, value: str) -> str:
    if name in SECRETS:
        return f"<{len(value)} characters, not shown>"
    lines = value.split("\n")
    return "\n".join([lines[0], *("      " + line for line in lines[1:])])


def report(argv: list[str]) -> list[str]:
    """The lines printed for the given arguments."""
    named: list[tuple[str, str]] = []
    positional: list[str] = []
    for arg in argv:
        if arg.startswith("-") and len(arg) > 1 and not arg.lstrip("-")[:1].isdigit():
            name, has_value, value = arg.lstrip("-").partition("=")
            named.append((name, value if has_value else "true"))
        else:
            positional.append(arg)
    lines = [f"Received {len(positional)} positional and {len(named)} named arguments."]
    for index, value in enumerate(positional):
        name = POSITIONAL[index] if index < len(POSITIONAL) else f"extra{index}"
        lines.append(f"  [{index}] {name}: {describe(name, value)}")
    for name, value in sorted(named):
        lines.append(f"  --{name}: {describe(name, value)}")
    return lines


def main() -> int:
    print("\n".join(report(sys.argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
