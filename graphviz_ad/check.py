"""Check every local Jacobian of a traced graph against central finite differences.

A local Jacobian ∂out/∂x is checked by perturbing x alone and running the node's primitive
again, holding its other operands fixed:

    J v ≈ (f(x + h v) − f(x − h v)) / 2h

* Small nodes (x has at most ``DENSE_LIMIT`` elements): the whole matrix, one unit vector
  v = eₖ per column, against all three forms of the rule: ``Jacobian.matrix()``, the VJPs
  of the unit rows (reverse mode) and the JVPs of the unit columns (forward mode).
* Larger nodes: a few random directions v, comparing ``jvp(v)`` with the difference above,
  and ``vjp(u) · v`` with ``u · jvp(v)`` for a random u (the adjoint identity
  uᵀ(J v) = (Jᵀ u)ᵀ v ties the reverse-mode rule to the forward-mode one).

Only the edges a derivative flows along are checked: operands that depend on an input
(a constant's partial, such as ∂xʸ/∂y for a constant exponent, is never used).

The error of an edge is ``max |rule − difference| / max(1, |rule|, |difference|)``: relative
for entries larger than 1, absolute below (so a zero Jacobian is checked too).

**Kinks.** Where f is not differentiable (max(0, z) at z = 0, a tie in a max) the one-sided
differences (f(x + hv) − f(x))/h and (f(x) − f(x − hv))/h disagree.  The rule is then
accepted when it lies between them (a one-sided derivative, or the ½–½ share at a tie) and
the edge is marked as a kink.  Entries where f is not finite near the point (log at 0) are
left out and the edge is marked undefined: reported, but not a failure.

>>> import numpy as np, graphviz_ad as gad
>>> report = check_graph(gad.trace(lambda x: np.sin(x ** 2), 1.5))
>>> report.passed, [node.node.op for node in report.nodes]
(True, ['power', 'sin'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .primitives import PRIMITIVES

TOLERANCE = 1e-6  # default bound on the error of every edge
DENSE_LIMIT = 64  # operands up to this size are checked column by column
DENSE_ENTRIES = 100_000  # … and only when the dense matrix has at most this many entries
DIRECTIONS = 3  # random directions for larger operands
_STEP = np.finfo(float).eps ** (1 / 3)  # the step that balances truncation and rounding
_KINK = 1e-3  # one-sided differences further apart than this (relative) mark a kink


@dataclass(frozen=True)
class EdgeCheck:
    """The check of ∂node/∂node.inputs[arg]: ``method`` is ``"matrix"`` or ``"directions"``,
    ``error`` the worst error over the entries where f is finite near the point (NaN when
    there are none), ``kink`` whether the point is one where f is not differentiable,
    ``undefined`` whether some entries were left out because f is not finite there."""

    node: object
    arg: int
    method: str
    error: float
    kink: bool
    undefined: bool

    @property
    def operand(self):
        return self.node.inputs[self.arg]


@dataclass(frozen=True)
class NodeCheck:
    """The checks of one node's local Jacobians, one per checked input."""

    node: object
    edges: tuple[EdgeCheck, ...]

    @property
    def error(self) -> float:
        """The worst error over the node's edges (NaN when no entry could be checked)."""
        errors = [edge.error for edge in self.edges if not np.isnan(edge.error)]
        return max(errors) if errors else float("nan")

    @property
    def kink(self) -> bool:
        return any(edge.kink for edge in self.edges)

    @property
    def undefined(self) -> bool:
        return any(edge.undefined for edge in self.edges)

    def passed(self, tolerance: float = TOLERANCE) -> bool:
        return not self.error > tolerance  # NaN (undefined) passes


@dataclass(frozen=True)
class CheckReport:
    """The checks of every node of ``graph`` that has a checked edge, in tape order."""

    graph: object
    nodes: tuple[NodeCheck, ...]
    tolerance: float

    @property
    def failures(self) -> tuple[NodeCheck, ...]:
        return tuple(node for node in self.nodes if not node.passed(self.tolerance))

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def worst(self) -> NodeCheck | None:
        """The node with the largest error (None when nothing was checked)."""
        checked = [node for node in self.nodes if not np.isnan(node.error)]
        return max(checked, key=lambda node: node.error, default=None)


def check_graph(graph, tolerance: float = TOLERANCE, seed: int = 0) -> CheckReport:
    """Check every local Jacobian of ``graph`` (see the module's docstring)."""
    depends, _ = graph.activity
    nodes = []
    for node in graph.nodes:
        edges = tuple(
            check_edge(node, arg, seed)
            for arg, operand in enumerate(node.inputs)
            if depends[operand.id]
        )
        if edges:
            nodes.append(NodeCheck(node, edges))
    return CheckReport(graph, tuple(nodes), tolerance)


def check_edge(node, arg: int, seed: int = 0) -> EdgeCheck:
    """Check ∂node/∂node.inputs[arg] against finite differences."""
    with np.errstate(all="ignore"):  # a rule that is not finite here is reported, not warned
        local = node.jacobian(arg)
        probe = _Probe(node, arg)
        rows, cols = local.shape
        if cols <= DENSE_LIMIT and rows * cols <= DENSE_ENTRIES:
            return _check_matrix(node, arg, local, probe)
        rng = np.random.default_rng((seed, node.id, arg))
        return _check_directions(node, arg, local, probe, rng)


class _Probe:
    """Re-runs one node's primitive with one operand moved along a direction."""

    def __init__(self, node, arg: int):
        self.primitive = PRIMITIVES[node.op]
        self.values = [operand.value for operand in node.inputs]
        self.params = node.params or {}
        self.arg = arg
        self.x = np.array(node.inputs[arg].value, dtype=float)
        # one step per element, relative to that element: a step sized by the largest
        # element would probe a small one outside the function's domain (log at 0.01)
        self.scale = np.maximum(1.0, np.abs(self.x))
        self.centre = self._at(self.x)

    def _at(self, x) -> np.ndarray:
        values = list(self.values)
        values[self.arg] = x
        return np.asarray(self.primitive.forward(*values, **self.params), dtype=float)

    def one_sided(self, direction) -> tuple[np.ndarray, np.ndarray]:
        """The forward and backward differences of f along ``scale ⊙ direction``: both
        estimate J (scale ⊙ direction)."""
        step = _STEP * self.scale * direction
        ahead = (self._at(self.x + step) - self.centre) / _STEP
        behind = (self.centre - self._at(self.x - step)) / _STEP
        return ahead, behind


def _compare(rule, ahead, behind, spread=False) -> tuple[float, bool, bool]:
    """The error of ``rule`` against the one-sided differences: (error, at a kink, some
    entries undefined).  Entries where f is not finite near the point are left out; so are
    the rule's non-finite entries when ``spread`` says they are expected (an infinite
    derivative elsewhere turns 0 · ∞ into NaN in a product with a unit vector)."""
    rule = np.asarray(rule, dtype=float)
    defined = np.isfinite(ahead) & np.isfinite(behind)
    if spread:
        defined &= np.isfinite(rule)
    undefined = not np.all(defined)
    if not np.any(defined):
        return float("nan"), False, undefined
    rule, ahead, behind = rule[defined], ahead[defined], behind[defined]
    if not np.all(np.isfinite(rule)):
        return float("inf"), False, undefined
    central = (ahead + behind) / 2
    scale = max(1.0, float(np.max(np.abs(rule))), float(np.max(np.abs(central))))
    kinks = np.abs(ahead - behind) > _KINK * np.maximum(1.0, np.abs(central))
    low, high = np.minimum(ahead, behind), np.maximum(ahead, behind)
    outside = np.maximum(0.0, np.maximum(low - rule, rule - high))
    distance = np.where(kinks, outside, np.abs(rule - central))
    return float(np.max(distance)) / scale, bool(np.any(kinks)), undefined


def _summary(node, arg, method: str, results: list) -> EdgeCheck:
    """One EdgeCheck from the (error, kink, undefined) of each comparison."""
    errors = [error for error, _, _ in results if not np.isnan(error)]
    return EdgeCheck(node, arg, method, max(errors) if errors else float("nan"),
                     any(kink for _, kink, _ in results),
                     any(undefined for _, _, undefined in results))


def _check_matrix(node, arg, local, probe) -> EdgeCheck:
    rows, cols = local.shape
    dense = local.matrix()
    units = np.eye(cols).reshape((cols, *local.in_shape))
    by_jvp = np.reshape(local.jvp(units), (cols, rows)).T  # J eₖ, column by column
    by_vjp = np.reshape(local.vjp(np.eye(rows).reshape((rows, *local.out_shape))), (rows, cols))
    spread = not np.all(np.isfinite(dense))
    results = []
    for k in range(cols):
        scale = probe.scale.flat[k]
        ahead, behind = (d.reshape(rows) / scale for d in probe.one_sided(units[k]))
        results.append(_compare(dense[:, k], ahead, behind))
        results.append(_compare(by_vjp[:, k], ahead, behind, spread))
        results.append(_compare(by_jvp[:, k], ahead, behind, spread))
    return _summary(node, arg, "matrix", results)


def _check_directions(node, arg, local, probe, rng) -> EdgeCheck:
    results = []
    for _ in range(DIRECTIONS):
        v = rng.standard_normal(local.in_shape)
        u = rng.standard_normal(local.out_shape)
        forward = local.jvp(v)
        results.append(_compare(local.jvp(v * probe.scale), *probe.one_sided(v)))
        reverse_terms, forward_terms = local.vjp(u) * v, u * forward
        if np.all(np.isfinite(reverse_terms)) and np.all(np.isfinite(forward_terms)):
            size = max(1.0, float(np.sum(np.abs(reverse_terms))),
                       float(np.sum(np.abs(forward_terms))))
            error = abs(np.sum(reverse_terms) - np.sum(forward_terms)) / size
            results.append((error, False, False))
    return _summary(node, arg, "directions", results)
