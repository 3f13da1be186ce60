"""Propagation: plain loops over the tape that yield one record per edge.

Reverse mode walks the tape backwards, carrying adjoints (∂output/∂node): every edge
``operand → consumer`` contributes ``ḡ_consumer · ∂consumer/∂operand`` (a VJP), and a node
used several times **adds** the contributions of all of them.  Forward mode walks the tape
forwards carrying tangents (∂node/∂input · direction): every edge contributes
``∂consumer/∂operand · ṫ_operand`` (a JVP), and a node with several inputs adds them.

Both are generators of :data:`Edge` records, so that ``Graph.grad`` (which just drains them)
and the step-through debugger (which shows them one at a time) share one loop and give the
same numbers to the last bit.

>>> import numpy as np
>>> from graphviz_ad import trace
>>> g = trace(lambda x: x + x ** 2, 3.0)
>>> [(e.operand.label, float(e.contribution)) for e in reverse(g, 1.0)]
[('x', 1.0), ('u₂', 1.0), ('x', 6.0)]
"""

from __future__ import annotations

from typing import NamedTuple


class Edge(NamedTuple):
    """One contribution along one edge ``operand → consumer`` (``operand`` is argument
    ``arg`` of ``consumer``).  In reverse mode ``incoming`` is the consumer's adjoint and
    ``total`` the operand's adjoint so far; in forward mode ``incoming`` is the operand's
    tangent and ``total`` the consumer's tangent so far."""

    operand: object
    consumer: object
    arg: int
    local: object
    incoming: object
    contribution: object
    total: object


def active(graph) -> tuple[list[bool], list[bool]]:
    """Which nodes depend on an input, and which the output depends on (by node id)."""
    nodes = graph.nodes
    depends = [False] * len(nodes)
    for node in nodes:
        if node.op == "input":
            depends[node.id] = True
            continue
        for operand in node.inputs:
            if depends[operand.id]:
                depends[node.id] = True
                break
    reaches = [False] * len(nodes)
    reaches[graph.output.id] = True
    for node in reversed(nodes):
        if reaches[node.id]:
            for operand in node.inputs:
                reaches[operand.id] = True
    return depends, reaches


def reverse(graph, seed):
    """Reverse accumulation from the output, seeded with ``seed`` (shaped like the output,
    with optional leading batch axes); yields an :class:`Edge` per contribution."""
    depends, _ = graph.activity
    nodes = graph.nodes
    adjoint: list = [None] * len(nodes)
    adjoint[graph.output.id] = seed
    for node in reversed(nodes[: graph.output.id + 1]):
        upstream = adjoint[node.id]
        if upstream is None or not node.inputs:
            continue
        for arg, operand in enumerate(node.inputs):
            if not depends[operand.id]:
                continue
            local = node.jacobian(arg)
            contribution = local.vjp(upstream)
            previous = adjoint[operand.id]
            total = contribution if previous is None else previous + contribution
            adjoint[operand.id] = total
            yield Edge(operand, node, arg, local, upstream, contribution, total)
        adjoint[node.id] = None  # every consumer came later on the tape: no longer needed


def forward(graph, tangents: dict):
    """Forward-mode propagation of ``tangents`` (node id → tangent, optional leading batch
    axes) to the output; yields an :class:`Edge` per contribution."""
    _, reaches = graph.activity
    tangent: list = [None] * len(graph.nodes)
    for node_id, value in tangents.items():
        tangent[node_id] = value
    for node in graph.nodes[: graph.output.id + 1]:
        if not node.inputs or not reaches[node.id]:
            continue
        for arg, operand in enumerate(node.inputs):
            incoming = tangent[operand.id]
            if incoming is None:
                continue
            local = node.jacobian(arg)
            contribution = local.jvp(incoming)
            previous = tangent[node.id]
            total = contribution if previous is None else previous + contribution
            tangent[node.id] = total
            yield Edge(operand, node, arg, local, incoming, contribution, total)


def input_adjoints(graph, seed) -> dict:
    """Drain :func:`reverse`: the adjoint of every input (None where no path reaches it)."""
    found: dict = {node.id: None for node in graph.inputs.values()}
    if graph.output.op == "input":
        found[graph.output.id] = seed
    for edge in reverse(graph, seed):
        if edge.operand.op == "input":
            found[edge.operand.id] = edge.total
    return found


def output_tangent(graph, tangents: dict):
    """Drain :func:`forward`: the output's tangent (None where no input reaches it)."""
    if graph.output.id in tangents:
        return tangents[graph.output.id]
    total = None
    for edge in forward(graph, tangents):
        if edge.consumer is graph.output:
            total = edge.total
    return total
