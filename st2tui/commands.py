"""The command palette (ctrl+p): what can be done with what is selected, plus pane switches and profiles.

The screen decides which commands exist right now (`palette_commands()`), so the palette never
offers cancel for a finished execution, nor anything that changes state in read-only mode.

One provider serves the palette, so st2tui's commands always come first: Textual's system commands
(theme, screenshot, maximize, quit) follow them, both when browsing and when searching.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    help: str
    run: Callable[[], object]


class ScreenCommands(Provider):
    """Commands offered by the active screen through its `palette_commands()` method, then Textual's."""

    def _commands(self) -> list[PaletteCommand]:
        offer = getattr(self.screen, "palette_commands", None)
        return list(offer()) if offer is not None else []

    def _system_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand(title, help, run)
            for title, help, run, discover in self.app.get_system_commands(self.screen)
            if discover
        ]

    async def discover(self) -> Hits:
        # Discovery hits all score 0 and keep the order they arrive in.
        for command in [*self._commands(), *self._system_commands()]:
            yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        # Matches are sorted by score: st2tui's take the upper half of the range, Textual's the lower.
        matcher = self.matcher(query)
        for commands, floor in ((self._commands(), 0.5), (self._system_commands(), 0.0)):
            for command in commands:
                score = matcher.match(command.title)
                if score > 0:
                    yield Hit(
                        floor + score / 2, matcher.highlight(command.title), command.run, help=command.help
                    )
