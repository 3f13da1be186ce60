"""Step records: one immutable record per step of a forward, backward or tangent pass.

A record carries everything a front end shows, so that none of them works anything out
again: the node whose total grows, the graph edge it grows along (``edge.tail`` is
argument ``edge.arg`` of ``edge.head``, the way values flow), which way the step travels
along it (``direction``), the local Jacobian, what arrives (``upstream``), the
``contribution``, the running ``total`` and "``received`` of ``expected``".

* :class:`ForwardStep`: node ``node`` computed ``value = op(*inputs)``;
* :class:`BackwardStep`: ``∂y/∂node += ∂y/∂head · ∂head/∂node``, one contribution to the
  adjoint of the edge's tail, travelling against the edge;
* :class:`TangentStep`: ``dnode += ∂node/∂tail · dtail``, one contribution to the tangent
  of the edge's head, travelling along it.

The first steps of a backward or tangent pass seed it (``edge`` is None).  Records are
made by :class:`graphviz_ad.debugger.Debugger`, which also decides the seed
(:func:`graphviz_ad.propagate.output_seed`).

**Step numbers** are the same in every front end (terminal debugger, ``render --step``,
the HTML player, JSON): *step 0* is the pass before anything happened, *step k* the state
after the k-th record, so the seed of a backward pass is step 1 and a pass of ``n``
records ends at step ``n``.  A record's ``number`` is ``index + 1`` (``index`` counts the
records from 0, as ``Debugger.goto`` does); a :class:`~graphviz_ad.passlog.State`'s
``number`` is ``index + 1`` too (0 before the first step), and
``Debugger.goto_number(k)`` moves the cursor to step k.  Front ends show "step k of n".
"""

from __future__ import annotations

from operator import attrgetter
from typing import NamedTuple

from .notation import array_text, bracket, scale_of, total_name
from .tracer import Node


class Edge(NamedTuple):
    """A graph edge ``tail → head``: ``tail`` is argument ``arg`` of ``head``."""

    tail: Node
    head: Node
    arg: int

    @property
    def key(self) -> tuple[int, int, int]:
        """``(tail id, head id, arg)``: how pictures name the edge, whatever the mode."""
        return self.tail.id, self.head.id, self.arg


class ForwardStep:
    """Node ``node`` computed: ``value = op(*inputs)`` at ``node.source``."""

    __slots__ = ("_index", "_node", "_trail")
    mode = "forward"
    direction = "along"  # values flow along the edges into the node

    def __init__(self, index: int, node: Node, trail):
        self._index, self._node, self._trail = index, node, trail

    index = property(attrgetter("_index"))
    node = property(attrgetter("_node"))

    @property
    def inputs(self) -> tuple:
        """The operands' values, in argument order."""
        return tuple(operand.value for operand in self._node.inputs)

    @property
    def value(self):
        return self._node.value

    @property
    def number(self) -> int:
        """The step number every front end shows: ``index + 1`` (0 is before the pass)."""
        return self.index + 1

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
    def edges(self) -> tuple[Edge, ...]:
        """The edges the step reads: every operand into the node."""
        return tuple(Edge(operand, self.node, arg) for arg, operand in enumerate(self.node.inputs))

    @property
    def text(self) -> str:
        """The step in words: ``u₃ = multiply(x, x) = 9    # f.py:4``."""
        node = self.node
        if node.inputs:
            return f"{node.label} = {node.call_text} = {array_text(self.value)}    # {node.source}"
        kind = "input" if node.op == "input" else "constant"
        return f"{node.label} = {array_text(self.value)}    ({kind})"

    def state(self):
        """The state right after this step."""
        return self._trail.state(self.index)

    def __repr__(self) -> str:
        return f"<ForwardStep {self.number}: {self.text}>"


class _EdgeStep:
    """A contribution along one edge; see :class:`BackwardStep` and :class:`TangentStep`.

    A record holds only where it is in the pass (``index``, ``node`` whose total grows,
    ``via`` the other end of the edge, None for a seed step, ``arg`` the edge's argument
    position in its head, ``received`` the contributions to ``node`` so far, this one
    included); its numbers (``upstream``, what arrives along the edge; ``contribution``;
    ``total``, node's total after this step) are read from the pass's log, which may have
    let go of old ones and makes them again, to the same bits, when asked.
    """

    __slots__ = ("_arg", "_index", "_node", "_received", "_trail", "_via")
    mode = ""
    direction = ""  # "against" the edge (backward) or "along" it (tangent)

    def __init__(self, index: int, node: Node, via: Node | None, arg: int | None,
                 received: int, trail):
        self._index, self._node, self._via, self._arg = index, node, via, arg
        self._received, self._trail = received, trail

    index = property(attrgetter("_index"))
    node = property(attrgetter("_node"))
    via = property(attrgetter("_via"))
    arg = property(attrgetter("_arg"))
    received = property(attrgetter("_received"))

    @property
    def expected(self) -> int:
        """Contributions ``node`` gets in the whole pass."""
        return self._trail.expected[self._node.id]

    @property
    def upstream(self):
        """What arrives along the edge: the final total of ``via`` (None for a seed step)."""
        return None if self._via is None else self._trail.final_total(self._via)

    @property
    def contribution(self):
        return self._trail.contribution(self._index)

    @property
    def total(self):
        return self._trail.total(self._index)

    @property
    def number(self) -> int:
        """The step number every front end shows: ``index + 1`` (the seed is step 1)."""
        return self.index + 1

    @property
    def complete(self) -> bool:
        """True when this was the node's last contribution: its total is final."""
        return self.received == self.expected

    @property
    def is_seed(self) -> bool:
        return self.via is None

    @property
    def count_text(self) -> str:
        """``2 of 2``: how many of the node's contributions have arrived."""
        return f"{self.received} of {self.expected}"

    @property
    def edge(self) -> Edge | None:
        """The graph edge the contribution travels along (None for a seed step)."""
        raise NotImplementedError

    @property
    def edges(self) -> tuple[Edge, ...]:
        return () if self.via is None else (self.edge,)

    @property
    def consumer(self) -> Node | None:
        """The node whose local Jacobian this step applies: the edge's head (None for a
        seed step)."""
        return None if self.via is None else self.edge.head

    @property
    def operation(self) -> Node:
        """The node whose rule this step applies (the seeded node for a seed step)."""
        return self.node if self.via is None else self.consumer

    @property
    def local(self):
        """The head's local Jacobian for argument ``arg`` (a structured
        :class:`~graphviz_ad.linear.Jacobian`; None for a seed step).  Made again when asked
        rather than kept, so that a long pass does not hold every Jacobian's numbers."""
        return None if self.via is None else self.consumer.jacobian(self.arg)

    def name(self, node: Node) -> str:
        """What ``node`` holds in this pass, written as everywhere: ``∂y/∂x`` or ``dx``."""
        return total_name(self.mode, node.label, self._trail.graph.output.label)

    @property
    def text(self) -> str:
        """The step in words, the factors in the order the chain rule multiplies them:
        ``∂y/∂x += ∂y/∂u₂ · [2x] = 6  → ∂y/∂x = 7  (2 of 2, complete)`` (backward),
        ``du₂ += [2x] · dx = 6  → du₂ = 6  (1 of 1, complete)`` (tangent)."""
        own = self.name(self.node)
        if self.via is None:
            return f"{own} = {array_text(self.total)}  (seed)"
        return self._sentence(self.equation())

    def _sentence(self, update: str) -> str:
        """``update = contribution  → own = total  (k of n, complete)``."""
        own = self.name(self.node)
        done = ", complete" if self.complete else ""
        scale = scale_of(self.contribution, self.total)
        return (f"{update} = {array_text(self.contribution, scale=scale)}  → {own} = "
                f"{array_text(self.total)}  ({self.count_text}{done})")

    def equation(self, factor: str | None = None) -> str:
        """The contribution as the chain rule multiplies it: ``∂y/∂x += ∂y/∂u₂ · [2x]``
        (backward), ``du₂ += [2x] · dx`` (tangent).  ``factor`` stands in for the rule
        (``∂u₂/∂x``, to ask for it).  Not for a seed step."""
        incoming = self.name(self.via)
        factor = bracket(self.local.rule) if factor is None else factor
        product = f"{incoming} · {factor}" if self.mode == "backward" else f"{factor} · {incoming}"
        return f"{self.name(self.node)} += {product}"

    def state(self):
        """The state right after this step."""
        return self._trail.state(self.index)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.number}: {self.text}>"


class BackwardStep(_EdgeStep):
    """``∂y/∂node += ∂y/∂via · ∂via/∂node``: one contribution to ``node``'s adjoint.

    ``node`` is the edge's tail and ``via`` its head; ``local`` is ∂via/∂node, ``upstream``
    the adjoint of ``via``, ``contribution`` their VJP and ``total`` the adjoint of ``node``
    so far.  The first step of a pass seeds the output: ``via``, ``arg``, ``local`` and
    ``upstream`` are None and ``contribution == total == seed``.
    """

    __slots__ = ()
    mode = "backward"
    direction = "against"

    @property
    def edge(self) -> Edge | None:
        return None if self.via is None else Edge(self.node, self.via, self.arg)

    @property
    def backprop_rule(self) -> str | None:
        """The update this step makes, as a derivation writes it (None for the seed):
        ``∂y/∂W += ∂y/∂u₁ · xᵀ`` (:meth:`graphviz_ad.linear.Jacobian.backprop_rule`)."""
        if self.via is None:
            return None
        return self.local.backprop_rule(self.node.label, self._trail.graph.output.label)

    @property
    def backprop_text(self) -> str:
        """The step in words with its backprop rule (``text`` with the Jacobian):
        ``∂y/∂W += ∂y/∂u₁ · xᵀ = [[…]]  → ∂y/∂W = [[…]]  (1 of 1, complete)``."""
        return self.text if self.via is None else self._sentence(self.backprop_rule)


class TangentStep(_EdgeStep):
    """``dnode += ∂node/∂via · dvia``: one tangent contribution to the consumer ``node``.

    ``via`` is the edge's tail (argument ``arg`` of ``node``), ``upstream`` its tangent,
    ``local`` the Jacobian ∂node/∂via.  The first steps seed the direction's inputs.
    """

    __slots__ = ()
    mode = "tangent"
    direction = "along"

    @property
    def edge(self) -> Edge | None:
        return None if self.via is None else Edge(self.via, self.node, self.arg)
