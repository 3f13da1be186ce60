"""The step-through debugger: a log of each pass, the state at any step, and a cursor.

A :class:`Debugger` turns a traced graph into three sequences of immutable step records
(:mod:`graphviz_ad.steps`) and holds a cursor over one of them:

* ``forward()``: one :class:`~graphviz_ad.steps.ForwardStep` per node in tape order;
* ``backward(seed)``: reverse-mode accumulation, a step that seeds the output's adjoint,
  then one :class:`~graphviz_ad.steps.BackwardStep` per edge contribution in reverse tape
  order: a node used several times *adds* its contributions;
* ``tangent(direction)``: forward-mode propagation, one
  :class:`~graphviz_ad.steps.TangentStep` per edge.

The sequences wrap :func:`graphviz_ad.propagate.reverse` and
:func:`graphviz_ad.propagate.forward`, the loops ``Graph.grad`` and ``Graph.jvp`` drain, so
the debugger's last totals are those results to the last bit.  Steps are made only when the
cursor (or an iteration) reaches them, and kept in a log: each holds the arrays its pass
made anyway (its contribution and the running total; no copies).  The state at any index
is read from that log (for each node, the last step that touched it), so ``back()`` and
``goto()`` just move the cursor.  Breakpoints live in :mod:`graphviz_ad.breakpoints`.

>>> import graphviz_ad as gad
>>> g = gad.trace(lambda x: x + x ** 2, 3.0)       # u₁ = x², u₂ = x + u₁
>>> dbg = gad.Debugger(g, "backward")
>>> [(s.node.label, s.via and s.via.label, float(s.contribution)) for s in dbg.backward()]
[('u₂', None, 1.0), ('x', 'u₂', 1.0), ('u₁', 'u₂', 1.0), ('x', 'u₁', 6.0)]
>>> last = dbg.run()
>>> float(last.total), last.received, last.expected, last.complete
(7.0, 2, 2, True)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator

from . import propagate
from .breakpoints import Hit, as_breakpoint
from .explain import explain
from .notation import MODES
from .steps import BackwardStep, ForwardStep, TangentStep

# -- the log of one pass -------------------------------------------------------------------------


class _Trail:
    """The steps of one pass, made on demand from the pass's generator and kept.

    ``expected[node id]`` counts the node's contributions in the whole pass, from the graph's
    structure alone; their sum is the number of steps.  ``touches[node id]`` lists the steps
    that changed the node, in order, so the state at any index needs no copies.
    """

    __slots__ = ("_source", "expected", "graph", "key", "length", "make", "records", "touches")

    def __init__(self, graph, key, source: Iterator, expected: list[int], make: type):
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
        if self.make is ForwardStep:
            step = ForwardStep(index, *fields, self)
        else:
            step = self.make(index, *fields, len(touched) + 1, self.expected[node.id], self)
        touched.append(index)
        self.records.append(step)

    def state(self, index: int) -> State:
        """The state right after step ``index``."""
        return State(self, index)

    def __iter__(self) -> Iterator:
        for index in range(self.length):
            yield self[index]


def _backward_trail(graph, seed) -> _Trail:
    output = graph.output
    seed = propagate.output_seed(graph, seed)
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
    return _Trail(graph, key, source(), expected, BackwardStep)


def _tangent_trail(graph, direction) -> _Trail:
    seeds = propagate.input_tangents(graph, direction)
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
    return _Trail(graph, key, source(), expected, TangentStep)


def _forward_trail(graph) -> _Trail:
    def source():
        for node in graph.nodes:
            yield (node, tuple(operand.value for operand in node.inputs), node.value)

    return _Trail(graph, ("forward",), source(), [1] * len(graph.nodes), ForwardStep)


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
    def number(self) -> int:
        """The step number front ends show: 0 before the first step, ``index + 1`` after."""
        return self.index + 1

    @property
    def length(self) -> int:
        """The number of the pass's last step (its count of records)."""
        return len(self._trail)

    @property
    def current(self):
        """The step at this index (None before the first)."""
        return self._trail[self.index] if self.index >= 0 else None

    def _steps(self, node) -> list[int]:
        touched = self._trail.touches.get(node.id, ())
        return touched[: bisect_right(touched, self.index)]

    def received(self, node) -> int:
        return len(self._steps(self._trail.graph.node(node)))

    def expected(self, node) -> int:
        return self._trail.expected[self._trail.graph.node(node).id]

    def status(self, node) -> str:
        node = self._trail.graph.node(node)
        touched = self._trail.touches.get(node.id, ())
        received = bisect_right(touched, self.index)
        if received and touched[received - 1] == self.index:
            return "current"
        return "done" if received and received == self._trail.expected[node.id] else "pending"

    def total(self, node):
        steps = self._steps(self._trail.graph.node(node))
        return self._trail.records[steps[-1]].total if steps else None

    def contributions(self, node) -> tuple:
        """The steps that changed the node so far, oldest first."""
        return tuple(self._trail.records[i] for i in self._steps(self._trail.graph.node(node)))

    def __repr__(self) -> str:
        return f"<State {self.mode} at step {self.number} of {len(self._trail)}>"


class Debugger:
    """A cursor over the forward, backward or tangent pass of a traced graph.

    ``step()``, ``back()``, ``goto(i)``, ``reset()``, ``run()`` and ``run_to(*breakpoints)``
    move the cursor (``index``, -1 before the first step) and return the step they land on;
    ``state()`` describes the pass at the cursor.  ``set_mode`` switches passes.

    >>> import numpy as np, graphviz_ad as gad
    >>> with np.errstate(invalid="ignore"):       # √−1 is NaN, and where() hides it
    ...     g = gad.trace(lambda x: np.where(x > 0, np.sqrt(x), 0.0), -1.0)
    >>> dbg = gad.Debugger(g, "backward")
    >>> hit = dbg.run_to(gad.NonFinite())
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
    def number(self) -> int:
        """The cursor's step number as front ends show it (0 before the first step)."""
        return self.index + 1

    @property
    def steps_so_far(self) -> int:
        """How many steps of this pass have been made (by the cursor or an iteration)."""
        return len(self._trail.records)

    def __len__(self) -> int:
        """The number of steps in the pass, known from the graph's structure."""
        return len(self._trail)

    def state(self) -> State:
        return self._trail.state(self.index)

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

    def goto_number(self, number: int):
        """Put the cursor at step ``number`` as front ends count (0: before the pass, k: after
        the k-th record, see :mod:`graphviz_ad.steps`) and return that step."""
        if not 0 <= number <= len(self._trail):
            raise IndexError(f"step {number} is outside the {self.mode} pass "
                             f"(steps 0 to {len(self._trail)}; 0 is before the first)")
        return self.goto(number - 1)

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
        checks = [as_breakpoint(b) for b in breakpoints]
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
        return explain(self.graph, name, seed=seed)

    def __repr__(self) -> str:
        return (f"<Debugger {self.graph.name} {self.mode}: step {self.number} of "
                f"{len(self._trail)}>")
