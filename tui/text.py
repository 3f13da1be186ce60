"""Text for the panes: node captions, values and abbreviated matrices.

Formatting only: every number shown comes from the graph, a debugger step or a Jacobian
object; nothing here computes a derivative.

>>> matrix_lines([[1.0, 0.0], [0.0, 2.5]])
['[ 1  0   ]', '[ 0  2.5 ]']
"""

from __future__ import annotations

import numpy as np

from graphviz_ad import PRIMITIVES

_CORNER = 3  # rows / columns kept at each end of a large matrix


def caption(node) -> str:
    """A node's one-line caption: ``x``, ``2``, ``u₃ ×``, ``u₅ Σ``."""
    if not node.inputs:
        return node.label
    return f"{node.label} {PRIMITIVES[node.op].symbol}"


def shape_text(shape: tuple) -> str:
    """``()`` → ``scalar``; ``(3, 4)`` → ``3×4``."""
    return "×".join(map(str, shape)) if shape else "scalar"


def brief_value(value) -> str:
    """A value in a dozen characters: a scalar's digits, else the array's shape ``(3,)``."""
    if np.ndim(value) == 0:
        return number(value)
    return str(np.shape(value))


def number(value) -> str:
    """One number, short: ``7``, ``-0.5``, ``2.25``, ``1.2346e+07``, ``nan`` (and ``0``
    for a negative zero, which only distracts)."""
    return f"{float(value) + 0.0:.5g}"


def matrix_lines(matrix, max_rows: int = 2 * _CORNER, max_cols: int = 2 * _CORNER) -> list[str]:
    """A matrix as bracketed rows with aligned columns; beyond ``max_rows`` × ``max_cols``
    the middle rows and columns become ``⋮`` and ``⋯``."""
    matrix = np.atleast_2d(np.asarray(matrix, dtype=float))
    rows, cols = matrix.shape
    row_ids = _kept(rows, max_rows)
    col_ids = _kept(cols, max_cols)
    cells = [[number(matrix[r, c]) if c is not None else "⋯" for c in col_ids]
             if r is not None else None for r in row_ids]
    widths = [max(len(row[i]) for row in cells if row is not None) for i in range(len(col_ids))]
    lines = []
    for row in cells:
        if row is None:
            lines.append("  " + "  ".join("⋮".ljust(w) for w in widths))
        else:
            lines.append("[ " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " ]")
    return lines


def _kept(count: int, limit: int) -> list[int | None]:
    """Indices to show out of ``count``: all, or both ends with None for the elided middle."""
    if count <= limit:
        return list(range(count))
    half = max(limit // 2, 1)
    return [*range(half), None, *range(count - half, count)]


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
    flat = np.array2string(array.ravel(), precision=4, threshold=6, edgeitems=2)
    return [f"{shape_text(array.shape)} array, flattened: {flat}"]
