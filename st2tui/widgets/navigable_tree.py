"""A Tree with the keys every st2tui list has (`k`/`j`, `g`/`G`, page keys, `l`/`h` to unfold and fold),
so the actions tree and a workflow's task tree move like the tables do."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Tree


def tree_bindings(prefix: str) -> list[Binding]:
    """The list keys under binding ids of `prefix` (`actions.up`, `workflow.expand`, ...), remappable."""
    return [
        Binding("up,k", "cursor_up", "Up", show=False, id=f"{prefix}.up", tooltip="Previous row"),
        Binding("down,j", "cursor_down", "Down", show=False, id=f"{prefix}.down", tooltip="Next row"),
        Binding("pageup", "page_up", "Page up", show=False, id=f"{prefix}.page-up", tooltip="One page up"),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            id=f"{prefix}.page-down",
            tooltip="One page down",
        ),
        Binding(
            "home,g", "scroll_home", "First", show=False, id=f"{prefix}.first", tooltip="Go to the first row"
        ),
        Binding("end,G", "scroll_end", "Last", show=False, id=f"{prefix}.last", tooltip="Go to the last row"),
        Binding(
            "right,l", "expand", "Expand", show=False, id=f"{prefix}.expand", tooltip="Show the children"
        ),
        Binding(
            "left,h",
            "collapse",
            "Collapse",
            show=False,
            id=f"{prefix}.collapse",
            tooltip="Hide the children, or go to the parent",
        ),
    ]


class NavigableTree(Tree[str]):
    """Subclasses add `*tree_bindings("their-prefix")` to their BINDINGS."""

    def action_expand(self) -> None:
        node = self.cursor_node
        if node is not None and node.children:
            if node.is_expanded:
                self.action_cursor_down()
            else:
                node.expand()

    def action_collapse(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.children:
            node.collapse()
        elif node.parent is not None and not (node.parent.is_root and not self.show_root):
            self.move_cursor(node.parent)
