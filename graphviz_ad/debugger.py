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
cursor (or an iteration) reaches them, and kept in a log with the arrays its pass made
anyway (each step's contribution and running total; no copies).  The state at any index
is read from that log (for each node, the last step that touched it), so ``back()`` and
``goto()`` just move the cursor.  A backward pass keeps at most ``memory_budget`` bytes of
those arrays (plus the adjoints still live at a few checkpoints) and makes an older step's
again, to the same bits, when it is asked for.  Breakpoints live in
:mod:`graphviz_ad.breakpoints`.

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

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

import numpy as np

from . import propagate
from .breakpoints import Hit, as_breakpoint
from .explain import explain
from .notation import MODES
from .steps import BackwardStep, ForwardStep, TangentStep

# -- the log of one pass -------------------------------------------------------------------------


# How many bytes of contributions and totals a backward pass keeps before it lets go of the
# oldest (see _Trail): a replay remakes at most a sixteenth of that, a few milliseconds.
MEMORY_BUDGET = 128 * 2**20


def _size(contribution, total) -> int:
    """The bytes a step's numbers hold (once when the total is the contribution itself)."""
    try:
        return contribution.nbytes if total is contribution else contribution.nbytes + total.nbytes
    except AttributeError:  # a plain Python number
        return np.asarray(contribution).nbytes + np.asarray(total).nbytes


class _Trail:
    """The steps of one pass, made on demand from the pass's generator and kept.

    ``expected[node id]`` counts the node's contributions in the whole pass, from the graph's
    structure alone; their sum is the number of steps.  ``touched(node id)`` lists the steps
    that changed the node, in order, so the state at any index needs no copies (indexed from
    the records when first asked, so that making a step only counts ``received``).

    The numbers of step ``i`` are ``contributions[i]`` and ``totals[i]`` (the arrays the pass
    made anyway; a first contribution *is* the total).  A pass with a ``budget`` (the
    backward pass: its arrays are a copy of the graph's values' size) keeps at most about
    that many bytes of them, plus what the pass itself holds.  It cuts the log into
    segments of ``budget / 16`` bytes; where a segment ends (a *checkpoint*) it marks the
    totals still live there (a node's adjoint that is still to be added to or passed on:
    exactly what ``propagate.reverse`` holds at that point) to be kept, and lets go of the
    other numbers of the oldest segments once the log holds more than ``budget`` bytes.
    When an evicted step is asked for, its segment is replayed from the kept totals, each
    step ``contribution = local.vjp(upstream)``, ``total = previous + contribution``: the
    same operations on the same arrays as the first time, so the same bits.  The last two
    replayed segments are kept.
    """

    __slots__ = (
        "_fresh_bytes",
        "_indexed",
        "_live",
        "_received",
        "_replayed",
        "_source",
        "budget",
        "checkpoints",
        "contributions",
        "evicted_to",
        "expected",
        "graph",
        "held_bytes",
        "kept",
        "key",
        "length",
        "make",
        "records",
        "seeds",
        "totals",
        "touches",
    )

    def __init__(self, graph, key, source: Iterator, expected: list[int], make: type,
                 seeds: tuple = (), budget: int | None = None):
        self.graph = graph
        self.key = key
        self.expected = expected
        self.length = sum(expected)
        self.records: list = []
        self.contributions: list = []
        self.totals: list = []
        self.touches: dict[int, list[int]] = {}  # see touched()
        self._indexed = 0  # records indexed into touches so far
        self._received = [0] * len(graph.nodes)  # contributions to each node so far
        self._source = source
        self.make = make
        self.seeds = seeds  # (node, value) of the first steps, which seed the pass
        self.budget = budget
        self.checkpoints: list[int] = []  # step indices where a segment ends
        self.kept: set[int] = set()  # steps whose total a replay starts from
        self.evicted_to = 0  # steps before it, unless kept, have let go of their numbers
        self.held_bytes = 0  # bytes of numbers held up to the last checkpoint
        self._fresh_bytes = 0  # bytes made since the last checkpoint
        self._live: dict[int, int] = {}  # node id → its latest step, while still needed
        self._replayed: dict[int, tuple] = {}  # segment → (first step, contributions, totals)

    @property
    def mode(self) -> str:
        return self.key[0]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        records = self.records
        if 0 <= index < len(records):
            return records[index]
        if not 0 <= index < self.length:
            raise IndexError(f"step {index} is outside the {self.mode} pass "
                             f"(steps 0 to {self.length - 1})")
        while len(records) <= index:
            self.produce()
        return records[index]

    def produce(self):
        """Make the next step, keep it and return it."""
        records = self.records
        index = len(records)
        if self.make is ForwardStep:
            step = ForwardStep(index, next(self._source), self)
            records.append(step)
            return step
        if index >= len(self.seeds):
            # a Contribution (operand, consumer, arg, local, incoming, contribution, total)
            node, via, arg, _, _, contribution, total = next(self._source)
            if self.make is TangentStep:  # a tangent grows at the consumer, along the edge
                node, via = via, node
        else:
            node, total = self.seeds[index]
            via = arg = None
            contribution = total
        counts, node_id = self._received, node.id
        counts[node_id] += 1
        step = self.make(index, node, via, arg, counts[node_id], self)
        records.append(step)
        self.contributions.append(contribution)
        self.totals.append(total)
        if self.budget is None:
            return step
        # hold the numbers within the budget: count the step's bytes, and end the segment
        # (see _checkpoint) once it is full
        self._fresh_bytes += _size(contribution, total)
        if self._fresh_bytes * 16 >= self.budget:
            self._checkpoint(index)
        return step

    def _checkpoint(self, index: int) -> None:
        """End a segment at step ``index``: keep the totals live there, then let go of the
        oldest numbers (up to here) beyond the budget."""
        live, records = self._live, self.records
        steps = range(self.checkpoints[-1] + 1 if self.checkpoints else 0, index + 1)
        for step in steps:
            live[records[step].node.id] = step  # each node's latest total
        current = records[index].via
        for step in steps:
            # reverse() passes a node's adjoint on to all its operands in consecutive steps,
            # after its last contribution: once that is over, the node's total is not needed
            via = records[step].via
            if via is not None and via is not current:
                live.pop(via.id, None)
        self.kept.update(live.values())
        self.checkpoints.append(index)
        self.held_bytes += self._fresh_bytes
        self._fresh_bytes = 0
        while self.held_bytes > self.budget and self.evicted_to <= index:
            step = self.evicted_to
            self.evicted_to += 1
            if step < len(self.seeds) or step in self.kept:
                continue
            contribution, total = self.contributions[step], self.totals[step]
            self.held_bytes -= _size(contribution, total)
            self.contributions[step] = self.totals[step] = None

    def touched(self, node_id: int) -> list[int]:
        """The steps made so far that changed node ``node_id``, in order."""
        records, touches = self.records, self.touches
        for index in range(self._indexed, len(records)):
            touches.setdefault(records[index].node.id, []).append(index)
        self._indexed = len(records)
        return touches.get(node_id, [])

    def contribution(self, index: int):
        found = self.contributions[index]
        return found if found is not None else self._replay(index)[0]

    def total(self, index: int):
        found = self.totals[index]
        return found if found is not None else self._replay(index)[1]

    def final_total(self, node):
        """The node's total after its last step so far (what it passes on once complete)."""
        return self.total(self.touched(node.id)[-1])

    def _replay(self, index: int) -> tuple:
        """The contribution and total of an evicted step, made again from its segment."""
        segment = bisect_left(self.checkpoints, index)
        if segment not in self._replayed:
            first = self.checkpoints[segment - 1] + 1 if segment else 0
            self._replayed[segment] = (first, *self._remake(first, self.checkpoints[segment]))
            if len(self._replayed) > 2:
                del self._replayed[next(iter(self._replayed))]
        first, contributions, totals = self._replayed[segment]
        return contributions[index - first], totals[index - first]

    def _remake(self, first: int, last: int) -> tuple[list, list]:
        """Steps ``first`` to ``last`` again, from the totals kept before ``first``."""
        contributions, totals = [], []

        def total_at(step: int):
            return totals[step - first] if step >= first else self.totals[step]

        for step in range(first, last + 1):
            record = self.records[step]
            node, via, received = record.node, record.via, record.received
            if via is None:
                contribution = total = self.totals[step]  # a seed, always kept
            else:
                upstream = total_at(self.touched(via.id)[-1])
                contribution = via.jacobian(record.arg).vjp(upstream)
                total = (contribution if received == 1
                         else total_at(self.touched(node.id)[received - 2]) + contribution)
            contributions.append(contribution)
            totals.append(total)
        return contributions, totals

    def state(self, index: int) -> State:
        """The state right after step ``index``."""
        return State(self, index)

    def __iter__(self) -> Iterator:
        for index in range(self.length):
            yield self[index]


def _backward_trail(graph, seed, budget: int | None) -> _Trail:
    output = graph.output
    seed = propagate.output_seed(graph, seed)
    depends, reaches = graph.activity
    expected = [0] * len(graph.nodes)
    expected[output.id] = 1
    for node in graph.nodes[: output.id + 1]:
        if reaches[node.id]:
            for operand in node.inputs:
                expected[operand.id] += depends[operand.id]

    key = ("backward", seed.shape, seed.tobytes())
    return _Trail(graph, key, propagate.reverse(graph, seed), expected, BackwardStep,
                  seeds=((output, seed),), budget=budget)


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

    key = ("tangent", *((i, t.shape, t.tobytes()) for i, t in seeds.items()))
    return _Trail(graph, key, propagate.forward(graph, seeds), expected, TangentStep,
                  seeds=tuple((graph.nodes[i], tangent) for i, tangent in seeds.items()))


def _forward_trail(graph) -> _Trail:
    return _Trail(graph, ("forward",), iter(graph.nodes), [1] * len(graph.nodes), ForwardStep)


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
        touched = self._trail.touched(node.id)
        return touched[: bisect_right(touched, self.index)]

    def received(self, node) -> int:
        return len(self._steps(self._trail.graph.node(node)))

    def expected(self, node) -> int:
        return self._trail.expected[self._trail.graph.node(node).id]

    def status(self, node) -> str:
        node = self._trail.graph.node(node)
        touched = self._trail.touched(node.id)
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
    ``memory_budget`` bounds the bytes of contributions and totals a backward pass keeps
    (older steps' are made again when asked, to the same bits); None keeps them all.

    >>> import numpy as np, graphviz_ad as gad
    >>> with np.errstate(invalid="ignore"):       # √−1 is NaN, and where() hides it
    ...     g = gad.trace(lambda x: np.where(x > 0, np.sqrt(x), 0.0), -1.0)
    >>> dbg = gad.Debugger(g, "backward")
    >>> hit = dbg.run_to(gad.NonFinite())
    >>> hit.origin.op, dbg.index, len(dbg)
    ('sqrt', 2, 3)
    """

    def __init__(self, graph, mode: str = "forward", seed=None, direction=None,
                 memory_budget: int | None = MEMORY_BUDGET):
        self.graph = graph
        self.memory_budget = memory_budget
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
            trail = _backward_trail(self.graph, seed, self.memory_budget)
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
        index, trail = self.index + 1, self._trail
        if index >= trail.length:
            return None
        self.index = index
        if index < len(trail.records):
            return trail.records[index]
        return trail.produce()

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
