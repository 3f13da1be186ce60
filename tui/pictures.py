"""Pictures of a traced graph for the Graph pane: the whole graph, or the neighbourhood of
the nodes a step is about (the focus view that keeps a large graph readable).

Three levels of detail: ``0`` bare captions (densest), ``1`` captions in boxes, ``2`` boxes
with a second line for a number: the node's value, or in a backward (tangent) pass what the
step engine has accumulated there (the Graph canvas writes it over the value).

>>> import graphviz_ad as gad
>>> g = gad.trace(lambda x: x * x, 3.0)
>>> print(whole(g, detail=0).text())
    x
   ╭┴╮
   ▼ ▼
 u₁ ×
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from graphviz_ad.errors import RenderError
from graphviz_ad.render import Options
from graphviz_ad.render.export import node_positions
from graphviz_ad.render.view import build_view, consumers, neighbourhood, user_calls

from .layout import NodeSpec, Picture, layout
from .text import caption, value_line

DETAILS = ("captions", "boxes", "values")
FOCUS_THRESHOLD = 60  # above this many nodes the Graph pane opens in the focus view
FOCUS_LIMIT = 40      # a neighbourhood larger than this shrinks to fewer hops
# Graphviz's own layout can take minutes where values fan out widely (a 300-node unrolled
# recurrent cell whose weights feed every step: over 200 s); ours takes under a second.
GRAPHVIZ_TIMEOUT = 3.0
# The view model's options for a picture of whole boxes: every node drawn as itself, or
# (COLLAPSED) each top-level user function call as one box.
_PLAIN = {"fold_constants": False, "clusters": False, "legend": False, "values": False}
COLLAPSED = Options(collapse=True, **_PLAIN)


def node_lines(node, detail: int) -> tuple[str, ...]:
    if detail < 2:
        return (caption(node),)
    if node.op == "const" and np.ndim(node.value) == 0:
        return (caption(node), "const")  # its caption is already its value
    return (caption(node), value_line(node.value))


def whole(graph, detail: int = 1, progress: Callable[[float], None] | None = None,
          use_graphviz: bool = False) -> Picture:
    """Every node of ``graph``.  With ``use_graphviz``, ranks and order come from Graphviz
    when a Graphviz program is installed and answers within :data:`GRAPHVIZ_TIMEOUT`."""
    placement = graphviz_placement(graph) if use_graphviz else None
    return _picture(graph, range(len(graph.nodes)), detail, set(), progress, placement)


@dataclass(frozen=True)
class Collapsed:
    """A picture whose vertices are user-function calls (each a box standing for the nodes
    made inside it) and the nodes made outside any call.  ``vertex_of`` maps a node id to
    its vertex id; ``edges`` maps a graph edge (source, target, arg) between two vertices
    to the picture's edge."""

    picture: Picture
    vertex_of: dict[int, int]
    members: dict[int, tuple[int, ...]]
    edges: dict[tuple[int, int, int], tuple[int, int, int]]


def has_calls(graph) -> bool:
    """Whether the traced function called a user function (something to collapse)."""
    return bool(user_calls(graph))


def collapsed_boxes(graph) -> int:
    """How many boxes the collapsed picture has (each call one, each other node one)."""
    return len(set(build_view(graph, COLLAPSED).box.values()))


def collapsed(graph, detail: int = 1) -> Collapsed:
    """The graph with each top-level user-function call folded into one box: the view
    model's collapsed picture (:data:`COLLAPSED`), laid out for the terminal.

    A call's nodes are made while it runs, so they are contiguous on the tape and the
    folded graph is still a DAG, in tape order."""
    view = build_view(graph, COLLAPSED)
    vertex_of: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    vertex_for: dict[str, int] = {}
    for node in graph.nodes:  # vertices numbered by their first node: a topological order
        box = view.box[node.id]
        vertex = vertex_for.setdefault(box, len(vertex_for))
        vertex_of[node.id] = vertex
        members.setdefault(vertex, []).append(node.id)
    ports: dict[int, list[int]] = {vertex: [] for vertex in members}
    edges: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    for arrow in view.arrows:
        source, target = vertex_for[arrow.tail], vertex_for[arrow.head]
        for operand, consumer, arg in arrow.edges:
            if arrow.head not in view.collapsed:
                port = arg  # a plain node keeps its argument slots
            else:
                if source not in ports[target]:
                    ports[target].append(source)
                port = ports[target].index(source)
            edges[(operand.id, consumer.id, arg)] = (source, target, port)
    specs = []
    for box, vertex in vertex_for.items():
        group = view.collapsed.get(box)
        if group is None:
            node = graph.nodes[members[vertex][0]]
            specs.append(NodeSpec(vertex, node_lines(node, detail), len(node.inputs)))
            continue
        call = graph.calls[group.call]
        lines = (f"{call.function}() · {len(group.nodes)} nodes",)
        if detail >= 2:
            lines += (f"{os.path.basename(call.filename)}:{call.lineno}",)
        specs.append(NodeSpec(vertex, lines, len(ports[vertex])))
    picture = layout(specs, set(edges.values()), boxed=detail > 0)
    return Collapsed(picture, vertex_of, {v: tuple(ids) for v, ids in members.items()}, edges)


def focus(graph, centres: Iterable[int], detail: int = 1, hops: int = 2) -> Picture:
    """The neighbourhood of ``centres`` re-laid out on its own; nodes with neighbours left
    out are marked ``⋯``.  The neighbourhood shrinks (fewer hops) when it is too large."""
    centres = sorted(set(centres))
    users = consumers(graph)
    shown = neighbourhood(graph, centres, hops, users)
    while len(shown) > FOCUS_LIMIT and hops > 1:
        hops -= 1
        shown = neighbourhood(graph, centres, hops, users)
    cut = {node_id for node_id in shown
           if any(other.id not in shown
                  for other in (*graph.nodes[node_id].inputs, *users[node_id]))}
    return _picture(graph, sorted(shown), detail, cut, None)


def graphviz_placement(graph) -> dict[int, tuple[int, float]] | None:
    """Node id → (rank, x) from Graphviz's layout of the renderer's own picture of the
    graph (:func:`graphviz_ad.render.node_positions`), or None when no Graphviz program is
    installed, it fails, or it takes longer than :data:`GRAPHVIZ_TIMEOUT`: the picture then
    needs none."""
    try:
        positions = node_positions(graph, timeout=GRAPHVIZ_TIMEOUT)
    except RenderError:
        return None
    levels = sorted({round(y, 3) for _, y in positions.values()}, reverse=True)
    rank_of = {level: rank for rank, level in enumerate(levels)}
    return {node_id: (rank_of[round(y, 3)], x) for node_id, (x, y) in positions.items()}


def _picture(graph, ids: Iterable[int], detail: int, cut: set, progress,
             placement=None) -> Picture:
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
    return layout(specs, edges, boxed=detail > 0, progress=progress, placement=placement)
