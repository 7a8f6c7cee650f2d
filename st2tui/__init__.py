"""st2tui: a keyboard-driven terminal UI for StackStorm."""

__version__ = "0.1.0"
