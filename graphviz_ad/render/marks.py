"""Why zero, why NaN: the short notes a picture drawn with ``explain=True`` puts on nodes.

* an input whose gradient is zero (or partly zero) carries the reason, short:
  ``∂y/∂b = 0: u₃ = maximum(0, u₂) is inactive (u₂ ≤ 0)``;
* a node whose value is NaN or ±∞ carries its origin: ``NaN made here from x = −1``
  where it was born from finite operands, ``NaN from u₁ = sqrt(x)`` downstream;
* an input whose gradient is NaN or ∞ carries the first place the backward pass went
  non-finite.

The reasons come from :func:`graphviz_ad.explain.explain` and the non-finite breakpoint;
this module only shortens them for a picture.

>>> import numpy as np, graphviz_ad as gad
>>> g = gad.trace(lambda w, b: np.maximum(0, w * 2.0 + b), 1.0, -3.0)
>>> explain_marks(g)[g.inputs["b"].id]
['∂u₃/∂b = 0: u₃ = maximum(0, u₂) inactive']
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..breakpoints import NonFinite
from ..debugger import Debugger
from ..explain import nonfinite_origins
from ..notation import adjoint, array_text

# What a reason says in a few words, by Reason.kind; {node} is the node it is about.
_BRIEF = {
    "unused": "{node} is not used",
    "no_path": "no path to the output",
    "constant": "a constant",
    "inactive_relu": "{call} inactive",
    "clamped": "clamped by {call}",
    "other_operand_wins": "the other operand wins in {call}",
    "other_branch": "{call} takes the other branch",
    "zero_factor": "multiplied by 0 in {call}",
    "zero_slope": "zero slope of {call}",
    "not_selected": "not selected by {call}",
    "cancel": "contributions cancel at {node}",
    "zero_seed": "the seed is 0",
}


def brief(reason) -> str:
    """A reason in a few words: ``u₃ = maximum(0, u₂) inactive``."""
    node = reason.node
    call = "" if node is None else (
        f"{node.label} = {node.call_text}" if node.inputs else node.label)
    label = "" if node is None else node.label
    return _BRIEF.get(reason.kind, reason.kind.replace("_", " ")).format(node=label, call=call)


@lru_cache(maxsize=8)  # a graph is immutable; the step player draws it once per step
def explain_marks(graph) -> dict[int, list[str]]:
    """The notes of every node that needs one, by node id (see the module's docstring).
    Gradients are explained only for a scalar output (another needs a seed).  The result
    is shared between calls: read it, do not change it."""
    marks: dict[int, list[str]] = {}
    origins = nonfinite_origins(graph)
    for node_id, origin in origins.items():
        what = array_text(graph.nodes[node_id].value)
        if origin.id == node_id:
            operands = ", ".join(f"{o.label} = {array_text(o.value)}" for o in origin.inputs)
            note = f"{_kind(what)} made here from {operands or 'no operands'}"
        else:
            note = f"{_kind(what)} from {origin.label} = {origin.call_text}"
        marks.setdefault(node_id, []).append(note)
    if np.size(graph.value) != 1:
        return marks
    output = graph.output.label
    gradient_origin = None
    for name, node in graph.inputs.items():
        explanation = graph.explain(name)
        gradient = np.asarray(explanation.gradient, dtype=float)
        written = adjoint(node.label, output)
        if not np.all(np.isfinite(gradient)):
            if gradient_origin is None:
                hit = Debugger(graph, "backward").run_to(NonFinite())
                gradient_origin = "" if hit is None or hit.origin is None else (
                    f": first at {hit.origin.label} = {hit.origin.call_text}")
            marks.setdefault(node.id, []).append(
                f"{written} is {_kind(array_text(gradient))}{gradient_origin}")
        elif explanation.zero_count:
            reasons = "; ".join(dict.fromkeys(brief(reason) for reason in explanation.reasons))
            size = max(int(gradient.size), 1)
            head = f"{written} = 0" if explanation.is_zero else (
                f"{explanation.zero_count} of {size} entries of {written} are 0")
            marks.setdefault(node.id, []).append(f"{head}: {reasons}" if reasons else head)
    return marks


def _kind(text: str) -> str:
    """``NaN`` or ``∞`` (what a non-finite value holds, as written)."""
    return "NaN" if "NaN" in text else "∞" if "∞" in text else "not finite"
