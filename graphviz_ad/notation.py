"""How anything is written: numbers, arrays, shapes, node names, adjoints and tangents, modes.

Every front end (step texts, pictures, the terminal debugger, explanations) writes through
this module, so a number, a shape or an adjoint reads the same everywhere.

* Numbers have a true minus sign (−), ``∞`` and ``NaN``; a negative zero is ``0``; inside an
  array, an entry below the array's rounding noise (``4.16e-17`` beside ``1``) is ``0``.
* The adjoint of ``u₂`` in a backward pass is written the paper's way, ``∂y/∂u₂`` with
  ``y`` the output (no combining bar, which many fonts draw as a minus after a subscript);
  its tangent in a forward-mode pass is the differential ``du₂``, so ``du₂ = [2x] · dx``.

>>> number(-0.5), number(-0.0), number(float("inf")), array_text([1.0, 4.16e-17, -2.0])
('−0.5', '0', '∞', '[1, 0, −2]')
>>> shape_text((2, 3)), shape_text(()), subscript("u", 12)
('2×3', 'scalar', 'u₁₂')
>>> adjoint("x", "u₃"), tangent("u₂"), total_name("backward", "x", "u₃")
('∂u₃/∂x', 'du₂', '∂u₃/∂x')
"""

from __future__ import annotations

import numpy as np

MODES = ("forward", "backward", "tangent")
"""The three passes a graph can be stepped through, in the order ``m`` cycles them."""

WHAT = {"forward": "value", "backward": "adjoint", "tangent": "tangent"}
"""What a pass computes at each node."""

DIGITS = 4  # significant digits of a number, unless a caller asks for more
MAX_ELEMENTS = 6  # an array with more elements than this is abbreviated
# Relative to an array's largest magnitude, entries this small are rounding noise: the sum
# 0.1 + 0.2 − 0.3 leaves 5.6e-17, which means 0 beside numbers of size 1.
NOISE = 1e-12

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


# -- numbers and arrays ----------------------------------------------------------------------


def number(value, digits: int = DIGITS) -> str:
    """A real number in ``digits`` significant digits with a true minus sign (−):
    ``number(2.25) == '2.25'``, ``number(-3e-9) == '−3e−09'``, ``number(-0.0) == '0'``."""
    value = float(value)
    if value == 0:
        return "0"  # also for −0.0, which only confuses a reader
    text = f"{value:.{digits}g}"
    return text.replace("-", "−").replace("inf", "∞").replace("nan", "NaN")


def denoised(array: np.ndarray, scale: float | None = None) -> np.ndarray:
    """``array`` with the entries below its rounding noise (relative :data:`NOISE`) set to 0:
    relative to its own largest entry, or to ``scale`` when given (a contribution
    ``[0, 4.2e-17, 0]`` is noise beside a total of size 1)."""
    array = np.asarray(array, dtype=float)
    finite = np.abs(array[np.isfinite(array)])
    if scale is None:
        if finite.size < 2:
            return array
        scale = finite.max()
    return np.where(np.abs(array) < scale * NOISE, 0.0, array)


def scale_of(*values) -> float:
    """The largest finite magnitude among ``values`` (0 when there is none): the scale
    the rounding noise of a sum of them is measured against."""
    largest = 0.0
    for value in values:
        array = np.abs(np.asarray(value, dtype=float))
        finite = array[np.isfinite(array)]
        if finite.size:
            largest = max(largest, float(finite.max()))
    return largest


def array_text(value, digits: int = DIGITS, max_elements: int = MAX_ELEMENTS,
               scale: float | None = None) -> str:
    """A value in full when it has at most ``max_elements`` elements, otherwise abbreviated:
    a long vector by its first and last elements, a larger array by its range.  NaN and ∞
    are always called out, since they are what someone debugging a graph looks for.

    >>> array_text([[1.0, -2.0], [0.0, 3.5]]), array_text(np.arange(10.0))
    ('[[1, −2], [0, 3.5]]', '[0, 1, 2, …, 9]')

    ``scale``: measure rounding noise against this magnitude rather than the array's own
    (see :func:`denoised`).
    """
    if value is None:
        return "None"
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return number(array if scale is None else denoised(array, scale), digits)
    array = denoised(array, scale)
    if array.size <= max_elements:
        return _nested(array, digits)
    finite = array[np.isfinite(array)]
    warning = "" if finite.size == array.size else f" ({array.size - finite.size} not finite)"
    if array.ndim == 1:
        head = ", ".join(number(x, digits) for x in array[:3])
        return f"[{head}, …, {number(array[-1], digits)}]{warning}"
    if finite.size == 0:
        return f"all {array.size} not finite"
    return f"range [{number(finite.min(), digits)}, {number(finite.max(), digits)}]{warning}"


def _nested(array: np.ndarray, digits: int) -> str:
    if array.ndim == 0:
        return number(array, digits)
    return "[" + ", ".join(_nested(row, digits) for row in array) + "]"


def matrix_rows(matrix, digits: int = 3) -> list[str]:
    """A small dense matrix as one text line per row: ``[1, 0]``, ``[0, 1]``."""
    return [_nested(row, digits) for row in denoised(np.atleast_2d(matrix))]


def matrix_lines(matrix, max_rows: int = 6, max_cols: int = 6,
                 digits: int = DIGITS) -> list[str]:
    """A matrix as bracketed rows with aligned columns; beyond ``max_rows`` × ``max_cols``
    the middle rows and columns become ``⋮`` and ``⋯``.

    >>> matrix_lines([[1.0, 0.0], [0.0, -2.5]])
    ['[ 1  0    ]', '[ 0  −2.5 ]']
    """
    matrix = denoised(np.atleast_2d(matrix))
    rows, cols = matrix.shape
    row_ids = _kept(rows, max_rows)
    col_ids = _kept(cols, max_cols)
    cells = [[number(matrix[r, c], digits) if c is not None else "⋯" for c in col_ids]
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


def running_sum(parts: list, total, digits: int = DIGITS,
                max_elements: int = MAX_ELEMENTS) -> str:
    """The contributions that reached a node and their sum: ``1 + 6 = 7``, ``1 − 6 = −5``.

    One contribution is just its value; more than four are elided in the middle.
    """
    if len(parts) <= 1:
        return array_text(total, digits, max_elements)
    scale = scale_of(total, *parts)  # a part that is noise beside the sum is 0
    shown = [array_text(part, digits, max_elements, scale) for part in parts]
    if len(shown) > 4:
        shown = [*shown[:2], "…", shown[-1]]
    terms = shown[0]
    for term in shown[1:]:
        terms += f" − {term[1:]}" if term.startswith("−") else f" + {term}"
    return terms + " = " + array_text(total, digits, max_elements)


# -- shapes and names --------------------------------------------------------------------------


def shape_text(shape: tuple) -> str:
    """``()`` → ``scalar``, ``(3,)`` → ``3``, ``(2, 3)`` → ``2×3``."""
    return "×".join(map(str, shape)) if shape else "scalar"


def subscript(letter: str, index: int) -> str:
    """A numbered name: ``u₇`` for node 7, ``c₅`` for a constant array."""
    return letter + str(index).translate(_SUBSCRIPT)


def subscripted(name: str) -> str:
    """A name with its digits written as subscripts, as labels are: ``u1`` → ``u₁``."""
    return name.translate(_SUBSCRIPT)


def constant_name(value) -> str:
    """A scalar constant is named by its value, in six digits: ``2``, ``0.25``, ``−1``."""
    return number(value, 6) if np.isrealobj(value) else str(value)


def bracket(rule: str) -> str:
    """A rule as a factor: ``[2x]``; ``[u₂ > 0]`` is already bracketed."""
    return rule if rule.startswith("[") and rule.endswith("]") else f"[{rule}]"


# -- adjoints and tangents -------------------------------------------------------------------


def derivative(of: str, wrt: str) -> str:
    """``∂u₃/∂x``: the derivative of ``of`` with respect to ``wrt`` (a local Jacobian's name)."""
    return f"∂{of}/∂{wrt}"


def adjoint(name: str, output: str) -> str:
    """The adjoint of ``name`` (∂output/∂name, what reverse mode carries): ``∂y/∂u₂``."""
    return derivative(output, name)


def tangent(name: str) -> str:
    """The tangent of ``name`` (what forward mode carries), as a differential: ``du₂``."""
    return f"d{name}"


def total_name(mode: str, name: str, output: str) -> str:
    """What a node holds in ``mode``: its adjoint, its tangent, or the word ``value``."""
    if mode == "backward":
        return adjoint(name, output)
    if mode == "tangent":
        return tangent(name)
    return "value"
