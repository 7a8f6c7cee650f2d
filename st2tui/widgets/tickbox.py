"""A checkbox whose box is empty when it is off."""

from __future__ import annotations

from textual.widgets import Checkbox


class Tickbox(Checkbox):
    """Textual draws the X in both states and tells them apart by colour only: an unticked box, disabled
    or in a 256-colour terminal, read as ticked. Here the X is drawn only when the box is ticked."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # a class constant in Textual
        return "X" if self.value else " "
