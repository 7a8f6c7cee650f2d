"""Inputs that never hand control characters to the terminal (it would act on an escape sequence,
a bell or a NUL typed or pasted into a field); the value keeps them, as typed.

Kept apart from the form fields so that the main screen's bars use it without loading them."""

from __future__ import annotations

import re

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Input

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def without_control(strip: Strip) -> Strip:
    """A drawn line without control characters: they take no cell, so the cursor stays where it was."""
    if not any(CONTROL_CHARACTERS.search(segment.text) for segment in strip):
        return strip
    segments = [
        Segment(CONTROL_CHARACTERS.sub("", segment.text), segment.style, segment.control) for segment in strip
    ]
    return Strip(segments, strip.cell_length)


class SafeInput(Input):
    """An input that never hands control characters (escape sequences, bells, NUL) to the terminal;
    the value keeps them, as typed."""

    def render_line(self, y: int) -> Strip:
        return without_control(super().render_line(y))
