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

from enum import Enum
from math import prod

import numpy as np

Shape = tuple[int, ...]


class Kind(str, Enum):
    """The structure of a local Jacobian.  A member is its own name as a string
    (``Kind.DIAGONAL == "diagonal"``) and prints as one, so tables and texts read plainly."""

    DENSE = "dense"
    IDENTITY = "identity"  # I
    DIAGONAL = "diagonal"  # diag(d)
    BROADCAST = "broadcast"  # diag(d) E: scalar expansion
    REDUCE = "reduce"  # rows of weighted ones
    MATMUL = "matmul"  # I ⊗ Bᵀ or A ⊗ I
    SELECTION = "selection"  # rows of the identity, or the block placing an operand
    RESHAPE = "reshape"  # I with other shapes
    PERMUTATION = "permutation"  # a permutation matrix
    SCAN = "scan"  # a triangular block of ones: a cumulative sum
    LINALG = "linalg"  # a linear-algebra function's Jacobian, given by its formulas
    CONTRACTION = "contraction"  # an einsum with respect to one operand

    __str__ = str.__str__
    __format__ = str.__format__
    __hash__ = str.__hash__  # so that a plain "diagonal" finds Kind.DIAGONAL in a dict

    def __repr__(self) -> str:
        return repr(self.value)


class Jacobian:
    """∂out/∂x as a linear map from arrays shaped ``in_shape`` to arrays shaped ``out_shape``.

    Subclasses say what structure they have (``kind``) and implement ``vjp`` and ``jvp``;
    everything else (the dense matrix, the rule text with the operands' names) is shared.
    """

    __slots__ = ("_labels", "_template", "in_shape", "out_shape")
    kind = Kind.DENSE

    def __init_subclass__(cls, **kwargs):
        """A subclass may spell its kind as a string; it must be one of :class:`Kind`."""
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if isinstance(kind, str) and not isinstance(kind, Kind):
            if kind not in Kind._value2member_map_:
                raise TypeError(f"{cls.__name__}.kind = {kind!r} is not a Jacobian Kind; add "
                                f"it to graphviz_ad.linear.Kind")
            cls.kind = Kind(kind)

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

    def numbers(self, limit: int = 6) -> np.ndarray:
        """The top-left ``limit × limit`` corner of the dense matrix (all of it when smaller),
        from one VJP per row kept: what an inspector shows without building the matrix.

        >>> Elementwise(np.arange(1.0, 101.0), (100,), (100,), "{x}", {"x": "x"}).numbers(2)
        array([[1., 0.],
               [0., 2.]])
        """
        rows, cols = self.shape
        if rows <= limit:
            return self.matrix()[:, :limit]
        seeds = np.zeros((limit, rows))
        seeds[np.arange(limit), np.arange(limit)] = 1.0
        kept = self.vjp(seeds.reshape((limit, *self.out_shape)))
        return np.asarray(kept, dtype=float).reshape(limit, cols)[:, :limit]

    @property
    def coefficients(self):
        """The numbers this Jacobian is made of that can vanish or overflow: an element-wise
        factor, a reduction's weights, the other operand of a product; None for purely
        structural ones (selection, reshape, permutation)."""
        return None

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
    def kind(self) -> Kind:
        if self.in_shape != self.out_shape:
            return Kind.BROADCAST
        if type(self.factor) is int and self.factor == 1:  # structurally I (x + y), not a mask
            return Kind.IDENTITY
        return Kind.DIAGONAL

    @property
    def coefficients(self):
        return self.factor

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
    kind = Kind.REDUCE

    def __init__(self, in_shape, out_shape, axes, keepdims, weights, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.axes = axes  # a tuple of non-negative axes of the input
        self.keepdims = keepdims
        self.weights = weights  # a number or an array shaped like the input

    @property
    def coefficients(self):
        return self.weights

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
    kind = Kind.MATMUL

    def __init__(self, left, own_ndim, other, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.left = left  # True: the Jacobian w.r.t. x in x @ y; False: w.r.t. y
        self.own_ndim = own_ndim
        self.other = other
        self.other_ndim = np.ndim(other)

    @property
    def coefficients(self):
        return self.other

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
    kind = Kind.SELECTION

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
    kind = Kind.SELECTION

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
    kind = Kind.RESHAPE

    def vjp(self, g):
        return np.reshape(g, self._batch(g, self.out_shape) + self.in_shape)

    def jvp(self, v):
        return np.reshape(v, self._batch(v, self.in_shape) + self.out_shape)


class Permute(Jacobian):
    """``out = transpose(x, axes)``: a permutation matrix P over vec (for a matrix, the
    commutation matrix K with vec(Xᵀ) = K vec(X))."""

    __slots__ = ("axes",)
    kind = Kind.PERMUTATION

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


class Gather(Jacobian):
    """``out.flat[k] = x.flat[index[k]]``: every output element is a copy of one input element,
    or, where ``index[k] = −1``, a constant that does not depend on x.

    This is the selection matrix S with S[k, index[k]] = 1 over row-major vec, written with
    its indices rather than its zeros.  Every shape function that only moves, copies or
    drops elements has this form: ``flip`` and ``roll`` and ``sort`` (a permutation P),
    ``tile`` (copies, ``[I; I]``), ``repeat``, ``take``, ``diagonal``; and with constants
    among them, ``pad``, ``tril`` and ``diag`` of a vector (an embedding).

    * VJP, gᵀ S: scatter-add, x̄.flat[index[k]] += g.flat[k] (an element copied twice gets
      both gradients);
    * JVP, S v: gather, (S v).flat[k] = v.flat[index[k]] (0 where index[k] = −1).

    >>> J = Gather(np.array([2, 1, 0]), (3,), (3,), "P (flip)", {})
    >>> J.kind, J.vjp(np.array([1.0, 2.0, 3.0]))
    ('permutation', array([3., 2., 1.]))
    """

    __slots__ = ("index", "valid")

    def __init__(self, index, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.index = np.ravel(index)
        valid = self.index >= 0
        self.valid = None if valid.all() else valid  # None: no constant entries

    @property
    def kind(self) -> str:
        """``permutation`` when every input element lands exactly once, else ``selection``."""
        size = prod(self.in_shape)
        whole = self.valid is None and self.index.size == size
        if whole and np.array_equal(np.bincount(self.index, minlength=size), np.ones(size)):
            return "permutation"
        return "selection"

    def vjp(self, g):
        batch = self._batch(g, self.out_shape)
        rows = np.reshape(g, (prod(batch), self.index.size))
        index = self.index
        if self.valid is not None:
            rows, index = rows[:, self.valid], index[self.valid]
        result = np.zeros((rows.shape[0], prod(self.in_shape)), dtype=np.result_type(g, float))
        np.add.at(result, (slice(None), index), rows)
        return result.reshape(batch + self.in_shape)

    def jvp(self, v):
        batch = self._batch(v, self.in_shape)
        rows = np.reshape(v, (prod(batch), prod(self.in_shape)))
        if self.valid is None:
            result = rows[:, self.index]
        elif rows.shape[1] == 0:  # an embedding of an empty array: only constants
            result = np.zeros((rows.shape[0], self.index.size), dtype=np.result_type(v, float))
        else:
            result = np.where(self.valid, rows[:, np.maximum(self.index, 0)], 0.0)
        return result.reshape(batch + self.out_shape)


# -- products ----------------------------------------------------------------------------


class Einsum(Jacobian):
    """``out = einsum(subscripts, *operands)`` w.r.t. one operand, the others held fixed.

    A product of tensors is linear in each factor, and its adjoint is a product of the same
    kind: the incoming gradient takes the operand's place and the operand's subscripts
    become the output.  For C = einsum('ij,jk→ik', A, B):

    * JVP:  Ċ = einsum('ij,jk→ik', Ȧ, B);
    * VJP:  Ā = einsum('ik,jk→ij', Ḡ, B)  (= Ḡ Bᵀ).

    Two details make every einsum work.  A letter repeated in the operand (a diagonal,
    'ii→i', or a trace, 'ii→') sends the gradient back onto that diagonal; a letter found
    only in the operand ('ij→i' sums j away) copies the gradient along it.  Size-1 axes that
    numpy broadcast are summed back, as for element-wise broadcasting.

    The same operator serves tensordot, inner, vdot, kron, cross and batched matmul:
    ``core_shape`` is the operand's shape inside the einsum and ``core_out`` the einsum's
    result, which may be reshapes of ``in_shape`` and ``out_shape`` (vdot flattens, kron
    merges each pair of axes).

    >>> B = np.arange(6.0).reshape(3, 2)
    >>> J = Einsum(["ij", "jk"], "ik", [np.ones((2, 3)), B], 0, (2, 3), (2, 2),
    ...            "Ḡ ↦ einsum(ik,jk→ij)(Ḡ, {y})", {"y": "B"})
    >>> J.rule
    'Ḡ ↦ einsum(ik,jk→ij)(Ḡ, B)'
    >>> J.vjp(np.ones((2, 2)))  # Ḡ Bᵀ
    array([[1., 5., 9.],
           [1., 5., 9.]])
    """

    __slots__ = ("_kind", "core_out", "core_shape", "operands", "output", "position", "sizes",
                 "subscripts")

    def __init__(self, subscripts, output, operands, position, in_shape, out_shape, template,
                 labels, kind="contraction"):
        super().__init__(in_shape, out_shape, template, labels)
        self.subscripts = subscripts  # one string of letters per operand (no ellipsis)
        self.output = output
        self.operands = operands  # the values; operands[position] is only used for its shape
        self.position = position
        self._kind = kind
        shapes = [np.shape(operand) for operand in operands]
        self.core_shape = shapes[position]
        self.sizes: dict[str, int] = {}  # each letter's size after broadcasting
        for letters, shape in zip(subscripts, shapes):
            for letter, n in zip(letters, shape):
                self.sizes[letter] = max(self.sizes.get(letter, 1), n)
        self.core_out = tuple(self.sizes[letter] for letter in output)

    @property
    def kind(self) -> str:
        return self._kind

    def _others(self):
        pairs = [(s, o) for k, (s, o) in enumerate(zip(self.subscripts, self.operands))
                 if k != self.position]
        return [s for s, _ in pairs], [o for _, o in pairs]

    def vjp(self, g):
        batch = self._batch(g, self.out_shape)
        g = np.reshape(g, batch + self.core_out)
        own = self.subscripts[self.position]
        letters, others = self._others()
        unique = "".join(dict.fromkeys(own))
        present = set(self.output).union(*letters)
        kept = "".join(letter for letter in unique if letter in present)
        spec = ",".join([f"...{self.output}", *letters]) + f"->...{kept}"
        result = np.einsum(spec, g, *others, optimize=len(others) > 1)
        # Letters summed away inside this operand ('ij→i' sums j) or only met in a size-1
        # axis of another operand: the gradient is the same along them, so copy it.
        sizes = iter(result.shape[len(batch) :])
        aligned = tuple(next(sizes) if c in kept else 1 for c in unique)
        full = tuple(self.sizes[c] for c in unique)
        result = np.broadcast_to(np.reshape(result, batch + aligned), batch + full)
        if unique != own:  # repeated letters: back onto the diagonal they were read from
            result = _onto_diagonal(result, own, unique, self.sizes, batch)
        result = sum_to(result, len(batch), self.core_shape)
        return np.reshape(result, batch + self.in_shape)

    def jvp(self, v):
        batch = self._batch(v, self.in_shape)
        v = np.reshape(v, batch + self.core_shape)
        own = self.subscripts[self.position]
        letters, others = self._others()
        spec = ",".join([f"...{own}", *letters]) + f"->...{self.output}"
        result = np.einsum(spec, v, *others, optimize=len(others) > 1)
        return np.reshape(result, batch + self.out_shape)


def _onto_diagonal(values, own: str, unique: str, sizes: dict, batch: Shape) -> np.ndarray:
    """Zeros shaped like the operand ``own`` ('ii') with ``values`` (over ``unique``, 'i')
    written where the repeated letters agree: the adjoint of reading a diagonal."""
    result = np.zeros(batch + tuple(sizes[c] for c in own), dtype=np.result_type(values, float))
    grids = np.ogrid[tuple(slice(sizes[c]) for c in unique)]
    index = tuple(grids[unique.index(c)] for c in own)
    result[(Ellipsis, *index)] = values
    return result


# -- linear algebra ----------------------------------------------------------------------
# Functions of whole matrices (inverse, determinant, factorizations) have dense local
# Jacobians, but each is applied by its matrix-calculus formula (one or two products and a
# solve), never built.  Every formula works on stacks of matrices: numpy broadcasts over the
# leading axes, which hold the seeds' batch and the stack alike.


def _T(a):
    """The transpose of each matrix in a stack."""
    return np.swapaxes(a, -1, -2)


def _symmetric(v, upper: bool):
    """The symmetric matrix a function reading only one triangle of v sees:
    tril(v) + tril(v, −1)ᵀ (``upper``: the same with triu)."""
    if upper:
        return np.triu(v) + _T(np.triu(v, 1))
    return np.tril(v) + _T(np.tril(v, -1))


def _symmetric_adjoint(m, upper: bool):
    """The adjoint of :func:`_symmetric`: an off-diagonal entry of the triangle read feeds
    two entries of the symmetric matrix, so it collects both; the other triangle gets 0."""
    if upper:
        return np.triu(m) + np.triu(_T(m), 1)
    return np.tril(m) + np.tril(_T(m), -1)


def _gaps(values):
    """Fᵢⱼ = 1/(λⱼ − λᵢ) off the diagonal, 0 on it: how eigen- and singular vectors turn
    when the matrix moves (infinite where two values coincide)."""
    differences = values[..., None, :] - values[..., :, None]
    with np.errstate(divide="ignore"):
        inverse = 1.0 / np.where(np.eye(values.shape[-1], dtype=bool), 1.0, differences)
    return np.where(np.eye(values.shape[-1], dtype=bool), 0.0, inverse)


class MatrixFunction(Jacobian):
    """The local Jacobian of a linear-algebra function; subclasses give its formulas.

    ``vjp`` and ``jvp`` apply the formula to seeds with any leading batch axes; the dense
    matrix comes from ``vjp`` as for every operator.
    """

    __slots__ = ()
    kind = "linalg"


class Inverse(MatrixFunction):
    """``out = X⁻¹``:  ∂X⁻¹ = −X⁻¹ (∂X) X⁻¹;  X̄ = −X⁻ᵀ Ḡ X⁻ᵀ."""

    __slots__ = ("inverse",)

    def __init__(self, inverse, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.inverse = inverse

    def vjp(self, g):
        return -_T(self.inverse) @ g @ _T(self.inverse)

    def jvp(self, v):
        return -self.inverse @ v @ self.inverse


class PseudoInverse(MatrixFunction):
    """``out = X⁺`` (Moore–Penrose), for X of constant rank:

    ∂X⁺ = −X⁺ (∂X) X⁺ + X⁺X⁺ᵀ (∂X)ᵀ (I − X X⁺) + (I − X⁺X) (∂X)ᵀ X⁺ᵀX⁺;
    X̄ = −X⁺ᵀ Ḡ X⁺ᵀ + (I − X X⁺) Ḡᵀ X⁺X⁺ᵀ + X⁺ᵀX⁺ Ḡᵀ (I − X⁺X).
    """

    __slots__ = ("operand", "pinv")

    def __init__(self, x, pinv, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.operand, self.pinv = x, pinv

    def _projections(self):
        x, p = self.operand, self.pinv
        return np.eye(x.shape[-2]) - x @ p, np.eye(x.shape[-1]) - p @ x

    def vjp(self, g):
        p = self.pinv
        out_of_range, out_of_rows = self._projections()
        return (-_T(p) @ g @ _T(p) + out_of_range @ _T(g) @ p @ _T(p)
                + _T(p) @ p @ _T(g) @ out_of_rows)

    def jvp(self, v):
        p = self.pinv
        out_of_range, out_of_rows = self._projections()
        return (-p @ v @ p + p @ _T(p) @ _T(v) @ out_of_range
                + out_of_rows @ _T(v) @ _T(p) @ p)


class Determinant(MatrixFunction):
    """``out = det X`` (``log_abs``: log|det X|).

    ∂ det X/∂X = adj(X)ᵀ = det X · X⁻ᵀ;  ∂ log|det X|/∂X = X⁻ᵀ.  ``cofactors`` is adj(X)ᵀ
    for det (defined for singular X too) and X⁻ᵀ for log|det|.
    """

    __slots__ = ("cofactors",)

    def __init__(self, cofactors, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.cofactors = cofactors

    def vjp(self, g):
        return np.asarray(g)[..., None, None] * self.cofactors

    def jvp(self, v):
        return np.einsum("...ij,...ij->...", self.cofactors, v)


class Solve(MatrixFunction):
    """``out = solve(A, B)`` = A⁻¹ B w.r.t. A (``wrt_matrix``) or B.

    ∂out = −A⁻¹ (∂A) out and ∂out = A⁻¹ (∂B);  B̄ = A⁻ᵀ Ḡ,  Ā = −B̄ outᵀ.  A vector B is a
    column; the stacks of A and B broadcast, and the adjoint sums over the broadcast copies.
    """

    __slots__ = ("a", "solution", "vector", "wrt_matrix")

    def __init__(self, a, solution, vector, wrt_matrix, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.a, self.solution, self.vector, self.wrt_matrix = a, solution, vector, wrt_matrix

    def _column(self, array):
        return array[..., None] if self.vector else array

    def _uncolumn(self, array):
        return array[..., 0] if self.vector else array

    def vjp(self, g):
        batch = len(self._batch(g, self.out_shape))
        g_bar = np.linalg.solve(_T(self.a), self._column(g))
        if self.wrt_matrix:
            return sum_to(-g_bar @ _T(self._column(self.solution)), batch, self.in_shape)
        return sum_to(self._uncolumn(g_bar), batch, self.in_shape)

    def jvp(self, v):
        # the stack axes v lacks (broadcast against the other operand) come after the batch
        batch = self._batch(v, self.in_shape)
        missing = len(self.out_shape) - len(self.in_shape)
        if self.wrt_matrix:
            missing += self.vector  # out, a stack of vectors, has one core axis; A has two
        v = np.reshape(v, batch + (1,) * max(missing, 0) + self.in_shape)
        if self.wrt_matrix:
            return self._uncolumn(-np.linalg.solve(self.a, v @ self._column(self.solution)))
        return self._uncolumn(np.linalg.solve(self.a, self._column(v)))


class Cholesky(MatrixFunction):
    """``L = cholesky(X)``, reading X's lower triangle (the upper one is never looked at).

    ∂L = L Φ(L⁻¹ (∂S) L⁻ᵀ), with S the symmetric matrix the lower triangle stands for and Φ
    the lower triangle with the diagonal halved;  S̄ = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹, folded back onto
    the lower triangle.
    """

    __slots__ = ("factor", "inverse")

    def __init__(self, factor, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.factor = factor
        self.inverse = np.linalg.inv(factor)

    @staticmethod
    def _phi(m):
        return np.tril(m) - 0.5 * m * np.eye(m.shape[-1])

    def vjp(self, g):
        inner = _T(self.inverse) @ self._phi(_T(self.factor) @ g) @ self.inverse
        return _symmetric_adjoint(inner, upper=False)

    def jvp(self, v):
        change = self.inverse @ _symmetric(v, upper=False) @ _T(self.inverse)
        return self.factor @ self._phi(change)


class EighValues(MatrixFunction):
    """Eigenvalues λ of a symmetric matrix (one triangle read):  ∂λᵢ = vᵢᵀ (∂S) vᵢ;
    S̄ = V diag(Ḡ) Vᵀ, folded onto the triangle read."""

    __slots__ = ("upper", "vectors")

    def __init__(self, vectors, upper, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.vectors, self.upper = vectors, upper

    def vjp(self, g):
        v = self.vectors
        return _symmetric_adjoint((v * np.asarray(g)[..., None, :]) @ _T(v), self.upper)

    def jvp(self, t):
        v = self.vectors
        return np.einsum("...ji,...jk,...ki->...i", v, _symmetric(t, self.upper), v)


class EighVectors(MatrixFunction):
    """Eigenvectors V of a symmetric matrix:  ∂V = V (F ∘ Vᵀ (∂S) V), Fᵢⱼ = 1/(λⱼ − λᵢ);
    S̄ = V (F ∘ Vᵀ Ḡ) Vᵀ.  Undefined where eigenvalues repeat (F is infinite there: the
    eigenvectors of a repeated eigenvalue can turn freely inside their eigenspace)."""

    __slots__ = ("gaps", "upper", "vectors")

    def __init__(self, values, vectors, upper, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.vectors, self.upper, self.gaps = vectors, upper, _gaps(values)

    def vjp(self, g):
        v = self.vectors
        with np.errstate(invalid="ignore"):
            return _symmetric_adjoint(v @ (self.gaps * (_T(v) @ g)) @ _T(v), self.upper)

    def jvp(self, t):
        v = self.vectors
        with np.errstate(invalid="ignore"):
            return v @ (self.gaps * (_T(v) @ _symmetric(t, self.upper) @ v))


class SingularValues(MatrixFunction):
    """Singular values s of X = U diag(s) Vᵀ:  ∂sᵢ = uᵢᵀ (∂X) vᵢ;  X̄ = U diag(Ḡ) Vᵀ."""

    __slots__ = ("u", "vh")

    def __init__(self, u, vh, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.u, self.vh = u, vh

    def vjp(self, g):
        return (self.u * np.asarray(g)[..., None, :]) @ self.vh

    def jvp(self, v):
        return np.einsum("...ji,...jk,...ik->...i", self.u, v, self.vh)


class SingularVectors(MatrixFunction):
    """U (``left``) or Vᵀ of the reduced SVD X = U S Vᵀ, with P = Uᵀ (∂X) V and
    Fᵢⱼ = 1/(sⱼ² − sᵢ²):

    ∂U = U (F ∘ (P S + S Pᵀ)) + (I − U Uᵀ) (∂X) V S⁻¹;
    ∂V = V (F ∘ (S P + Pᵀ S)) + (I − V Vᵀ) (∂X)ᵀ U S⁻¹;
    X̄ = U (F ∘ (Uᵀ Ū − Ūᵀ U)) S Vᵀ + (I − U Uᵀ) Ū S⁻¹ Vᵀ  (and the mirror for V̄).
    Undefined where singular values repeat or vanish.
    """

    __slots__ = ("gaps", "left", "s", "u", "v")

    def __init__(self, u, s, vh, left, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.u, self.s, self.v, self.left = u, s, _T(vh), left
        self.gaps = _gaps(s * s)

    def vjp(self, g):
        u, s, v = self.u, self.s, self.v
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.left:
                turn = self.gaps * (_T(u) @ g - _T(g) @ u) * s[..., None, :]
                rest = (g - u @ (_T(u) @ g)) / s[..., None, :] @ _T(v)
            else:
                g = _T(g)  # the gradient w.r.t. V
                turn = s[..., :, None] * (self.gaps * (_T(v) @ g - _T(g) @ v))
                rest = u @ _T((g - v @ (_T(v) @ g)) / s[..., None, :])
            return u @ turn @ _T(v) + rest

    def jvp(self, t):
        u, s, v = self.u, self.s, self.v
        p = _T(u) @ t @ v
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.left:
                mix = p * s[..., None, :] + s[..., :, None] * _T(p)
                return u @ (self.gaps * mix) + (t @ v - u @ p) / s[..., None, :]
            mix = s[..., :, None] * p + _T(p) * s[..., None, :]
            dv = v @ (self.gaps * mix) + (_T(t) @ u - v @ _T(p)) / s[..., None, :]
            return _T(dv)


class EigValues(MatrixFunction):
    """Real eigenvalues of a general matrix X = V diag(λ) V⁻¹:  ∂λᵢ = (V⁻¹ (∂X) V)ᵢᵢ;
    X̄ = V⁻ᵀ diag(Ḡ) Vᵀ."""

    __slots__ = ("inverse", "vectors")

    def __init__(self, vectors, inverse, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.vectors, self.inverse = vectors, inverse

    def vjp(self, g):
        return _T(self.inverse) @ (np.asarray(g)[..., :, None] * _T(self.vectors))

    def jvp(self, t):
        return np.einsum("...ij,...jk,...ki->...i", self.inverse, t, self.vectors)


class EigVectors(MatrixFunction):
    """Real eigenvectors of a general matrix, each of unit length (as numpy returns them):
    ∂V = V (F ∘ V⁻¹ (∂X) V), Fᵢⱼ = 1/(λⱼ − λᵢ), then each column's change along itself
    removed (the length stays 1);  X̄ = V⁻ᵀ (F ∘ Vᵀ Ḡ') Vᵀ, Ḡ' = Ḡ − V diag(Vᵀ Ḡ).
    LAPACK chooses each vector's sign; where that choice flips, numpy's result jumps and
    has no derivative (as with repeated eigenvalues)."""

    __slots__ = ("gaps", "inverse", "vectors")

    def __init__(self, values, vectors, inverse, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.vectors, self.inverse = vectors, inverse
        self.gaps = _gaps(values)

    def _unit(self, change):
        """Remove from each column vᵢ of the change its part along vᵢ (d(v/|v|), |v| = 1)."""
        v = self.vectors
        return change - v * np.einsum("...ji,...ji->...i", v, change)[..., None, :]

    def vjp(self, g):
        v = self.vectors
        with np.errstate(invalid="ignore"):
            return _T(self.inverse) @ (self.gaps * (_T(v) @ self._unit(g))) @ _T(v)

    def jvp(self, t):
        v = self.vectors
        with np.errstate(invalid="ignore"):
            return self._unit(v @ (self.gaps * (self.inverse @ t @ v)))
# ---------------------------------------------------------------------------------------
# Operators of the element-wise functions without a slope and of the scans.


class PiecewiseConstant(Elementwise):
    """``out = f(x)`` element by element where f is piecewise constant (floor, sign, round):
    the derivative is 0 wherever it exists, and 0 is taken at the jumps too.

    The Jacobian is the zero diagonal (or its broadcast); the rule says why it is zero.

    >>> J = PiecewiseConstant((3,), (3,), {})
    >>> J.rule, J.vjp(np.array([1.0, np.nan, 2.0]))
    ('0 (piecewise constant)', array([0., 0., 0.]))
    """

    __slots__ = ()

    def __init__(self, in_shape, out_shape, labels):
        super().__init__(0.0, in_shape, out_shape, "0", labels)

    def _rule_template(self) -> str:
        return "0 (piecewise constant)"

    def vjp(self, g):
        # exact zeros even for an infinite or NaN adjoint (0 · ∞ would be NaN)
        return np.zeros(self._batch(g, self.out_shape) + self.in_shape)

    def jvp(self, v):
        return np.zeros(self._batch(v, self.in_shape) + self.out_shape)


class BroadcastReduce(Reduce):
    """A weighted reduction of a broadcast copy of x: ``out = Σ over axes of w ⊗ E x``, where
    E broadcasts x (shaped ``in_shape``) to the weights' full shape.

    This is ∂ average(a, weights=w)/∂w when a 1-d w is laid along one axis of a: each
    weight meets a whole row of a, and its adjoint sums over that row.
    """

    __slots__ = ("full_shape",)

    def __init__(self, in_shape, full_shape, out_shape, axes, keepdims, weights, template,
                 labels):
        super().__init__(full_shape, out_shape, axes, keepdims, weights, template, labels)
        self.full_shape = full_shape
        self.in_shape = in_shape

    def vjp(self, g):
        batch = self._batch(g, self.out_shape)
        kept_shape = tuple(1 if i in self.axes else n for i, n in enumerate(self.full_shape))
        spread = np.reshape(g, batch + kept_shape) * self.weights
        return sum_to(spread, len(batch), self.in_shape)

    def jvp(self, v):
        batch = self._batch(v, self.in_shape)
        padding = (1,) * (len(self.full_shape) - len(self.in_shape))
        weighted = np.reshape(v, batch + padding + self.in_shape) * self.weights
        axes = tuple(len(batch) + a for a in self.axes)
        return np.sum(weighted, axis=axes, keepdims=self.keepdims)


class CumSum(Jacobian):
    """``out = cumsum(x)`` along ``axis``: a lower-triangular block of ones, L with Lₖᵢ = 1
    for i ≤ k.  J v = cumsum(v); gᵀ J = the reversed cumulative sum of g (each xᵢ reaches
    every later partial sum).  ``axis=None`` runs over the flattened x.

    >>> CumSum(None, (3,), (3,), "L", {}).vjp(np.array([1.0, 2.0, 3.0]))
    array([6., 5., 3.])
    """

    __slots__ = ("axis",)
    kind = "scan"

    def __init__(self, axis, in_shape, out_shape, template, labels):
        super().__init__(in_shape, out_shape, template, labels)
        self.axis = axis  # an axis of the input, or None for the flattened input

    def _lines(self, array, core: Shape) -> tuple[np.ndarray, Shape]:
        """The array with its scanned axis last (the input flattened for axis None)."""
        batch = self._batch(array, core)
        if self.axis is None:
            return np.reshape(array, (*batch, -1)), batch
        return np.moveaxis(array, len(batch) + self.axis, -1), batch

    def _restore(self, lines: np.ndarray, batch: Shape, shape: Shape) -> np.ndarray:
        if self.axis is None:
            return np.reshape(lines, batch + shape)
        return np.moveaxis(lines, -1, len(batch) + self.axis)

    def vjp(self, g):
        lines, batch = self._lines(g, self.out_shape)
        reversed_sums = np.cumsum(lines[..., ::-1], axis=-1)[..., ::-1]
        return self._restore(reversed_sums, batch, self.in_shape)

    def jvp(self, v):
        lines, batch = self._lines(v, self.in_shape)
        return self._restore(np.cumsum(lines, axis=-1), batch, self.out_shape)


class CumProd(CumSum):
    """``out = cumprod(x)`` along ``axis``: ∂outₖ/∂xᵢ = Π_{j ≤ k, j ≠ i} xⱼ for i ≤ k, else 0.

    Without zeros that is outₖ/xᵢ, so J v = out ⊗ cumsum(v/x) and gᵀ J = revcumsum(g ⊗ out)/x.
    Zeros are handled exactly, never by dividing by them: with z the first zero of a line,
    an xᵢ before z reaches only the partial products before z; x_z itself reaches every later
    one through the product of the others (the line with x_z replaced by 1); an element after
    z meets the factor x_z = 0 in every product it is part of.

    >>> J = CumProd(None, np.array([2.0, 0.0, 3.0]), (3,), "", {})
    >>> J.matrix()
    array([[1., 0., 0.],
           [0., 2., 0.],
           [0., 6., 0.]])
    """

    __slots__ = ("_before", "_first_zero", "_others", "_products", "_x")

    def __init__(self, axis, x, out_shape, template, labels):
        super().__init__(axis, np.shape(x), out_shape, template, labels)
        x_lines, _ = self._lines(np.asarray(x, dtype=float), self.in_shape)
        n = x_lines.shape[-1]
        position = np.arange(n)
        zero = x_lines == 0
        first = np.where(zero.any(axis=-1), np.argmax(zero, axis=-1), n)[..., None]
        self._x = x_lines
        self._first_zero = position == first  # the first zero of each line
        self._before = position < first
        self._products = np.cumprod(x_lines, axis=-1)
        # the partial products with the first zero replaced by 1: Π_{j ≤ k, j ≠ z} xⱼ
        self._others = np.cumprod(np.where(self._first_zero, 1.0, x_lines), axis=-1)

    def _divided(self, numerator):
        """numerator / x before the first zero, where x is not zero; 0 elsewhere."""
        safe = np.where(self._before, self._x, 1.0)
        return np.where(self._before, numerator / safe, 0.0)

    def vjp(self, g):
        lines, batch = self._lines(g, self.out_shape)
        early = np.where(self._before, lines * self._products, 0.0)
        from_early = self._divided(np.cumsum(early[..., ::-1], axis=-1)[..., ::-1])
        tail = np.where(self._before, 0.0, lines * self._others)
        at_zero = np.where(self._first_zero, np.sum(tail, axis=-1, keepdims=True), 0.0)
        return self._restore(from_early + at_zero, batch, self.in_shape)

    def jvp(self, v):
        lines, batch = self._lines(v, self.in_shape)
        early = self._products * np.cumsum(self._divided(lines), axis=-1)
        tangent_at_zero = np.sum(np.where(self._first_zero, lines, 0.0), axis=-1, keepdims=True)
        late = self._others * tangent_at_zero
        return self._restore(np.where(self._before, early, late), batch, self.out_shape)
class Overwrite(Jacobian):
    """``out = x`` with ``out[index] = v`` (item assignment), w.r.t. x or w.r.t. v.

    With S the selection matrix of the entries written (``x[index]`` is S vec x):

    * w.r.t. x: ``I − SᵀS``, the identity with the written entries masked out: an
      overwritten entry passes no gradient to the old array;
    * w.r.t. v: ``Sᵀ E``: v is broadcast (E) to the selection's shape and scattered into
      place, so its adjoint is the selection S g, summed where v was broadcast.

    Where an index repeats, numpy keeps the last write (``a[[0, 0]] = [1, 2]`` leaves 2;
    ``a[[0, 0]] += 1`` adds 1 once): ``targets`` lists the entries of out that were
    written (flat, row-major) and ``sources`` which element of the broadcast selection
    won each of them, so only that one receives the gradient.

    ``x[1] = v`` for a vector x and a number v:

    >>> to_v = Overwrite(True, np.array([1]), np.array([0]), (3,), (), (), "S[1]", {})
    >>> to_x = Overwrite(False, np.array([1]), np.array([0]), (3,), (), (), "S[1]", {})
    >>> g = np.array([5.0, 6.0, 7.0])
    >>> float(to_v.vjp(g)), to_x.vjp(g), to_v.jvp(2.0)
    (6.0, array([5., 0., 7.]), array([0., 2., 0.]))
    """

    __slots__ = ("selection_shape", "sources", "targets", "wrt_value")

    def __init__(self, wrt_value, targets, sources, x_shape, v_shape, selection_shape,
                 template, labels):
        in_shape = v_shape if wrt_value else x_shape
        super().__init__(in_shape, x_shape, template, labels)
        self.wrt_value = wrt_value
        self.targets = targets
        self.sources = sources
        self.selection_shape = selection_shape

    @property
    def kind(self) -> str:
        return "selection" if self.wrt_value else "diagonal"

    def _kept(self) -> np.ndarray:
        """True where out still holds x (the diagonal of I − SᵀS), shaped like out."""
        kept = np.ones(prod(self.out_shape), dtype=bool)
        kept[self.targets] = False
        return kept.reshape(self.out_shape)

    def vjp(self, g):
        g = np.asarray(g)
        if not self.wrt_value:  # np.where, not g · mask: a NaN overwritten passes nothing
            return np.where(self._kept(), g, 0.0)
        batch = self._batch(g, self.out_shape)
        flat = g.reshape((*batch, -1))
        selected = np.zeros((*batch, prod(self.selection_shape)), dtype=np.result_type(g, float))
        selected[..., self.sources] = flat[..., self.targets]
        return sum_to(selected.reshape(batch + self.selection_shape), len(batch), self.in_shape)

    def jvp(self, v):
        v = np.asarray(v)
        if not self.wrt_value:
            return np.where(self._kept(), v, 0.0)
        batch = self._batch(v, self.in_shape)
        padding = (1,) * (len(self.selection_shape) - len(self.in_shape))
        spread = np.broadcast_to(np.reshape(v, batch + padding + self.in_shape),
                                 batch + self.selection_shape).reshape((*batch, -1))
        result = np.zeros((*batch, prod(self.out_shape)), dtype=np.result_type(v, float))
        result[..., self.targets] = spread[..., self.sources]
        return result.reshape(batch + self.out_shape)
