"""Propagation: plain loops over the tape that yield one record per edge.

Reverse mode walks the tape backwards, carrying adjoints (∂output/∂node): every edge
``operand → consumer`` contributes ``ḡ_consumer · ∂consumer/∂operand`` (a VJP), and a node
used several times **adds** the contributions of all of them.  Forward mode walks the tape
forwards carrying tangents (∂node/∂input · direction): every edge contributes
``∂consumer/∂operand · ṫ_operand`` (a JVP), and a node with several inputs adds them.

Both are generators of :class:`Contribution` records, which the step-through debugger shows one at
a time.  ``Graph.grad`` and ``Graph.vjp`` run :func:`fast_input_adjoints` instead: the same
loop without the records, which applies an element-wise partial's VJP without building its
operator and adds into an adjoint it owns in place.  Every operation is the same, in the
same order, so both give the same numbers to the last bit (a test checks it).

>>> import numpy as np
>>> from graphviz_ad import trace
>>> g = trace(lambda x: x + x ** 2, 3.0)
>>> [(e.operand.label, float(e.contribution)) for e in reverse(g, 1.0)]
[('x', 1.0), ('u₁', 1.0), ('x', 6.0)]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .linear import elementwise_vjp, shape_of
from .primitives import _ONE, PRIMITIVES, Diag


class Contribution(NamedTuple):
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


# Contribution(...) goes through the Python __new__ that NamedTuple writes; building the tuple
# directly makes the same record in half the time, once per edge of every stepped pass.
_record = tuple.__new__


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
    with optional leading batch axes); yields a :class:`Contribution` per edge it crosses."""
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
            yield _record(Contribution, (operand, node, arg, local, upstream, contribution, total))
        adjoint[node.id] = None  # every consumer came later on the tape: no longer needed


def fast_input_adjoints(graph, seed) -> dict:
    """:func:`input_adjoints` without the per-edge records: the adjoint of every input.

    An element-wise partial (:class:`~graphviz_ad.primitives.Diag`, most of the table) has
    its derivative applied directly (``ḡ ⊗ d``, summed over broadcast axes); any other
    partial builds its operator and calls its ``vjp``, as :func:`reverse` does.  A second
    contribution to an adjoint is added in place when that adjoint is an array this pass
    made for it alone (never the seed, nor an array another node's adjoint shares).
    """
    depends, _ = graph.activity
    nodes = graph.nodes
    adjoint: list = [None] * len(nodes)
    owned = [False] * len(nodes)  # adjoint[i] is a fresh array no one else refers to
    adjoint[graph.output.id] = seed
    for node in reversed(nodes[: graph.output.id + 1]):
        upstream = adjoint[node.id]
        operands = node.inputs
        if upstream is None or not operands:
            continue
        primitive = PRIMITIVES[node.op]
        values = None
        for arg, operand in enumerate(operands):
            if not depends[operand.id]:
                continue
            partial = primitive.partial(arg)
            if type(partial) is Diag:
                if values is None:
                    values = [each.value for each in operands]
                factor = partial.derivative(*values, node.value)
                in_shape, out_shape = shape_of(values[arg]), shape_of(node.value)
                if factor is _ONE and in_shape == out_shape:  # x + y: ḡ passes through
                    contribution = upstream
                else:
                    contribution = elementwise_vjp(upstream, factor, in_shape, out_shape)
                fresh = contribution is not upstream and type(contribution) is np.ndarray \
                    and contribution.base is None
            else:
                contribution = partial(node, arg).vjp(upstream)
                fresh = False
            previous = adjoint[operand.id]
            if previous is None:
                adjoint[operand.id] = contribution
                owned[operand.id] = fresh
            elif (owned[operand.id] and type(contribution) is np.ndarray
                  and previous.shape == contribution.shape
                  and previous.dtype == contribution.dtype):
                np.add(previous, contribution, out=previous)
            else:
                adjoint[operand.id] = previous + contribution
                owned[operand.id] = type(adjoint[operand.id]) is np.ndarray
        adjoint[node.id] = None  # every consumer came later on the tape: no longer needed
    return {node.id: adjoint[node.id] for node in graph.inputs.values()}


def forward(graph, tangents: dict):
    """Forward-mode propagation of ``tangents`` (node id → tangent, optional leading batch
    axes) to the output; yields a :class:`Contribution` per edge it crosses."""
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
            yield _record(Contribution, (operand, node, arg, local, incoming, contribution, total))


def output_seed(graph, seed=None) -> np.ndarray:
    """The adjoint a backward pass starts from: ``seed`` checked against the output's shape,
    or 1 for a scalar output.  A non-scalar output has no default (ones would silently
    differentiate its sum), so every front end refuses alike and says what to pass.

    >>> from graphviz_ad import trace
    >>> output_seed(trace(lambda x: x * x, 3.0))
    array(1.)
    """
    output = graph.output
    if seed is None:
        if np.size(output.value) != 1:
            raise ValueError(
                f"a backward pass of {graph.name} needs a seed: it returns shape "
                f"{output.shape}, not a scalar; pass seed=an array of that shape (the adjoint "
                "of the output), or step its forward or tangent pass"
            )
        return np.ones(output.shape)
    seed = np.asarray(seed, dtype=float)
    if seed.shape != output.shape:
        raise ValueError(f"backward seed of shape {seed.shape} does not match the output "
                         f"{output.label}'s shape {output.shape}")
    return seed


def input_tangents(graph, direction=None) -> dict:
    """The tangents a forward-mode pass starts from, by node id in the inputs' order:
    ``direction`` (input name → tangent, each checked against its input's shape), by
    default ones on the first input.

    >>> from graphviz_ad import trace
    >>> input_tangents(trace(lambda x, y: x * y, 3.0, 4.0))
    {0: array(1.)}
    """
    if direction is None:
        if not graph.inputs:
            raise ValueError(f"{graph.name} has no inputs to take a tangent along")
        first = next(iter(graph.inputs.values()))
        direction = {first.name: np.ones(first.shape)}
    unknown = [name for name in direction if name not in graph.inputs]
    if unknown:
        raise KeyError(f"tangent direction names {unknown}, which are not inputs of "
                       f"{graph.name}; inputs: {list(graph.inputs)}")
    seeds = {}
    for name, node in graph.inputs.items():  # in the inputs' order, whatever the dict's
        if name in direction:
            tangent = np.asarray(direction[name], dtype=float)
            if tangent.shape != node.shape:
                raise ValueError(f"tangent for {name!r} has shape {tangent.shape}, the input "
                                 f"has shape {node.shape}")
            seeds[node.id] = tangent
    return seeds


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
