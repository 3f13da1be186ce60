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
    Cholesky,
    Determinant,
    EighValues,
    EighVectors,
    EigValues,
    EigVectors,
    Einsum,
    Elementwise,
    Embed,
    Inverse,
    Jacobian,
    MatMul,
    Permute,
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


def _reduction_forward(function):
    return lambda x, axis, keepdims: function(x, axis=axis, keepdims=keepdims)


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
