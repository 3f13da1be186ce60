"""The step-through debugger: forward values, reverse accumulation edge by edge, tangents.

A :class:`Debugger` turns a traced graph into three sequences of immutable step records and
holds a cursor over one of them:

* ``forward()``: one :class:`ForwardStep` per node in tape order (its inputs' values, its
  value, its source line);
* ``backward(seed)``: reverse-mode accumulation, one :class:`BackwardStep` per edge
  contribution in reverse tape order, after a first step that seeds the output's adjoint.
  Each step says which node's adjoint grows (``node``), along which edge (``via``, ``arg``),
  by how much (``contribution = ū_via · ∂via/∂node``) and how many of its contributions
  have arrived (``received`` of ``expected``): a node used several times *adds* them;
* ``tangent(direction)``: forward-mode propagation, one :class:`TangentStep` per edge, the
  same fields mirrored (``node`` is the consumer whose tangent grows, ``via`` the operand).

The sequences wrap :func:`graphviz_ad.propagate.reverse` and
:func:`graphviz_ad.propagate.forward`, the loops ``Graph.grad`` and ``Graph.jvp`` drain, so
the debugger's last totals are those results to the last bit.  Steps are made only when the
cursor (or an iteration) reaches them, and kept in a log: each holds the arrays its pass
made anyway (its contribution and the running total; no copies, and local Jacobians are
made again when asked).  The state at any index is read from that log (for each node, the
last step that touched it), so ``back()`` and ``goto()`` just move the cursor.

>>> import graphviz_ad as gad
>>> g = gad.trace(lambda x: x + x ** 2, 3.0)       # u₂ = x², u₃ = x + u₂
>>> dbg = gad.Debugger(g, "backward")
>>> [(s.node.label, s.via and s.via.label, float(s.contribution)) for s in dbg.backward()]
[('u₃', None, 1.0), ('x', 'u₃', 1.0), ('u₂', 'u₃', 1.0), ('x', 'u₂', 6.0)]
>>> last = dbg.run()
>>> float(last.total), last.received, last.expected, last.complete
(7.0, 2, 2, True)
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from . import propagate
from .primitives import PRIMITIVES
from .tracer import Node

MODES = ("forward", "backward", "tangent")


# -- step records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ForwardStep:
    """Node ``node`` computed: ``value = op(*inputs)`` at ``node.source``."""

    index: int
    node: Node
    inputs: tuple  # the operands' values, in argument order
    value: object
    _trail: _Trail = field(compare=False)
    mode: ClassVar[str] = "forward"

    @property
    def source(self):
        return self.node.source

    @property
    def total(self):
        """What the node holds after this step: its value (so State.total reads every mode)."""
        return self.value

    @property
    def operation(self) -> Node:
        """The node whose rule this step applies."""
        return self.node

    @property
    def text(self) -> str:
        """The step in words: ``u₃ = multiply(x, x) = 9    # f.py:4``."""
        node = self.node
        if node.inputs:
            return f"{node.label} = {node.call_text} = {show(self.value)}    # {node.source}"
        kind = "input" if node.op == "input" else "constant"
        return f"{node.label} = {show(self.value)}    ({kind})"

    def state(self) -> State:
        """The state right after this step."""
        return State(self._trail, self.index)

    def __repr__(self) -> str:
        return f"<ForwardStep {self.index}: {self.text}>"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class _EdgeStep:
    """A contribution along one edge; see :class:`BackwardStep` and :class:`TangentStep`."""

    index: int
    node: Node  # whose total grows
    via: Node | None  # the other end of the edge; None for a seed step
    arg: int | None  # the edge's argument position in its consumer
    upstream: object  # what arrives along the edge (the adjoint of via / the tangent of via)
    contribution: object
    total: object  # node's total after this step
    received: int  # contributions to node so far, this one included
    expected: int  # contributions node gets in the whole pass
    _trail: _Trail = field(compare=False)
    mode: ClassVar[str] = ""
    mark: ClassVar[str] = ""

    @property
    def complete(self) -> bool:
        """True when this was the node's last contribution: its total is final."""
        return self.received == self.expected

    @property
    def is_seed(self) -> bool:
        return self.via is None

    @property
    def local(self):
        """The consumer's local Jacobian for argument ``arg`` (a structured
        :class:`~graphviz_ad.linear.Jacobian`; None for a seed step).  Made again when asked
        rather than kept, so that a long pass does not hold every Jacobian's numbers."""
        return None if self.via is None else self.consumer.jacobian(self.arg)

    @property
    def consumer(self) -> Node:
        """The node whose local Jacobian this step applies (``via`` backward, ``node`` forward)."""
        raise NotImplementedError

    @property
    def operation(self) -> Node:
        """The node whose rule this step applies (the seeded node for a seed step)."""
        return self.node if self.via is None else self.consumer

    @property
    def text(self) -> str:
        """The step in words, the factors in the order the chain rule multiplies them:
        ``x̄ += ū₂ · [2x] = 6  → x̄ = 7  (2 of 2, complete)`` (backward),
        ``u₂̇ += [2x] · ẋ = 6  → u₂̇ = 6  (1 of 1, complete)`` (tangent)."""
        own = self.node.label + self.mark
        if self.via is None:
            return f"{own} = {show(self.total)}  (seed)"
        incoming, rule = self.via.label + self.mark, bracket(self.local.rule)
        product = f"{incoming} · {rule}" if self.mode == "backward" else f"{rule} · {incoming}"
        done = ", complete" if self.complete else ""
        return (f"{own} += {product} = {show(self.contribution)}  → {own} = "
                f"{show(self.total)}  ({self.received} of {self.expected}{done})")

    def state(self) -> State:
        """The state right after this step."""
        return State(self._trail, self.index)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.index}: {self.text}>"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BackwardStep(_EdgeStep):
    """``nodē += via̅ · ∂via/∂node``: one contribution to ``node``'s adjoint.

    ``local`` is ∂via/∂node (argument ``arg`` of ``via``), ``upstream`` the adjoint of
    ``via``, ``contribution`` their VJP and ``total`` the adjoint of ``node`` so far.  The
    first step of a pass seeds the output: ``via``, ``arg``, ``local`` and ``upstream`` are
    None and ``contribution == total == seed``.
    """

    mode: ClassVar[str] = "backward"
    mark: ClassVar[str] = "\u0304"  # a combining macron: x̄ is the adjoint of x

    @property
    def consumer(self) -> Node:
        return self.via


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class TangentStep(_EdgeStep):
    """``ṅode += ∂node/∂via · v̇ia``: one tangent contribution to the consumer ``node``.

    ``via`` is the operand (argument ``arg`` of ``node``), ``upstream`` its tangent,
    ``local`` the Jacobian ∂node/∂via.  The first steps seed the direction's inputs.
    """

    mode: ClassVar[str] = "tangent"
    mark: ClassVar[str] = "\u0307"  # a combining dot: ẋ is the tangent of x

    @property
    def consumer(self) -> Node:
        return self.node


def bracket(rule: str) -> str:
    """A rule as a factor: ``[2x]``; ``[u₂ > 0]`` is already bracketed."""
    return rule if rule.startswith("[") and rule.endswith("]") else f"[{rule}]"


def show(value) -> str:
    """A short text for a value: ``6``, ``-0.5``, ``[1. 2. 3.]``, ``nan``; large arrays are
    summarised by numpy (``[0. 1. … 9.]``)."""
    if value is None:
        return "None"
    if np.ndim(value) == 0:
        return f"{float(value):.6g}"
    text = np.array2string(np.asarray(value), precision=4, threshold=8, edgeitems=2,
                           max_line_width=10**6)
    return text.replace("\n", "")


# -- the log of one pass -------------------------------------------------------------------------


class _Trail:
    """The steps of one pass, made on demand from the pass's generator and kept.

    ``expected[node id]`` counts the node's contributions in the whole pass, from the graph's
    structure alone; their sum is the number of steps.  ``touches[node id]`` lists the steps
    that changed the node, in order, so the state at any index needs no copies.
    """

    __slots__ = ("_source", "expected", "graph", "key", "length", "make", "records", "touches")

    def __init__(self, graph, key, source: Iterator, expected: list[int], make: Callable):
        self.graph = graph
        self.key = key
        self.expected = expected
        self.length = sum(expected)
        self.records: list = []
        self.touches: dict[int, list[int]] = {}
        self._source = source
        self.make = make

    @property
    def mode(self) -> str:
        return self.key[0]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        if not 0 <= index < self.length:
            raise IndexError(f"step {index} is outside the {self.mode} pass "
                             f"(steps 0 to {self.length - 1})")
        while len(self.records) <= index:
            self._produce()
        return self.records[index]

    def _produce(self) -> None:
        fields = next(self._source)
        node = fields[0]
        touched = self.touches.setdefault(node.id, [])
        index = len(self.records)
        step = self.make(index, fields, len(touched) + 1, self.expected[node.id], self)
        touched.append(index)
        self.records.append(step)

    def __iter__(self) -> Iterator:
        for index in range(self.length):
            yield self[index]


def _backward_trail(graph, seed) -> _Trail:
    output = graph.output
    if seed is None:
        if np.size(output.value) != 1:
            raise ValueError(
                f"backward() needs a seed: {graph.name} returns shape {output.shape}, not a "
                "scalar; pass seed=an array of that shape (ȳ, the adjoint of the output)"
            )
        seed = np.ones(output.shape)  # as Graph.grad seeds it
    seed = np.asarray(seed, dtype=float)
    if seed.shape != output.shape:
        raise ValueError(f"backward seed of shape {seed.shape} does not match the output "
                         f"{output.label}'s shape {output.shape}")
    depends, reaches = graph.activity
    expected = [0] * len(graph.nodes)
    expected[output.id] = 1
    for node in graph.nodes[: output.id + 1]:
        if reaches[node.id]:
            for operand in node.inputs:
                expected[operand.id] += depends[operand.id]

    def source():
        yield (output, None, None, None, seed, seed)
        for edge in propagate.reverse(graph, seed):
            yield (edge.operand, edge.consumer, edge.arg, edge.incoming, edge.contribution,
                   edge.total)

    key = ("backward", seed.shape, seed.tobytes())
    return _Trail(graph, key, source(), expected, _edge_maker(BackwardStep))


def _tangent_trail(graph, direction) -> _Trail:
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
    _, reaches = graph.activity
    carries = [False] * len(graph.nodes)
    expected = [0] * len(graph.nodes)
    for node in graph.nodes[: graph.output.id + 1]:
        if node.id in seeds:
            carries[node.id], expected[node.id] = True, 1
        elif node.inputs and reaches[node.id]:
            expected[node.id] = sum(carries[operand.id] for operand in node.inputs)
            carries[node.id] = expected[node.id] > 0

    def source():
        for node_id, tangent in seeds.items():
            yield (graph.nodes[node_id], None, None, None, tangent, tangent)
        for edge in propagate.forward(graph, seeds):
            yield (edge.consumer, edge.operand, edge.arg, edge.incoming, edge.contribution,
                   edge.total)

    key = ("tangent", *((i, t.shape, t.tobytes()) for i, t in seeds.items()))
    return _Trail(graph, key, source(), expected, _edge_maker(TangentStep))


def _forward_trail(graph) -> _Trail:
    def source():
        for node in graph.nodes:
            yield (node, tuple(operand.value for operand in node.inputs), node.value)

    def make(index, fields, received, expected, trail):
        return ForwardStep(index, *fields, trail)

    return _Trail(graph, ("forward",), source(), [1] * len(graph.nodes), make)


def _edge_maker(kind):
    def make(index, fields, received, expected, trail):
        return kind(index, *fields, received, expected, trail)

    return make


# -- the state at a point of a pass ---------------------------------------------------------------


class State:
    """The pass as it stands after step ``index`` (-1: before the first step).

    ``total(node)`` is the node's value (forward), adjoint (backward) or tangent (tangent)
    so far, None before anything arrived; ``status(node)`` is ``"current"`` for the current
    step's node, ``"done"`` once every contribution the node gets has arrived, ``"pending"``
    otherwise (including nodes the pass never reaches: ``expected(node) == 0``).
    Nodes may be given as Node objects, ids, input names or labels.
    """

    __slots__ = ("_trail", "index")

    def __init__(self, trail: _Trail, index: int):
        self._trail = trail
        self.index = index

    @property
    def mode(self) -> str:
        return self._trail.mode

    @property
    def current(self):
        """The step at this index (None before the first)."""
        return self._trail[self.index] if self.index >= 0 else None

    def _steps(self, node: Node) -> list[int]:
        touched = self._trail.touches.get(node.id, ())
        return touched[: bisect_right(touched, self.index)]

    def received(self, node) -> int:
        return len(self._steps(resolve(self._trail.graph, node)))

    def expected(self, node) -> int:
        return self._trail.expected[resolve(self._trail.graph, node).id]

    def status(self, node) -> str:
        node = resolve(self._trail.graph, node)
        touched = self._trail.touches.get(node.id, ())
        received = bisect_right(touched, self.index)
        if received and touched[received - 1] == self.index:
            return "current"
        return "done" if received and received == self._trail.expected[node.id] else "pending"

    def total(self, node):
        steps = self._steps(resolve(self._trail.graph, node))
        return self._trail.records[steps[-1]].total if steps else None

    def contributions(self, node) -> tuple:
        """The steps that changed the node so far, oldest first."""
        return tuple(self._trail.records[i] for i in self._steps(resolve(self._trail.graph, node)))

    def __repr__(self) -> str:
        return f"<State {self.mode} after step {self.index} of {len(self._trail)}>"


def resolve(graph, node) -> Node:
    """A node of ``graph`` from a Node, an id, an input name or a label: ``graph.node``, the
    one lookup the renderer, the debugger and the command line share."""
    return graph.node(node)


# -- breakpoints ---------------------------------------------------------------------------------


class Breakpoint:
    """A condition checked after each step of ``Debugger.run_to``.

    ``check(step)`` returns None, or a :class:`Hit` saying why it fired.
    """

    def check(self, step) -> Hit | None:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, repr=False)
class Hit:
    """Which breakpoint fired, at which step, and why (``reason``, in words).

    ``origin`` is the node the reason is about: for a non-finite number, the earliest node
    whose value or local Jacobian went non-finite.
    """

    breakpoint: Breakpoint
    step: object
    reason: str
    origin: Node | None = None

    @property
    def text(self) -> str:
        return self.reason

    def __repr__(self) -> str:
        return f"<Hit at step {self.step.index}: {self.reason}>"


@dataclass(frozen=True, slots=True)
class AtNode(Breakpoint):
    """Stop at a step that changes ``node`` (with ``complete=True``: its last contribution).

    ``node`` is a Node, an id, an input name or a unique label.
    """

    node: object
    complete: bool = False

    def check(self, step) -> Hit | None:
        node = resolve(step._trail.graph, self.node)
        if step.node is not node:
            return None
        if self.complete and not getattr(step, "complete", True):
            return None
        what = {"forward": "computed", "backward": "adjoint", "tangent": "tangent"}[step.mode]
        if step.mode == "forward":
            reason = f"breakpoint on {node.label}: {what} at {node.source} ({step.text})"
        else:
            reason = f"breakpoint on {node.label}: its {what} grew ({step.text})"
        return Hit(self, step, reason, node)


@dataclass(frozen=True, slots=True)
class AtOp(Breakpoint):
    """Stop at a step that applies a primitive of this kind (``"sqrt"``, ``"matmul"``…):
    computing it (forward), passing an adjoint back through it (backward) or a tangent
    forward through it (tangent)."""

    op: str

    def __post_init__(self):
        known = {"input", "const", *PRIMITIVES}
        if self.op not in known:
            raise ValueError(f"AtOp({self.op!r}): no such operation; the operations are "
                             f"{', '.join(sorted(known))}")

    def check(self, step) -> Hit | None:
        node = step.operation
        if node.op != self.op:
            return None
        reason = (f"breakpoint on op {self.op!r}: {node.label} = {node.call_text} at "
                  f"{node.source} ({step.text})")
        return Hit(self, step, reason, node)


@dataclass(frozen=True, slots=True)
class Exceeds(Breakpoint):
    """Stop when a step's total (value, adjoint or tangent) has an entry whose magnitude
    exceeds ``threshold``: an exploding gradient."""

    threshold: float

    def check(self, step) -> Hit | None:
        total = step.total
        size = abs(float(total)) if np.ndim(total) == 0 else np.max(np.abs(total), initial=0.0)
        if not size > self.threshold:  # NaN is not larger: NonFinite catches it
            return None
        what = {"forward": "value", "backward": "adjoint", "tangent": "tangent"}[step.mode]
        reason = (f"the {what} of {step.node.label} reached magnitude {size:.6g} > "
                  f"{self.threshold:g} at step {step.index} ({step.text})")
        return Hit(self, step, reason, step.operation)


@dataclass(frozen=True, slots=True)
class NonFinite(Breakpoint):
    """Stop at the first step whose total (value, adjoint or tangent) has a NaN or an
    infinity, and name its earliest origin.

    Forward: the first node in tape order whose value is not finite.  Backward and
    tangent: the node whose local Jacobian made the contribution non-finite, and, when its
    forward value was already non-finite, where that came from and which node hid it from
    the output (``np.where(x > 0, np.sqrt(x), 0)`` at x = −1: √ gives NaN in the forward
    pass, ``where`` masks it, and the backward pass multiplies the NaN slope ∂√x/∂x by 0).
    """

    def check(self, step) -> Hit | None:
        if _finite(step.total):
            return None
        graph = step._trail.graph
        if step.mode == "forward":
            node = step.node
            reason = f"{node.describe()} gives {show(step.value)}"
            broken = [o for o in node.inputs if not _finite(o.value)]
            if broken:  # not an origin: say which operand brought the NaN or ∞ along
                operands = ", ".join(f"{o.label} = {show(o.value)}" for o in broken)
                reason += f" because its operand {operands} is already not finite"
            elif node.inputs:
                operands = ", ".join(f"{o.label} = {show(o.value)}" for o in node.inputs)
                reason += f" from finite operands ({operands})"
            return Hit(self, step, reason + _masking(graph, node), node)
        what = "adjoint" if step.mode == "backward" else "tangent"
        if step.via is None:
            return Hit(self, step, f"the seed of {step.node.label} is {show(step.total)}",
                       step.node)
        consumer = step.consumer
        if not _finite(step.upstream):
            reason = f"the {what} arriving from {step.via.label} is already not finite"
            return Hit(self, step, reason, consumer)
        if _finite(step.contribution):
            reason = (f"adding the contribution via {step.via.label} overflowed the {what} "
                      f"of {step.node.label} to {show(step.total)}")
            return Hit(self, step, reason, step.node)
        operand, local = consumer.inputs[step.arg], step.local
        reason = (f"the {what} of {step.node.label} became {show(step.total)} at step "
                  f"{step.index}: the local Jacobian ∂{consumer.label}/∂{operand.label} = "
                  f"{local.rule} of {consumer.describe()}")
        if _local_finite(local):
            reason += (f" is finite but its product with {show(step.upstream)} overflowed")
        else:
            reason += (f" is not finite at {operand.label} = {show(operand.value)}, so the "
                       f"contribution is {show(step.contribution)} although "
                       f"{step.via.label}{step.mark} = "
                       f"{show(step.upstream)}")
        if not _finite(consumer.value):
            first = _first_nonfinite_ancestor(consumer)
            reason += f". In the forward pass {consumer.label} = {show(consumer.value)}"
            if first is not consumer:
                reason += f", first from {first.describe()}"
            reason += _masking(graph, first)
        return Hit(self, step, reason, consumer)


@dataclass(frozen=True, slots=True)
class When(Breakpoint):
    """Stop where ``predicate(step)`` is true (``description`` names it in the hit)."""

    predicate: Callable
    description: str = "condition"

    def check(self, step) -> Hit | None:
        if not self.predicate(step):
            return None
        return Hit(self, step, f"{self.description} at step {step.index} ({step.text})",
                   step.operation)


def _finite(value) -> bool:
    if value is None:
        return True
    if np.ndim(value) == 0:  # the common case on scalar graphs: skip numpy's machinery
        return math.isfinite(value)
    return bool(np.all(np.isfinite(value)))


def _local_finite(local) -> bool:
    """Whether a structured Jacobian's own numbers are finite (its factor, weights, or the
    other matrix of a product); structural ones (selection, reshape…) always are."""
    for name in ("factor", "weights", "other"):
        numbers = getattr(local, name, None)
        if numbers is not None and not _finite(numbers):
            return False
    return True


def _first_nonfinite_ancestor(node: Node) -> Node:
    """The earliest node (in tape order) among ``node`` and its ancestors whose value is not
    finite, reached through non-finite values only."""
    earliest, stack, seen = node, [node], {node.id}
    while stack:
        current = stack.pop()
        if current.id < earliest.id:
            earliest = current
        for operand in current.inputs:
            if operand.id not in seen and not _finite(operand.value):
                seen.add(operand.id)
                stack.append(operand)
    return earliest


def _masking(graph, origin: Node) -> str:
    """Where a non-finite value stops spreading: the first node fed a tainted operand whose
    own value is finite (``where``, a zero product…), or that it never reaches the output."""
    tainted = {origin.id}
    for node in graph.nodes[origin.id + 1 : graph.output.id + 1]:
        if any(operand.id in tainted for operand in node.inputs):
            if _finite(node.value):
                return f"; it is hidden from the output by {node.describe()}"
            tainted.add(node.id)
    if graph.output.id in tainted:
        return ""
    return "; it does not reach the output"


# -- the cursor ----------------------------------------------------------------------------------


class Debugger:
    """A cursor over the forward, backward or tangent pass of a traced graph.

    ``step()``, ``back()``, ``goto(i)``, ``reset()``, ``run()`` and ``run_to(*breakpoints)``
    move the cursor (``index``, -1 before the first step) and return the step they land on;
    ``state()`` describes the pass at the cursor.  ``set_mode`` switches passes.

    >>> import numpy as np, graphviz_ad as gad
    >>> with np.errstate(invalid="ignore"):       # √−1 is NaN, and where() hides it
    ...     g = gad.trace(lambda x: np.where(x > 0, np.sqrt(x), 0.0), -1.0)
    >>> dbg = gad.Debugger(g, "backward")
    >>> hit = dbg.run_to(NonFinite())
    >>> hit.origin.op, dbg.index, len(dbg)
    ('sqrt', 2, 3)
    """

    def __init__(self, graph, mode: str = "forward", seed=None, direction=None):
        self.graph = graph
        self._trails: dict[str, _Trail] = {}
        self.hit: Hit | None = None
        self.set_mode(mode, seed=seed, direction=direction)

    # -- the three passes, as generators of steps ------------------------------------------
    def forward(self) -> Iterator[ForwardStep]:
        """One step per node in tape order: its inputs' values and its value."""
        return iter(self._trail_for("forward"))

    def backward(self, seed=None) -> Iterator[BackwardStep]:
        """Reverse accumulation: the seed step, then one step per edge contribution.

        ``seed`` is the output's adjoint; it may be omitted for a scalar output (then 1).
        """
        return iter(self._trail_for("backward", seed=seed))

    def tangent(self, direction=None) -> Iterator[TangentStep]:
        """Forward-mode propagation of ``direction`` (input name → tangent, default ones on
        the first input): one seed step per input given, then one step per edge."""
        return iter(self._trail_for("tangent", direction=direction))

    def _trail_for(self, mode: str, seed=None, direction=None) -> _Trail:
        if mode == "forward":
            trail = _forward_trail(self.graph)
        elif mode == "backward":
            trail = _backward_trail(self.graph, seed)
        elif mode == "tangent":
            trail = _tangent_trail(self.graph, direction)
        else:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        known = self._trails.get(mode)
        if known is not None and known.key == trail.key:
            return known  # the same pass: reuse the steps made so far
        self._trails[mode] = trail
        return trail

    # -- the cursor ----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._trail.mode

    def set_mode(self, mode: str, seed=None, direction=None) -> None:
        """Put the cursor on another pass (or the same pass with another seed), before its
        first step."""
        self._trail = self._trail_for(mode, seed=seed, direction=direction)
        self.reset()

    @property
    def current(self):
        """The step at the cursor (None before the first)."""
        return self._trail[self.index] if self.index >= 0 else None

    @property
    def steps_so_far(self) -> int:
        """How many steps of this pass have been made (by the cursor or an iteration)."""
        return len(self._trail.records)

    def __len__(self) -> int:
        """The number of steps in the pass, known from the graph's structure."""
        return len(self._trail)

    def state(self) -> State:
        return State(self._trail, self.index)

    def step(self):
        """Advance one step and return it (None, cursor unchanged, at the end)."""
        if self.index + 1 >= len(self._trail):
            return None
        return self.goto(self.index + 1)

    def back(self):
        """Go back one step (exactly the previous state) and return the step now current."""
        return self.goto(max(self.index - 1, -1))

    def goto(self, index: int):
        """Put the cursor after step ``index`` (-1: before the first) and return that step."""
        if not -1 <= index < len(self._trail):
            raise IndexError(f"step {index} is outside the {self.mode} pass "
                             f"(steps -1 to {len(self._trail) - 1})")
        self.index = index
        return self.current

    def reset(self) -> None:
        """Back to before the first step."""
        self.index = -1
        self.hit = None

    def run(self):
        """Run to the last step and return it."""
        return self.goto(len(self._trail) - 1)

    def run_to(self, *breakpoints) -> Hit | None:
        """Step until a breakpoint fires; return (and keep in ``hit``) what fired and why,
        or None after the last step.

        A breakpoint is a :class:`Breakpoint` (``AtNode``, ``AtOp``, ``NonFinite``,
        ``Exceeds``, ``When``), a Node (``AtNode``) or a function of the step.
        """
        checks = [_as_breakpoint(b) for b in breakpoints]
        self.hit = None
        while self.step() is not None:
            for check in checks:
                hit = check.check(self.current)
                if hit is not None:
                    self.hit = hit
                    return hit
        return None

    def explain(self, name, seed=None):
        """Why the gradient of ``name`` is zero: :func:`graphviz_ad.explain.explain`."""
        from .explain import explain  # explain steps through a Debugger of its own

        return explain(self.graph, name, seed=seed)

    def __repr__(self) -> str:
        return (f"<Debugger {self.graph.name} {self.mode}: step {self.index} of "
                f"{len(self._trail)}>")


def _as_breakpoint(breakpoint) -> Breakpoint:
    if isinstance(breakpoint, Breakpoint):
        return breakpoint
    if isinstance(breakpoint, Node):
        return AtNode(breakpoint)
    if callable(breakpoint):
        return When(breakpoint, getattr(breakpoint, "__name__", "condition"))
    raise TypeError(f"a breakpoint is a Breakpoint, a Node or a function of the step, not "
                    f"{type(breakpoint).__name__}")
