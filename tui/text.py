"""Text for the panes that only the terminal needs: node captions, a box's number (a value,
an adjoint or a running sum, cut with ``…`` to its box), an edge's caption, a value as
inspector rows.  Numbers, shapes and matrices are written by :mod:`graphviz_ad.notation`,
as everywhere else; nothing here computes a derivative.

>>> value_lines([[1.0, 0.0], [0.0, -2.5]])
['[ 1  0    ]', '[ 0  −2.5 ]']
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len, set_cell_size

from graphviz_ad import PRIMITIVES
from graphviz_ad.notation import array_text, bracket, matrix_lines, number, running_sum, shape_text

_CORNER = 3  # rows / columns kept at each end of a large matrix
# The cells a box keeps for its number: at least room for "1 + 6 = 7", at most a short vector.
VALUE_WIDTH = (9, 14)


def caption(node) -> str:
    """A node's one-line caption: ``x``, ``2``, ``u₃ ×``, ``u₅ Σ``."""
    if not node.inputs:
        return node.label
    return f"{node.label} {PRIMITIVES[node.op].symbol}"


def value_line(value) -> str:
    """A box's second line: the value in :data:`VALUE_WIDTH` cells, cut with ``…`` when
    longer (``[1, −2, 0.5]``, ``range [−1, …``).  Its width is the room a box keeps for what
    a step writes there (an adjoint, a tangent, a running sum)."""
    text = array_text(value)
    return fit(text, VALUE_WIDTH[1]).ljust(min(max(cell_len(text), VALUE_WIDTH[0]),
                                                VALUE_WIDTH[1]))


def value_lines(value, width: int = 60) -> list[str]:
    """A value for the inspector: a scalar on one line, a vector or matrix as rows."""
    if value is None:
        return ["—"]
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return [number(array)]
    if array.ndim == 1:
        return matrix_lines(array[None, :], max_cols=max(2, min(2 * _CORNER, width // 10)))
    if array.ndim == 2:
        return matrix_lines(array)
    return [f"{shape_text(array.shape)} array, flattened: {array_text(array.ravel())}"]


def fit(text: str, width: int, keep_total: bool = False) -> str:
    """``text`` in at most ``width`` cells, cut with a visible ``…`` when longer.  With
    ``keep_total`` a sum keeps its end: ``fit("0.5 + 0.25 = 0.75", 9, True) == '… = 0.75'``."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head, equals, total = text.rpartition(" = ")
    if keep_total and equals and head and cell_len(total) + 4 <= width:
        return "… = " + total
    return set_cell_size(text, width - 1) + "…"


def box_total(state, node) -> str:
    """What a node's box shows at ``state``: its value once computed (forward), or its
    adjoint or tangent so far, a sum of scalars written term by term (``1 + 6 = 7``);
    empty before anything reached it."""
    steps = state.contributions(node)
    if not steps:
        return ""
    total = state.total(node)
    if state.mode == "forward":
        return array_text(total)
    parts = [step.contribution for step in steps]
    if len(parts) > 1 and all(np.ndim(part) == 0 for part in parts):
        return running_sum(parts, total)
    return array_text(total)


def edge_captions(step) -> tuple[str, str]:
    """A backward or tangent step as its edge shows it, the factors in the order the chain
    rule multiplies them, in full and without the upstream factor (for a tight spot):
    ``('1 · [2x] = 6', '…· [2x] = 6')`` backward, ``[2x] · 1 = 6`` in a tangent pass."""
    rule = bracket(step.local.rule)
    upstream = array_text(step.upstream)
    contribution = array_text(step.contribution)
    if step.mode == "backward":
        return f"{upstream} · {rule} = {contribution}", f"…· {rule} = {contribution}"
    return f"{rule} · {upstream} = {contribution}", f"{rule} ·… = {contribution}"
