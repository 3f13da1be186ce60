"""Numbers, shapes and rules as the short texts a picture shows.

Everything here turns data into text; nothing computes a derivative.

>>> number(2.25), number(-0.0), shape_text((2, 3)), shape_text(())
('2.25', '0', '2×3', 'scalar')
>>> array_text(np.array([3.0, 1.0, 2.0]))
'[3, 1, 2]'
>>> transposed_rule("xᵀ"), transposed_rule("I ⊗ u₇ᵀ"), transposed_rule("1ᵀ/n")
('x', 'I ⊗ u₇', '1/n')
"""

from __future__ import annotations

import html
import re

import numpy as np


def number(value, digits: int = 4) -> str:
    """A real number in ``digits`` significant digits, with a true minus sign (−)."""
    value = float(value)
    if value == 0:
        return "0"  # also for −0.0, which only confuses a reader
    return f"{value:.{digits}g}".replace("-", "−").replace("inf", "∞").replace("nan", "NaN")


def shape_text(shape: tuple) -> str:
    """``()`` → ``scalar``, ``(3,)`` → ``3``, ``(2, 3)`` → ``2×3``."""
    return "×".join(map(str, shape)) if shape else "scalar"


def array_text(value, digits: int = 4, max_elements: int = 6) -> str:
    """A value in full when it has at most ``max_elements`` elements, otherwise abbreviated:
    a long vector by its first and last elements, a larger array by its range.  NaN and ∞
    are always called out, since they are what someone debugging a graph looks for."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return number(array, digits)
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


def matrix_rows(matrix: np.ndarray, digits: int = 3) -> list[str]:
    """A small dense matrix as one text line per row: ``[1, 0]``, ``[0, 1]``."""
    return [_nested(row, digits) for row in np.asarray(matrix, dtype=float)]


def running_sum(parts: list, total, digits: int = 4, max_elements: int = 6) -> str:
    """The contributions that reached a node and their sum: ``1 + 6 = 7``.

    One contribution is just its value; more than four are elided in the middle.
    """
    if len(parts) <= 1:
        return array_text(total, digits, max_elements)
    shown = [array_text(part, digits, max_elements) for part in parts]
    if len(shown) > 4:
        shown = [*shown[:2], "…", shown[-1]]
    return " + ".join(shown) + " = " + array_text(total, digits, max_elements)


# One factor of a rule: an operand name, a number, a selection S[…] or a bracketed group,
# optionally transposed.
_ATOM = re.compile(r"^−?(\w+(\[[^\]]*\]|\(.*\))?|\(.*\)|\[.*\])$")
_SUFFIXES = (" over axis ", " (vec ", " (axes ", " (for each ")


def transposed_rule(rule: str, symmetric: bool = False) -> str:
    """The rule of Jᵀ, for pictures in denominator layout.

    A symmetric Jacobian (I, diag(·), any 1×1) is its own transpose.  Otherwise Kronecker
    products transpose factor by factor, (A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ; a transposed name loses its ᵀ
    and a plain one gains it; anything else is wrapped as (…)ᵀ.  ``1ᵀ over axis 0`` becomes
    ``1 over axis 0``.  A rule given as the reverse-mode map itself (``Ḡ ↦ einsum(…)``, for
    products of any shape) reads the same in either layout.
    """
    if symmetric or rule.startswith("Ḡ ↦ "):
        return rule
    rule, suffix = _split_suffix(rule)
    factors = _top_level_split(rule, " ⊗ ")
    return " ⊗ ".join(_transposed_factor(factor) for factor in factors) + suffix


def _split_suffix(rule: str) -> tuple[str, str]:
    for marker in _SUFFIXES:
        if marker in rule:
            head, tail = rule.split(marker, 1)
            return head, marker + tail
    return rule, ""


def _top_level_split(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside brackets: ``diag(d) (1 ⊗ I)`` stays whole."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text[i] in "([":
            depth += 1
        elif text[i] in ")]":
            depth -= 1
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            start = i + len(separator)
            i = start
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _transposed_factor(factor: str) -> str:
    if factor in ("I", "−I"):
        return factor
    scale = ""
    if factor.endswith("/n"):  # 1ᵀ/n: the scale is a number
        factor, scale = factor[:-2], "/n"
    transposed = factor.endswith("ᵀ")
    body = factor[:-1] if transposed else factor
    if len(_top_level_split(body, " ")) > 1 or not _ATOM.match(body):
        return f"({factor}{scale})ᵀ"
    return (body if transposed else body + "ᵀ") + scale


def html_text(text: str) -> str:
    """Text for a Graphviz HTML-like label: ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape(str(text), quote=True)


def quoted(text: str) -> str:
    """A DOT double-quoted string (for attributes such as tooltips)."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
