"""The log of one pass: its step records, kept (or remade) in order, and the state at any
step, read from the log.

A pass is made lazily, one step at a time, as the :class:`~graphviz_ad.debugger.Debugger`'s
cursor (or an iteration) reaches it; each step keeps the arrays its pass made anyway (its
contribution and running total; no copies).  The :class:`State` at an index is read from
the log (for each node, the last step that touched it), so moving the cursor back costs
nothing.  A backward pass keeps at most ``MEMORY_BUDGET`` bytes of those arrays (plus the
adjoints still live at a few checkpoints) and remakes an older step's, to the same bits,
when it is asked for.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

import numpy as np

from . import propagate
from .steps import BackwardStep, ForwardStep, TangentStep

# -- the log of one pass -------------------------------------------------------------------------


# How many bytes of contributions and totals a backward pass keeps before it lets go of the
# oldest (see Trail): a replay remakes at most a sixteenth of that, a few milliseconds.
MEMORY_BUDGET = 128 * 2**20


def _size(contribution, total) -> int:
    """The bytes a step's numbers hold (once when the total is the contribution itself)."""
    try:
        return contribution.nbytes if total is contribution else contribution.nbytes + total.nbytes
    except AttributeError:  # a plain Python number
        return np.asarray(contribution).nbytes + np.asarray(total).nbytes


class Trail:
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


def backward_trail(graph, seed, budget: int | None) -> Trail:
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
    return Trail(graph, key, propagate.reverse(graph, seed), expected, BackwardStep,
                  seeds=((output, seed),), budget=budget)


def tangent_trail(graph, direction) -> Trail:
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
    return Trail(graph, key, propagate.forward(graph, seeds), expected, TangentStep,
                  seeds=tuple((graph.nodes[i], tangent) for i, tangent in seeds.items()))


def forward_trail(graph) -> Trail:
    return Trail(graph, ("forward",), iter(graph.nodes), [1] * len(graph.nodes), ForwardStep)


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

    def __init__(self, trail: Trail, index: int):
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
