"""Rules and labels as a picture writes them: a rule transposed for the denominator layout,
text escaped for Graphviz.  Numbers, shapes and names come from :mod:`graphviz_ad.notation`.

>>> transposed_rule("xᵀ"), transposed_rule("I ⊗ u₇ᵀ"), transposed_rule("1ᵀ/n")
('x', 'I ⊗ u₇', '1/n')
"""

from __future__ import annotations

import html
import re

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
