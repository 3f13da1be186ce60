"""Text for the panes that only the terminal needs: node captions, a value in a dozen
characters, a value as inspector rows.  Numbers, shapes and matrices are written by
:mod:`graphviz_ad.notation`, as everywhere else; nothing here computes a derivative.

>>> value_lines([[1.0, 0.0], [0.0, -2.5]])
['[ 1  0    ]', '[ 0  −2.5 ]']
"""

from __future__ import annotations

import numpy as np

from graphviz_ad import PRIMITIVES
from graphviz_ad.notation import array_text, matrix_lines, number, shape_text

_CORNER = 3  # rows / columns kept at each end of a large matrix


def caption(node) -> str:
    """A node's one-line caption: ``x``, ``2``, ``u₃ ×``, ``u₅ Σ``."""
    if not node.inputs:
        return node.label
    return f"{node.label} {PRIMITIVES[node.op].symbol}"


def brief_value(value) -> str:
    """A value in a dozen characters: a scalar's digits, else the array's shape ``(3,)``."""
    if np.ndim(value) == 0:
        return number(value)
    return str(np.shape(value))


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
