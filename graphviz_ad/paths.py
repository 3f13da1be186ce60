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

from .notation import array_text, bracket

if TYPE_CHECKING:  # the graph layer reads nodes; it does not import the tracer that makes them
    from .tracer import Node

Edge = tuple  # (operand node, consumer node, argument position)


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
    def text(self) -> str:
        """``x → u₂ → u₃: [1] · [2x] = 6`` (factors in numerator-layout order)."""
        factors = " · ".join(bracket(rule) for rule in reversed(self.rules)) or "I"
        return f"{self}: {factors} = {array_text(self.product)}"

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
    def text(self) -> str:
        """One line per path, then the count and (when complete) the sum."""
        title = f"∂{self.end.label}/∂{self.start.label}"
        lines = [f"{title}: {self.total_count} path{'s' if self.total_count != 1 else ''}"]
        lines += [f"  {path.text}" for path in self._paths]
        if self.truncated:
            lines.append(f"  … {PathCount(self.total_count - len(self))} more not listed "
                         f"(limit={self.limit})")
        else:
            lines.append(f"  sum = {array_text(self.sum())}")
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
