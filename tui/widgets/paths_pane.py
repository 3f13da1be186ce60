"""The Paths pane: every path from a node to the output, each with the product of its local
Jacobians, and their sum, which is the total derivative (the sum-over-paths rule), then
the same derivative written as one formula."""

from __future__ import annotations

from contextlib import suppress

from rich.text import Text

from .text_pane import TextPane

PATH_LIMIT = 32  # paths listed; the rest are counted


class PathsPane(TextPane):
    """Lists ``graph.paths(node)``: the engine multiplies and adds, this pane only shows."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._key = None

    def show(self, graph, node) -> None:
        """Paths from ``node`` to the output (from the first input when ``node`` is the
        output itself or None)."""
        if node is None or node is graph.output:
            node = next(iter(graph.inputs.values()), None)
        key = (id(graph), None if node is None else node.id)
        if key == self._key:
            return
        self._key = key
        if node is None:
            self.set_lines([Text(f"{graph.name} has no inputs.")])
            self.set_titles("Paths")
            return
        paths = graph.paths(node, limit=PATH_LIMIT)
        self.set_titles(f"Paths · {node.label} → {graph.output.label} · {paths.total_count}")
        lines = paths.text.splitlines()
        # the same paths as one expression, unless there are more than a formula is written for
        with suppress(ValueError):
            lines += ["", f"formula: {graph.formula(node, limit=PATH_LIMIT)}"]
        self.set_lines([Text(line, no_wrap=True, overflow="ellipsis") for line in lines])
