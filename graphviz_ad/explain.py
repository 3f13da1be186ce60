"""Why is this gradient zero?  Reasons in words, found by reading one backward pass.

A gradient ∂y/∂x is zero when every path from x to y carries nothing.  Walking the backward
pass from x towards the output, each path ends in one of a few ways:

* **no path**: nothing computed from x reaches the output (x is unused, used only where
  there is no derivative: ``x > 0``, the condition of ``np.where``, ``argmax``… — or it
  only feeds values the output ignores);
* **blocked**: an edge whose local Jacobian is zero stops a non-zero adjoint: an inactive
  ``max(0, z)`` (z ≤ 0), the branch ``np.where`` did not take, a product with 0, a piecewise
  constant function (``np.floor``, ``np.sign``), an entry overwritten by item assignment
  (``a[i] = v``: the old value is gone, so it passes no gradient);
* **cancelled**: non-zero contributions that add up to zero, at a node used several times
  (``x − x``) or inside one operator (a broadcast whose copies' adjoints sum to zero).

>>> import numpy as np, graphviz_ad as gad
>>> g = gad.trace(lambda w, x, b: np.maximum(0, w @ x + b),
...               np.array([1., -2., .5]), np.array([3., 1., 2.]), -3.0)
>>> [reason.kind for reason in g.explain("b").reasons]
['inactive_relu']
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import propagate
from .notation import adjoint, array_text, constant_name, derivative

if TYPE_CHECKING:  # the graph layer reads nodes; it does not import the tracer that makes them
    from .tracer import Node

_GATES = {"maximum", "minimum", "where", "abs", "max", "min", "multiply", "index", "set"}


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason, with the node it is about (``node``, where the gradient stops).

    ``kind`` is one of: ``"unused"``, ``"no_path"``, ``"constant"``, ``"inactive_relu"``,
    ``"clamped"``, ``"other_operand_wins"``, ``"other_branch"``, ``"zero_factor"``,
    ``"zero_slope"``, ``"not_selected"``, ``"overwritten"``, ``"cancel"``, ``"zero_seed"``,
    and ``"not_finite"`` for a NaN or infinite gradient (where it was born).
    """

    kind: str
    text: str
    node: Node | None = None


@dataclass(frozen=True, slots=True, repr=False)
class Explanation:
    """The gradient of ``name`` (a node's adjoint; zeros where nothing arrived), how many of
    its entries are zero, and the reasons."""

    name: str
    gradient: object
    zero_count: int
    reasons: tuple[Reason, ...]
    nonfinite_count: int = 0

    @property
    def is_zero(self) -> bool:
        return self.zero_count == max(int(np.size(self.gradient)), 1)

    @property
    def text(self) -> str:
        size = int(np.size(self.gradient))
        if self.nonfinite_count:
            lines = [_nonfinite_head(self.name, self.gradient, self.nonfinite_count)]
            lines += [f"- {reason.text}" for reason in self.reasons
                      if reason.kind == "not_finite"]
            zero = [reason for reason in self.reasons if reason.kind != "not_finite"]
            if self.zero_count:
                lines.append(f"{self.zero_count} of the {size} entries are zero; the gradient "
                             "stops at:")
                lines += [f"- {reason.text}" for reason in zero]
            return "\n".join(lines)
        if self.zero_count == 0:
            head = f"∂/∂{self.name} = {array_text(self.gradient)} is not zero."
        elif self.is_zero:
            head = f"∂/∂{self.name} is zero because:"
        else:
            head = (f"{self.zero_count} of the {size} entries of ∂/∂{self.name} are zero; the "
                    "gradient stops at:")
        return "\n".join([head, *(f"- {reason.text}" for reason in self.reasons)])

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        kinds = ", ".join(reason.kind for reason in self.reasons)
        return f"<Explanation ∂/∂{self.name}: {self.zero_count} zero entries; {kinds}>"


def explain(graph, name, seed=None) -> Explanation:
    """Explain a zero (or partly zero) gradient of ``name`` (an input's name, or any node).

    ``seed`` is the output's adjoint, needed only for a non-scalar output.
    """
    node = graph.node(name)
    seed = propagate.output_seed(graph, seed)
    arrived = _contributions(graph, seed)
    total = arrived[node.id][-1].total if arrived[node.id] else None
    if node is graph.output:
        total = seed
    gradient = np.zeros(node.shape) if total is None else total
    zero = np.asarray(gradient) == 0
    label = node.label
    nonfinite = int(np.size(gradient) - np.count_nonzero(np.isfinite(gradient)))
    born = (_notfinite(graph, node, seed),) if nonfinite else ()
    if not zero.any():
        return Explanation(label, gradient, 0, born, nonfinite)
    depends, reaches = graph.activity
    if node.op == "const":
        reasons: tuple[Reason, ...] = (_constant(node),)
    elif not reaches[node.id] or not depends[graph.output.id]:
        reasons = (_no_path(graph, node),)
    elif zero.all():
        reasons = _blocked(graph, node, seed, arrived)
    else:
        reasons = _gates(graph, node)
    return Explanation(label, gradient, int(zero.sum()), born + reasons, nonfinite)


def _nonfinite_head(name: str, gradient, count: int) -> str:
    size = int(np.size(gradient))
    if count == max(size, 1):
        return f"∂/∂{name} = {array_text(gradient)} is not finite:"
    return f"{count} of the {size} entries of ∂/∂{name} are NaN or infinite:"


def _notfinite(graph, node: Node, seed) -> Reason:
    """Where the backward pass first gives a NaN or an infinity on the way from the output
    to ``node``: the first contribution that is not finite although the adjoint it carries
    is (a local derivative that is not finite there: √ at 0, log at 0), and, when the
    forward value there was already not finite, where that came from and what hid it."""
    descendants = {node.id}
    for later in graph.nodes[node.id + 1 :]:
        if any(operand.id in descendants for operand in later.inputs):
            descendants.add(later.id)
    output = graph.output.label
    for step in propagate.reverse(graph, seed):
        if (step.operand.id not in descendants or finite(step.contribution)
                or not finite(step.incoming)):
            continue  # finite, or carried here from a later edge rather than born here
        consumer, operand, local = step.consumer, step.operand, step.local
        reason = (f"the local Jacobian {derivative(consumer.label, operand.label)} = "
                  f"{local.rule} of {consumer.describe()} is not finite at {operand.label} = "
                  f"{array_text(operand.value)}, so the contribution is "
                  f"{array_text(step.contribution)} although "
                  f"{adjoint(consumer.label, output)} = {array_text(step.incoming)}")
        reason += forward_note(graph, consumer)
        return Reason("not_finite", reason, consumer)
    return Reason("not_finite", f"the seed holds {array_text(seed)}", graph.output)


def forward_note(graph, node: Node) -> str:
    """Where ``node``'s own value went NaN or ∞ in the forward pass and what hid it from the
    output ("" when its value is finite): why a backward pass meets a non-finite slope."""
    if finite(node.value):
        return ""
    first = nonfinite_origins(graph)[node.id]
    note = f". In the forward pass {node.label} = {array_text(node.value)}"
    if first is not node:
        note += f", first from {first.describe()}"
    return note + masking(graph, first)


def nonfinite_origins(graph) -> dict[int, Node]:
    """For each node whose value is NaN or ±∞ (by id), where that came from: the earliest
    node (in tape order) among it and its ancestors reached through non-finite values only.
    A node that is its own origin made the NaN or ∞ from finite operands (√−1, exp(800)).

    >>> import numpy as np, graphviz_ad as gad
    >>> with np.errstate(invalid="ignore"):
    ...     g = gad.trace(lambda x: np.sqrt(x) * 2.0, -1.0)
    >>> {g.nodes[i].label: origin.label for i, origin in nonfinite_origins(g).items()}
    {'u₁': 'u₁', 'u₂': 'u₁'}
    """
    origins: dict[int, Node] = {}
    for node in graph.nodes:
        if finite(node.value):
            continue
        earlier = [origins[operand.id] for operand in node.inputs if operand.id in origins]
        origins[node.id] = min(earlier, key=lambda origin: origin.id, default=node)
    return origins


def nonfinite_reason(graph, node) -> str | None:
    """Why ``node``'s value is NaN or ∞, in words (None when it is finite): the operation
    that made it from finite operands, and where it stops spreading."""
    origin = nonfinite_origins(graph).get(node.id)
    if origin is None:
        return None
    operands = ", ".join(f"{o.label} = {array_text(o.value)}" for o in origin.inputs)
    born = f"{origin.describe()} gives {array_text(origin.value)}"
    if operands:
        born += f" from finite operands ({operands})"
    if origin is node:
        return born + masking(graph, origin)
    return (f"{node.label} = {array_text(node.value)} comes from {born}"
            + masking(graph, origin))


def masking(graph, origin: Node) -> str:
    """Where a non-finite value stops spreading: the first node fed a tainted operand whose
    own value is finite (``where``, a zero product…), or that it never reaches the output."""
    tainted = {origin.id}
    for node in graph.nodes[origin.id + 1 : graph.output.id + 1]:
        if any(operand.id in tainted for operand in node.inputs):
            if finite(node.value):
                return f"; it is hidden from the output by {node.describe()}"
            tainted.add(node.id)
    if graph.output.id in tainted:
        return ""
    return "; it does not reach the output"


def finite(value) -> bool:
    """No NaN and no infinity (None, nothing computed, counts as finite)."""
    if value is None:
        return True
    if np.ndim(value) == 0:  # the common case on scalar graphs: skip numpy's machinery
        return math.isfinite(value)
    return bool(np.all(np.isfinite(value)))


def _contributions(graph, seed) -> list[list]:
    """For each node id, the contributions of one backward pass to its adjoint, in order."""
    arrived: list[list] = [[] for _ in graph.nodes]
    for contribution in propagate.reverse(graph, seed):
        arrived[contribution.operand.id].append(contribution)
    return arrived


def _valued(node: Node) -> str:
    """``u₃ = 0.5``, or just ``0`` for a constant labelled by its value."""
    scalar_constant = node.op == "const" and np.ndim(node.value) == 0
    if scalar_constant and node.label == constant_name(node.value):
        return node.label
    return f"{node.label} = {array_text(node.value)}"


def _constant(node: Node) -> Reason:
    return Reason("constant", (
        f"{node.label} is a constant (made at {node.source}): plain numbers, or the result of "
        "an operation without a derivative (a comparison, np.isnan, argmax), so "
        "nothing is differentiated with respect to it"), node)


def _no_path(graph, node: Node) -> Reason:
    """Nothing computed from ``node`` reaches the output: say what it does feed."""
    depends, _ = graph.activity
    if not depends[graph.output.id]:
        return Reason("no_path", (
            f"the output {graph.output.label} depends on no input at all: {graph.name} "
            "returns a constant"), graph.output)
    descendants, used = {node.id}, set()
    for later in graph.nodes[node.id + 1 :]:
        used.update(operand.id for operand in later.inputs)
        if any(operand.id in descendants for operand in later.inputs):
            descendants.add(later.id)
    ends = [graph.nodes[i] for i in sorted(descendants - used - {node.id})]
    if not ends:
        return Reason("unused", (
            f"{node.label} takes part in no recorded operation: {graph.name} ignores it, or "
            "uses it only where there is no derivative (a comparison such as "
            f"{node.label} > 0, the condition of np.where, np.isnan, argmax, .value)"),
            node)
    shown = "; ".join(end.describe() for end in ends[:3])
    more = f" and {len(ends) - 3} more" if len(ends) > 3 else ""
    return Reason("no_path", (
        f"no path leads from {node.label} to the output {graph.output.label}: what is computed "
        f"from it ends unused in {shown}{more}"), node)


def _blocked(graph, start: Node, seed, arrived: list) -> tuple[Reason, ...]:
    """Walk from ``start`` towards the output over nodes whose adjoint is zero, and report
    where each path's adjoint stops: a zero local Jacobian, or contributions that cancel."""
    _, reaches = graph.activity
    reasons: dict[tuple, Reason] = {}
    queue, seen = deque([start]), {start.id}
    while queue:
        node = queue.popleft()
        if node is graph.output:
            reasons[("zero_seed", node.id)] = Reason(
                "zero_seed", f"the seed (the output's adjoint) is {array_text(seed)}",
                node)
            continue
        steps = arrived[node.id]
        nonzero = [step for step in steps if np.any(step.contribution)]
        if len(nonzero) > 1:
            parts = ", ".join(f"via {step.consumer.label}: {array_text(step.contribution)}"
                              for step in nonzero)
            reasons[("cancel", node.id)] = Reason("cancel", (
                f"the contributions to {node.label}'s adjoint cancel: {parts} add up to 0"),
                node)
        for step in steps:
            if np.any(step.contribution):
                continue
            consumer = step.consumer
            if not np.any(step.incoming):
                if consumer.id not in seen and reaches[consumer.id]:
                    seen.add(consumer.id)
                    queue.append(consumer)
                continue
            reason = _stop(consumer, step.arg, step.local, step.incoming)
            reasons.setdefault((reason.kind, consumer.id), reason)
    return tuple(sorted(reasons.values(), key=lambda reason: reason.node.id))


def _stop(consumer: Node, arg: int, local, upstream) -> Reason:
    """Why the edge ``operand → consumer`` turns a non-zero adjoint into a zero one."""
    operand = consumer.inputs[arg]
    if consumer.op == "set" and arg == 0:
        return _overwritten(consumer, local)
    numbers = local.coefficients
    if numbers is not None and not np.any(numbers):
        return _zero_local(consumer, arg, local)
    if numbers is not None and not np.all(numbers):
        return _zero_local(consumer, arg, local, " wherever its adjoint is not zero")
    if local.kind in ("broadcast", "reduce", "matmul", "contraction"):
        what = {"broadcast": "the broadcast (scalar expansion) of",
                "reduce": "the reduction of", "matmul": "the matrix product with",
                "contraction": "the product (einsum) of"}[local.kind]
        return Reason("cancel", (
            f"{what} {operand.label} in {consumer.describe()} adds up the adjoint "
            f"{array_text(upstream)} of {consumer.label} over the copies of {operand.label}, and "
            f"those sums are 0 (local Jacobian {local.rule})"), consumer)
    return Reason("not_selected", (
        f"{consumer.describe()} uses only the part of {operand.label} whose adjoint is zero "
        f"(local Jacobian {local.rule})"), consumer)


def _zero_local(consumer: Node, arg: int, local, scope: str = "") -> Reason:
    """Name the zero local Jacobian ∂consumer/∂operand by what the operation does; ``scope``
    says where it is zero when not everywhere (`` at 3 of 5 elements``)."""
    operand = consumer.inputs[arg]
    value = _valued(operand)
    op = consumer.op
    if op in ("maximum", "minimum") and consumer.inputs[1 - arg].op == "const":
        bound = consumer.inputs[1 - arg]
        if op == "maximum" and not np.any(bound.value):
            condition = f"{value} ≤ 0" if np.ndim(operand.value) == 0 else (
                f"{value}, ≤ 0 there")
            return Reason("inactive_relu", (
                f"{consumer.describe()} is inactive{scope}: {condition}, so its derivative "
                f"{local.rule} is 0"), consumer)
        side = "below" if op == "maximum" else "above"
        return Reason("clamped", (
            f"{consumer.describe()} clamps {operand.label} to {bound.label}{scope} ({value} is "
            f"{side} it), so its derivative {local.rule} is 0"), consumer)
    if op in ("maximum", "minimum"):
        return Reason("other_operand_wins", (
            f"in {consumer.describe()} the other operand wins{scope}, so "
            f"∂{consumer.label}/∂{operand.label} = {local.rule} is 0"), consumer)
    if op == "where":
        taken, skipped = ("false", "true") if arg == 0 else ("true", "false")
        return Reason("other_branch", (
            f"{consumer.describe()} takes its {taken} branch{scope or ' everywhere'}, so "
            f"{operand.label} (the {skipped} branch) does not reach its result"), consumer)
    if op in ("multiply", "matmul"):
        other = consumer.inputs[1 - arg]
        return Reason("zero_factor", (
            f"in {consumer.describe()}, {operand.label} is multiplied by {_valued(other)}, "
            f"which is 0{scope}"), consumer)
    if op in ("max", "min"):
        return Reason("not_selected", (
            f"{consumer.describe()} passes on only the {op}imum of {operand.label}, so the other "
            f"elements get no gradient{f' ({scope.strip()})' if scope else ''}"), consumer)
    return Reason("zero_slope", (
        f"the local Jacobian ∂{consumer.label}/∂{operand.label} = {local.rule} of "
        f"{consumer.describe()} is 0{scope} ({value})"), consumer)


def _overwritten(consumer: Node, local) -> Reason:
    """Item assignment ``out = x; out[key] = v``: the entries written no longer hold x, so
    ∂out/∂x = I − SᵀS passes them no gradient."""
    operand = consumer.inputs[0]
    written = int(np.unique(local.targets).size)
    size = max(int(np.size(operand.value)), 1)
    which = "every entry" if written == size else f"{written} of the {size} entries"
    return Reason("overwritten", (
        f"{consumer.describe()} overwrites {which} of {operand.label}: an overwritten entry "
        f"passes no gradient to the old array (local Jacobian {local.rule})"), consumer)


def _gates(graph, start: Node) -> tuple[Reason, ...]:
    """For a partly zero gradient: the operations between ``start`` and the output whose
    local Jacobian is zero for some elements (they gate which entries get a gradient)."""
    _, reaches = graph.activity
    descendants = {start.id}
    reasons = []
    for node in graph.nodes[start.id + 1 : graph.output.id + 1]:
        for arg, operand in enumerate(node.inputs):
            if operand.id not in descendants or not reaches[node.id]:
                continue
            descendants.add(node.id)
            if node.op not in _GATES:
                continue
            local = node.jacobian(arg)
            if node.op == "set" and arg == 0:
                reasons.append(_overwritten(node, local))
                continue
            if local.kind == "selection":
                reasons.append(Reason("not_selected", (
                    f"{node.describe()} selects only part of {operand.label}; the other elements "
                    "get no gradient through it"), node))
                continue
            numbers = local.coefficients
            if numbers is None or np.all(numbers):
                continue
            zeros = int(np.size(numbers) - np.count_nonzero(numbers))
            scope = f" at {zeros} of {np.size(numbers)} elements"
            reasons.append(_zero_local(node, arg, local, scope))
    return tuple(reasons)
