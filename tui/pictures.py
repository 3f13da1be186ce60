"""Pictures of a traced graph for the Graph pane: the whole graph, or the neighbourhood of
the nodes a step is about (the focus view that keeps a large graph readable).

Three levels of detail: ``0`` bare captions (densest), ``1`` captions in boxes, ``2`` boxes
with a second line holding a scalar's value or an array's shape.

>>> import graphviz_ad as gad
>>> g = gad.trace(lambda x: x * x, 3.0)
>>> print(whole(g, detail=0).text())
    x
   ╭┴╮
   ▼ ▼
 u₁ ×
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .layout import NodeSpec, Picture, layout
from .text import brief_value, caption

DETAILS = ("captions", "boxes", "values")
FOCUS_THRESHOLD = 60  # above this many nodes the Graph pane opens in the focus view
FOCUS_LIMIT = 40      # a neighbourhood larger than this shrinks to fewer hops


def node_lines(node, detail: int) -> tuple[str, ...]:
    if detail < 2:
        return (caption(node),)
    return (caption(node), brief_value(node.value))


def whole(graph, detail: int = 1, progress: Callable[[float], None] | None = None) -> Picture:
    """Every node of ``graph``."""
    return _picture(graph, range(len(graph.nodes)), detail, set(), progress)


def consumers_of(graph) -> dict[int, list[int]]:
    """Node id → ids of the nodes that use it."""
    consumers: dict[int, list[int]] = {}
    for node in graph.nodes:
        for operand in node.inputs:
            consumers.setdefault(operand.id, []).append(node.id)
    return consumers


def neighbourhood(graph, centres: Iterable[int], hops: int, consumers=None) -> list[int]:
    """Ids of the nodes at most ``hops`` edges (either direction) from ``centres``."""
    if consumers is None:
        consumers = consumers_of(graph)
    seen = set(centres)
    frontier = list(seen)
    for _ in range(hops):
        reached = []
        for node_id in frontier:
            neighbours = [o.id for o in graph.nodes[node_id].inputs]
            neighbours += consumers.get(node_id, [])
            for other in neighbours:
                if other not in seen:
                    seen.add(other)
                    reached.append(other)
        frontier = reached
    return sorted(seen)


def focus(graph, centres: Iterable[int], detail: int = 1, hops: int = 2) -> Picture:
    """The neighbourhood of ``centres`` re-laid out on its own; nodes with neighbours left
    out are marked ``⋯``.  The neighbourhood shrinks (fewer hops) when it is too large."""
    centres = sorted(set(centres))
    consumers = consumers_of(graph)
    ids = neighbourhood(graph, centres, hops, consumers)
    while len(ids) > FOCUS_LIMIT and hops > 1:
        hops -= 1
        ids = neighbourhood(graph, centres, hops, consumers)
    shown = set(ids)
    cut = {node_id for node_id in ids
           if set(neighbourhood(graph, [node_id], 1, consumers)) - shown}
    return _picture(graph, ids, detail, cut, None)


def _picture(graph, ids: Iterable[int], detail: int, cut: set, progress) -> Picture:
    ids = list(ids)
    shown = set(ids)
    specs = []
    edges = []
    for node_id in ids:
        node = graph.nodes[node_id]
        lines = node_lines(node, detail)
        if node_id in cut:
            lines = (lines[0] + " ⋯", *lines[1:])
        specs.append(NodeSpec(node_id, lines, len(node.inputs)))
        edges += [(operand.id, node_id, arg) for arg, operand in enumerate(node.inputs)
                  if operand.id in shown]
    return layout(specs, edges, boxed=detail > 0, progress=progress)
