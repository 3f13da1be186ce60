"""Which boxes and arrows a picture has: the graph walk, kept apart from writing DOT.

A *box* is what Graphviz draws as one node: a graph node (DOT name ``n5``) or a collapsed
user function call (``call3``).  Constants can be folded into their consumers, a focus view
keeps the k-hop neighbourhood of one node, and the nodes made inside a user function call
are grouped in a cluster (one per call: calling ``layer`` twice gives two clusters) or
collapsed to one box.

>>> import numpy as np, graphviz_ad as gad
>>> g = gad.trace(lambda x: x + x ** 2, 3.0)
>>> view = build_view(g, Options())
>>> [node.label for node in view.drawn], [c.label for c in view.folded[2]]
(['x', 'u₂', 'u₃'], ['2'])
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .options import Options


@dataclass
class Arrow:
    """One drawn arrow: the graph edges ``(operand, consumer, arg)`` it stands for (several
    when one end is a collapsed call) between the boxes ``tail`` and ``head``."""

    tail: str
    head: str
    edges: list = field(default_factory=list)


@dataclass
class View:
    drawn: list  # nodes drawn as themselves, in tape order
    folded: dict  # consumer id -> constants drawn inside it
    collapsed: dict  # call index -> the nodes its box stands for, in tape order
    box: dict  # node id -> DOT name of the box that shows it
    arrows: list  # Arrow, in tape order of their first edge
    cluster_of: dict  # DOT box name -> innermost open call index (clusters only)
    hidden: int  # nodes the focus view leaves out
    focus: object  # the focus node or None
    consumers: list  # node id -> the nodes that use it, in tape order


def build_view(graph, options: Options) -> View:
    """Decide what to draw: fold, focus, collapse and cluster, in tape order throughout."""
    focus = find_node(graph, options.focus) if options.focus is not None else None
    consumers = _consumers(graph)
    keep = _neighbourhood(graph, focus, consumers, options.hops) if focus is not None else None

    folded: dict[int, list] = {}
    drawn = []
    for node in graph.nodes:
        if keep is not None and node.id not in keep:
            continue
        if _foldable(node, graph, consumers, keep, options):
            for consumer in dict.fromkeys(consumers[node.id]):  # once per consumer
                folded.setdefault(consumer.id, []).append(node)
            continue
        drawn.append(node)

    collapsing = _collapsing(graph, options, len(drawn), focus)
    user_calls = _user_calls(graph)
    box: dict[int, str] = {}
    collapsed: dict[int, list] = {}
    cluster_of: dict[str, int] = {}
    shown = []
    for node in drawn:
        path = [i for i in node.call_path if i in user_calls]
        closed = next((i for i in path if _collapses(graph.calls[i], collapsing)), None)
        if closed is None:
            box[node.id] = f"n{node.id}"
            shown.append(node)
            open_path = path
        else:
            box[node.id] = f"call{closed}"
            collapsed.setdefault(closed, []).append(node)
            open_path = path[: path.index(closed)]
        if options.clusters and open_path:
            cluster_of[box[node.id]] = open_path[-1]

    hidden = len(graph.nodes) - len(keep) if keep is not None else 0
    return View(shown, folded, collapsed, box, _arrows(graph, box), cluster_of, hidden, focus,
                consumers)


def find_node(graph, key):
    """A node given as a Node, an id or a label (``"x"``, ``"u₇"``)."""
    if isinstance(key, int) and not isinstance(key, bool):
        if not 0 <= key < len(graph.nodes):
            raise ValueError(f"node id {key} is out of range: {graph.name} has "
                             f"{len(graph.nodes)} nodes")
        return graph.nodes[key]
    if isinstance(key, str):
        for node in graph.nodes:
            if node.label == key:
                return node
        raise ValueError(f"no node labelled {key!r} in {graph.name}")
    if key in graph.nodes:
        return key
    raise ValueError(f"{key!r} is not a node of {graph.name}")


def _consumers(graph) -> list[list]:
    consumers: list[list] = [[] for _ in graph.nodes]
    for node in graph.nodes:
        for operand in node.inputs:
            consumers[operand.id].append(node)
    return consumers


def _neighbourhood(graph, focus, consumers, hops: int) -> set[int]:
    """Ids of the nodes within ``hops`` edges of ``focus``, either direction (a BFS)."""
    distance = {focus.id: 0}
    queue = deque([focus])
    while queue:
        node = queue.popleft()
        if distance[node.id] == hops:
            continue
        for other in (*node.inputs, *consumers[node.id]):
            if other.id not in distance:
                distance[other.id] = distance[node.id] + 1
                queue.append(other)
    return set(distance)


def _foldable(node, graph, consumers, keep, options: Options) -> bool:
    if not options.fold_constants or node.op != "const" or node is graph.output:
        return False
    users = consumers[node.id]
    return bool(users) and all(keep is None or user.id in keep for user in users)


def _user_calls(graph) -> set[int]:
    """The calls worth a cluster: every call but the traced function itself."""
    return {call.index for call in graph.calls if call.parent is not None}


def _collapsing(graph, options: Options, size: int, focus):
    """The calls to collapse: a set of call indices and function names, or True for all."""
    collapse = options.collapse
    if collapse is None:
        return focus is None and size > options.threshold
    if isinstance(collapse, (bool, int, str)):
        return collapse if isinstance(collapse, bool) else {collapse}
    return set(collapse)


def _collapses(call, collapsing) -> bool:
    if isinstance(collapsing, bool):
        return collapsing
    return call.index in collapsing or call.function in collapsing


def _arrows(graph, box: dict) -> list[Arrow]:
    """One arrow per edge between graph nodes (``x*x`` gives two); edges into or out of a
    collapsed call merge into one arrow per pair of boxes; edges inside one vanish."""
    arrows: dict[tuple, Arrow] = {}
    for consumer in graph.nodes:
        head = box.get(consumer.id)
        if head is None:
            continue
        for arg, operand in enumerate(consumer.inputs):
            tail = box.get(operand.id)
            if tail is None or tail == head:
                continue
            single = tail.startswith("n") and head.startswith("n")
            key = (tail, head, arg) if single else (tail, head)
            arrows.setdefault(key, Arrow(tail, head)).edges.append((operand, consumer, arg))
    return list(arrows.values())
