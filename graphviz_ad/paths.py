"""Paths from an input to the output: the total-derivative rule made explicit.

When x reaches y along several paths, ∂y/∂x is the **sum over paths** of the product of the
local Jacobians along each path (vector chain rule, numerator layout: the Jacobian nearest
the output on the left).  Paths run over edges, so ``x * x`` has two: one per argument.

>>> import graphviz_ad as gad
>>> g = gad.trace(lambda x: x + x ** 2, 3.0)     # u₁ = x², u₂ = x + u₁
>>> paths = g.paths("x")
>>> [(str(p), float(p.product)) for p in paths]
[('x → u₁ → u₂', 6.0), ('x → u₂', 1.0)]
>>> float(paths.sum()) == g.grad("x")
True

Their number can grow exponentially with depth (each of n stacked diamonds doubles it), so
they are counted by dynamic programming and only the first ``limit`` are listed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .notation import array_text, bracket, matrix_lines

if TYPE_CHECKING:  # the graph layer reads nodes; it does not import the tracer that makes them
    from .tracer import Node

Edge = tuple  # (operand node, consumer node, argument position)
ZERO_RELATIVE = 1e-12  # a product this small relative to the largest one is zero


class Path:
    """One path ``start → … → end`` over edges, and the product of its local Jacobians.

    ``edges`` are (node, consumer, arg) triples; ``product`` is
    ``J_k ⋯ J_2 J_1`` shaped ``end.shape + start.shape`` (computed when first asked, by
    pushing an identity batch through the structured operators, never a dense local
    Jacobian).
    """

    __slots__ = ("_product", "edges", "end", "start")

    def __init__(self, start: Node, end: Node, edges: tuple[Edge, ...]):
        self.start = start
        self.end = end
        self.edges = edges
        self._product = None

    @property
    def nodes(self) -> tuple[Node, ...]:
        return (self.start, *(consumer for _, consumer, _ in self.edges))

    @property
    def rules(self) -> tuple[str, ...]:
        """The local Jacobians' rules, from the start of the path to its end."""
        return tuple(consumer.jacobian(arg).rule for _, consumer, arg in self.edges)

    @property
    def product(self) -> np.ndarray:
        """∂end/∂start along this path alone: the product of its local Jacobians."""
        if self._product is None:
            self._product = _chain(self.start, self.end, self.edges)
        return self._product

    @property
    def scalar(self) -> bool:
        """Whether every node on the path holds one number (then each factor is 1×1)."""
        return all(np.size(node.value) == 1 for node in self.nodes)

    @property
    def factors(self) -> tuple[tuple[str, str, tuple[int, int]], ...]:
        """The vector chain rule's factors in numerator-layout order (the output's end first,
        as the paper writes ∂f/∂g · ∂g/∂x): (``"∂u₃/∂u₂"``, rule, (m, n)) for each edge."""
        jacobians = [(operand, consumer, consumer.jacobian(arg))
                   for operand, consumer, arg in reversed(self.edges)]
        return tuple((f"∂{consumer.label}/∂{operand.label}", local.rule, local.shape)
                     for operand, consumer, local in jacobians)

    @property
    def shape(self) -> tuple[int, int]:
        """The product's matrix shape, m × n: (end.size, start.size)."""
        return int(np.size(self.end.value)), int(np.size(self.start.value))

    def zero_reason(self, tolerance: float = 0.0) -> str | None:
        """Why this path's product is zero (None when it is not): the structural reason when
        one is known (a zero constant, a mask that is all zero, Σ(x − μ) = 0), else
        ``numerically zero (|·| < ε)``.  Entries up to ``tolerance`` count as zero."""
        if np.any(np.abs(self.product) > tolerance):
            return None
        for operand, consumer, arg in self.edges:
            reason = _zero_factor(operand, consumer, arg)
            if reason is not None:
                return reason
        reason = self.identically_zero
        if reason is not None:
            return reason
        if not np.any(self.product):
            return "exactly zero: its non-zero factors multiply to 0"
        return f"numerically zero (|·| < {tolerance:.0e})"

    @property
    def identically_zero(self) -> str | None:
        """The reason this path's product is zero for every input, when the structure says
        so: it leaves a mean μ into x − μ and then sums the centred values, Σ(x − μ) = 0
        (batch norm's path through μ and then σ²).  Call it only for a path whose product
        is zero: the structure alone does not prove that the sum is taken."""
        for operand, consumer, _ in self.edges:
            reason = _centred(operand, consumer)
            if reason is not None:
                return reason
        return None

    @property
    def text(self) -> str:
        """A scalar path: ``x → u₂ → u₃: [1] · [2x] = 6`` (factors in numerator-layout
        order).  A vector path: the chain of Jacobians ∂f/∂g · ∂g/∂x with their rules and
        m×n shapes, then the product's numbers when it is small (see ``matrix_text``)."""
        if self.scalar:
            factors = " · ".join(bracket(rule) for rule in reversed(self.rules)) or "I"
            return f"{self}: {factors} = {array_text(self.product)}"
        if not self.edges:
            return f"{self}: I ({self.shape[0]}×{self.shape[1]})"
        symbols = " · ".join(symbol for symbol, _, _ in self.factors)
        rules = " · ".join(bracket(rule) for _, rule, _ in self.factors)
        shapes = " · ".join(f"{m}×{n}" for _, _, (m, n) in self.factors)
        m, n = self.shape
        return "\n".join([f"{self}: {symbols}", f"  = {rules}",
                          f"  ({shapes} → {m}×{n})", *matrix_text(self.product, m, n, "  = ")])

    def __str__(self) -> str:
        """``x → u₂ → u₃``; an edge into a node that uses its operand twice names its
        argument: ``x → u₁ (argument 1)``."""
        text = self.start.label
        for operand, consumer, arg in self.edges:
            text += f" → {consumer.label}"
            if consumer.inputs.count(operand) > 1:
                text += f" (argument {arg})"
        return text

    def __repr__(self) -> str:
        return f"<Path {self}>"


def _chain(start: Node, end: Node, edges: tuple[Edge, ...]) -> np.ndarray:
    """Multiply the local Jacobians along ``edges`` by pushing identity rows or columns
    through their VJPs or JVPs, whichever batch is smaller."""
    n, m = int(np.size(start.value)), int(np.size(end.value))
    if n <= m:  # forward: J_k ⋯ J_1 applied to every input direction at once
        columns = np.eye(n).reshape((n, *start.shape))
        for _, consumer, arg in edges:
            columns = consumer.jacobian(arg).jvp(columns)
        flat = np.reshape(columns, (n, m)).T
    else:  # reverse: every output row times J_k ⋯ J_1
        rows = np.eye(m).reshape((m, *end.shape))
        for _, consumer, arg in reversed(edges):
            rows = consumer.jacobian(arg).vjp(rows)
        flat = np.reshape(rows, (m, n))
    return np.array(flat, dtype=float).reshape(end.shape + start.shape)


SMALL = 36  # a Jacobian with up to this many entries is shown with its numbers


def matrix_text(value, m: int, n: int, lead: str) -> list[str]:
    """An m×n Jacobian's numbers as lines of a matrix (``lead`` before the first), or
    nothing when it has more than ``SMALL`` entries (``Path.product`` has them)."""
    if m * n > SMALL:
        return []
    rows = matrix_lines(np.reshape(np.asarray(value, dtype=float), (m, n)), max_rows=m,
                        max_cols=n)
    pad = " " * len(lead)
    return [(lead if i == 0 else pad) + line for i, line in enumerate(rows)]


_MASKS = {"maximum", "minimum", "fmax", "fmin", "where", "clip", "abs"}
_PRODUCTS = {"multiply", "matmul", "dot", "einsum", "tensordot", "divide"}


def _zero_factor(operand: Node, consumer: Node, arg: int) -> str | None:
    """The structural reason when the local Jacobian of ``operand → consumer`` is all zero: a
    mask that is all zero, a zero constant, or another factor that is zero."""
    local = consumer.jacobian(arg)
    numbers = next((getattr(local, name) for name in ("factor", "weights", "other")
                    if getattr(local, name, None) is not None), None)
    if numbers is None or np.any(numbers):
        return None
    if consumer.op in _MASKS:
        return f"the mask {bracket(local.rule)} of {consumer.label} is all zero"
    others = [other for other in consumer.inputs if other is not operand]
    zero_constants = [other for other in others
                      if other.op == "const" and not np.any(other.value)]
    if zero_constants:
        return (f"a zero constant: {consumer.label} = {consumer.call_text} multiplies by "
                f"{zero_constants[0].label} = 0")
    return f"∂{consumer.label}/∂{operand.label} = {local.rule} is zero"


def _centred(operand: Node, consumer: Node) -> str | None:
    """Σ(x − μ) = 0: when the path enters ``consumer = x − μ`` from μ = mean(x), what
    follows sums the centred values over the mean's axes, and they add up to 0."""
    if consumer.op != "subtract" or operand is not consumer.inputs[1]:
        return None
    if operand.op != "mean" or operand.inputs[0] is not consumer.inputs[0]:
        return None
    x, mean = consumer.inputs[0].label, operand.label
    return (f"Σ({x} − {mean}) = 0: {consumer.label} = {x} − {mean} is centred ({mean} is "
            f"the mean of {x}), and the path sums it over the mean's axes")


class PathCount(int):
    """A number of paths: an ``int`` that prints exactly up to ``EXACT_DIGITS`` digits and
    as ``≈1.2·10⁴⁵¹⁵`` beyond (n stacked diamonds have 2ⁿ paths, more digits than Python
    converts to text, and more than anyone reads).

    >>> str(PathCount(2**40)), f"{PathCount(2**15000)}"
    ('1099511627776', '≈2.8·10⁴⁵¹⁵')
    """

    EXACT_DIGITS = 16

    def __str__(self) -> str:
        if -(10**self.EXACT_DIGITS) < self < 10**self.EXACT_DIGITS:
            return int.__repr__(self)
        exponent = math.floor(math.log10(self))
        mantissa = round(10 ** (math.log10(self) - exponent), 1)
        if mantissa >= 10:  # 9.96 rounds up to the next power
            mantissa, exponent = 1.0, exponent + 1
        return f"≈{mantissa:.1f}·10{str(exponent).translate(_SUPERSCRIPT)}"

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else int.__format__(self, spec)


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


class Paths(Sequence):
    """The paths from ``start`` to ``end`` (listed up to ``limit``), and how many there are.

    ``total_count`` is the exact number of paths (by dynamic programming over the graph,
    so it is known even when they are far too many to list); ``truncated`` says whether
    fewer were listed.  ``sum()`` adds the listed products: the whole Jacobian when nothing
    was left out.
    """

    __slots__ = ("_paths", "end", "limit", "start", "total_count")

    def __init__(self, start: Node, end: Node, paths: tuple[Path, ...], total_count: int,
                 limit: int):
        self.start = start
        self.end = end
        self._paths = paths
        self.total_count = PathCount(total_count)
        self.limit = limit

    @property
    def truncated(self) -> bool:
        return self.total_count > len(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, index):
        return self._paths[index]

    def __iter__(self) -> Iterator[Path]:
        return iter(self._paths)

    def sum(self) -> np.ndarray:
        """Σ over paths of their products: ∂end/∂start (zeros when there is no path)."""
        if self.truncated:
            raise ValueError(
                f"only {len(self)} of the {self.total_count} paths from {self.start.label} to "
                f"{self.end.label} are listed (limit={self.limit}); their sum is not the "
                "Jacobian: use graph.jacobian, or a larger limit"
            )
        total = np.zeros(self.end.shape + self.start.shape)
        for path in self._paths:
            total = total + path.product
        return total

    @property
    def tolerance(self) -> float:
        """ε for "numerically zero": 1e-12 times the largest entry of any listed product
        (at least 1e-12), so a product of rounding errors counts as zero."""
        largest = max((float(np.max(np.abs(path.product), initial=0.0)) for path in self),
                      default=0.0)
        return ZERO_RELATIVE * max(largest, 1.0)

    @property
    def scalar(self) -> bool:
        """Whether every listed path is scalar (then the text is today's one-line form)."""
        return all(path.scalar for path in self._paths)

    @property
    def text(self) -> str:
        """One entry per path (its zero mark, with the reason, when its product is zero),
        then the count and (when complete) the sum: the total derivative."""
        title = f"∂{self.end.label}/∂{self.start.label}"
        count = f"{self.total_count} path{'s' if self.total_count != 1 else ''}"
        m, n = int(np.size(self.end.value)), int(np.size(self.start.value))
        if not self.scalar:
            count += f", each a {m}×{n} Jacobian (numerator layout)"
        lines = [f"{title}: {count}"]
        tolerance = self.tolerance
        for path in self._paths:
            lines += [f"  {line}" for line in path.text.splitlines()]
            reason = path.zero_reason(tolerance)
            if reason is not None:
                lines.append(f"    zero: {reason}")
        if self.truncated:
            lines.append(f"  … {PathCount(self.total_count - len(self))} more not listed "
                         f"(limit={self.limit})")
        elif self.scalar:
            lines.append(f"  sum = {array_text(self.sum())}")
        else:
            lines.append(f"  sum over paths = {title} ({m}×{n})")
            lines += matrix_text(self.sum(), m, n, "    = ") or [f"    = {array_text(self.sum())}"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        more = f" of {self.total_count}" if self.truncated else ""
        return f"<Paths {self.start.label} → {self.end.label}: {len(self)}{more}>"


def paths(graph, wrt, to=None, limit: int = 64) -> Paths:
    """Every path over edges from ``wrt`` (an input's name, or any node) to ``to`` (default:
    the output), the first ``limit`` of them listed in a fixed order (depth first, consumers
    in tape order)."""
    start = graph.node(wrt)
    end = graph.output if to is None else graph.node(to)
    if limit < 0:
        raise ValueError(f"limit must be at least 0, not {limit}")
    counts = count_paths(graph, end)
    consumers: list[list[tuple[Node, int]]] = [[] for _ in range(end.id + 1)]
    for node in graph.nodes[: end.id + 1]:
        for arg, operand in enumerate(node.inputs):
            if counts[node.id]:
                consumers[operand.id].append((node, arg))
    listed = []
    total = counts[start.id] if start.id <= end.id else 0
    for edges in _walk(start, end, consumers):
        if len(listed) == limit:
            break
        listed.append(Path(start, end, edges))
    return Paths(start, end, tuple(listed), total, limit)


def count_paths(graph, end: Node) -> list[int]:
    """For each node id up to ``end``, the number of paths over edges from it to ``end``:
    count(end) = 1 and count(n) = Σ over edges n → c of count(c)."""
    counts = [0] * (end.id + 1)
    counts[end.id] = 1
    for node in reversed(graph.nodes[: end.id + 1]):
        if counts[node.id]:
            for operand in node.inputs:
                counts[operand.id] += counts[node.id]
    return counts


def _walk(start: Node, end: Node, consumers) -> Iterator[tuple[Edge, ...]]:
    """Depth-first, without recursion: every path over edges from start to end.  Only edges
    into nodes that reach ``end`` are listed in ``consumers``, so no branch is a dead end."""
    if start is end:
        yield ()
        return
    if start.id > end.id:
        return
    path: list[Edge] = []
    stack = [iter(consumers[start.id])]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            if path:
                path.pop()
            continue
        consumer, arg = step
        operand = path[-1][1] if path else start
        path.append((operand, consumer, arg))
        if consumer is end:
            yield tuple(path)
            path.pop()
        else:
            stack.append(iter(consumers[consumer.id]))
