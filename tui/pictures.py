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

import os
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .layout import NodeSpec, Picture, layout
from .text import brief_value, caption

DETAILS = ("captions", "boxes", "values")
FOCUS_THRESHOLD = 60  # above this many nodes the Graph pane opens in the focus view
FOCUS_LIMIT = 40      # a neighbourhood larger than this shrinks to fewer hops
# Graphviz's own layout can take minutes where values fan out widely (a 300-node unrolled
# recurrent cell whose weights feed every step: over 200 s); ours takes under a second.
GRAPHVIZ_TIMEOUT = 3.0


def node_lines(node, detail: int) -> tuple[str, ...]:
    if detail < 2:
        return (caption(node),)
    if node.op == "const" and np.ndim(node.value) == 0:
        return (caption(node), "const")  # its caption is already its value
    return (caption(node), brief_value(node.value))


def whole(graph, detail: int = 1, progress: Callable[[float], None] | None = None,
          use_graphviz: bool = False) -> Picture:
    """Every node of ``graph``.  With ``use_graphviz``, ranks and order come from Graphviz
    when a Graphviz program is installed and answers within :data:`GRAPHVIZ_TIMEOUT`."""
    return _picture(graph, range(len(graph.nodes)), detail, set(), progress, use_graphviz)


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
    """Whether any node was made inside a user function called by the traced one."""
    return any(len(node.call_path) > 1 for node in graph.nodes)


def collapsed(graph, detail: int = 1) -> Collapsed:
    """The graph with each top-level user-function call folded into one box.

    A call's nodes are made while it runs, so they are contiguous on the tape and the
    folded graph is still a DAG, in tape order."""
    group_of: dict[int, tuple] = {}
    for node in graph.nodes:
        path = node.call_path
        group_of[node.id] = ("call", path[1]) if len(path) > 1 else ("node", node.id)
    vertex_of: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    vertex_for: dict[tuple, int] = {}
    for node in graph.nodes:  # vertices numbered by their first node: a topological order
        group = group_of[node.id]
        if group not in vertex_for:
            vertex_for[group] = len(vertex_for)
        vertex_of[node.id] = vertex_for[group]
        members.setdefault(vertex_for[group], []).append(node.id)
    ports: dict[int, list[int]] = {vertex: [] for vertex in members}
    edges: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    for node in graph.nodes:
        target = vertex_of[node.id]
        for arg, operand in enumerate(node.inputs):
            source = vertex_of[operand.id]
            if source == target:
                continue
            if group_of[node.id][0] == "node":
                port = arg  # a plain node keeps its argument slots
            else:
                if source not in ports[target]:
                    ports[target].append(source)
                port = ports[target].index(source)
            edges[(operand.id, node.id, arg)] = (source, target, port)
    specs = []
    for vertex, ids in members.items():
        first = graph.nodes[ids[0]]
        if group_of[first.id][0] == "node":
            specs.append(NodeSpec(vertex, node_lines(first, detail), len(first.inputs)))
            continue
        call = graph.calls[first.call_path[1]]
        lines = (f"{call.function}() · {len(ids)} nodes",)
        if detail >= 2:
            lines += (f"{os.path.basename(call.filename)}:{call.lineno}",)
        specs.append(NodeSpec(vertex, lines, len(ports[vertex])))
    picture = layout(specs, set(edges.values()), boxed=detail > 0)
    return Collapsed(picture, vertex_of, {v: tuple(ids) for v, ids in members.items()}, edges)


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


def graphviz_placement(specs: list[NodeSpec], edges, boxed: bool):
    """Node id → (rank, x) from Graphviz's layered layout (``-Tplain``), or None when no
    Graphviz program is installed, it fails, or it takes longer than
    :data:`GRAPHVIZ_TIMEOUT`: the picture then needs none.

    Each node is a fixed-size box as wide as its caption; ``ordering=in`` keeps operands in
    argument order, so Graphviz's crossing reduction respects the ports.
    """
    from graphviz_ad.render import find_program

    program = find_program()
    if program is None:
        return None
    lines = ["digraph {", "graph [ordering=in, nodesep=0.2, ranksep=0.3];",
             f"node [shape=box, fixedsize=true, height={0.3 if boxed else 0.1}];"]
    for spec in specs:
        width = max(len(line) for line in spec.lines) + (4 if boxed else 1)
        lines.append(f"n{spec.id} [width={width / 10:.2f}];")
    lines += [f"n{source} -> n{target};" for source, target, _ in edges]
    lines.append("}")
    try:
        done = subprocess.run([program.path, "-Tplain"], input="\n".join(lines).encode(),
                              capture_output=True, timeout=GRAPHVIZ_TIMEOUT, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    centres = {}
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        fields = line.split()
        if fields and fields[0] == "node":
            centres[int(fields[1][1:])] = (float(fields[3]), float(fields[2]))
    levels = sorted({round(y, 3) for y, _ in centres.values()}, reverse=True)
    rank_of = {level: rank for rank, level in enumerate(levels)}
    return {node_id: (rank_of[round(y, 3)], x) for node_id, (y, x) in centres.items()}


def _picture(graph, ids: Iterable[int], detail: int, cut: set, progress,
             use_graphviz: bool = False) -> Picture:
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
    placement = graphviz_placement(specs, edges, detail > 0) if use_graphviz else None
    return layout(specs, edges, boxed=detail > 0, progress=progress, placement=placement)
