"""The primitive table: every differentiable operation, defined once.

Each :class:`Primitive` holds the forward computation (numpy), its symbol for pictures and,
for each input, a *partial*: a function of the traced node that returns the local Jacobian
∂out/∂input as a structured operator (:mod:`graphviz_ad.linear`).  Reverse mode (VJP),
forward mode (JVP), the dense matrix and the rule text all come from that one operator, so
nothing about a derivative is written twice.

Rules name the operands by position (x, y: the inputs in argument order; out: the result)
and show the paper's notation with the user's names filled in:

>>> PRIMITIVES["multiply"].partials[0].text  # ∂(x ⊗ y)/∂x = diag(y)
'{y}'

The table checks itself when it loads (``_check``) and a test runs every entry against
finite differences.  Derivatives at kinks: ``max(0, z)`` has derivative 0 at z = 0 (as in
the paper); ``maximum``/``minimum`` of two traced values share the derivative ½–½ at a tie;
``abs`` has derivative 0 at 0; ``max`` over an axis shares it equally among tied maxima.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from math import prod

import numpy as np

from .linear import (
    Elementwise,
    Embed,
    Jacobian,
    MatMul,
    Permute,
    Reduce,
    Reshape,
    Select,
    shape_of,
)


@dataclass(frozen=True)
class Primitive:
    """One operation: ``forward(*input_values, **params)`` and one partial per input."""

    name: str
    symbol: str
    forward: Callable
    partials: tuple[Callable, ...]  # partials[i](node, i) -> Jacobian ∂node/∂node.inputs[i]
    variadic: bool = False  # concatenate and stack take any number of inputs

    def partial(self, i: int) -> Callable:
        return self.partials[0] if self.variadic else self.partials[i]


# ---------------------------------------------------------------------------------------
# Partials, by structure.


@dataclass(frozen=True)
class Diag:
    """An element-wise partial: ∂outᵢ/∂xᵢ = derivative(x, y, out), shown as ``text``.

    ``Diag(lambda x, y, out: y, "{y}")`` is ∂(x ⊗ y)/∂x = diag(y); broadcasting is
    accounted for by :class:`~graphviz_ad.linear.Elementwise`.
    """

    derivative: Callable
    text: str

    def __call__(self, node, i: int) -> Jacobian:
        values = [operand.value for operand in node.inputs]
        factor = self.derivative(*values, node.value)
        return Elementwise(factor, shape_of(values[i]), shape_of(node.value), self.text, node)


def _unary(name, symbol, forward, derivative, text):
    """A unary element-wise primitive: ∂out/∂x = diag(derivative(x, out))."""
    return Primitive(name, symbol, forward, (Diag(derivative, text),))


def _binary(name, symbol, forward, dx, dy, text_x, text_y):
    """A binary element-wise primitive with scalar expansion (broadcasting)."""
    return Primitive(name, symbol, forward, (Diag(dx, text_x), Diag(dy, text_y)))


def _tie(node, i: int) -> Jacobian:
    """∂max(x, y)/∂x = diag(x > y) (and the mirror for min); a tie between two traced values
    shares the derivative ½–½, a tie with a constant gives 0, so max(0, z)′ = 0 at z = 0."""
    x, y = (operand.value for operand in node.inputs)
    own, other = (x, y) if i == 0 else (y, x)
    wins = own > other if node.op == "maximum" else own < other
    factor = wins.astype(float) if isinstance(wins, np.ndarray) else float(wins)
    if node.inputs[1 - i].op != "const":
        factor = factor + 0.5 * np.equal(own, other)
    sign = ">" if node.op == "maximum" else "<"
    letters = ("{x}", "{y}") if i == 0 else ("{y}", "{x}")
    text = f"{letters[0]} {sign} {letters[1]}"
    return Elementwise(factor, shape_of(own), shape_of(node.value), text, node)


def _power_base(node, i: int) -> Jacobian:
    """∂xʸ/∂x = y x^(y−1); for a constant exponent the rule shows the number: 2x, 3x²."""
    x, y = (operand.value for operand in node.inputs)
    with np.errstate(divide="ignore", invalid="ignore"):
        # x⁰ is constant: its slope is 0 even at x = 0, where y·x^(y−1) would be 0·∞
        factor = np.where(np.equal(y, 0), 0.0, y * np.power(x, y - 1))
    exponent = node.inputs[1]
    if exponent.op == "const" and np.ndim(y) == 0:
        text = _power_text(float(y))
    else:
        text = "{y} {x}^({y}−1)"
    return Elementwise(factor, shape_of(x), shape_of(node.value), text, node)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_text(p: float) -> str:
    if p == 0:
        return "0"
    if p == 1:
        return "1"
    if p == 2:
        return "2{x}"
    q = p - 1
    power = str(int(q)).translate(_SUPERSCRIPT) if q == int(q) else f"^{q:g}"
    return f"{p:g}{{x}}{power}"


def _power_exponent(node, i: int) -> Jacobian:
    """∂xʸ/∂y = xʸ ln x (0 where x = 0; undefined, NaN, for x < 0)."""
    x, y = (operand.value for operand in node.inputs)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(np.equal(x, 0), 0.0, node.value * np.log(x))
    return Elementwise(factor, shape_of(y), shape_of(node.value), "{out} ln {x}", node)


def _where(node, i: int) -> Jacobian:
    """where(c, x, y): ∂/∂x = diag(c), ∂/∂y = diag(¬c); c is a plain (non-traced) mask."""
    condition = np.asarray(node.params["condition"], dtype=bool)
    mask = condition if i == 0 else ~condition
    text = "c" if i == 0 else "¬c"
    in_shape = shape_of(node.inputs[i].value)
    factor = mask.astype(float) if mask.ndim else float(mask)
    return Elementwise(factor, in_shape, shape_of(node.value), text, node)


def _reduce(node, i: int) -> Jacobian:
    """sum: 1ᵀ; mean: 1ᵀ/n; max/min: a one-hot row at the extremum (ties share it)."""
    x = node.inputs[0].value
    axes, keepdims = node.params["axis"], node.params["keepdims"]
    in_shape, out_shape = shape_of(x), shape_of(node.value)
    over = "" if len(axes) == len(in_shape) else f" over axis {','.join(map(str, axes))}"
    if node.op == "sum":
        return Reduce(in_shape, out_shape, axes, keepdims, 1, "1ᵀ" + over, node)
    if node.op == "mean":
        count = prod(in_shape[a] for a in axes)
        return Reduce(in_shape, out_shape, axes, keepdims, 1.0 / count, "1ᵀ/n" + over, node)
    extremum = node.value if keepdims else np.expand_dims(node.value, axes)
    # a NaN is the extremum numpy returns; the derivative goes to it, as in PyTorch
    hits = np.equal(x, extremum) | (np.isnan(x) & np.isnan(extremum))
    weights = hits / np.sum(hits, axis=axes, keepdims=True)
    text = f"onehot(arg{node.op} {{x}})ᵀ" + over
    return Reduce(in_shape, out_shape, axes, keepdims, weights, text, node)


def _matmul(node, i: int) -> Jacobian:
    """x @ y: ∂/∂x = I ⊗ yᵀ, ∂/∂y = x ⊗ I; for vectors the paper's rows: w·x → xᵀ, W x → W."""
    x, y = (operand.value for operand in node.inputs)
    own, other = (x, y) if i == 0 else (y, x)
    text = _MATMUL_RULES[i][(np.ndim(x), np.ndim(y))]
    return MatMul(i == 0, np.ndim(own), other, shape_of(own), shape_of(node.value), text, node)


# Keyed by (x.ndim, y.ndim); numerator layout over row-major vec.
_MATMUL_RULES = (
    {(1, 1): "{y}ᵀ", (1, 2): "{y}ᵀ", (2, 1): "I ⊗ {y}ᵀ", (2, 2): "I ⊗ {y}ᵀ"},
    {(1, 1): "{x}ᵀ", (1, 2): "{x}ᵀ ⊗ I", (2, 1): "{x}", (2, 2): "{x} ⊗ I"},
)


def _transpose(node, i: int) -> Jacobian:
    axes = node.params["axes"]
    text = "K (vec Xᵀ = K vec X)" if len(axes) == 2 else f"P (axes {axes})"
    return Permute(axes, shape_of(node.inputs[0].value), shape_of(node.value), text, node)


def _reshape(node, i: int) -> Jacobian:
    in_shape = shape_of(node.inputs[0].value)
    return Reshape(in_shape, shape_of(node.value), "I", node)


def _index(node, i: int) -> Jacobian:
    index = node.params["index"]
    text = f"S[{node.params['text']}]"
    return Select(index, shape_of(node.inputs[0].value), shape_of(node.value), text, node)


def _join(node, i: int) -> Jacobian:
    """concatenate / stack w.r.t. input i: the block column [0; I; 0] placing it in out."""
    axis, new_axis = node.params["axis"], node.op == "stack"
    sizes = [1 if new_axis else shape_of(operand.value)[axis] for operand in node.inputs]
    start = sum(sizes[:i])
    blocks = ["0"] * len(sizes)
    blocks[i] = "I"
    in_shape = shape_of(node.inputs[i].value)
    text = f"[{'; '.join(blocks)}]"
    out_shape = shape_of(node.value)
    return Embed(axis, start, start + sizes[i], new_axis, in_shape, out_shape, text, node)


def _reduction_forward(function):
    return lambda x, axis, keepdims: function(x, axis=axis, keepdims=keepdims)


# ---------------------------------------------------------------------------------------
# The table.

_ONE = 1  # ∂out/∂x for x + y: the identity, kept as the number so no array is built

# The arithmetic forwards are Python's operators: on arrays they are numpy's ufuncs (ndarray
# defines + as np.add), on numpy scalars they take numpy's scalar fast path, 10× cheaper
# than a ufunc call (70 ns against 870 ns), which is most of a scalar operation's cost.


def _table() -> dict[str, Primitive]:
    primitives = [
        _binary("add", "+", operator.add, lambda x, y, o: _ONE, lambda x, y, o: _ONE, "1", "1"),
        _binary(
            "subtract", "−", operator.sub, lambda x, y, o: _ONE, lambda x, y, o: -1, "1", "−1"
        ),
        _binary(
            "multiply", "×", operator.mul, lambda x, y, o: y, lambda x, y, o: x, "{y}", "{x}"
        ),
        _binary(
            "divide", "÷", operator.truediv,
            lambda x, y, o: 1 / y, lambda x, y, o: -o / y, "1/{y}", "−{x}/{y}²",
        ),
        Primitive("power", "^", np.power, (_power_base, _power_exponent)),
        Primitive("maximum", "max", np.maximum, (_tie, _tie)),
        Primitive("minimum", "min", np.minimum, (_tie, _tie)),
        _unary("negative", "−", operator.neg, lambda x, o: -1, "−1"),
        _unary("exp", "exp", np.exp, lambda x, o: o, "exp({x})"),
        _unary("log", "log", np.log, lambda x, o: 1 / x, "1/{x}"),
        _unary("sqrt", "√", np.sqrt, lambda x, o: 0.5 / o, "1/(2√{x})"),
        _unary("sin", "sin", np.sin, lambda x, o: np.cos(x), "cos {x}"),
        _unary("cos", "cos", np.cos, lambda x, o: -np.sin(x), "−sin {x}"),
        _unary("tan", "tan", np.tan, lambda x, o: 1 + o * o, "1 + tan²{x}"),
        _unary("tanh", "tanh", np.tanh, lambda x, o: 1 - o * o, "1 − tanh²{x}"),
        _unary("sinh", "sinh", np.sinh, lambda x, o: np.cosh(x), "cosh {x}"),
        _unary("cosh", "cosh", np.cosh, lambda x, o: np.sinh(x), "sinh {x}"),
        _unary("arctan", "atan", np.arctan, lambda x, o: 1 / (1 + x * x), "1/(1 + {x}²)"),
        _unary("arcsin", "asin", np.arcsin, lambda x, o: 1 / np.sqrt(1 - x * x), "1/√(1 − {x}²)"),
        _unary(
            "arccos", "acos", np.arccos, lambda x, o: -1 / np.sqrt(1 - x * x), "−1/√(1 − {x}²)"
        ),
        _unary("log1p", "log1p", np.log1p, lambda x, o: 1 / (1 + x), "1/(1 + {x})"),
        _unary("expm1", "expm1", np.expm1, lambda x, o: o + 1, "exp({x})"),
        _unary("abs", "|·|", np.abs, lambda x, o: np.sign(x), "sign({x})"),
        Primitive("where", "where", lambda x, y, condition: np.where(condition, x, y),
                  (_where, _where)),
        Primitive("matmul", "@", np.matmul, (_matmul, _matmul)),
        Primitive("sum", "Σ", _reduction_forward(np.sum), (_reduce,)),
        Primitive("mean", "mean", _reduction_forward(np.mean), (_reduce,)),
        Primitive("max", "max", _reduction_forward(np.max), (_reduce,)),
        Primitive("min", "min", _reduction_forward(np.min), (_reduce,)),
        Primitive("transpose", "ᵀ", lambda x, axes: np.transpose(x, axes), (_transpose,)),
        Primitive("reshape", "reshape", lambda x, shape: np.reshape(x, shape), (_reshape,)),
        Primitive("index", "[·]", lambda x, index, text: x[index], (_index,)),
        Primitive("concatenate", "concat", lambda *xs, axis: np.concatenate(xs, axis=axis),
                  (_join,), variadic=True),
        Primitive("stack", "stack", lambda *xs, axis: np.stack(xs, axis=axis),
                  (_join,), variadic=True),
    ]
    return {primitive.name: primitive for primitive in primitives}


def _check(table: dict[str, Primitive]) -> None:
    """Reject a malformed entry when the table loads, naming the primitive."""
    for name, primitive in table.items():
        problems = []
        if not callable(primitive.forward):
            problems.append("forward is not callable")
        if not primitive.partials or not all(callable(p) for p in primitive.partials):
            problems.append("every input needs a callable partial")
        if primitive.variadic and len(primitive.partials) != 1:
            problems.append("a variadic primitive has exactly one partial")
        if not primitive.symbol:
            problems.append("no symbol")
        if problems:
            raise ValueError(f"primitive {name!r}: {'; '.join(problems)}")


PRIMITIVES: dict[str, Primitive] = _table()
_check(PRIMITIVES)


def local_jacobian(node, i: int) -> Jacobian:
    """The local Jacobian ∂node/∂node.inputs[i], from the node's row of the table.

    >>> import numpy as np
    >>> from graphviz_ad import trace
    >>> g = trace(lambda w, x: w @ x, np.ones(3), np.arange(3.0))
    >>> local_jacobian(g.output, 0).rule, local_jacobian(g.output, 0).kind
    ('xᵀ', 'matmul')
    """
    if not 0 <= i < len(node.inputs):
        if not node.inputs:
            raise ValueError(f"{node.op} node {node.label} has no inputs, so no local Jacobian")
        raise IndexError(f"{node.op} node {node.label} has {len(node.inputs)} inputs, not {i + 1}")
    return PRIMITIVES[node.op].partial(i)(node, i)
