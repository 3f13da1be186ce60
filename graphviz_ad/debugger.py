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

from collections.abc import Iterator

from .breakpoints import Hit, as_breakpoint
from .explain import explain
from .notation import MODES
from .passlog import MEMORY_BUDGET, State, Trail, backward_trail, forward_trail, tangent_trail
from .steps import BackwardStep, ForwardStep, TangentStep


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
        self._trails: dict[str, Trail] = {}
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

    def _trail_for(self, mode: str, seed=None, direction=None) -> Trail:
        if mode == "forward":
            trail = forward_trail(self.graph)
        elif mode == "backward":
            trail = backward_trail(self.graph, seed, self.memory_budget)
        elif mode == "tangent":
            trail = tangent_trail(self.graph, direction)
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
