"""Breakpoints: conditions ``Debugger.run_to`` checks after each step, and why one fired.

``AtNode`` (a step that changes a node), ``AtOp`` (a step applying a kind of primitive),
``Exceeds`` (an exploding value, adjoint or tangent), ``NonFinite`` (the first NaN or ∞,
traced back to where it was born) and ``When`` (any predicate of the step).

>>> import numpy as np, graphviz_ad as gad
>>> with np.errstate(over="ignore"):
...     g = gad.trace(lambda x: np.exp(x) * 1e300, 800.0)
...     hit = gad.Debugger(g).run_to(NonFinite())
>>> hit.origin.op
'exp'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .explain import finite, forward_note, masking
from .notation import WHAT, array_text, derivative, number
from .primitives import PRIMITIVES
from .tracer import Node


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
        return f"<Hit at step {self.step.number}: {self.reason}>"


@dataclass(frozen=True, slots=True)
class AtNode(Breakpoint):
    """Stop at a step that changes ``node`` (with ``complete=True``: its last contribution).

    ``node`` is a Node, an id, an input name or a unique label.
    """

    node: object
    complete: bool = False

    def check(self, step) -> Hit | None:
        node = step._trail.graph.node(self.node)
        if step.node is not node:
            return None
        if self.complete and not getattr(step, "complete", True):
            return None
        if step.mode == "forward":
            reason = f"breakpoint on {node.label}: computed at {node.source} ({step.text})"
        else:
            reason = f"breakpoint on {node.label}: its {WHAT[step.mode]} grew ({step.text})"
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
        reason = (f"the {WHAT[step.mode]} of {step.node.label} reached magnitude "
                  f"{number(size, 6)} > {number(self.threshold, 6)} at step {step.number} "
                  f"({step.text})")
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
        if finite(step.total):
            return None
        graph = step._trail.graph
        if step.mode == "forward":
            node = step.node
            reason = f"{node.describe()} gives {array_text(step.value)}"
            broken = [o for o in node.inputs if not finite(o.value)]
            if broken:  # not an origin: say which operand brought the NaN or ∞ along
                operands = ", ".join(f"{o.label} = {array_text(o.value)}" for o in broken)
                reason += f" because its operand {operands} is already not finite"
            elif node.inputs:
                operands = ", ".join(f"{o.label} = {array_text(o.value)}" for o in node.inputs)
                reason += f" from finite operands ({operands})"
            return Hit(self, step, reason + masking(graph, node), node)
        what = WHAT[step.mode]
        if step.via is None:
            return Hit(self, step, f"the seed of {step.node.label} is {array_text(step.total)}",
                       step.node)
        consumer = step.consumer
        if not finite(step.upstream):
            reason = f"the {what} arriving from {step.via.label} is already not finite"
            return Hit(self, step, reason, consumer)
        if finite(step.contribution):
            reason = (f"adding the contribution via {step.via.label} overflowed the {what} "
                      f"of {step.node.label} to {array_text(step.total)}")
            return Hit(self, step, reason, step.node)
        operand, local = consumer.inputs[step.arg], step.local
        local_name = derivative(consumer.label, operand.label)
        reason = (f"the {what} of {step.node.label} became {array_text(step.total)} at step "
                  f"{step.number}: the local Jacobian {local_name} = "
                  f"{local.rule} of {consumer.describe()}")
        if finite(local.coefficients):
            reason += (f" is finite but its product with {array_text(step.upstream)} overflowed")
        else:
            reason += (f" is not finite at {operand.label} = {array_text(operand.value)}, so the "
                       f"contribution is {array_text(step.contribution)} although "
                       f"{step.name(step.via)} = {array_text(step.upstream)}")
        reason += forward_note(graph, consumer)
        return Hit(self, step, reason, consumer)


@dataclass(frozen=True, slots=True)
class When(Breakpoint):
    """Stop where ``predicate(step)`` is true (``description`` names it in the hit)."""

    predicate: Callable
    description: str = "condition"

    def check(self, step) -> Hit | None:
        if not self.predicate(step):
            return None
        return Hit(self, step, f"{self.description} at step {step.number} ({step.text})",
                   step.operation)


def as_breakpoint(breakpoint) -> Breakpoint:
    if isinstance(breakpoint, Breakpoint):
        return breakpoint
    if isinstance(breakpoint, Node):
        return AtNode(breakpoint)
    if callable(breakpoint):
        return When(breakpoint, getattr(breakpoint, "__name__", "condition"))
    raise TypeError(f"a breakpoint is a Breakpoint, a Node or a function of the step, not "
                    f"{type(breakpoint).__name__}")
