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
differences (f(x + hv) − f(x))/h and (f(x) − f(x − hv))/h disagree.  Strong curvature
(log near 0) makes them disagree too, but by an amount proportional to h: a second step
h/16 tells the two apart.  When the gap shrinks with the step it is curvature, and the rule
is compared with the smaller step's central difference; when it stays, the point is a kink
and the rule must follow the documented convention (the primitive table's docstring):

* a tie with a constant is won by the constant: max(0, z)′ = 0 at z = 0;
* otherwise the mean of the one-sided derivatives, checked along the direction that moves
  every element of the operand by its own step, so that tied elements move together:
  |x|′ = 0 at 0, and maximum/minimum of two traced values share ½–½ at a tie;
* tied elements of one reduction share the derivative equally (1/k each of k tied maxima),
  checked column by column for operands of up to ``DENSE_LIMIT`` elements; along the
  other directions a kink's rule must lie between the one-sided derivatives.

Where f jumps (floor at an integer) one one-sided difference grows as 1/h; the rule must
be the derivative of the piece the point is on, the other one.  The edge is then marked as
a kink.  Entries where f is not finite near the point (log at 0)
are left out and the edge is marked undefined: reported, but not a failure.

**Batches.** Most edges of a large graph are element-wise on small operands (a graph of
scalar operations has nothing else); those of one primitive and shape are checked together,
the primitive running once per unit column on the stacked operands, so that 10⁵ nodes take
seconds.

>>> import numpy as np, graphviz_ad as gad
>>> report = check_graph(gad.trace(lambda x: np.sin(x ** 2), 1.5))
>>> report.passed, [node.node.op for node in report.nodes]
(True, ['power', 'sin'])
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from math import prod

import numpy as np

from .linear import Elementwise
from .primitives import PRIMITIVES

TOLERANCE = 1e-6  # default bound on the error of every edge
DENSE_LIMIT = 64  # operands up to this size are checked column by column
DENSE_ENTRIES = 100_000  # … and only when the dense matrix has at most this many entries
DIRECTIONS = 3  # random directions for larger operands
_STEP = np.finfo(float).eps ** (1 / 3)  # the step that balances truncation and rounding
_SMALLER = 16  # the second step is h / 16: curvature's gap shrinks 16-fold, a kink's stays
_KINK = 1e-3  # one-sided differences further apart than this (relative) may be a kink


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
    checked: dict[int, dict[int, EdgeCheck]] = defaultdict(dict)  # node id → arg → check
    batches = _Batches()
    with np.errstate(all="ignore"):  # a rule that is not finite here is reported, not warned
        for node in graph.nodes:
            for arg, operand in enumerate(node.inputs):
                if not depends[operand.id]:
                    continue
                local = node.jacobian(arg)
                if not batches.add(node, arg, local):
                    checked[node.id][arg] = _check_edge(node, arg, local, seed)
        for edge in batches.check():
            checked[edge.node.id][edge.arg] = edge
    nodes = tuple(NodeCheck(node, tuple(checked[node.id][arg] for arg in sorted(checked[node.id])))
                  for node in graph.nodes if node.id in checked)
    return CheckReport(graph, nodes, tolerance)


def check_edge(node, arg: int, seed: int = 0) -> EdgeCheck:
    """Check ∂node/∂node.inputs[arg] against finite differences."""
    with np.errstate(all="ignore"):
        return _check_edge(node, arg, node.jacobian(arg), seed)


def _check_edge(node, arg: int, local, seed: int) -> EdgeCheck:
    probe = _Probe(node, arg)
    rows, cols = local.shape
    if cols <= DENSE_LIMIT and rows * cols <= DENSE_ENTRIES:
        return _check_matrix(node, arg, local, probe)
    rng = np.random.default_rng((seed, node.id, arg))
    return _check_directions(node, arg, local, probe, rng)


def _constant_wins(node, arg: int) -> bool:
    """Whether the convention at a kink is "the constant wins the tie": maximum or minimum
    (fmax, fmin) of the operand and a constant (max(0, z)′ = 0 at z = 0)."""
    return (node.op in ("maximum", "minimum", "fmax", "fmin")
            and node.inputs[1 - arg].op == "const")


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

    def one_sided(self, direction, step: float = _STEP) -> tuple[np.ndarray, np.ndarray]:
        """The forward and backward differences of f along ``scale ⊙ direction``: both
        estimate J (scale ⊙ direction)."""
        move = step * self.scale * direction
        ahead = (self._at(self.x + move) - self.centre) / step
        behind = (self.centre - self._at(self.x - move)) / step
        return ahead, behind


def _judge(rule, ahead, behind, smaller, at_kink: str, constant_wins):
    """Entry by entry: (how far the rule is from what the differences say, the value it was
    held against, which entries are kinks or jumps, which entries could not be judged).

    ``smaller()`` gives the one-sided differences at the step h/16, asked for only where
    those at h disagree with each other or with the rule.  When the gap between them
    shrinks with the step, f is smooth and strongly curved: the smaller step's central
    difference is the reference.  When it stays, f has a kink, and the rule is held against
    the convention: 0 where the constant wins, else the mean of the one-sided derivatives
    (``at_kink="mean"``) or any value between them (``"between"``, along a direction that
    may split a tie).  When a one-sided difference grows 16-fold, f jumps (floor at an
    integer): the rule must be the derivative of the piece the point is on, the one-sided
    difference that keeps its value (where neither does, as for sign at 0, the entry
    cannot be judged)."""
    central = (ahead + behind) / 2
    gap = np.abs(ahead - behind)
    rough = gap > _KINK * np.maximum(1.0, np.abs(central))
    suspect = rough | (np.abs(rule - central) > _KINK * np.maximum(1.0, np.abs(central)))
    kinks = jumps = lost = np.zeros(np.shape(rough), dtype=bool)
    reference = central
    if np.any(suspect):
        ahead_small, behind_small = smaller()
        ahead_steady, ahead_grows = _steadiness(ahead, ahead_small)
        behind_steady, behind_grows = _steadiness(behind, behind_small)
        jumps = suspect & (ahead_grows | behind_grows)
        lost = jumps & ~ahead_steady & ~behind_steady
        settles = np.abs(ahead_small - behind_small) <= gap / 2  # curvature: the gap shrinks
        kinks = rough & ~jumps & ~settles
        reference = np.where(rough & settles & ~jumps, (ahead_small + behind_small) / 2,
                             central)
        piece = np.where(ahead_steady, ahead_small, behind_small)
        reference = np.where(jumps & ~lost, piece, reference)
    distance = np.abs(rule - reference)
    if at_kink == "between":
        low, high = np.minimum(ahead, behind), np.maximum(ahead, behind)
        outside = np.maximum(0.0, np.maximum(low - rule, rule - high))
        distance = np.where(kinks, outside, distance)
    distance = np.where(kinks & constant_wins, np.abs(rule), distance)
    distance = np.where(lost, 0.0, distance)
    reference = np.where(lost, 0.0, reference)
    return distance, reference, kinks | jumps, lost


def _steadiness(side, side_small):
    """Whether a one-sided difference keeps its value at the smaller step, and whether it
    grows as a difference across a jump does (as 1/h)."""
    steady = np.abs(side_small - side) <= _KINK * np.maximum(1.0, np.abs(side))
    grows = ~steady & (np.abs(side_small) > _SMALLER / 2 * np.abs(side))
    return steady, grows


def _compare(rule, differences, smaller, spread=False, at_kink="between",
             constant_wins=False) -> tuple[float, bool, bool, np.ndarray]:
    """The error of ``rule`` against the one-sided differences, column by column (a 1-D
    comparison is one column): (error, at a kink, some entries undefined, the kink mask).

    Each column's error is relative to its own largest entry, so a small column beside a
    large one is held as tightly as it would be alone.  Entries where f is not finite near
    the point are left out; so are the rule's non-finite entries when ``spread`` says they
    are expected (an infinite derivative elsewhere turns 0 · ∞ into NaN in a product with a
    unit vector)."""
    shape = np.shape(differences[0])
    columns = shape if len(shape) == 2 else (-1, 1)
    rule = np.reshape(np.asarray(rule, dtype=float), columns)
    ahead, behind = (np.reshape(d, columns) for d in differences)
    defined = np.isfinite(ahead) & np.isfinite(behind)
    if spread:
        defined &= np.isfinite(rule)
    undefined = not np.all(defined)
    kinks = np.zeros(np.shape(defined), dtype=bool)
    if not np.any(defined):
        return float("nan"), False, undefined, kinks.reshape(shape)
    if not np.all(np.isfinite(rule[defined])):
        return float("inf"), False, undefined, kinks.reshape(shape)

    def kept(values):  # undefined entries become 0: they count neither as error nor scale
        return np.where(defined, np.reshape(values, columns), 0.0)

    def smaller_kept():
        return tuple(kept(d) for d in smaller())

    rule, ahead, behind = kept(rule), kept(ahead), kept(behind)
    distance, reference, kinks, lost = _judge(rule, ahead, behind, smaller_kept, at_kink,
                                              constant_wins)
    kinks &= defined
    undefined = undefined or bool(np.any(lost & defined))
    scale = np.maximum(1.0, np.maximum(np.max(np.abs(rule), axis=0),
                                       np.max(np.abs(kept(reference)), axis=0)))
    errors = np.max(kept(distance), axis=0) / scale
    error = float(np.max(errors[np.any(defined, axis=0)]))
    return error, bool(np.any(kinks)), undefined, kinks.reshape(shape)


def _summary(node, arg, method: str, results: list) -> EdgeCheck:
    """One EdgeCheck from the (error, kink, undefined, …) of each comparison."""
    errors = [result[0] for result in results if not np.isnan(result[0])]
    return EdgeCheck(node, arg, method, max(errors) if errors else float("nan"),
                     any(result[1] for result in results),
                     any(result[2] for result in results))


def _along_every_element(local, probe, constant_wins) -> tuple:
    """The comparison along scale ⊙ 1, every element moved by its own step: elements tied
    with each other (equal, so equal steps) stay tied, and at a kink the rule must be the
    mean of the one-sided derivatives (or 0 where a constant wins)."""
    ones = np.ones(local.in_shape)
    return _compare(local.jvp(probe.scale), probe.one_sided(ones),
                    lambda: probe.one_sided(ones, _STEP / _SMALLER),
                    at_kink="mean", constant_wins=constant_wins)


def _check_matrix(node, arg, local, probe) -> EdgeCheck:
    rows, cols = local.shape
    dense = local.matrix()
    units = np.eye(cols).reshape((cols, *local.in_shape))
    by_jvp = np.reshape(local.jvp(units), (cols, rows)).T  # J eₖ, column by column
    by_vjp = np.reshape(local.vjp(np.eye(rows).reshape((rows, *local.out_shape))), (rows, cols))
    spread = not np.all(np.isfinite(dense))
    constant_wins = _constant_wins(node, arg)
    scale = probe.scale.reshape(cols)

    def columns(step=_STEP):
        """The one-sided differences along each unit vector, as (rows, cols) matrices."""
        pairs = [probe.one_sided(units[k], step) for k in range(cols)]
        return tuple(np.stack([pair[side].reshape(rows) for pair in pairs], axis=1) / scale
                     for side in (0, 1))

    differences = columns()
    smaller = functools.cache(lambda: columns(_STEP / _SMALLER))
    results, kinks = [], np.zeros((rows, cols), dtype=bool)
    for form, form_spread in ((dense, False), (by_vjp, spread), (by_jvp, spread)):
        result = _compare(form, differences, smaller, form_spread, constant_wins=constant_wins)
        results.append(result)
        kinks |= result[3]
    if kinks.any():
        results.append(_equal_shares(dense, kinks, differences))
        results.append(_along_every_element(local, probe, constant_wins))
    return _summary(node, arg, "matrix", results)


def _equal_shares(dense, kinks, differences) -> tuple:
    """Tied elements share an output entry's derivative equally: within a row, the kink
    columns with the same one-sided derivatives (the k tied maxima of a max; a ptp has two
    such groups, its maxima and its minima) must have equal entries.  The error is the
    largest spread of the rule within a group."""
    ahead, behind = differences
    spread, size = 0.0, 1.0
    for row in np.flatnonzero(np.sum(kinks, axis=1) > 1):
        groups: dict[tuple, list[float]] = defaultdict(list)
        for col in np.flatnonzero(kinks[row]):
            key = (round(float(ahead[row, col]), 6), round(float(behind[row, col]), 6))
            groups[key].append(float(dense[row, col]))
        for shares in groups.values():
            spread = max(spread, max(shares) - min(shares))
            size = max(size, *(abs(share) for share in shares))
    if not np.isfinite(spread):
        return float("nan"), True, False
    return spread / size, True, False


def _check_directions(node, arg, local, probe, rng) -> EdgeCheck:
    constant_wins = _constant_wins(node, arg)
    results = []
    for _ in range(DIRECTIONS):
        v = rng.standard_normal(local.in_shape)
        u = rng.standard_normal(local.out_shape)
        forward = local.jvp(v)
        results.append(_compare(local.jvp(v * probe.scale), probe.one_sided(v),
                                lambda v=v: probe.one_sided(v, _STEP / _SMALLER),
                                constant_wins=constant_wins))
        reverse_terms, forward_terms = local.vjp(u) * v, u * forward
        if np.all(np.isfinite(reverse_terms)) and np.all(np.isfinite(forward_terms)):
            size = max(1.0, float(np.sum(np.abs(reverse_terms))),
                       float(np.sum(np.abs(forward_terms))))
            error = abs(np.sum(reverse_terms) - np.sum(forward_terms)) / size
            results.append((error, False, False))
    if any(result[1] for result in results):
        results.append(_along_every_element(local, probe, constant_wins))
    return _summary(node, arg, "directions", results)


class _Batches:
    """Diagonal element-wise Jacobians (out = f(x, …) element by element, x not broadcast,
    at most ``DENSE_LIMIT`` elements), grouped by primitive, argument and operand shapes and
    checked a group at a time: the primitive runs once on the stacked operands (an
    element-wise forward maps stacked operands to stacked results) for each unit column.
    The rule is the operator's factor d, J = diag(d) (for a plain ``Elementwise`` its
    matrix, VJPs and JVPs all come from d).  Each output entry depends on one element of x,
    so no tie between elements of x is split along a unit column: at a kink the rule must
    be the convention itself."""

    def __init__(self):
        self.groups: dict[tuple, list] = defaultdict(list)

    def add(self, node, arg: int, local) -> bool:
        """Take the edge when its Jacobian is a plain diagonal ``Elementwise`` of a node
        without parameters; False leaves it to the per-edge check."""
        if (type(local) is not Elementwise or local.in_shape != local.out_shape
                or prod(local.out_shape) > DENSE_LIMIT or node.params):
            return False
        shapes = tuple(np.shape(operand.value) for operand in node.inputs)
        self.groups[(node.op, arg, shapes)].append((node, local))
        return True

    def check(self) -> list[EdgeCheck]:
        edges = []
        for (op, arg, _), members in self.groups.items():
            edges += _check_group(op, arg, members)
        return edges


def _check_group(op: str, arg: int, members: list) -> list[EdgeCheck]:
    """Check the diagonal Jacobians ∂node/∂node.inputs[arg] of ``members`` (node, operator)
    pairs of one primitive with operands of equal shapes, column by column."""
    nodes = [node for node, _ in members]
    count, shape = len(nodes), members[0][1].out_shape
    size = prod(shape)
    forward = PRIMITIVES[op].forward
    values = []
    for k in range(len(nodes[0].inputs)):  # stacked, with 1s where an operand is broadcast
        stacked = np.array([node.inputs[k].value for node in nodes])
        padding = (1,) * (len(shape) - (stacked.ndim - 1))
        values.append(stacked.reshape((count, *padding, *stacked.shape[1:])))
    x = values[arg].astype(float).reshape(count, size)
    scale = np.maximum(1.0, np.abs(x))

    def at(moved):
        operands = list(values)
        operands[arg] = moved.reshape((count, *shape))
        return np.asarray(forward(*operands), dtype=float).reshape(count, size)

    centre = at(x)
    if shape == ():  # numbers: one array call instead of one broadcast per edge
        factor = np.array([local.factor for _, local in members], dtype=float)
    else:
        factor = np.array([np.broadcast_to(np.asarray(local.factor, dtype=float), shape)
                           for _, local in members])
    factor = factor.reshape(count, size)
    constant_wins = np.array([_constant_wins(node, arg) for node in nodes])[:, None]
    errors = np.zeros(count)
    checked = np.zeros(count, dtype=bool)
    kink = np.zeros(count, dtype=bool)
    undefined = np.zeros(count, dtype=bool)
    for k in range(size):
        def one_sided(step=_STEP, k=k):
            move = np.zeros((count, size))
            move[:, k] = step * scale[:, k]
            width = move[:, k:k + 1]
            return (at(x + move) - centre) / width, (centre - at(x - move)) / width

        ahead, behind = one_sided()
        rule = np.zeros((count, size))
        rule[:, k] = factor[:, k]
        defined = np.isfinite(ahead) & np.isfinite(behind)
        usable = defined & np.isfinite(rule)

        def kept(values, usable=usable):
            return np.where(usable, values, 0.0)

        def smaller(one_sided=one_sided, kept=kept):
            return tuple(kept(d) for d in one_sided(_STEP / _SMALLER))

        distance, reference, kinks, lost = _judge(kept(rule), kept(ahead), kept(behind),
                                                  smaller, "mean", constant_wins)
        column_scale = np.maximum(1.0, np.maximum(np.max(np.abs(kept(rule)), axis=1),
                                                  np.max(np.abs(kept(reference)), axis=1)))
        error = np.max(kept(distance), axis=1) / column_scale
        error[np.any(defined & ~np.isfinite(rule), axis=1)] = np.inf  # the rule is wrong
        column_checked = np.any(defined, axis=1)
        errors = np.where(column_checked, np.maximum(errors, error), errors)
        checked |= column_checked
        kink |= np.any(kinks & usable, axis=1)
        undefined |= ~np.all(defined, axis=1) | np.any(lost & usable, axis=1)
    errors[~checked] = np.nan
    return [EdgeCheck(node, arg, "matrix", float(error), bool(at_kink), bool(missing))
            for node, error, at_kink, missing in zip(nodes, errors, kink, undefined, strict=True)]
