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
    BroadcastReduce,
    Cholesky,
    CumProd,
    CumSum,
    Determinant,
    EighValues,
    EighVectors,
    EigValues,
    EigVectors,
    Einsum,
    Elementwise,
    Embed,
    Gather,
    Inverse,
    Jacobian,
    MatMul,
    Overwrite,
    Permute,
    PiecewiseConstant,
    PseudoInverse,
    Reduce,
    Reshape,
    Select,
    SingularValues,
    SingularVectors,
    Solve,
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
    larger = node.op in ("maximum", "fmax")
    wins = own > other if larger else own < other
    if node.op in ("fmax", "fmin"):  # fmax and fmin pass over a NaN: the other one wins
        wins = wins | (np.isnan(other) & ~np.isnan(own))
    factor = wins.astype(float) if isinstance(wins, np.ndarray) else float(wins)
    if node.inputs[1 - i].op != "const":
        factor = factor + 0.5 * np.equal(own, other)
    sign = ">" if larger else "<"
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
    over = _over(axes, in_shape)
    if node.op == "sum":
        return Reduce(in_shape, out_shape, axes, keepdims, 1, "1ᵀ" + over, node)
    if node.op == "mean":
        # the mean of nothing is NaN, as in numpy; its Jacobian has no entries to weight
        count = max(prod(in_shape[a] for a in axes), 1)
        return Reduce(in_shape, out_shape, axes, keepdims, 1.0 / count, "1ᵀ/n" + over, node)
    extremum = node.value if keepdims else np.expand_dims(node.value, axes)
    weights = _shares(x, extremum, axes)
    text = f"onehot(arg{node.op} {{x}})ᵀ" + over
    return Reduce(in_shape, out_shape, axes, keepdims, weights, text, node)


def _over(axes, in_shape) -> str:
    """The suffix of a reduction's rule when it does not reduce over every axis."""
    return "" if len(axes) == len(in_shape) else f" over axis {','.join(map(str, axes))}"


def _shares(x, extremum, axes):
    """One-hot weights of the elements of x equal to ``extremum`` (kept dims) along axes;
    tied elements share the derivative equally."""
    # a NaN is the extremum numpy returns; the derivative goes to it, as in PyTorch
    hits = np.equal(x, extremum) | (np.isnan(x) & np.isnan(extremum))
    return hits / np.sum(hits, axis=axes, keepdims=True)


def _matmul(node, i: int) -> Jacobian:
    """x @ y: ∂/∂x = I ⊗ yᵀ, ∂/∂y = x ⊗ I; for vectors the paper's rows: w·x → xᵀ, W x → W."""
    x, y = (operand.value for operand in node.inputs)
    if max(np.ndim(x), np.ndim(y)) > 2:  # stacks of matrices: see the products section
        return _product(node, i)
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


# -- writes: item assignment (x[i] = v, x[mask] += v) and copies


def _set_forward(x, v, index, text):
    """``x`` with ``[index]`` overwritten by ``v``, as numpy's item assignment does it (the
    recorded x itself is never changed)."""
    out = np.array(x, copy=True)
    out[index] = v
    return out


def _overwrite(node, i: int) -> Jacobian:
    """set(x, index, v): ∂/∂x = I − SᵀS (written entries pass nothing back), ∂/∂v = Sᵀ E.

    Which entry each element of the (broadcast) selection lands on is found the way numpy
    finds it, by the same assignment of element numbers, so that a repeated index keeps
    its last write here as in the forward pass."""
    x, v = (operand.value for operand in node.inputs)
    index, text = node.params["index"], node.params["text"]
    x_shape = shape_of(x)
    written = np.full(x_shape, -1, dtype=np.intp)
    selection_shape = np.shape(written[index])
    written[index] = np.arange(prod(selection_shape)).reshape(selection_shape)
    flat = written.reshape(-1)
    targets = np.flatnonzero(flat >= 0)
    sources = flat[targets]
    v_shape = shape_of(v)
    if i == 0:
        template = f"I − SᵀS, S = S[{text}]"
    elif v_shape == selection_shape:
        template = f"S[{text}]ᵀ"
    else:  # E broadcasts v to the selection's shape
        template = f"S[{text}]ᵀ E"
    return Overwrite(i == 1, targets, sources, x_shape, v_shape, selection_shape, template, node)


def _reduction_forward(function):
    return lambda x, axis, keepdims: function(x, axis=axis, keepdims=keepdims)


# ---------------------------------------------------------------------------------------
# -- shapes and selection
#
# Functions that only move, copy or drop elements (flip, roll, tile, sort, take, pad, …) are
# one primitive, ``gather``: out.flat[k] = x.flat[index[k]], with the index map worked out
# when the call is traced (see dispatch); ``broadcast_to`` is a broadcast (its adjoint sums);
# ``array`` builds one array from traced values and numbers; ``astype`` changes the float type.


def _gather_forward(x, index, fill, call, text):
    """x.flat[index], with ``fill`` where index is −1 (the constants of an embedding)."""
    flat = np.ravel(x)
    if fill is None:
        return flat[index]
    picked = flat[np.maximum(index, 0)] if flat.size else 0.0
    return np.where(index >= 0, picked, fill)


def _gather(node, i: int) -> Jacobian:
    """S over row-major vec, with the rule text chosen when the call was traced."""
    in_shape = shape_of(node.inputs[0].value)
    return Gather(node.params["index"], in_shape, shape_of(node.value), node.params["text"],
                  node)


def _broadcast_to(node, i: int) -> Jacobian:
    """E, the broadcast matrix (``1 ⊗ I``): its adjoint sums over the copies."""
    in_shape = shape_of(node.inputs[0].value)
    return Elementwise(1, in_shape, shape_of(node.value), "1", node)


def _array_forward(*items, index, template):
    """The traced items' elements at ``index`` (over their joint vec), constants elsewhere."""
    flat = np.concatenate([np.ravel(item) for item in items])
    return np.where(index >= 0, flat[np.maximum(index, 0)], template)


def _array_item(node, i: int) -> Jacobian:
    """∂array(…, xᵢ, …)/∂xᵢ: the block that places xᵢ's elements in the array, [0; I; 0]."""
    sizes = [np.size(operand.value) for operand in node.inputs]
    start = sum(sizes[:i])
    index = node.params["index"]
    own = (index >= start) & (index < start + sizes[i])
    blocks = ["0"] * len(sizes)
    blocks[i] = "I"
    text = f"[{'; '.join(blocks)}]" if len(sizes) <= 4 else f"[0; …; I ({i + 1}); …; 0]"
    return Gather(np.where(own, index - start, -1), shape_of(node.inputs[i].value),
                  shape_of(node.value), text, node)


def _astype(node, i: int) -> Jacobian:
    """A change of floating-point type: the identity (rounded to the new precision)."""
    in_shape = shape_of(node.inputs[0].value)
    return Elementwise(1, in_shape, shape_of(node.value), "1", node)


def _shapes_and_selection() -> list[Primitive]:
    return [
        Primitive("gather", "gather", _gather_forward, (_gather,)),
        Primitive("broadcast_to", "bcast", lambda x, shape: np.broadcast_to(x, shape),
                  (_broadcast_to,)),
        Primitive("array", "array", _array_forward, (_array_item,), variadic=True),
        Primitive("astype", "astype", lambda x, dtype: np.asarray(x).astype(dtype),
                  (_astype,)),
    ]


# ---------------------------------------------------------------------------------------
# -- products: einsum, tensordot, inner, vdot, kron, cross, N-d matmul and dot.
# Each is linear in every operand, so each partial is an Einsum operator: the product's
# einsum form (subscripts per operand, output subscripts, the operands' values) with the
# gradient put in place of the operand for the VJP.

# Letters for generated subscripts, i j k first so that small products read as usual.
_LETTERS = "ijklmnopqrstuvwxyzabcdefgh" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum_parts(spec: str, shapes) -> tuple[list[str], str]:
    """``'...ij,jk->...ik'`` and the operands' shapes → (subscripts per operand, output) with
    each ellipsis spelled as letters the spec does not use, right-aligned as numpy
    broadcasts.  ``einsum_parts('...i->...', [(2, 3)])`` is ``(['ji'], 'j')``."""
    inputs, output = spec.split("->")
    inputs = inputs.split(",")
    widths = [len(shape) - len(s.replace("...", "")) for s, shape in zip(inputs, shapes)]
    width = max([w for w, s in zip(widths, inputs) if "..." in s], default=0)
    fill = "".join([c for c in _LETTERS if c not in spec][:width])
    expanded = [s.replace("...", fill[width - w :] if w else "") for s, w in zip(inputs, widths)]
    return expanded, output.replace("...", fill)


def _einsum_layout(node, values):
    spec = node.params["subscripts"]
    subscripts, output = einsum_parts(spec, [shape_of(v) for v in values])
    shown_inputs, shown_output = spec.replace("...", "…").split("->")
    return subscripts, output, values, 0, (shown_inputs.split(","), shown_output)


def tensordot_parts(ndim_x: int, ndim_y: int, axes_x, axes_y) -> tuple[list[str], str]:
    """tensordot as einsum: the paired axes share a letter and are summed; the output lists
    x's free axes, then y's.  ``tensordot_parts(2, 2, (1,), (0,))`` is ``(['ij', 'jk'], 'ik')``.
    """
    x = _LETTERS[:ndim_x]
    fresh = iter(_LETTERS[ndim_x:])
    paired = dict(zip(axes_y, axes_x))
    y = "".join(x[paired[k]] if k in paired else next(fresh) for k in range(ndim_y))
    free_x = [c for k, c in enumerate(x) if k not in axes_x]
    free_y = [c for k, c in enumerate(y) if k not in axes_y]
    return [x, y], "".join(free_x + free_y)


def _tensordot_layout(node, values):
    x, y = values
    if node.op == "tensordot":
        axes_x, axes_y = node.params["axes"]
    elif node.op == "inner":  # the last axes of both
        axes_x, axes_y = (np.ndim(x) - 1,), (np.ndim(y) - 1,)
    else:  # np.dot of N-d arrays: x's last axis with y's second-to-last (its only, for a vector)
        axes_x, axes_y = (np.ndim(x) - 1,), (max(np.ndim(y) - 2, 0),)
    subscripts, output = tensordot_parts(np.ndim(x), np.ndim(y), axes_x, axes_y)
    return subscripts, output, values, 0, (subscripts, output)


def _vdot_layout(node, values):
    """vdot(x, y) = vec(x) · vec(y): both flattened."""
    flat = [np.reshape(v, -1) for v in values]
    return ["i", "i"], "", flat, 0, (["i", "i"], "")


def _kron_layout(node, values):
    """kron(x, y)[(i, k), (j, l)] = x[i, j] y[k, l]: an einsum 'ij,kl→ikjl', each pair of
    axes then merged (both operands first padded to the same number of axes)."""
    ndim = max(np.ndim(v) for v in values)
    padded = [np.reshape(v, (1,) * (ndim - np.ndim(v)) + shape_of(v)) for v in values]
    x, y = _LETTERS[:ndim], _LETTERS[ndim : 2 * ndim]
    output = "".join(a + b for a, b in zip(x, y))
    return [x, y], output, padded, 0, ([x, y], output)


_LEVI_CIVITA = np.zeros((3, 3, 3))
for _i, _j, _k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    _LEVI_CIVITA[_i, _j, _k], _LEVI_CIVITA[_i, _k, _j] = 1.0, -1.0


def cross_form(n_x: int, n_y: int) -> tuple[str, np.ndarray]:
    """The cross product as einsum with the Levi-Civita symbol ε: (x × y)ᵢ = εᵢⱼₖ xⱼ yₖ.

    A 2-vector is a 3-vector with z = 0, so its ε is cut to 2 along that axis; two
    2-vectors give only the z component, a number (as numpy does).
    """
    if n_x == n_y == 2:
        return "jk,...j,...k->...", _LEVI_CIVITA[2, :2, :2]
    return "ijk,...j,...k->...i", _LEVI_CIVITA[:, :n_x, :n_y]


def _cross(x, y):
    spec, epsilon = cross_form(np.shape(x)[-1], np.shape(y)[-1])
    return np.einsum(spec, epsilon, x, y)


def _cross_layout(node, values):
    x, y = values
    spec, epsilon = cross_form(np.shape(x)[-1], np.shape(y)[-1])
    operands = [epsilon, *values]
    subscripts, output = einsum_parts(spec, [shape_of(v) for v in operands])
    return subscripts, output, operands, 1, (subscripts, output)


def _matmul_layout(node, values):
    """x @ y with stacks of matrices: '…ij,…jk→…ik' (a vector operand loses its … and i/k)."""
    x, y = values
    if np.ndim(x) == 1:
        spec = "j,...jk->...k"
    elif np.ndim(y) == 1:
        spec = "...ij,j->...i"
    else:
        spec = "...ij,...jk->...ik"
    subscripts, output = einsum_parts(spec, [shape_of(v) for v in values])
    return subscripts, output, values, 0, (subscripts, output)


_LAYOUTS = {
    "einsum": _einsum_layout, "tensordot": _tensordot_layout, "inner": _tensordot_layout,
    "dot": _tensordot_layout, "vdot": _vdot_layout, "kron": _kron_layout,
    "cross": _cross_layout, "matmul": _matmul_layout,
}


def _product(node, i: int) -> Jacobian:
    """∂ product/∂ operand i as an Einsum operator (see :func:`_product_text` for the rule)."""
    values = [operand.value for operand in node.inputs]
    subscripts, output, operands, offset, shown = _LAYOUTS[node.op](node, values)
    text = _product_text(node, i, offset, shown)
    kind = "matmul" if node.op == "matmul" else "contraction"
    return Einsum(subscripts, output, operands, i + offset, shape_of(values[i]),
                  shape_of(node.value), text, node, kind)


def _product_text(node, i: int, offset: int, shown) -> str:
    """The rule: the paper's rows where they exist (w·x → xᵀ; a × b → −[b]×), otherwise
    the VJP as the einsum it is: ``Ḡ ↦ einsum(ik,jk→ij)(Ḡ, B)`` for ∂(A B)/∂A."""
    other = "{y}" if i == 0 else "{x}"
    vectors = all(np.ndim(operand.value) == 1 for operand in node.inputs)
    if node.op == "matmul":  # stacks of matrices: the 2-d rule for each matrix of the stack
        x, y = (min(np.ndim(operand.value), 2) for operand in node.inputs)
        return _MATMUL_RULES[i][(x, y)] + " (for each matrix in the stack)"
    if node.op in ("inner", "vdot") and vectors:
        return f"{other}ᵀ"
    if node.op == "vdot":
        return f"vec({other})ᵀ"
    if node.op == "cross":
        return f"−[{other}]×" if i == 0 else f"[{other}]×"
    inputs, output = shown
    own = i + offset
    names = ["ε" if k < offset else _operand_name(node, k - offset) for k in range(len(inputs))]
    spec = ",".join([output] + [s for k, s in enumerate(inputs) if k != own]) + "→" + inputs[own]
    operands = ", ".join(["Ḡ"] + [name for k, name in enumerate(names) if k != own])
    return f"Ḡ ↦ einsum({spec})({operands})"


def _operand_name(node, k: int) -> str:
    """The template name of operand k: {x} and {y} for the first two, the label itself for
    the rest (einsum takes any number of operands)."""
    if k < 2:
        return "{x}" if k == 0 else "{y}"
    return node.inputs[k].label.replace("{", "{{").replace("}", "}}")


# ---------------------------------------------------------------------------------------
# -- linear algebra: np.linalg's differentiable functions.
# A function with several outputs (eigh, svd, slogdet, eig) is one primitive per output
# that has a derivative, each a node of the same input: eigh(X) records eigh_values(X) and
# eigh_vectors(X).  Each partial recomputes the factorization it needs from the input.


def _stack_note(x) -> str:
    return " (for each matrix in the stack)" if np.ndim(x) > 2 else ""


def _inverse(node, i: int) -> Jacobian:
    x = node.inputs[0].value
    text = "∂{x}⁻¹ = −{x}⁻¹ (∂{x}) {x}⁻¹" + _stack_note(x)
    return Inverse(node.value, shape_of(x), shape_of(node.value), text, node)


def _pseudo_inverse(node, i: int) -> Jacobian:
    x = node.inputs[0].value
    text = ("∂{x}⁺ = −{x}⁺ (∂{x}) {x}⁺ + {x}⁺{x}⁺ᵀ (∂{x})ᵀ (I − {x}{x}⁺) "
            "+ (I − {x}⁺{x}) (∂{x})ᵀ {x}⁺ᵀ{x}⁺" + _stack_note(x))
    return PseudoInverse(x, node.value, shape_of(x), shape_of(node.value), text, node)


def _adjugate_transposed(x):
    """adj(X)ᵀ = det X · X⁻ᵀ, from the SVD X = U S Vᵀ so that it stays defined when X is
    singular: adj(X)ᵀ = det U det V · U diag(Πⱼ≠ᵢ sⱼ) Vᵀ."""
    u, s, vh = np.linalg.svd(x)
    n = s.shape[-1]
    ones = np.ones((*s.shape[:-1], 1))
    before = np.cumprod(np.concatenate([ones, s[..., : n - 1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * (u * (before * after)[..., None, :]) @ vh


def _determinant(node, i: int) -> Jacobian:
    x = node.inputs[0].value
    if node.op == "det":
        cofactors = _adjugate_transposed(x)
        text = "∂ det {x}/∂{x} = det {x} · {x}⁻ᵀ"
    else:
        cofactors = np.swapaxes(_inverse_for(node, x, "log|det| of a singular matrix is −∞"),
                                -1, -2)
        text = "∂ log|det {x}|/∂{x} = {x}⁻ᵀ"
    return Determinant(cofactors, shape_of(x), shape_of(node.value), text + _stack_note(x),
                       node)


def _solve(node, i: int) -> Jacobian:
    """solve(A, b) = A⁻¹ b: ∂/∂A = −A⁻¹ (∂A) out, ∂/∂b = A⁻¹ (A⁻¹ ⊗ I for a matrix b)."""
    a, b = (operand.value for operand in node.inputs)
    vector = _solve_reads_a_vector(a, b)
    rules = ("∂{out} = −{x}⁻¹ (∂{x}) {out}", "{x}⁻¹" if vector else "{x}⁻¹ ⊗ I")
    text = rules[i]
    in_shape = shape_of(node.inputs[i].value)
    return Solve(a, node.value, vector, i == 0, in_shape, shape_of(node.value),
                 text + _stack_note(a), node)


def _solve_reads_a_vector(a, b) -> bool:
    """numpy ≥ 2 reads b as a vector only when it is 1-d; numpy 1 also when b has one
    axis fewer than a (a stack of vectors)."""
    if _NUMPY_2:
        return np.ndim(b) == 1
    return np.ndim(b) == np.ndim(a) - 1


_NUMPY_2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _cholesky(node, i: int) -> Jacobian:
    x = node.inputs[0].value
    text = ("∂{out} = {out} Φ({out}⁻¹ (∂{x}) {out}⁻ᵀ), Φ: lower triangle, ½ diagonal"
            + _stack_note(x))
    return Cholesky(node.value, shape_of(x), shape_of(node.value), text, node)


def _eigh(node, i: int) -> Jacobian:
    x = node.inputs[0].value
    upper = node.params["UPLO"].upper() == "U"
    values, vectors = np.linalg.eigh(x, node.params["UPLO"])
    shapes = shape_of(x), shape_of(node.value)
    if node.op == "eigh_values":
        text = "∂λᵢ = vᵢᵀ (∂{x}) vᵢ" + _stack_note(x)
        return EighValues(vectors, upper, *shapes, text, node)
    text = "∂V = V (F ∘ Vᵀ (∂{x}) V), Fᵢⱼ = 1/(λⱼ − λᵢ)" + _stack_note(x)
    return EighVectors(values, vectors, upper, *shapes, text, node)


def _svd(node, i: int) -> Jacobian:
    x = node.inputs[0].value
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    shapes = shape_of(x), shape_of(node.value)
    if node.op == "svd_values":
        return SingularValues(u, vh, *shapes, "∂sᵢ = uᵢᵀ (∂{x}) vᵢ" + _stack_note(x), node)
    if node.op == "svd_u":
        text = ("∂U = U (F ∘ (P S + S Pᵀ)) + (I − U Uᵀ) (∂{x}) V S⁻¹, P = Uᵀ (∂{x}) V, "
                "Fᵢⱼ = 1/(sⱼ² − sᵢ²)")
    else:
        text = ("∂V = V (F ∘ (S P + Pᵀ S)) + (I − V Vᵀ) (∂{x})ᵀ U S⁻¹, P = Uᵀ (∂{x}) V, "
                "Fᵢⱼ = 1/(sⱼ² − sᵢ²)")
    return SingularVectors(u, s, vh, node.op == "svd_u", *shapes, text + _stack_note(x), node)


def _eig(node, i: int) -> Jacobian:
    x = node.inputs[0].value
    values, vectors = np.linalg.eig(x)
    inverse = _inverse_for(node, vectors, "the matrix has too few eigenvectors (defective)")
    shapes = shape_of(x), shape_of(node.value)
    if node.op == "eig_values":
        text = "∂λᵢ = (V⁻¹ (∂{x}) V)ᵢᵢ" + _stack_note(x)
        return EigValues(vectors, inverse, *shapes, text, node)
    text = "∂V = V (F ∘ V⁻¹ (∂{x}) V), Fᵢⱼ = 1/(λⱼ − λᵢ), columns kept of unit length"
    return EigVectors(values, vectors, inverse, *shapes, text + _stack_note(x), node)


def _inverse_for(node, matrix, reason: str):
    """matrix⁻¹ for a derivative rule, or an error naming the node, its line and why the
    derivative does not exist there."""
    try:
        return np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            f"no derivative of {node.describe()}: {reason}") from None


def _pinv(x, rcond=None):
    return np.linalg.pinv(x) if rcond is None else np.linalg.pinv(x, rcond)
# Partials of the element-wise functions (more) and of the reductions and scans.
#
# Conventions where a derivative does not exist: a piecewise constant function (floor, ceil,
# round, rint, trunc, sign, floor_divide, angle and imag of real numbers, copysign w.r.t.
# its sign source) has derivative 0 everywhere, jumps included; |x| and fabs have 0 at 0,
# copysign(x, y) w.r.t. x has 0 at x = 0; sinc′(0) = 0 (its limit); hypot(0, 0), the
# 2-norm of a zero vector (and fro of a zero matrix) and std of constant data have
# derivative 0 (the subgradient of least norm); remainder and fmod take the slope of the
# piece they are on (1 and −⌊x/y⌋ or −trunc(x/y)), as HIPS autograd does; fmax and fmin
# treat ties like maximum and minimum and send the derivative past a NaN to the number.


def _piecewise_constant(node, i: int) -> Jacobian:
    """∂out/∂x = 0 for a piecewise constant function (floor, sign, round, …), stated."""
    return PiecewiseConstant(shape_of(node.inputs[i].value), shape_of(node.value), node)


def _zero_slope(name, symbol, forward):
    """A unary element-wise primitive that is piecewise constant: ∂out/∂x = 0."""
    return Primitive(name, symbol, forward, (_piecewise_constant,))


def _ratio(numerator, denominator):
    """numerator/denominator, and 0 where the denominator is 0 (the 0-safe convention)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.equal(denominator, 0), 0.0, numerator / denominator)


def _sinc_slope(x, out):
    """sinc′(x) = (cos πx − sinc x)/x, with its limit 0 at x = 0."""
    return _ratio(np.cos(np.pi * x) - out, x)


def _minus_quotient(x, y, out):
    """∂(x mod y)/∂y = −q where x = q y + (x mod y): q = ⌊x/y⌋ for remainder, trunc(x/y)
    for fmod, an integer recovered exactly from the result so that it agrees with numpy."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.round((x - out) / y)


def _prod(node, i: int) -> Jacobian:
    """∂ prod(x)/∂xᵢ = Π_{j≠i} xⱼ: the product of the others, exact when x has zeros."""
    x = node.inputs[0].value
    axes, keepdims = node.params["axis"], node.params["keepdims"]
    weights = _product_of_others(np.asarray(x, dtype=float), axes)
    text = "(Π_(j≠i) {x}ⱼ)ᵀ" + _over(axes, shape_of(x))
    return Reduce(shape_of(x), shape_of(node.value), axes, keepdims, weights, text, node)


def _product_of_others(x: np.ndarray, axes) -> np.ndarray:
    """For each element, the product of the other elements of its slice along ``axes``:
    the running products from the left times those from the right, never a division."""
    if x.size == 0:
        return np.zeros_like(x)
    last = tuple(range(x.ndim - len(axes), x.ndim))
    lines = np.moveaxis(x, axes, last)
    flat = lines.reshape((*lines.shape[: x.ndim - len(axes)], -1))
    ones = np.ones((*flat.shape[:-1], 1))
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis((left * right).reshape(lines.shape), last, axes)


def _spread(node, i: int) -> Jacobian:
    """var: 2(x − x̄)ᵀ/(n − ddof);  std: (x − x̄)ᵀ/((n − ddof) std), 0 for constant data."""
    x = node.inputs[0].value
    axes, ddof, keepdims = (node.params[key] for key in ("axis", "ddof", "keepdims"))
    in_shape = shape_of(x)
    dof = prod(in_shape[a] for a in axes) - ddof
    centred = x - np.mean(x, axis=axes, keepdims=True)
    n = "n" if ddof == 0 else f"(n − {ddof:g})"
    if node.op == "var":
        weights, text = centred * (2.0 / dof), f"2({{x}} − x̄)ᵀ/{n}"
    else:
        spread = node.value if keepdims else np.expand_dims(node.value, axes)
        weights, text = _ratio(centred, dof * spread), f"({{x}} − x̄)ᵀ/({n} {{out}})"
    text += _over(axes, in_shape)
    return Reduce(in_shape, shape_of(node.value), axes, keepdims, weights, text, node)


def _weighted_average(x, w, axis, keepdims):
    """Σ w x / Σ w along ``axis`` (w broadcasts to x's shape), as np.average computes it."""
    w = np.broadcast_to(w, np.shape(x))
    total = np.sum(w, axis=axis, keepdims=keepdims)
    return np.sum(np.multiply(x, w), axis=axis, keepdims=keepdims) / total


def _average(node, i: int) -> Jacobian:
    """average(x, weights=y) = Σ y x / Σ y:  ∂/∂x = (y/Σy)ᵀ,  ∂/∂y = ((x − out)/Σy)ᵀ."""
    x, w = (operand.value for operand in node.inputs)
    axes, keepdims = node.params["axis"], node.params["keepdims"]
    full, out_shape = shape_of(x), shape_of(node.value)
    total = np.sum(np.broadcast_to(w, full), axis=axes, keepdims=True)
    over = _over(axes, full)
    if i == 0:
        weights = np.broadcast_to(w / total, full)
        return Reduce(full, out_shape, axes, keepdims, weights, "({y}/Σ{y})ᵀ" + over, node)
    average = node.value if keepdims else np.expand_dims(node.value, axes)
    weights = (x - average) / total
    text = "(({x} − {out})/Σ{y})ᵀ" + over
    if shape_of(w) == full:
        return Reduce(full, out_shape, axes, keepdims, weights, text, node)
    return BroadcastReduce(shape_of(w), full, out_shape, axes, keepdims, weights, text, node)


def _ptp(node, i: int) -> Jacobian:
    """ptp = max − min: a one-hot row at the maximum minus one at the minimum (ties share)."""
    x = node.inputs[0].value
    axes, keepdims = node.params["axis"], node.params["keepdims"]
    largest = np.max(x, axis=axes, keepdims=True)
    smallest = np.min(x, axis=axes, keepdims=True)
    weights = _shares(x, largest, axes) - _shares(x, smallest, axes)
    text = "(onehot(argmax {x}) − onehot(argmin {x}))ᵀ" + _over(axes, shape_of(x))
    return Reduce(shape_of(x), shape_of(node.value), axes, keepdims, weights, text, node)


def _trace(node, i: int) -> Jacobian:
    """tr(X) = Σᵢ Xᵢᵢ: ∂tr(X)/∂X = vec(I)ᵀ, the identity's entries picked out of vec X
    (with ``offset`` k the ones sit on the k-th diagonal)."""
    x = node.inputs[0].value
    offset, axis1, axis2 = (node.params[key] for key in ("offset", "axis1", "axis2"))
    in_shape = shape_of(x)
    ones = np.eye(in_shape[axis1], in_shape[axis2], k=offset)
    if axis1 > axis2:
        ones = ones.T
    mask_shape = [1] * len(in_shape)
    mask_shape[axis1], mask_shape[axis2] = in_shape[axis1], in_shape[axis2]
    axes = tuple(sorted((axis1, axis2)))
    text = "vec(I)ᵀ" if offset == 0 else f"vec(I shifted by {offset})ᵀ"
    text += _over(axes, in_shape)
    return Reduce(in_shape, shape_of(node.value), axes, False, ones.reshape(mask_shape), text,
                  node)


def _scan_axis(node):
    """The axis a cumsum or cumprod runs along; None when it runs over the flattened x."""
    axis = (node.params or {}).get("axis")
    return None if axis is None else axis[0]


def _cumsum(node, i: int) -> Jacobian:
    """cumsum: the lower-triangular matrix of ones L (outₖ = Σ_{i≤k} xᵢ)."""
    axis = _scan_axis(node)
    in_shape = shape_of(node.inputs[0].value)
    return CumSum(axis, in_shape, shape_of(node.value), "L (Lₖᵢ = 1 for i ≤ k)", node)


def _cumprod(node, i: int) -> Jacobian:
    """cumprod: ∂outₖ/∂xᵢ = Π_{j≤k, j≠i} xⱼ for i ≤ k (lower-triangular)."""
    axis = _scan_axis(node)
    text = "[Π_(j≤k, j≠i) {x}ⱼ]ₖᵢ (i ≤ k)"
    return CumProd(axis, node.inputs[0].value, shape_of(node.value), text, node)


def _scan_forward(function):
    """cumsum / cumprod along ``axis`` (a 1-tuple), or over the flattened x without one."""
    return lambda x, axis=None: function(x, axis=None if axis is None else axis[0])


def _norm_forward(x, ord, axis, keepdims):
    """np.linalg.norm over ``axis`` (1 axis: a vector norm, 2: a matrix norm, else flat)."""
    return np.linalg.norm(x, ord, axis if len(axis) in (1, 2) else None, keepdims)


def _norm(node, i: int) -> Jacobian:
    """∂‖x‖/∂x for numpy's vector and matrix norms, as the weights of a reduction.

    Vector: 2 → xᵀ/‖x‖; 1 → sign(x)ᵀ; ∞ (−∞) → sign(x)ᵀ at the largest (smallest) |xᵢ|,
    ties sharing; p → (sign(x) |x|^(p−1))ᵀ/‖x‖^(p−1); 0 (a count) → 0.  Matrix (two axes,
    rows then columns): fro → vec(X)ᵀ/‖X‖; nuc → vec(U Vᵀ)ᵀ; 2 (−2) → vec(u vᵀ)ᵀ of the
    largest (smallest) singular value; 1 (−1) → sign(X) on the column of largest
    (smallest) absolute sum; ∞ (−∞) → the same for rows.  At 0 the 2-norm and fro take 0;
    for p < 1 the slope at a zero entry is infinite and shows as NaN (as in autograd); a
    repeated extreme singular value has no unique derivative, and the SVD's vectors are used.
    """
    x = np.asarray(node.inputs[0].value, dtype=float)
    order, axis, keepdims = node.params["ord"], node.params["axis"], node.params["keepdims"]
    axes = tuple(sorted(axis))
    norm = node.value if keepdims else np.expand_dims(node.value, axes)
    if len(axis) == 2:
        weights, text = _matrix_norm_weights(x, order, axis, norm)
    else:
        weights, text = _vector_norm_weights(x, order, norm, axes)
    text += _over(axes, x.shape)
    return Reduce(x.shape, shape_of(node.value), axes, keepdims, weights, text, node)


def _vector_norm_weights(x, order, norm, axes):
    if order is None or order == 2:
        return _ratio(x, norm), "{x}ᵀ/{out}"
    if order == 1:
        return np.sign(x), "sign({x})ᵀ"
    if order == 0:
        return 0.0, "0 (piecewise constant)"
    if np.isinf(order):
        pick = "argmax" if order > 0 else "argmin"
        weights = np.sign(x) * _shares(np.abs(x), norm, axes)
        return weights, f"(sign({{x}}) ⊗ onehot({pick} |{{x}}|))ᵀ"
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.sign(x) * np.abs(x) ** (order - 1) / norm ** (order - 1)
    if order > 1:
        slope = np.where(np.equal(norm, 0), 0.0, slope)
    power = f"{order - 1:g}"
    return slope, f"(sign({{x}}) ⊗ |{{x}}|^{power})ᵀ/{{out}}^{power}"


def _matrix_norm_weights(x, order, axis, norm):
    """The weights of a matrix norm over ``axis`` = (row axis, column axis), in x's layout."""
    last = (x.ndim - 2, x.ndim - 1)
    m = np.moveaxis(x, axis, last)
    if order in (None, "fro"):
        return _ratio(x, norm), "vec({x})ᵀ/{out}"
    if order in ("nuc", 2, -2):
        u, _, vt = np.linalg.svd(m, full_matrices=False)
        if order == "nuc":
            weights, text = u @ vt, "vec(U Vᵀ)ᵀ"
        else:
            pair = slice(0, 1) if order == 2 else slice(-1, None)  # the singular value
            weights = u[..., :, pair] @ vt[..., pair, :]
            text = "vec(u₁ v₁ᵀ)ᵀ" if order == 2 else "vec(uₙ vₙᵀ)ᵀ"
        return np.moveaxis(weights, last, axis), text
    # 1 and −1: the largest (smallest) column sum of |X|; ∞ and −∞: the same for rows
    summed, picked = (-2, -1) if abs(order) == 1 else (-1, -2)
    sums = np.sum(np.abs(m), axis=summed, keepdims=True)
    extreme = (np.max if order > 0 else np.min)(sums, axis=picked, keepdims=True)
    weights = np.sign(m) * _shares(sums, extreme, (picked,))
    which = ("argmax" if order > 0 else "argmin") + (" column" if summed == -2 else " row")
    return np.moveaxis(weights, last, axis), f"vec(sign({{x}}) on the {which} of |{{x}}|)ᵀ"


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
        # -- products (partials: the products section above)
        Primitive("einsum", "einsum", lambda *xs, subscripts: np.einsum(subscripts, *xs),
                  (_product,), variadic=True),
        Primitive("tensordot", "tensordot", lambda x, y, axes: np.tensordot(x, y, axes),
                  (_product, _product)),
        Primitive("dot", "dot", np.dot, (_product, _product)),
        Primitive("inner", "inner", np.inner, (_product, _product)),
        Primitive("vdot", "vdot", np.vdot, (_product, _product)),
        Primitive("kron", "⊗", np.kron, (_product, _product)),
        Primitive("cross", "×", _cross, (_product, _product)),
        # -- linear algebra (partials: the linear algebra section above)
        Primitive("inv", "⁻¹", np.linalg.inv, (_inverse,)),
        Primitive("pinv", "⁺", _pinv, (_pseudo_inverse,)),
        Primitive("det", "det", np.linalg.det, (_determinant,)),
        Primitive("logabsdet", "log|det|", lambda x: np.linalg.slogdet(x)[1], (_determinant,)),
        Primitive("solve", "solve", np.linalg.solve, (_solve, _solve)),
        Primitive("cholesky", "chol", np.linalg.cholesky, (_cholesky,)),
        Primitive("eigh_values", "eigh λ", lambda x, UPLO: np.linalg.eigh(x, UPLO)[0], (_eigh,)),
        Primitive("eigh_vectors", "eigh V", lambda x, UPLO: np.linalg.eigh(x, UPLO)[1],
                  (_eigh,)),
        Primitive("svd_values", "svd S", lambda x: np.linalg.svd(x, compute_uv=False), (_svd,)),
        Primitive("svd_u", "svd U", lambda x: np.linalg.svd(x, full_matrices=False)[0],
                  (_svd,)),
        Primitive("svd_vh", "svd Vᵀ", lambda x: np.linalg.svd(x, full_matrices=False)[2],
                  (_svd,)),
        Primitive("eig_values", "eig λ", lambda x: np.linalg.eig(x)[0], (_eig,)),
        Primitive("eig_vectors", "eig V", lambda x: np.linalg.eig(x)[1], (_eig,)),
        # -- element-wise (more)
        _unary("arcsinh", "asinh", np.arcsinh, lambda x, o: 1 / np.sqrt(x * x + 1),
               "1/√({x}² + 1)"),
        _unary("arccosh", "acosh", np.arccosh, lambda x, o: 1 / np.sqrt(x * x - 1),
               "1/√({x}² − 1)"),
        _unary("arctanh", "atanh", np.arctanh, lambda x, o: 1 / (1 - x * x), "1/(1 − {x}²)"),
        _unary("log2", "log₂", np.log2, lambda x, o: 1 / (x * np.log(2)), "1/({x} ln 2)"),
        _unary("log10", "log₁₀", np.log10, lambda x, o: 1 / (x * np.log(10)),
               "1/({x} ln 10)"),
        _unary("exp2", "2^", np.exp2, lambda x, o: o * np.log(2), "2^{x} ln 2"),
        _unary("cbrt", "∛", np.cbrt, lambda x, o: 1 / (3 * o * o), "1/(3 ∛{x}²)"),
        _unary("deg2rad", "rad", np.deg2rad, lambda x, o: np.pi / 180, "π/180"),
        _unary("rad2deg", "deg", np.rad2deg, lambda x, o: 180 / np.pi, "180/π"),
        _unary("sinc", "sinc", np.sinc, _sinc_slope, "(cos π{x} − sinc {x})/{x}"),
        Primitive("nan_to_num", "nan→num",
                  lambda x, nan, posinf, neginf: np.nan_to_num(x, nan=nan, posinf=posinf,
                                                               neginf=neginf),
                  (Diag(lambda x, o: np.isfinite(x) * 1.0, "[{x} finite]"),)),
        _zero_slope("sign", "sign", np.sign),
        _zero_slope("floor", "⌊·⌋", np.floor),
        _zero_slope("ceil", "⌈·⌉", np.ceil),
        _zero_slope("rint", "rint", np.rint),
        _zero_slope("trunc", "trunc", np.trunc),
        Primitive("round", "round", lambda x, decimals: np.round(x, decimals),
                  (_piecewise_constant,)),
        Primitive("angle", "angle", lambda x, deg: np.angle(x, deg), (_piecewise_constant,)),
        _zero_slope("imag", "Im", np.imag),
        _binary("arctan2", "atan2", np.arctan2,
                lambda x, y, o: y / (x * x + y * y), lambda x, y, o: -x / (x * x + y * y),
                "{y}/({x}² + {y}²)", "−{x}/({x}² + {y}²)"),
        _binary("hypot", "hypot", np.hypot,
                lambda x, y, o: _ratio(x, o), lambda x, y, o: _ratio(y, o),
                "{x}/{out}", "{y}/{out}"),
        _binary("logaddexp", "logaddexp", np.logaddexp,
                lambda x, y, o: np.exp(x - o), lambda x, y, o: np.exp(y - o),
                "exp({x} − {out})", "exp({y} − {out})"),
        _binary("logaddexp2", "logaddexp2", np.logaddexp2,
                lambda x, y, o: np.exp2(x - o), lambda x, y, o: np.exp2(y - o),
                "2^({x} − {out})", "2^({y} − {out})"),
        Primitive("fmax", "fmax", np.fmax, (_tie, _tie)),
        Primitive("fmin", "fmin", np.fmin, (_tie, _tie)),
        _binary("remainder", "mod", np.remainder, lambda x, y, o: _ONE,
                _minus_quotient, "1", "−⌊{x}/{y}⌋"),
        _binary("fmod", "fmod", np.fmod, lambda x, y, o: _ONE, _minus_quotient, "1",
                "−trunc({x}/{y})"),
        Primitive("copysign", "copysign", np.copysign,
                  (Diag(lambda x, y, o: np.sign(x) * np.copysign(1.0, y),
                        "sign({x}) copysign(1, {y})"), _piecewise_constant)),
        Primitive("float_power", "^", np.float_power, (_power_base, _power_exponent)),
        Primitive("floor_divide", "//", np.floor_divide,
                  (_piecewise_constant, _piecewise_constant)),
        # -- reductions and scans
        Primitive("prod", "Π", _reduction_forward(np.prod), (_prod,)),
        Primitive("var", "var", lambda x, axis, ddof, keepdims: np.var(
            x, axis=axis, ddof=ddof, keepdims=keepdims), (_spread,)),
        Primitive("std", "std", lambda x, axis, ddof, keepdims: np.std(
            x, axis=axis, ddof=ddof, keepdims=keepdims), (_spread,)),
        Primitive("average", "average", _weighted_average, (_average, _average)),
        Primitive("ptp", "ptp", _reduction_forward(np.ptp), (_ptp,)),
        Primitive("trace", "tr", lambda x, offset, axis1, axis2: np.trace(
            x, offset, axis1, axis2), (_trace,)),
        Primitive("cumsum", "cumsum", _scan_forward(np.cumsum), (_cumsum,)),
        Primitive("cumprod", "cumprod", _scan_forward(np.cumprod), (_cumprod,)),
        Primitive("norm", "‖·‖", _norm_forward, (_norm,)),
        # -- writes
        Primitive("set", "[·]=", _set_forward, (_overwrite, _overwrite)),
        # recorded values are read-only, so a copy's value can be the same array
        _unary("copy", "copy", lambda x: x, lambda x, o: _ONE, "1"),
    ]
    primitives += _shapes_and_selection()
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
