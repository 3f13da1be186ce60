"""The Inspector pane: everything about the current step, in the paper's notation.

* the node: operation, shape, value;
* its local Jacobians, one per input: kind, rule text and the matrix (numerator layout
  ∂out/∂in as out.size × in.size, or its transpose, the denominator layout), abbreviated
  when large;
* in backward (tangent) mode: the edge the contribution flows along, the upstream adjoint
  (the operand's tangent), the contribution, and the node's running total with every
  contribution received so far, so a sum over paths reads term by term:
  ``∂y/∂x = 1 + 6 = 7``;
* the warnings numpy raised while the step was made (``⚠ RuntimeWarning: divide by zero
  encountered in log``).

Steps are numbered as everywhere (:mod:`graphviz_ad.steps`): step 0 is before the pass,
step k the state after its k-th record.  Text is wrapped to the pane; matrix rows, which
wrapping would garble, are cut with ``…``.

Every number comes from the step, the state or a Jacobian object (its ``numbers``); the
pane only formats, through :mod:`graphviz_ad.notation`.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from graphviz_ad.notation import WHAT, derivative, matrix_lines, running_sum, shape_text

from ..text import value_lines
from .text_pane import TextPane

CORNER = 6  # a local Jacobian is shown up to its top-left CORNER × CORNER entries
_SUM_TERMS = 8  # scalar contributions written out as "a + b + … = total"


class Inspector(TextPane):
    """Shows a step; ``numerator`` picks the Jacobian layout."""

    def show(self, graph, step, state, numerator: bool, hit=None, notes=(),
             steps: int | None = None) -> None:
        """Show ``step`` (None: before the pass) of a pass of ``steps`` steps; ``notes``
        are the warnings raised while it was made."""
        self.set_lines(describe(graph, step, state, numerator, hit, notes))
        where = f"step {state.number}" + ("" if steps is None else f" of {steps}")
        layout = "numerator" if numerator else "denominator"
        self.set_titles(f"Inspector · {where}", f"{state.mode} · {layout} layout")


def describe(graph, step, state, numerator: bool, hit=None, notes=()) -> list[Text]:
    """The inspector's lines for ``step`` (None: before the first step of ``state``'s pass);
    ``notes`` are the warnings raised while it was made."""
    lines: list[Text] = []
    if hit is not None and step is not None and hit.step.index == step.index:
        lines.append(Text(f"■ stopped: {hit.reason}", style="bold red"))
    lines += [Text(f"⚠ {note}", style="bold yellow") for note in notes]
    if step is None:
        lines.append(Text(f"Step 0: before the first step of the {state.mode} pass.",
                          style="bold"))
        lines.append(Text("n: next step · G: last step · c: continue to a breakpoint · "
                          "m: switch mode · ?: help"))
        return lines
    lines.append(Text(f"Step {step.number}: {step.text}", style="bold"))
    if step.mode == "forward":
        lines += _node(step.node, step.value)
        lines += _locals(step.node, numerator)
    else:
        lines += _edge(step, numerator)
        lines += _running_total(step, state)
        lines.append(Text(""))
        lines += _node(step.node, step.node.value)
        lines += _locals(step.node, numerator)
    return lines


def _no_wrap(line: str) -> Text:
    """A line of a matrix: cut with an ellipsis rather than wrapped."""
    return Text(line, no_wrap=True, overflow="ellipsis")


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def _node(node, value) -> list[Text]:
    if node.inputs:
        title = f"{node.label} = {node.call_text}"
        kind = f"op {node.op}"
    else:
        title = node.label
        kind = "input" if node.op == "input" else "constant"
    lines = [_heading(f"Node {title}"),
             Text(f"{kind} · shape {shape_text(node.shape)} · at {node.source}")]
    values = value_lines(value)
    if len(values) == 1:
        lines.append(Text(f"value {values[0]}"))
    else:
        lines.append(Text("value"))
        lines += [_no_wrap("  " + line) for line in values]
    return lines


def _locals(node, numerator: bool) -> list[Text]:
    if not node.inputs:
        return []
    layout = "numerator" if numerator else "denominator"
    lines = [_heading(f"Local Jacobians ({layout} layout)")]
    for arg, operand in enumerate(node.inputs):
        lines += _jacobian(node, operand, node.jacobian(arg), numerator)
    return lines


def _jacobian(consumer, operand, local, numerator: bool) -> list[Text]:
    rows, cols = local.shape if numerator else local.shape[::-1]
    name = derivative(consumer.label, operand.label)
    if not numerator:
        name = f"({name})ᵀ"
    head = Text()
    head.append(name, style="bold")
    head.append(f"  {local.kind}  ")
    head.append(local.rule, style="italic")
    head.append(f"  {rows}×{cols}")
    return [head, *(_no_wrap("  " + line) for line in _matrix(local, numerator))]


def _matrix(local, numerator: bool) -> list[str]:
    """The matrix, or for a large one its top-left corner, as the Jacobian gives it
    (``numbers``: one VJP per row shown, never the whole matrix)."""
    corner = local.numbers(CORNER)
    shown = corner if numerator else corner.T
    lines = matrix_lines(shown, CORNER, CORNER)
    if corner.shape != local.shape:
        rows, cols = local.shape if numerator else local.shape[::-1]
        lines.append(f"(the top-left {shown.shape[0]}×{shown.shape[1]} of {rows}×{cols})")
    return lines


def _edge(step, numerator: bool) -> list[Text]:
    backward = step.mode == "backward"
    if step.via is None:
        return [_heading("Seed"),
                Text(f"the pass starts with the {WHAT[step.mode]} of {step.node.label}, "
                     f"{step.name(step.node)}:"),
                *(_no_wrap("  " + line) for line in value_lines(step.total))]
    operand, consumer, arg = step.edge
    upstream = (f"upstream adjoint {step.name(step.via)}" if backward
                else f"tangent {step.name(step.via)}")
    lines = [_heading(f"Edge {operand.label} → {consumer.label} "
                      f"(argument {arg} of {consumer.label} = {consumer.call_text})")]
    lines += _jacobian(consumer, operand, step.local, numerator)
    lines += _labelled(upstream, step.upstream)
    product = "upstream · local" if backward else "local · tangent"
    lines += _labelled(f"contribution ({product})", step.contribution)
    return lines


def _labelled(label: str, value) -> list[Text]:
    values = value_lines(value)
    if len(values) == 1:
        return [Text(f"{label}: {values[0]}")]
    return [Text(f"{label}:"), *(_no_wrap("  " + line) for line in values)]


def _running_total(step, state) -> list[Text]:
    """The node's total so far and every contribution that made it."""
    node = step.node
    received = f"{step.count_text} contributions received"
    status = " ✓ complete" if step.complete else ""
    lines = [Text(""), _heading(f"{WHAT[step.mode].capitalize()} {step.name(node)} of "
                                f"{node.label}: {received}{status}")]
    contributions = state.contributions(node)
    for contribution in contributions:
        source = "seed" if contribution.via is None else f"via {contribution.via.label}"
        lines += _labelled(f"  {source}", contribution.contribution)
    pending = step.expected - step.received
    if pending:
        lines.append(Text(f"  ({pending} more to come)", style="italic"))
    scalars = all(np.ndim(c.contribution) == 0 for c in contributions)
    if scalars and 1 < len(contributions) <= _SUM_TERMS:
        terms = running_sum([c.contribution for c in contributions], step.total)
        lines.append(Text(f"  sum: {terms}", style="bold"))
    else:
        lines += _labelled("  total", step.total)
    return lines
