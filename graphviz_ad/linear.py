"""Structured local Jacobians: linear operators that never build their matrix unless asked.

A node ``out = f(x, y)`` has one local Jacobian per input, ∂out/∂x, in **numerator layout**
over the row-major flattening of both arrays: an ``out.size × x.size`` matrix.  Most of
these matrices are mostly zeros (an element-wise op on a million elements has a diagonal
of a million numbers inside a 10¹² matrix), so each one is kept as a small operator that
knows its structure and applies itself:

* ``vjp(g)``: the row vector times the matrix, gᵀ J  (reverse mode, the adjoint flows back);
* ``jvp(v)``: the matrix times a column, J v  (forward mode, the tangent flows forward);
* ``matrix()``: the dense matrix, built from ``vjp`` only when someone wants to see it.

Both products accept a stack of vectors: extra leading axes are a batch, so one call
applies the operator to many seeds at once (that is how ``Graph.jacobian`` gets a whole
Jacobian from a single pass).

>>> J = Elementwise(np.array([2.0, 3.0]), (2,), (2,), "{x}", {"x": "x"})
>>> J.kind, J.rule, J.vjp(np.ones(2))
('diagonal', 'diag(x)', array([2., 3.]))
"""

from __future__ import annotations

from math import prod

import numpy as np

Shape = tuple[int, ...]


class Jacobian:
    """∂out/∂x as a linear map from arrays shaped ``in_shape`` to arrays shaped ``out_shape``.

    Subclasses say what structure they have (``kind``) and implement ``vjp`` and ``jvp``;
    everything else (the dense matrix, the rule text with the operands' names) is shared.
    """

    __slots__ = ("_labels", "_template", "in_shape", "out_shape")
    kind = "dense"

    def __init__(self, in_shape: Shape, out_shape: Shape, template: str, labels: dict):
        self.in_shape = in_shape
        self.out_shape = out_shape
        self._template = template
        self._labels = labels

    @property
    def rule(self) -> str:
        """The rule in the paper's notation with the operands' names, e.g. ``diag(w)``.

        Templates name the operands by position (``{x}``, ``{y}``, ``{out}``); the labels
        (a dict, or a node that makes one on demand) put in the names the user chose.
        """
        labels = self._labels if isinstance(self._labels, dict) else self._labels.labels()
        return self._rule_template().format(**labels)

    def _rule_template(self) -> str:
        return self._template

    @property
    def shape(self) -> tuple[int, int]:
        """The dense matrix's shape: (out.size, in.size)."""
        return prod(self.out_shape), prod(self.in_shape)

    def vjp(self, g: np.ndarray) -> np.ndarray:
        """gᵀ J: ``g`` shaped ``(*batch, *out_shape)`` → ``(*batch, *in_shape)``."""
        raise NotImplementedError

    def jvp(self, v: np.ndarray) -> np.ndarray:
        """J v: ``v`` shaped ``(*batch, *in_shape)`` → ``(*batch, *out_shape)``."""
        raise NotImplementedError

    def matrix(self) -> np.ndarray:
        """The dense ``out.size × in.size`` matrix; row i is eᵢᵀ J, one VJP per output."""
        rows, cols = self.shape
        seeds = np.eye(rows).reshape((rows, *self.out_shape))
        return np.asarray(self.vjp(seeds), dtype=float).reshape(rows, cols)

    def _batch(self, array: np.ndarray, core: Shape) -> Shape:
        """The leading batch axes of ``array`` whose trailing axes are shaped ``core``."""
        shape = shape_of(array)
        return shape[: len(shape) - len(core)]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.rule} {self.shape[0]}×{self.shape[1]}>"


def shape_of(value) -> Shape:
    """``np.shape`` for the propagation loops: an array's own ``.shape`` (30 ns) rather than
    numpy's dispatching function (500 ns, paid several times per edge); numbers are ()."""
    shape = getattr(value, "shape", None)
    return np.shape(value) if shape is None else shape


def sum_to(array: np.ndarray, batch: int, shape: Shape) -> np.ndarray:
    """Sum ``array`` (batch axes, then a broadcast of ``shape``) back down to ``shape``.

    This is the adjoint of broadcasting: every copy that scalar expansion made of an element
    sends its gradient back to that one element.  ``sum_to(ones((2, 3)), 0, (3,))`` is
    ``[2, 2, 2]``.
    """
    array = np.asarray(array)
    extra = array.ndim - batch - len(shape)
    lead = tuple(range(batch, batch + extra))
    kept = tuple(
        batch + extra + i
        for i, n in enumerate(shape)
        if n == 1 and array.shape[batch + extra + i] != 1
    )
    if lead or kept:
        array = array.sum(axis=lead + kept, keepdims=True)
    return array.reshape(array.shape[:batch] + shape)


class Elementwise(Jacobian):
    """``out = f(x, …)`` element by element, where x may be broadcast (scalar expansion).

    The Jacobian is ``diag(d) E``: E copies x out to the output's shape (E = I when no
    broadcasting happens; E = 1, a column of ones, for a scalar) and d = ∂outᵢ/∂xᵢ is the
    element-wise derivative, an array broadcastable to the output or a plain number.

    * ``x + y``: d = 1, J = I;  ``x − y`` w.r.t. y: d = −1, J = −I;
    * ``x ⊗ y`` w.r.t. x: d = y, J = diag(y);  ``x z`` w.r.t. a scalar z: J = x (a column).

    The template is the element-wise derivative d as text (``"1"``, ``"{y}"``,
    ``"−{x}/{y}²"``); the rule wraps it according to the shapes.
    """

    __slots__ = ("factor",)

    def __init__(self, factor, in_shape, out_shape, template, labels):
        # Jacobian.__init__ spelled out: one of these is made per edge of every backward pass
        self.in_shape = in_shape
        self.out_shape = out_shape
        self._template = template
        self._labels = labels
        self.factor = factor

    def _rule_template(self) -> str:
        d = self._template
        if self.out_shape == ():  # a 1×1 Jacobian: the derivative itself ([c] is 1 or 0)
            return f"[{d}]" if d in ("c", "¬c") or " > " in d or " < " in d else d
        expansion = _expansion_text(self.in_shape, self.out_shape)
        if expansion == "I":
            if d in ("1", "−1"):
                return d[:-1] + "I"
            return f"{_group(d)} I" if np.ndim(self.factor) == 0 else f"diag({d})"
        if d in ("1", "−1"):
            return d[:-1] + expansion
        if expansion == "1":  # scalar expansion: the column d itself
            return d
        return f"diag({d}) ({expansion})"

    @property
    def kind(self) -> str:
        if self.in_shape != self.out_shape:
            return "broadcast"
        if type(self.factor) is int and self.factor == 1:  # structurally I (x + y), not a mask
            return "identity"
        return "diagonal"

    def vjp(self, g):
        return elementwise_vjp(g, self.factor, self.in_shape, self.out_shape)

    def matrix(self):
        """diag(d) E, built so that an infinite or NaN derivative (log at 0) stays in its own
        entry instead of spreading through 0 · inf over the structural zeros."""
        rows, cols = self.shape
        seeds = np.eye(cols).reshape((cols, *self.in_shape))
        pattern = Elementwise(1, self.in_shape, self.out_shape, "1", {}).jvp(seeds)
        expansion = np.reshape(pattern, (cols, rows)).T
        d = np.broadcast_to(self.factor, self.out_shape).reshape(rows, 1)
        return np.where(expansion != 0, d * expansion, 0.0)

    def jvp(self, v):
        batch = self._batch(v, self.in_shape)
        padding = (1,) * (len(self.out_shape) - len(self.in_shape))
        aligned = np.reshape(v, batch + padding + self.in_shape)
        product = aligned if _is_one(self.factor) else aligned * self.factor
        return np.broadcast_to(product, batch + self.out_shape)


def elementwise_vjp(g, factor, in_shape: Shape, out_shape: Shape):
    """gᵀ diag(d) E (see :class:`Elementwise`): ``g ⊗ d``, summed back down to ``in_shape``
    where x was broadcast.  A function of its own so that ``Graph.grad``'s fast pass can
    apply it without building the operator."""
    product = g if _is_one(factor) else g * factor
    if in_shape == out_shape:
        return product
    return sum_to(product, len(shape_of(g)) - len(out_shape), in_shape)


def _is_one(factor) -> bool:
    return isinstance(factor, (int, float)) and factor == 1


def _expansion_text(in_shape: Shape, out_shape: Shape) -> str:
    """The broadcast matrix E as a Kronecker product over the output's axes.

    An axis the input has is I, an axis it is expanded along is 1 (a column of ones);
    runs merge (1 ⊗ 1 = 1, I ⊗ I = I): ``(4,) → (3, 4)`` is ``1 ⊗ I``, ``() → (3,)`` is 1.
    """
    padded = (1,) * (len(out_shape) - len(in_shape)) + in_shape
    factors: list[str] = []
    for n_in, n_out in zip(padded, out_shape):
        symbol = "1" if n_in == 1 and n_out != 1 else "I"
        if n_out != 1 and (not factors or factors[-1] != symbol):
            factors.append(symbol)
    return " ⊗ ".join(factors) or "I"


def _group(text: str) -> str:
    """Parenthesise a compound expression before it multiplies something: (1/z) I."""
    return text if text.replace("{", "").replace("}", "").isalnum() else f"({text})"


class Reduce(Jacobian):
    """``out = Σ over axes of w ⊗ x``: a row of ones (``1ᵀ``) per output element, weighted.

    ``sum(x)`` has J = 1ᵀ; ``mean(x)`` has J = 1ᵀ/n (w = 1/n); ``max(x)`` picks the largest
    element (w = 1 there, 0 elsewhere; ties share the derivative equally).
    """

    __slots__ = ("axes", "keepdims", "weights")
    kind = "reduce"

    def __init__(self, in_shape, out_shape, axes, keepdims, weights, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.axes = axes  # a tuple of non-negative axes of the input
        self.keepdims = keepdims
        self.weights = weights  # a number or an array shaped like the input

    def vjp(self, g):
        batch = self._batch(g, self.out_shape)
        kept_shape = tuple(1 if i in self.axes else n for i, n in enumerate(self.in_shape))
        expanded = np.broadcast_to(np.reshape(g, batch + kept_shape), batch + self.in_shape)
        return expanded if _is_one(self.weights) else expanded * self.weights

    def jvp(self, v):
        batch = len(self._batch(v, self.in_shape))
        weighted = v if _is_one(self.weights) else v * self.weights
        axes = tuple(batch + a for a in self.axes)
        return np.sum(weighted, axis=axes, keepdims=self.keepdims)


class MatMul(Jacobian):
    """``out = x @ y`` with respect to one operand, the other one held fixed.

    For C = A B:  ∂L/∂A = Ḡ Bᵀ,  ∂L/∂B = Aᵀ Ḡ  (reverse);  Ċ = Ȧ B + A Ḃ  (forward).
    Over row-major vec: ∂vec C/∂vec A = I ⊗ Bᵀ and ∂vec C/∂vec B = A ⊗ I.  Vectors follow
    numpy: ``w @ x`` for vectors is the dot product, with ∂/∂w = xᵀ.
    """

    __slots__ = ("left", "other", "other_ndim", "own_ndim")
    kind = "matmul"

    def __init__(self, left, own_ndim, other, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.left = left  # True: the Jacobian w.r.t. x in x @ y; False: w.r.t. y
        self.own_ndim = own_ndim
        self.other = other
        self.other_ndim = np.ndim(other)

    def vjp(self, g):
        other = self.other
        if self.left:  # d/dx of x @ y: g yᵀ
            if self.other_ndim == 2:
                return g @ other.T
            return g[..., None] * other
        if self.own_ndim == 1:  # d/dy of x @ y for a vector y: g x (or g xᵀ)
            return g[..., None] * other if self.other_ndim == 1 else g @ other
        if self.other_ndim == 2:
            return other.T @ g
        return other[:, None] * g[..., None, :]

    def jvp(self, v):
        other = self.other
        if self.left:
            return v @ other
        if self.own_ndim == 2:
            return other @ v
        return v @ (other if self.other_ndim == 1 else other.T)


class Select(Jacobian):
    """``out = x[index]``: rows of the identity (a selection matrix S).

    The adjoint scatters the gradient back to the selected places, adding where an element
    was selected twice (``x[[0, 0]]`` sends both gradients to x[0]).
    """

    __slots__ = ("index", "scatter")
    kind = "selection"

    def __init__(self, index, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.index = index
        # Basic indexing (ints, slices, None) never repeats an element: assignment suffices.
        self.scatter = any(isinstance(part, (np.ndarray, list)) for part in index)

    # The batch axes go last while indexing, so that numpy's rule for advanced indices
    # (their axes move to the front) treats them as trailing axes and leaves them alone.
    def vjp(self, g):
        batch = len(self._batch(g, self.out_shape))
        g_last = np.moveaxis(g, range(batch), range(-batch, 0)) if batch else g
        result = np.zeros(self.in_shape + g_last.shape[g_last.ndim - batch :],
                          dtype=np.result_type(g, float))
        if self.scatter:
            np.add.at(result, self.index, g_last)
        else:
            result[self.index] = g_last
        return np.moveaxis(result, range(-batch, 0), range(batch)) if batch else result

    def jvp(self, v):
        batch = len(self._batch(v, self.in_shape))
        v_last = np.moveaxis(v, range(batch), range(-batch, 0)) if batch else np.asarray(v)
        selected = v_last[self.index]
        return np.moveaxis(selected, range(-batch, 0), range(batch)) if batch else selected


class Embed(Jacobian):
    """``out = concatenate(…, x, …)`` w.r.t. x: the block ``[0; I; 0]`` that places x in out.

    ``stack`` is the same with a new axis.  The adjoint cuts x's block out of the gradient.
    """

    __slots__ = ("axis", "new_axis", "start", "stop")
    kind = "selection"

    def __init__(self, axis, start, stop, new_axis, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.axis, self.start, self.stop, self.new_axis = axis, start, stop, new_axis

    def _block(self, batch: int):
        axis = batch + self.axis
        return (slice(None),) * axis + (slice(self.start, self.stop),)

    def vjp(self, g):
        batch = self._batch(g, self.out_shape)
        block = np.asarray(g)[self._block(len(batch))]
        return np.reshape(block, batch + self.in_shape)

    def jvp(self, v):
        batch = self._batch(v, self.in_shape)
        result = np.zeros(batch + self.out_shape, dtype=np.result_type(v, float))
        block = self._block(len(batch))
        result[block] = np.expand_dims(v, len(batch) + self.axis) if self.new_axis else v
        return result


class Reshape(Jacobian):
    """``out = reshape(x)``: over row-major vec this is exactly I; only the shape changes."""

    __slots__ = ()
    kind = "reshape"

    def vjp(self, g):
        return np.reshape(g, self._batch(g, self.out_shape) + self.in_shape)

    def jvp(self, v):
        return np.reshape(v, self._batch(v, self.in_shape) + self.out_shape)


class Permute(Jacobian):
    """``out = transpose(x, axes)``: a permutation matrix P over vec (for a matrix, the
    commutation matrix K with vec(Xᵀ) = K vec(X))."""

    __slots__ = ("axes",)
    kind = "permutation"

    def __init__(self, axes, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.axes = axes

    def vjp(self, g):
        batch = len(self._batch(g, self.out_shape))
        inverse = np.argsort(self.axes)
        return np.transpose(g, (*range(batch), *(batch + int(a) for a in inverse)))

    def jvp(self, v):
        batch = len(self._batch(v, self.in_shape))
        return np.transpose(v, (*range(batch), *(batch + a for a in self.axes)))
