"""Jump to a node by name from the command palette (ctrl+p or /)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .screens.debug import DebugScreen
from .text import caption


class NodeCommands(Provider):
    """Offers every node of the open graph: its label, operation and source line."""

    def _nodes(self):
        screen = self.screen
        if not isinstance(screen, DebugScreen):
            return []
        return [(f"{caption(node)}  {node.call_text if node.inputs else node.op}",
                 f"{node.source}  {node.source.line}", node, screen)
                for node in screen.graph.nodes]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        exact = self._named(query.strip())
        for text, where, node, screen in self._nodes():
            score = 1.0 if node is exact else matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(screen.jump_to, node), text=text,
                          help=where)

    def _named(self, query: str):
        """The node the query names exactly (``u7`` and ``u₇`` alike, an input, an id), if
        any: it comes first even though fuzzy matching cannot see ``7`` in ``u₇``."""
        screen = self.screen
        if not isinstance(screen, DebugScreen) or not query:
            return None
        try:
            return screen.graph.node(query)
        except KeyError:
            return None

    async def discover(self) -> Hits:
        for text, where, node, screen in self._nodes():
            yield DiscoveryHit(text, partial(screen.jump_to, node), help=where)
