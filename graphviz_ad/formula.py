"""The gradient as a formula: the sum over paths of the products of the local rules.

Each path from ``wrt`` to the output contributes the product of the local Jacobians' rules
along it, in numerator layout (the output's end on the left, as the paper writes
∂f/∂g · ∂g/∂x).  The formula is that sum, made readable the way one would on paper:

* identities (``I``, ``1``) are dropped, numbers are gathered in front (``2``, ``−1``,
  the ``1/n`` of a mean);
* ``1ᵀ diag(v)`` is the row ``vᵀ``, ``vᵀ diag(m)`` is ``(v ⊙ m)ᵀ``, and a row times a matrix
  whose rows are samples is the sum over samples ``Σᵢ vᵢ xᵢᵀ``;
* repeated factors are combined (``x x`` is ``x²``, two equal paths are ``2 …``) and factors
  every path shares are taken out of the sum;
* the intermediate values it names are given by their forward expressions
  (``u₄ = w·x + b``).

>>> import numpy as np, graphviz_ad as gad
>>> g = gad.trace(lambda w, x, b: np.maximum(0, w @ x + b),
...               np.array([1., -2., .5]), np.array([3., 1., 2.]), 0.25)
>>> print(g.formula("w"))
∂u₃/∂w = [u₂ > 0] xᵀ   where u₂ = w·x + b
>>> g.formula("w").evaluate()
array([3., 1., 2.])

The numbers come from the formula's own structure (its terms, coefficients and shared
factors, each factor applied as its structured operator), so ``evaluate()`` equals
``grad()`` exactly when the formula is right.  For a graph of scalars, ``simplified`` is
the same sum simplified by SymPy (an optional extra, ``pip install graphviz-ad[formula]``),
kept only when it evaluates to the traced gradient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .paths import paths as find_paths

if TYPE_CHECKING:  # the graph layer reads nodes; it does not import the tracer
    from .tracer import Node

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_PLAIN = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_LEADING_NUMBER = re.compile(r"^(−?\d+(?:\.\d+)?)(?=[^\d.\s/ᵀ⊗^⁰¹²³⁴⁵⁶⁷⁸⁹⁻]|$)")
SIMPLIFY_NODES = 40  # SymPy simplifies scalar graphs up to this many nodes


@dataclass
class Factor:
    """One factor of a term: its text (Unicode), its structure (``kind``: ``"scalar"``,
    ``"mask"``, ``"diag"``, ``"ones"``, ``"row"``, ``"matrix"``), the vector inside a
    ``diag`` or a row, and the local Jacobians it stands for (applied right to left),
    divided by ``scale`` (the numbers taken out into the coefficient)."""

    text: str
    kind: str
    operators: tuple
    scale: float = 1.0
    inner: str = ""


@dataclass
class Term:
    """``coefficient × factors`` (left to right); paths with equal factors share one term
    and add their coefficients."""

    coefficient: Fraction
    factors: list[Factor]
    symbols: list[tuple[str, int]] = field(default_factory=list)  # (n, its value) of a mean
    names: list[tuple[str, str]] = field(default_factory=list)  # ("e", "u₅ − y")

    def key(self) -> tuple:
        return (tuple(factor.text for factor in self.factors), tuple(self.symbols))


class Formula:
    """∂end/∂wrt as ``prefix · (Σ terms) · suffix`` in the paper's notation.

    ``text`` (also ``str()``) is Unicode, ``latex`` the same in LaTeX; ``definitions`` the
    forward expressions of the intermediate values it names; ``omitted`` the paths left out
    because their product is zero for every input (Σ(x − μ) = 0), each with its reason;
    ``evaluate()`` its numbers, shaped ``end.shape + wrt.shape`` (a float when both are
    scalars); ``simplified`` the SymPy form for a scalar graph (None without SymPy, or for
    arrays).
    """

    def __init__(self, graph, wrt: Node, end: Node, prefix, terms, suffix, omitted=()):
        self.graph = graph
        self.omitted = omitted
        self.wrt = wrt
        self.end = end
        self.prefix = prefix
        self.terms = terms
        self.suffix = suffix
        self.body = self._body()
        names = dict(name for term in terms for name in term.names)
        self.definitions = list(names.items())
        self.definitions += _definitions(graph, " ".join([self.body, *names.values()]))
        sizes = dict(symbol for term in terms for symbol in term.symbols)
        self.definitions += [(name, str(size)) for name, size in sizes.items()]
        self.simplified = _simplify(self)

    @property
    def head(self) -> str:
        return f"∂{self.end.label}/∂{self.wrt.label}"

    def _body(self) -> str:
        if not self.terms:
            return "0"
        square = np.size(self.end.value) == np.size(self.wrt.value)
        identity = "1" if np.size(self.end.value) == 1 and square else "I"
        terms = [_term_text(term, identity) for term in self.terms]
        total = terms[0]
        for text in terms[1:]:
            total += f" − {text[1:]}" if text.startswith("−") else f" + {text}"
        shared = [factor.text for factor in self.prefix + self.suffix]
        if not shared:
            return total
        inside = f"({total})" if len(self.terms) > 1 else total
        parts = [_group(f.text) for f in self.prefix] + [inside]
        parts += [_group(f.text) for f in self.suffix]
        return " ".join(part for part in parts if part not in ("1", "I"))

    @property
    def text(self) -> str:
        """``∂u₃/∂w = [u₂ > 0] xᵀ   where u₂ = w·x + b``."""
        text = f"{self.head} = {self.body}"
        if self.simplified is not None and self.simplified.text != self.body:
            text += f" = {self.simplified.text}"
        if self.definitions:
            text += "   where " + ", ".join(f"{name} = {expression}"
                                             for name, expression in self.definitions)
        for path, reason in self.omitted:
            text += f"\n  (no term for {path}: {reason})"
        return text

    @property
    def latex(self) -> str:
        """The same formula in LaTeX: ``\\frac{\\partial u_{6}}{\\partial w} = …``."""
        head = (rf"\frac{{\partial {_latex(self.end.label)}}}"
                rf"{{\partial {_latex(self.wrt.label)}}}")
        text = f"{head} = {_latex(self.body)}"
        if self.simplified is not None and self.simplified.text != self.body:
            text += f" = {self.simplified.latex}"
        if self.definitions:
            text += r" \quad\text{where } " + ", ".join(
                f"{_latex(name)} = {_latex(expression)}" for name, expression in self.definitions)
        return text

    def evaluate(self):
        """The formula's numbers: the shared factors and each term's factors applied as
        their structured operators (one reverse pass per output entry), terms weighted by
        their coefficients and summed."""
        m, n = int(np.size(self.end.value)), int(np.size(self.wrt.value))
        rows = np.eye(m).reshape((m, *self.end.shape))
        rows = _pull(rows, self.prefix)
        if not self.terms:
            total = np.zeros((m, n))
        else:
            total = 0.0
            for term in self.terms:
                value = float(term.coefficient)
                for _, size in term.symbols:
                    value /= size
                total = total + value * np.reshape(_pull(rows, term.factors), (m, -1))
            total = np.reshape(_pull(total, self.suffix), (m, n))
        result = total.reshape(self.end.shape + self.wrt.shape)
        return float(result) if result.ndim == 0 else result

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Formula {self.head}: {len(self.terms)} terms>"


def formula(graph, wrt, to=None, limit: int = 64) -> Formula:
    """The derivative of ``to`` (default: the output) with respect to ``wrt`` (an input's
    name or any node) as a formula over its paths (at most ``limit`` of them)."""
    start = graph.node(wrt)
    end = graph.output if to is None else graph.node(to)
    paths = find_paths(graph, start, to=end, limit=limit)
    if paths.truncated:
        raise ValueError(f"{start.label} reaches {end.label} along {paths.total_count} paths, "
                         f"more than limit={limit}: the formula would be that long; pass a "
                         "larger limit")
    nodes = {node.label: node for node in graph.nodes}
    terms: dict[tuple, Term] = {}
    omitted = []
    tolerance = paths.tolerance
    for path in paths:
        reason = path.identically_zero if path.zero_reason(tolerance) else None
        if reason is not None:  # zero for every input, not only at this one
            omitted.append((str(path), reason))
            continue
        term = _term(path, nodes)
        key = term.key()
        if key in terms:  # equal products add up: x * x is 2x, x − x is 0
            terms[key].coefficient += term.coefficient
        else:
            terms[key] = term
    listed = [term for term in terms.values() if term.coefficient != 0]
    if len({size for term in listed for _, size in term.symbols}) > 1:
        for term in listed:  # means over different sizes: their 1/n as numbers
            for _, size in term.symbols:
                term.coefficient /= size
            term.symbols = []
    prefix, suffix = _shared(listed)
    return Formula(graph, start, end, prefix, listed, suffix, tuple(omitted))


# -- one path as a term -------------------------------------------------------------------------


def _term(path, nodes: dict) -> Term:
    """The product of the rules along ``path``, numbers in front, identities dropped."""
    coefficient = Fraction(1)
    symbols: list[tuple[str, int]] = []
    factors: list[Factor] = []
    for _, consumer, arg in reversed(path.edges):
        local = consumer.jacobian(arg)
        rule = local.rule
        out_size, in_size = local.shape
        if rule in ("I", "1") and out_size == in_size:
            continue
        if rule in ("1ᵀ", "1ᵀ/n") and out_size == in_size == 1:  # the sum of one number
            continue
        number = _number(rule) if out_size == in_size else None
        if number is not None:
            coefficient *= number
            continue
        if rule == "1ᵀ/n" and out_size == 1:
            symbols.append(("n", in_size))
            factors.append(Factor("1ᵀ", "ones", (local,), 1 / in_size))
            continue
        if rule == "1ᵀ":
            factors.append(Factor("1ᵀ", "ones", (local,)))
            continue
        inner = _inside("diag(", rule)
        if inner is not None:
            lead, inner = _split_number(inner)
            if inner.startswith("−"):
                lead, inner = -lead, inner[1:]
            coefficient *= lead
            mask = " > " in inner or " < " in inner
            factors.append(Factor(f"diag({inner})", "mask" if mask else "diag", (local,),
                                  float(lead), inner))
            continue
        if out_size == in_size == 1:
            lead, rest = _split_number(rule) if not rule.startswith("[") else (1, rule)
            if rest.startswith("−"):  # a sign joins the numbers in front
                lead, rest = -lead, rest[1:]
            coefficient *= lead
            kind = "mask" if rule.startswith("[") else "scalar"
            factors.append(Factor(rest, kind, (local,), float(lead)))
            continue
        factors.append(Factor(rule, "matrix", (local,)))
    if all(factor.kind in ("scalar", "mask") for factor in factors):
        factors = _powers(factors)
    factors, flips, names = _rows(factors, nodes)
    return Term(coefficient * (-1) ** flips, factors, symbols, names)


def _number(rule: str) -> Fraction | None:
    """The number a rule is when it is one: ``2``, ``−1``, ``−I``, ``0.5 I``, ``(0.5) I``."""
    text = rule.removesuffix("I").strip().removeprefix("(").removesuffix(")")
    if text in ("", "−"):
        return Fraction(-1 if text else 1)
    try:
        return Fraction(text.replace("−", "-")).limit_denominator(10**6)
    except ValueError:
        return None


def _split_number(text: str) -> tuple[Fraction, str]:
    """``2u₈`` → (2, ``u₈``); a text that does not start with a number → (1, text)."""
    match = _LEADING_NUMBER.match(text)
    if match is None or match.end() == len(text):
        return Fraction(1), text
    return Fraction(match.group(1).replace("−", "-")), text[match.end():]


def _inside(opening: str, text: str) -> str | None:
    """``diag(a)`` → ``a`` when the whole text is that one call."""
    if not (text.startswith(opening) and text.endswith(")")):
        return None
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(text) - 1 and i >= len(opening) - 1:
            return None
    return text[len(opening):-1]


def _powers(factors: list[Factor]) -> list[Factor]:
    """Scalars commute: equal factors become one power (``x x`` is ``x²``)."""
    combined: dict[str, Factor] = {}
    counts: dict[str, int] = {}
    for factor in factors:
        if factor.text in combined:
            counts[factor.text] += 1
            kept = combined[factor.text]
            kept.operators = kept.operators + factor.operators
            kept.scale *= factor.scale
        else:
            combined[factor.text] = Factor(factor.text, factor.kind, factor.operators,
                                           factor.scale)
            counts[factor.text] = 1
    for text, factor in combined.items():
        if counts[text] > 1:
            factor.text = f"{_group(text)}{str(counts[text]).translate(_SUPERSCRIPT_POWER)}"
    return list(combined.values())


_SUPERSCRIPT_POWER = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _rows(factors: list[Factor], nodes: dict) -> tuple[list[Factor], int, list]:
    """Rewrite rows: ``1ᵀ diag(v)`` → ``vᵀ``, ``vᵀ diag(m)`` → ``(m ⊙ v)ᵀ`` (masks first),
    a row times a matrix of samples X (its rows xᵢ) → ``Σᵢ vᵢ xᵢᵀ``, and a row times the
    column of ones of a scalar expansion → ``Σᵢ vᵢ``.  Returns the factors, the number of
    signs moved into the coefficient, and the names introduced (see :func:`_errors`)."""
    result: list[Factor] = []
    flips, names = 0, []
    for factor in factors:
        last = result[-1] if result else None
        if last is not None and last.kind in ("ones", "row") and factor.kind in ("diag", "mask"):
            inner = _element(factor)
            parts = [inner] if last.kind == "ones" else [*last.inner.split(" ⊙ "), inner]
            parts, flipped, named = _errors(parts, nodes)
            flips, names = flips + flipped, names + named
            merged = " ⊙ ".join(sorted(parts, key=lambda part: not part.startswith("[")))
            text = f"{_group(merged)}ᵀ"
            result[-1] = Factor(text, "row", last.operators + factor.operators,
                                last.scale * factor.scale * (-1) ** flipped, merged)
            continue
        matrix = _samples(factor, set(nodes))
        if last is not None and last.kind == "row" and (matrix is not None or factor.text == "1"):
            terms = " ".join(_indexed(part) for part in last.inner.split(" ⊙ "))
            text = f"Σᵢ {terms}" + ("" if matrix is None else f" {matrix}ᵢᵀ")
            result[-1] = Factor(text, "matrix", last.operators + factor.operators,
                                last.scale * factor.scale)
            continue
        result.append(factor)
    return result, flips, names


ERROR = "e"  # the name of a prediction's error z − a under a ReLU's mask


def _errors(parts: list[str], nodes: dict) -> tuple[list[str], int, list]:
    """Under the mask [z > 0] of r = max(0, z), r is z: an element ``a − r`` of the same row
    is ``−(z − a)``, the error e = z − a of the prediction (MATH.md's eᵢ = w·xᵢ + b − yᵢ).
    Returns the parts with e in place, how many signs moved out, and e's definition."""
    masked = {part[1:-5] for part in parts if part.startswith("[") and part.endswith(" > 0]")}
    if not masked or ERROR in nodes:
        return parts, 0, []
    for i, part in enumerate(parts):
        node = nodes.get(part)
        if node is None or node.op != "subtract":
            continue
        for position, relu in enumerate(node.inputs):
            bounds = [operand for operand in relu.inputs
                      if operand.op == "const" and not np.any(operand.value)]
            if relu.op != "maximum" or not bounds:
                continue
            z = relu.inputs[1] if relu.inputs[0] is bounds[0] else relu.inputs[0]
            if z.label not in masked:
                continue
            other = node.inputs[1 - position]
            rewritten = [*parts[:i], ERROR, *parts[i + 1:]]
            return rewritten, int(position == 1), [(ERROR, f"{z.label} − {other.label}")]
    return parts, 0, []


def _element(factor: Factor) -> str:
    """The vector inside ``diag(…)``, a mask written as an Iverson bracket ``[u₅ > 0]``."""
    return f"[{factor.inner}]" if factor.kind == "mask" else factor.inner


def _samples(factor: Factor, labels: set) -> str | None:
    """The name of a row's matrix X when the factor is ``X`` itself (a 2-D node): its rows
    are written xᵢ (lower case when that names nothing else)."""
    local = factor.operators[0]
    if (factor.kind != "matrix" or len(factor.operators) != 1 or len(local.in_shape) != 1
            or np.ndim(getattr(local, "other", None)) != 2 or " " in factor.text):
        return None
    lower = factor.text.lower()
    single = len(factor.text) == 1 and factor.text.isupper()
    return lower if single and lower not in labels else factor.text


def _indexed(text: str) -> str:
    """An element of a vector: ``u₈`` → ``u₈ᵢ``, ``[u₅ > 0]`` → ``[u₅ᵢ > 0]``."""
    return re.sub(r"^(\[?)(\S+)", lambda match: f"{match.group(1)}{match.group(2)}ᵢ", text)


def _shared(terms: list[Term]) -> tuple[list[Factor], list[Factor]]:
    """Factors every term has at its left (output) end or its right (input) end, taken out
    of the sum (only when their operators have the same shapes)."""
    if len(terms) < 2:
        return [], []
    prefix: list[Factor] = []
    while all(len(term.factors) > len(prefix) + 1 for term in terms):
        candidates = [term.factors[len(prefix)] for term in terms]
        if not _same(candidates):
            break
        prefix.append(candidates[0])
    suffix: list[Factor] = []
    while all(len(term.factors) > len(prefix) + len(suffix) + 1 for term in terms):
        candidates = [term.factors[-1 - len(suffix)] for term in terms]
        if not _same(candidates):
            break
        suffix.insert(0, candidates[0])
    for term in terms:
        term.factors = term.factors[len(prefix): len(term.factors) - len(suffix)]
    return prefix, suffix


def _same(factors: list[Factor]) -> bool:
    first = factors[0]
    return all(factor.text == first.text and factor.scale == first.scale
               and _shapes(factor) == _shapes(first) for factor in factors)


def _shapes(factor: Factor) -> tuple:
    return tuple((local.in_shape, local.out_shape) for local in factor.operators)


# -- numbers ------------------------------------------------------------------------------------


def _pull(rows, factors: list[Factor]):
    """rows · F₁ · F₂ ⋯ (reverse mode): each factor's operators' VJPs, left to right, with
    the factor's numbers taken out (÷ scale).  A dropped identity between two operators is
    a reshape at most: rows are reshaped to the next operator's output."""
    batch = rows.shape[0]
    for factor in factors:
        for local in factor.operators:
            rows = local.vjp(np.reshape(rows, (batch, *local.out_shape)))
        rows = np.asarray(rows) / factor.scale
    return rows


# -- the intermediate values it names -----------------------------------------------------------

_INFIX = {"add": "+", "subtract": "−", "divide": "/"}
_FUNCTIONS = {"maximum": "max", "minimum": "min"}


def _definitions(graph, body: str) -> list[tuple[str, str]]:
    """``[("u₄", "w·x + b")]``: each intermediate node the formula names, by its forward
    expression (nodes used once and named nowhere else are written out inside it)."""
    named = [node for node in graph.nodes
             if node.inputs and re.search(rf"(?<![\w]){re.escape(node.label)}(?![\d₀-₉])", body)]
    uses = [0] * len(graph.nodes)
    for node in graph.nodes:
        for operand in node.inputs:
            uses[operand.id] += 1
    keep = {node.id for node in named}
    definitions, seen = [], set()
    queue = list(reversed(named))
    while queue:
        node = queue.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        expression, mentioned = _expression(node, keep, uses, top=True)
        definitions.append((node.label, expression))
        queue.extend(reversed([m for m in mentioned if m.id not in seen]))
    return definitions


def _expression(node: Node, keep: set, uses: list, top: bool = False,
                depth: int = 0) -> tuple[str, list[Node]]:
    """The forward expression of ``node``; operands that are inputs, constants, named in the
    formula or used more than once stay as their labels (returned as ``mentioned`` when they
    need a definition of their own)."""
    if not node.inputs or (not top and (node.id in keep or uses[node.id] > 1 or depth > 4)):
        mentioned = [node] if node.inputs else []
        return node.label, mentioned
    if not _writable(node):  # written as code; its computed operands get their own lines
        return node.call_text, [operand for operand in node.inputs if operand.inputs]
    parts, mentioned = [], []
    for operand in node.inputs:
        text, more = _expression(operand, keep, uses, depth=depth + 1)
        parts.append(text)
        mentioned += more
    return _apply(node, parts), mentioned


def _writable(node: Node) -> bool:
    """Whether :func:`_apply` writes this operation in notation (else it is shown as code)."""
    if node.op in _INFIX or node.op in _FUNCTIONS or node.op in ("multiply", "matmul",
                                                                  "negative"):
        return True
    if node.op == "power":
        return True
    return len(node.inputs) == 1 and not node.params


def _apply(node: Node, parts: list[str]) -> str:
    """One operation written out: ``w·x``, ``X w``, ``a + b``, ``max(0, z)``, ``x²``."""
    op = node.op
    if op == "divide":
        return f"{_group(parts[0])}/{_group(parts[1])}"
    if op in _INFIX:
        right = f"({parts[1]})" if op == "subtract" and re.search(r" [+−] ", parts[1]) else (
            parts[1])
        return f"{parts[0]} {_INFIX[op]} {right}"
    if op == "multiply":
        numbers = [i for i, operand in enumerate(node.inputs)
                   if operand.op == "const" and np.ndim(operand.value) == 0]
        if len(numbers) == 1:  # a number goes in front: 3x, 0.5 (a + b)
            number, other = parts[numbers[0]], parts[1 - numbers[0]]
            grouped = _group(other)
            return f"{number}{grouped}" if grouped[0].isalpha() else f"{number} {grouped}"
        sign = "⊙" if all(np.ndim(operand.value) > 0 for operand in node.inputs) else ""
        joiner = f" {sign} " if sign else " "
        return joiner.join(_group(part) for part in parts)
    if op == "matmul":
        if all(np.ndim(operand.value) == 1 for operand in node.inputs):
            return "·".join(_group(part) for part in parts)
        return " ".join(_group(part) for part in parts)
    if op == "power":
        exponent = node.inputs[1]
        if (exponent.op == "const" and np.ndim(exponent.value) == 0
                and float(exponent.value).is_integer() and 0 < float(exponent.value) < 10):
            return f"{_group(parts[0])}{str(int(exponent.value)).translate(_SUPERSCRIPT_POWER)}"
        return f"{_group(parts[0])}^{_group(parts[1])}"
    if op == "negative":
        return f"−{_group(parts[0])}"
    return f"{_FUNCTIONS.get(op, op)}({', '.join(parts)})"


def _group(text: str) -> str:
    """Parenthesise a compound expression before it multiplies something."""
    if re.fullmatch(r"[\w.₀-₉ᵀ⁻¹²³ᵢ]+|\[[^\[\]]*\]|\([^()]*\)ᵀ?|diag\(.*\)|\w+\(.*\)|Σᵢ .*",
                    text):
        return text
    return f"({text})"


# -- the text of a term ---------------------------------------------------------------------------


def _coefficient_text(term: Term) -> str:
    """``−(2/n)``, ``3``, ``−``, or nothing for 1."""
    value = term.coefficient
    sign = "−" if value < 0 else ""
    value = abs(value)
    denominators = "".join(name for name, _ in term.symbols)
    if denominators:
        numerator = value.numerator
        denominator = value.denominator
        under = denominators if denominator == 1 else f"{denominator}{denominators}"
        return f"{sign}({numerator}/{under})"
    if value == 1:
        return sign
    text = str(value) if value.denominator == 1 else f"{float(value):g}"
    return f"{sign}{text}"


def _term_text(term: Term, identity: str) -> str:
    """A term's text; a term without factors is its coefficient times ``identity`` (1 for
    scalars, I for arrays: x + x is 2I)."""
    coefficient = _coefficient_text(term)
    if len(term.factors) == 1 and coefficient in ("", "−"):
        text = term.factors[0].text
        compound = re.search(r" [+−] ", text) is not None
        return coefficient + (f"({text})" if coefficient and compound else text)
    factors = [_group(factor.text) for factor in term.factors]
    if not factors:
        if identity == "1":
            return coefficient + "1" if coefficient in ("", "−") else coefficient
        return coefficient + identity
    body = " ".join(factors)
    simple = re.fullmatch(r"[^\W\d][\w₀-₉⁰¹²³⁴⁵⁶⁷⁸⁹]*", factors[0]) is not None
    if coefficient in ("", "−") or (coefficient[-1].isdigit() and simple):
        return coefficient + body
    return f"{coefficient} {body}"


# -- LaTeX ---------------------------------------------------------------------------------------

_LATEX_WORDS = (
    ("∂", r"\partial "), ("Σᵢ", r"\sum_i"), ("ᵀ", r"^\top"), ("⊙", r"\odot"), ("⊗", r"\otimes"),
    ("·", r"\cdot "), ("−", "-"), ("√", r"\sqrt "), ("diag", r"\operatorname{diag}"),
    ("≤", r"\le "), ("ᵢ", "_i"), ("²", "^2"), ("³", "^3"), ("⁻¹", "^{-1}"), ("ln", r"\ln "),
    ("tanh", r"\tanh "), ("cosh", r"\cosh "), ("sinh", r"\sinh "), ("cos", r"\cos "),
    ("sin", r"\sin "), ("exp", r"\exp "), ("max", r"\max"), ("min", r"\min"),
)


_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu",
          "sigma", "tau", "phi", "omega")


def _latex(text: str) -> str:
    """Unicode notation as LaTeX: ``u₄ᵀ`` → ``u_{4}^\\top``, ``Σᵢ`` → ``\\sum_i``, an input
    named ``gamma`` → ``\\gamma``."""
    text = re.sub(rf"(?<![\\\w])({'|'.join(_GREEK)})(?!\w)", r"\\\1", text)
    text = re.sub(r"([₀-₉]+)", lambda match: "_{" + match.group(1).translate(_PLAIN) + "}",
                  text)
    for word, latex in _LATEX_WORDS:
        text = text.replace(word, latex)
    return text.replace("}_i", ",i}")  # u_{8}_i is u_{8,i}


# -- SymPy, for a graph of scalars -----------------------------------------------------------------


@dataclass(frozen=True)
class Simplified:
    """The formula simplified by SymPy, in the inputs' names: text, LaTeX and the SymPy
    expression itself."""

    text: str
    latex: str
    expression: object


_SYMPY_FUNCTIONS = ("sinh", "cosh", "tanh", "sqrt", "sin", "cos", "tan", "exp", "log")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _simplify(formula: Formula) -> Simplified | None:
    """The formula simplified by SymPy, when the graph holds only scalars, SymPy is installed,
    every rule along the paths parses, and the simplified expression evaluates to the traced
    gradient (the sum of the paths' products); None otherwise."""
    graph = formula.graph
    if len(graph.nodes) > SIMPLIFY_NODES or any(np.size(node.value) != 1 for node in graph.nodes):
        return None
    try:
        import sympy
        from sympy.parsing.sympy_parser import (
            convert_xor,
            implicit_application,
            implicit_multiplication,
            parse_expr,
            standard_transformations,
        )
    except ImportError:
        return None
    symbols = {_sympy_name(node.label): sympy.Symbol(_sympy_name(node.label))
               for node in graph.nodes if node.op != "const"}
    transformations = (*standard_transformations, convert_xor, implicit_multiplication,
                       implicit_application)

    def parse(text: str):
        return parse_expr(_sympy_text(text), local_dict=dict(symbols),
                          transformations=transformations)

    try:
        def product(factors):
            value = sympy.Integer(1)
            for factor in factors:
                value *= parse(factor.text)
            return value

        total = sympy.Integer(0)
        for term in formula.terms:
            coefficient = sympy.Rational(term.coefficient.numerator, term.coefficient.denominator)
            for _, size in term.symbols:
                coefficient /= size
            total += coefficient * product(term.factors)
        expression = product(formula.prefix) * total * product(formula.suffix)
        forward = _forward(graph, sympy, symbols)
        expression = expression.subs(forward)
        candidates = (expression, sympy.simplify(expression), sympy.factor(expression))
        expression = min(candidates, key=lambda candidate: (sympy.count_ops(candidate),
                                                            len(str(candidate))))
    except (SyntaxError, TypeError, ValueError, AttributeError, sympy.SympifyError):
        return None
    values = {symbols[_sympy_name(node.label)]: float(node.value)
              for node in graph.nodes if node.op != "const"}
    traced = float(find_paths(graph, formula.wrt, to=formula.end, limit=10**6).sum())
    try:
        number = complex(expression.subs(values).evalf())
    except (TypeError, ValueError):
        return None
    if number.imag or not np.isclose(number.real, traced, rtol=1e-9, atol=1e-12):
        return None
    return Simplified(_from_sympy(expression), sympy.latex(expression), expression)


def _sympy_name(label: str) -> str:
    """``u₃`` → ``u_3``: a label as a SymPy symbol's name."""
    return re.sub(r"([₀-₉]+)", lambda match: "_" + match.group(1).translate(_PLAIN), label)


def _sympy_text(text: str) -> str:
    """A rule in the paper's notation as SymPy input: ``2u₂`` → ``2u_2``, ``cos u₁`` →
    ``cos(u_1)``, ``[u₄ > 0]`` → ``Heaviside(u_4 - (0), 0)``, ``3x²`` → ``3x**2``."""
    text = _sympy_name(text).replace("−", "-").replace("·", "*")
    text = re.sub(r"\[(.+?) > (.+?)\]", r"Heaviside((\1) - (\2), 0)", text)
    text = re.sub(r"\[(.+?) < (.+?)\]", r"Heaviside((\2) - (\1), 0)", text)
    text = re.sub(r"([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)",
                  lambda match: f"**({match.group(1).translate(_SUPERSCRIPT_DIGITS)})", text)
    text = re.sub(r"√\(", "sqrt(", text)
    text = re.sub(r"√(\w+)", r"sqrt(\1)", text)
    text = text.replace("ln ", "log ")
    names = "|".join(_SYMPY_FUNCTIONS)
    return re.sub(rf"\b({names})(?:(\*\*\(\d+\)) ?| )([\w.]+)", r"\1(\3)\2", text)


def _forward(graph, sympy, symbols: dict) -> dict:
    """Each computed node's symbol → its forward expression in the inputs (a node whose
    operation has no SymPy counterpart stays a symbol)."""
    unary = {"sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "sinh": sympy.sinh,
             "cosh": sympy.cosh, "tanh": sympy.tanh, "exp": sympy.exp, "log": sympy.log,
             "sqrt": sympy.sqrt, "negative": lambda a: -a, "absolute": sympy.Abs,
             "abs": sympy.Abs, "arcsin": sympy.asin, "arccos": sympy.acos,
             "arctan": sympy.atan, "arcsinh": sympy.asinh, "arccosh": sympy.acosh,
             "arctanh": sympy.atanh, "exp2": lambda a: 2**a, "expm1": lambda a: sympy.exp(a) - 1,
             "log2": lambda a: sympy.log(a, 2), "log10": lambda a: sympy.log(a, 10),
             "log1p": lambda a: sympy.log(1 + a), "cbrt": sympy.cbrt,
             "square": lambda a: a**2, "reciprocal": lambda a: 1 / a,
             "sum": lambda a: a, "mean": lambda a: a}  # of one number: the number
    binary = {"add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
              "multiply": lambda a, b: a * b, "divide": lambda a, b: a / b,
              "power": lambda a, b: a**b, "maximum": sympy.Max, "minimum": sympy.Min}
    expressions: dict[int, object] = {}
    for node in graph.nodes:
        if node.op == "const":
            expressions[node.id] = sympy.nsimplify(float(node.value))
            continue
        symbol = symbols[_sympy_name(node.label)]
        operands = [expressions[operand.id] for operand in node.inputs]
        if node.op in unary and len(operands) == 1:
            expressions[node.id] = unary[node.op](*operands)
        elif node.op in binary and len(operands) == 2:
            expressions[node.id] = binary[node.op](*operands)
        else:
            expressions[node.id] = symbol
    return {symbols[_sympy_name(node.label)]: expressions[node.id]
            for node in reversed(graph.nodes) if node.inputs}


def _from_sympy(expression) -> str:
    """SymPy's text in the paper's notation: ``6*x**2/tan(x**3)`` → ``6x²/tan(x³)``."""
    text = str(expression)
    text = re.sub(r"Heaviside\(([^()]*), 0\)", r"[\1 > 0]", text)
    text = re.sub(r"\*\*(\d+)\b", lambda match: match.group(1).translate(_SUPERSCRIPT_POWER),
                  text)
    text = text.replace("**", "^")
    text = re.sub(r"sqrt\(([\w.]+)\)", r"√\1", text)
    text = re.sub(r"(\d)\*(?=[A-Za-z](?![A-Za-z(])|\(|√)", r"\1", text)
    text = re.sub(r"_(\d+)", lambda match: match.group(1).translate(_SUBSCRIPT), text)
    return text.replace("*", "·").replace("-", "−")
