"""The Paths pane: every path from a node to the output, each with the product of its local
Jacobians, and their sum, which is the total derivative (the sum-over-paths rule)."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

PATH_LIMIT = 32  # paths listed; the rest are counted


class PathsPane(VerticalScroll):
    """Lists ``graph.paths(node)``: the engine multiplies and adds, this pane only shows."""

    DEFAULT_CSS = """
    PathsPane > Static { width: auto; min-width: 100%; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._key = None

    def compose(self):
        yield Static(id="paths-body")

    def show(self, graph, node) -> None:
        """Paths from ``node`` to the output (from the first input when ``node`` is the
        output itself or None)."""
        if node is None or node is graph.output:
            node = next(iter(graph.inputs.values()), None)
        key = (id(graph), None if node is None else node.id)
        if key == self._key:
            return
        self._key = key
        body = self.query_one("#paths-body", Static)
        if node is None:
            body.update(Text(f"{graph.name} has no inputs."))
            self.border_title = "Paths"
            return
        paths = graph.paths(node, limit=PATH_LIMIT)
        self.border_title = f"Paths · {node.label} → {graph.output.label} · {paths.total_count}"
        body.update(Text(paths.text, no_wrap=True))
