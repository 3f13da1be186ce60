"""Which boxes and arrows a picture has: the graph walk, kept apart from writing DOT.

This is the one view model of the project: the Graphviz renderer and the terminal
debugger's Graph pane both ask it what to draw (``build_view``, ``neighbourhood``,
``consumers``, ``user_calls``) and only differ in how they draw it.

A *box* is what Graphviz draws as one node: a graph node (DOT name ``n5``), a collapsed
user function call (``call3``) or a collapsed run of nodes one source line made in a row
(``line17``, named after its first node).  Constants can be folded into their consumers, a
focus view keeps the k-hop neighbourhood of one node, and the nodes made inside a user
function call are grouped in a cluster (one per call: calling ``layer`` twice gives two
clusters) or collapsed to one box.  A big graph with no calls to collapse (a loop in the
traced function itself) collapses its source lines instead: ``h = tanh(W @ h + x)`` run
100 times in a row is one box of 300 nodes.

>>> import numpy as np, graphviz_ad as gad
>>> g = gad.trace(lambda x: x + x ** 2, 3.0)
>>> view = build_view(g, Options())
>>> [node.label for node in view.drawn], [c.label for c in view.folded[2]]
(['x', 'u₁', 'u₂'], ['2'])
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
class Group:
    """A box standing for several nodes: a user function call (``call`` is its index) or a
    run of nodes made by one source line (``call`` is None)."""

    name: str  # DOT name: call3 or line17
    call: int | None
    nodes: list  # in tape order


@dataclass
class View:
    drawn: list  # nodes drawn as themselves, in tape order
    folded: dict  # consumer id -> constants drawn inside it
    collapsed: dict  # DOT box name -> Group, in tape order of first node
    box: dict  # node id -> DOT name of the box that shows it
    arrows: list  # Arrow, in tape order of their first edge
    cluster_of: dict  # DOT box name -> innermost open call index (clusters only)
    hidden: int  # nodes the focus view leaves out
    focus: object  # the focus node or None
    consumers: list  # node id -> the nodes that use it, in tape order
    effort: int  # boxes + ranks long arrows cross: about how many nodes dot lays out


def build_view(graph, options: Options) -> View:
    """Decide what to draw: fold, focus, collapse and cluster, in tape order throughout."""
    focus = graph.node(options.focus) if options.focus is not None else None
    users = consumers(graph)
    keep = neighbourhood(graph, [focus.id], options.hops, users) if focus is not None else None

    folded: dict[int, list] = {}
    drawn = []
    for node in graph.nodes:
        if keep is not None and node.id not in keep:
            continue
        if _foldable(node, graph, users, keep, options):
            for consumer in dict.fromkeys(users[node.id]):  # once per consumer
                folded.setdefault(consumer.id, []).append(node)
            continue
        drawn.append(node)

    collapsing = _collapsing(graph, options, len(drawn), focus)
    calls = user_calls(graph)
    line_of = _line_runs(graph, drawn) if collapsing is True and not calls else {}
    box: dict[int, str] = {}
    collapsed: dict[str, Group] = {}
    cluster_of: dict[str, int] = {}
    shown = []
    for node in drawn:
        path = [i for i in node.call_path if i in calls]
        closed = next((i for i in path if _collapses(graph.calls[i], collapsing)), None)
        if closed is not None:
            box[node.id] = name = f"call{closed}"
            collapsed.setdefault(name, Group(name, closed, [])).nodes.append(node)
            open_path = path[: path.index(closed)]
        elif node.id in line_of:
            box[node.id] = name = f"line{line_of[node.id]}"
            collapsed.setdefault(name, Group(name, None, [])).nodes.append(node)
            open_path = path
        else:
            box[node.id] = f"n{node.id}"
            shown.append(node)
            open_path = path
        if options.clusters and open_path:
            cluster_of[box[node.id]] = open_path[-1]

    hidden = len(graph.nodes) - len(keep) if keep is not None else 0
    arrows = _arrows(graph, box)
    return View(shown, folded, collapsed, box, arrows, cluster_of, hidden, focus, users,
                _effort(graph, arrows, len(shown) + len(collapsed)))


def consumers(graph) -> list[list]:
    """For each node id, the nodes that use it, in tape order (twice for ``x * x``)."""
    users: list[list] = [[] for _ in graph.nodes]
    for node in graph.nodes:
        for operand in node.inputs:
            users[operand.id].append(node)
    return users


def neighbourhood(graph, centres, hops: int, users=None) -> set[int]:
    """Ids of the nodes within ``hops`` edges of any of the ``centres`` (node ids), in
    either direction: a breadth-first search over operands and consumers.

    >>> import graphviz_ad as gad
    >>> g = gad.trace(lambda x: (x * 2.0) ** 2, 3.0)
    >>> sorted(neighbourhood(g, [0], 1))
    [0, 2]
    """
    users = consumers(graph) if users is None else users
    distance = dict.fromkeys(centres, 0)
    queue = deque(graph.nodes[i] for i in distance)
    while queue:
        node = queue.popleft()
        if distance[node.id] == hops:
            continue
        for other in (*node.inputs, *users[node.id]):
            if other.id not in distance:
                distance[other.id] = distance[node.id] + 1
                queue.append(other)
    return set(distance)


def _foldable(node, graph, users, keep, options: Options) -> bool:
    if not options.fold_constants or node.op != "const" or node is graph.output:
        return False
    used_by = users[node.id]
    return bool(used_by) and all(keep is None or user.id in keep for user in used_by)


def user_calls(graph) -> set[int]:
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


def _line_runs(graph, drawn: list) -> dict[int, int]:
    """Node id -> id of the first node of its run: two or more nodes in a row (tape order,
    among the drawn ones) made by one source line.  Inputs and the output stay boxes of their
    own, so the picture still shows where data enters and leaves."""
    runs: list[list] = []
    where = None
    for node in drawn:
        alone = node.op == "input" or node is graph.output
        here = None if alone else (node.source, node.call_path)
        if here is None or here != where:
            runs.append([])
        runs[-1].append(node)
        where = here
    return {node.id: run[0].id for run in runs if len(run) > 1 for node in run}


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


def _effort(graph, arrows: list, boxes: int) -> int:
    """About how many nodes Graphviz's ``dot`` lays out: the boxes plus one hidden node per
    rank an arrow crosses (with depth d(u) = 1 + max d(operand), an arrow u → v crosses
    d(v) − d(u) − 1 ranks; its label doubles that).  Long arrows, not boxes, make a loop's
    graph slow: a weight used by each of 100 iterations crosses ~15,000 ranks in all."""
    depth = [0] * len(graph.nodes)
    for node in graph.nodes:
        depth[node.id] = 1 + max((depth[operand.id] for operand in node.inputs), default=-1)
    crossed = 0
    for arrow in arrows:
        operand, consumer, _ = arrow.edges[0]
        crossed += 2 * max(0, depth[consumer.id] - depth[operand.id] - 1)
    return boxes + crossed
