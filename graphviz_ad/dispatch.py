"""How numpy's calls on traced values become primitives.

numpy hands a traced value back to us three ways: ufuncs (``np.exp(x)``, ``a + x``) through
``__array_ufunc__``, functions (``np.sum``, ``np.concatenate``) through
``__array_function__``, and the methods and operators of :class:`~.tracer.Tracer`.  Each
lands here, where its arguments are put in a standard form (axes normalised, shapes
resolved) and the primitive is recorded.  A few conveniences are spelled with primitives
(``np.square(x)`` is ``x ** 2``, ``np.outer`` is a broadcast product, ``np.clip`` is
``min(max(x, lo), hi)``).  Operations with no derivative at all (comparisons,
``np.argmax``, ``np.isnan``) run on the plain values and return plain arrays; piecewise
constant ones (``np.floor``, ``np.sign``, ``np.round``) are recorded with the local
Jacobian 0, so the picture shows where a derivative stops.
"""

from __future__ import annotations

from collections import namedtuple
from math import prod

import numpy as np

from .errors import ShapeError, TraceError, UnsupportedOperation
from .tracer import NO_VALUE, Tracer, _location, apply, note_view, plain, snapshot

# ufuncs recorded as the primitive of that name
_UFUNCS = {
    np.add: "add", np.subtract: "subtract", np.multiply: "multiply", np.divide: "divide",
    np.power: "power", np.maximum: "maximum", np.minimum: "minimum", np.negative: "negative",
    np.exp: "exp", np.log: "log", np.sqrt: "sqrt", np.sin: "sin", np.cos: "cos", np.tan: "tan",
    np.tanh: "tanh", np.sinh: "sinh", np.cosh: "cosh", np.arctan: "arctan",
    np.arcsin: "arcsin", np.arccos: "arccos", np.log1p: "log1p", np.expm1: "expm1",
    np.absolute: "abs",
    # -- element-wise (more)
    np.arcsinh: "arcsinh", np.arccosh: "arccosh", np.arctanh: "arctanh", np.log2: "log2",
    np.log10: "log10", np.exp2: "exp2", np.cbrt: "cbrt", np.deg2rad: "deg2rad",
    np.radians: "deg2rad", np.rad2deg: "rad2deg", np.degrees: "rad2deg",
    np.fabs: "abs", np.sign: "sign", np.floor: "floor", np.ceil: "ceil", np.rint: "rint",
    np.trunc: "trunc", np.arctan2: "arctan2", np.hypot: "hypot", np.logaddexp: "logaddexp",
    np.logaddexp2: "logaddexp2", np.fmax: "fmax", np.fmin: "fmin",
    np.remainder: "remainder", np.fmod: "fmod", np.copysign: "copysign",
    np.float_power: "float_power", np.floor_divide: "floor_divide",
}

# ufuncs that are piecewise constant or boolean: computed on the values, not recorded
_PLAIN_UFUNCS = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.isnan, np.isinf,
    np.isfinite, np.signbit,
}

# numpy functions whose results carry no derivative: computed on the values
_PLAIN_FUNCTIONS = {
    np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.isclose, np.allclose,
    np.array_equal, np.any, np.all, np.nonzero, np.count_nonzero, np.zeros_like, np.ones_like,
    np.empty_like, np.full_like, np.result_type, np.iscomplexobj, np.isrealobj,
}


def ufunc(function, method, inputs, kwargs):
    """Entry point for ``Tracer.__array_ufunc__``."""
    name = function.__name__
    if "out" in kwargs:
        raise TraceError(f"np.{name}(..., out=...) at {_where(inputs)} writes into an existing "
                         "array in place; assign the result to a new name instead")
    if method != "__call__":
        raise _unsupported(f"np.{name}.{method}", inputs)
    if function in _PLAIN_UFUNCS:
        return function(*map(plain, inputs), **kwargs)
    if function in _PRODUCT_UFUNCS:
        return _PRODUCT_UFUNCS[function](*inputs, **kwargs)
    if kwargs:
        raise _unsupported(f"np.{name} with {', '.join(sorted(kwargs))}=", inputs)
    if function in _UFUNCS:
        return apply(_UFUNCS[function], inputs)
    if function is np.matmul:
        return matmul(*inputs)
    if function is np.square:
        return apply("power", (inputs[0], 2.0))
    if function is np.reciprocal:
        return apply("divide", (1.0, inputs[0]))
    if function in (np.positive, np.conjugate):  # the conjugate of a real number is itself
        return Tracer(inputs[0].node, inputs[0]._tape)  # a new array, not an alias
    raise _unsupported(f"np.{name}", inputs)


def function(func, args, kwargs):
    """Entry point for ``Tracer.__array_function__``."""
    if kwargs.get("out") is not None:
        raise TraceError(f"np.{func.__name__}(..., out=...) at {_where(args)} writes into an "
                         "existing array in place; assign the result to a new name instead")
    kwargs = {key: value for key, value in kwargs.items() if key != "out"}
    if func in _FUNCTIONS:
        return _FUNCTIONS[func](*args, **kwargs)
    if func in _PLAIN_FUNCTIONS:
        return func(*_plain_deep(args), **_plain_deep(kwargs))
    raise _unsupported(_numpy_name(func), args)


def _numpy_name(func) -> str:
    """``np.linalg.norm`` rather than ``np.norm``: the name the user wrote."""
    module = getattr(func, "__module__", "numpy") or "numpy"
    path = [part for part in module.split(".")[1:] if not part.startswith("_")]
    return ".".join(["np", *path, func.__name__])


def supported() -> list[str]:
    """The numpy names graphviz-ad differentiates, for error messages and the docs."""
    # np.linalg.inv, not np.inv
    names = {_numpy_name(f) for f in (*_UFUNCS, *_FUNCTIONS, *_PRODUCT_UFUNCS, np.matmul,
                                      np.square, np.reciprocal, np.conjugate)}
    return [*sorted(names), "operators + - * / ** @ and unary -", "x[index]", ".T",
            "x[index] = v", "in-place += -= *= /= **= @="]


# -- reductions --------------------------------------------------------------------------


def reduction(op, x, axis=None, keepdims=False):
    """sum, mean, max, min, prod or ptp over ``axis`` (None: all axes)."""
    axes = _reduced_axes(op, x, axis)
    if op in ("max", "min", "ptp") and 0 in [np.shape(plain(x))[a] for a in axes]:
        raise ShapeError(f"{op} of an empty array at {_where((x,))}")
    return apply(op, (x,), {"axis": axes, "keepdims": bool(keepdims)})


def _reduced_axes(op, x, axis) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence) as sorted non-negative axes of x."""
    ndim = np.ndim(plain(x))
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(_axis(a, ndim, op, x) for a in np.atleast_1d(axis).tolist()))


def _axis(axis: int, ndim: int, op: str, x) -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise ShapeError(f"{op}: axis {axis} is out of range for shape {np.shape(plain(x))} "
                         f"at {_where((x,))}")
    return axis % max(ndim, 1)


# -- reductions and scans, with numpy's signatures (the ndarray methods call these) ------


def reduce_sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=NO_VALUE,
               where=True):
    """np.sum(a, axis, dtype, out, keepdims, initial, where) and ``a.sum(…)``."""
    _check_options("sum", a, dtype, out, initial, where)
    return reduction("sum", a, axis, keepdims)


def reduce_mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    _check_options("mean", a, dtype, out, where=where)
    return reduction("mean", a, axis, keepdims)


def reduce_max(a, axis=None, out=None, keepdims=False, initial=NO_VALUE, where=True):
    _check_options("max", a, None, out, initial, where)
    return reduction("max", a, axis, keepdims)


def reduce_min(a, axis=None, out=None, keepdims=False, initial=NO_VALUE, where=True):
    _check_options("min", a, None, out, initial, where)
    return reduction("min", a, axis, keepdims)


def reduce_prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=NO_VALUE,
                where=True):
    """Π over ``axis``; its derivative is the product of the others (zeros are fine)."""
    _check_options("prod", a, dtype, out, initial, where)
    return reduction("prod", a, axis, keepdims)


def ptp(a, axis=None, out=None, keepdims=False):
    """The range max − min over ``axis``, one node."""
    _check_options("ptp", a, None, out)
    return reduction("ptp", a, axis, keepdims)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
        mean=NO_VALUE, correction=NO_VALUE):
    """The variance Σ(x − x̄)²/(n − ddof), one node whose rule is 2(x − x̄)ᵀ/(n − ddof)."""
    return _spread("var", a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
        mean=NO_VALUE, correction=NO_VALUE):
    """The standard deviation √var, one node whose rule is (x − x̄)ᵀ/((n − ddof) std)."""
    return _spread("std", a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def _spread(op, a, axis, dtype, out, ddof, keepdims, where, mean, correction):
    _check_options(op, a, dtype, out, where=where)
    if mean is not NO_VALUE:
        raise UnsupportedOperation(f"{op}(..., mean=...) at {_where((a,))}: leave the mean "
                                   "out; graphviz-ad computes it inside the node")
    if correction is not NO_VALUE:
        if ddof != 0:
            raise TraceError(f"{op} at {_where((a,))} was given both ddof and correction; "
                             "they are the same option, give one")
        ddof = correction
    axes = _reduced_axes(op, a, axis)
    count = prod(np.shape(plain(a))[k] for k in axes)
    if count - ddof <= 0:
        raise ShapeError(f"{op} of {count} value(s) with ddof={ddof} at {_where((a,))}: no "
                         "degrees of freedom are left (n − ddof ≤ 0)")
    return apply(op, (a,), {"axis": axes, "ddof": ddof, "keepdims": bool(keepdims)})


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """np.average: the mean without weights; with them Σ w a / Σ w, one node with a
    derivative for a and for w (weights shaped like a, or 1-d along ``axis``)."""
    at = _where((a, weights))
    if returned:
        raise UnsupportedOperation(f"np.average(..., returned=True) at {at}: compute the sum "
                                   "of the weights separately, np.sum(weights)")
    if weights is None:
        return reduction("mean", a, axis, keepdims)
    axes = _reduced_axes("average", a, axis)
    shape, weights_shape = np.shape(plain(a)), np.shape(plain(weights))
    if weights_shape != shape:
        if (axis is None or len(axes) != 1 or len(weights_shape) != 1
                or weights_shape[0] != shape[axes[0]]):
            raise ShapeError(f"average: weights of shape {weights_shape} do not fit a of shape "
                             f"{shape} with axis={axis} at {at}; give weights shaped like a, "
                             "or 1-d along one axis")
        along = tuple(n if k == axes[0] else 1 for k, n in enumerate(shape))
        weights = (reshape(weights, along) if isinstance(weights, Tracer)
                   else np.reshape(weights, along))
    if np.any(np.sum(np.broadcast_to(plain(weights), shape), axis=axes) == 0):
        raise ZeroDivisionError(f"average at {at}: the weights sum to zero, so they cannot "
                                "be normalised")
    return apply("average", (a, weights), {"axis": axes, "keepdims": bool(keepdims)})


def matrix_trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """np.trace: the sum of a diagonal, one node whose rule is vec(I)ᵀ."""
    _check_options("trace", a, dtype, out)
    ndim = np.ndim(plain(a))
    if ndim < 2:
        raise ShapeError(f"trace of shape {np.shape(plain(a))} at {_where((a,))}: it needs at "
                         "least two axes")
    first, second = _axis(axis1, ndim, "trace", a), _axis(axis2, ndim, "trace", a)
    if first == second:
        raise ShapeError(f"trace at {_where((a,))}: axis1 and axis2 are the same axis {first}")
    return apply("trace", (a,), {"offset": int(offset), "axis1": first, "axis2": second})


def cumsum(a, axis=None, dtype=None, out=None):
    """Running sums along ``axis`` (None: over the flattened array)."""
    return _scan("cumsum", a, axis, dtype, out)


def cumprod(a, axis=None, dtype=None, out=None):
    """Running products along ``axis`` (None: over the flattened array)."""
    return _scan("cumprod", a, axis, dtype, out)


def _scan(op, a, axis, dtype, out):
    _check_options(op, a, dtype, out)
    if axis is None:
        return apply(op, (a,))
    return apply(op, (a,), {"axis": (_axis(axis, np.ndim(plain(a)), op, a),)})


def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm: a vector norm over one axis, a matrix norm over two, one node."""
    shape = np.shape(plain(x))
    if axis is None:
        if ord is not None and len(shape) > 2:
            raise ShapeError(f"np.linalg.norm with ord={ord!r} of shape {shape} at "
                             f"{_where((x,))}: give axis= (one axis for a vector norm, two "
                             "for a matrix norm)")
        axes = tuple(range(len(shape)))
    else:
        axes = tuple(_axis(a, len(shape), "norm", x) for a in np.atleast_1d(axis).tolist())
        if len(axes) > 2 or len(set(axes)) != len(axes):
            raise ShapeError(f"np.linalg.norm with axis={axis} at {_where((x,))}: give one axis "
                             "(a vector norm) or two different axes (a matrix norm)")
    return apply("norm", (x,), {"ord": ord, "axis": axes, "keepdims": bool(keepdims)})


def _check_options(op, a, dtype=None, out=None, initial=NO_VALUE, where=True):
    """Refuse the options of a reduction (or a method) that a traced value cannot honour:
    ``out=`` (in place), a ``dtype`` other than its own, ``initial=`` and ``where=``."""
    if out is not None:
        raise TraceError(f"{op}(..., out=...) at {_where((a,))} writes into an existing array "
                         "in place; assign the result to a new name instead")
    if dtype is not None and np.dtype(dtype) != np.result_type(plain(a)):
        raise UnsupportedOperation(
            f"{op}(..., dtype={np.dtype(dtype)}) at {_where((a,))}: graphviz-ad computes in the "
            f"traced value's own dtype ({np.result_type(plain(a))}); cast the inputs before "
            "tracing instead")
    if initial is not NO_VALUE:
        raise UnsupportedOperation(f"{op}(..., initial=...) at {_where((a,))}: combine the "
                                   f"initial value with the result of {op} instead")
    if not (isinstance(where, (bool, np.bool_)) and where):
        raise UnsupportedOperation(f"{op}(..., where=...) at {_where((a,))}: select the "
                                   "elements first (np.where or a boolean index), then reduce")


# -- element-wise (more) -----------------------------------------------------------------


def around(a, decimals=0, out=None):
    """np.round / np.around / x.round(): piecewise constant, recorded with derivative 0."""
    _check_options("round", a, None, out)
    return apply("round", (a,), {"decimals": decimals})


def fix(x, out=None):
    """np.fix rounds towards zero: trunc."""
    _check_options("fix", x, None, out)
    return apply("trunc", (x,))


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN and ±∞ replaced by numbers: derivative 1 where x is finite, 0 where replaced."""
    if not copy:
        raise TraceError(f"np.nan_to_num(..., copy=False) at {_where((x,))} replaces values in "
                         "place; assign the result to a new name instead")
    return apply("nan_to_num", (x,), {"nan": nan, "posinf": posinf, "neginf": neginf})


def angle(z, deg=False):
    """The angle of a real number: 0 or π (180°), piecewise constant."""
    return apply("angle", (z,), {"deg": bool(deg)})


# -- products ----------------------------------------------------------------------------


def matmul(x, y):
    """x @ y with numpy's rules: a vector on the left is a row, on the right a column;
    operands with more axes are stacks of matrices, their leading axes broadcast."""
    shapes = np.shape(plain(x)), np.shape(plain(y))
    if 0 in (len(shapes[0]), len(shapes[1])):
        raise ShapeError(f"matmul: a scalar operand (shapes {shapes[0]} and {shapes[1]}) at "
                         f"{_where((x, y))}; use * to scale")
    return apply("matmul", (x, y))


def dot(a, b):
    """np.dot: a product with a scalar, matmul for vectors and matrices; for more axes,
    numpy's sum over a's last axis and b's second-to-last (not matmul's stacks)."""
    if np.ndim(plain(a)) == 0 or np.ndim(plain(b)) == 0:
        return apply("multiply", (a, b))
    if max(np.ndim(plain(a)), np.ndim(plain(b))) > 2:
        return apply("dot", (a, b))
    return matmul(a, b)


def outer(a, b):
    """np.outer(a, b) = a[:, None] * b[None, :] (flattened first)."""
    return apply("multiply", (reshape(a, (-1, 1)), reshape(b, (1, -1))))


# -- shapes ------------------------------------------------------------------------------


def transpose(x, axes=None):
    ndim = np.ndim(plain(x))
    axes = tuple(reversed(range(ndim))) if axes is None else tuple(a % ndim for a in axes)
    if sorted(axes) != list(range(ndim)):
        raise ShapeError(f"transpose: axes {axes} do not fit shape {np.shape(plain(x))} at "
                         f"{_where((x,))}")
    if axes == tuple(range(ndim)):
        return x  # a vector's transpose is itself in numpy
    params = {"axes": axes}
    result = apply("transpose", (x,), params)
    if isinstance(x, Tracer):
        note_view(x, result, "transpose", params)
    return result


def reshape(x, shape, order="C"):
    if order != "C":
        raise _unsupported(f"reshape(order={order!r})", (x,))
    value = plain(x)
    try:
        new_shape = np.reshape(value, shape).shape
    except ValueError as error:
        raise ShapeError(f"reshape: cannot reshape {np.shape(value)} into {shape} at "
                         f"{_where((x,))}: {error}") from None
    if new_shape == np.shape(value):
        return x
    params = {"shape": new_shape}
    result = apply("reshape", (x,), params)
    if isinstance(x, Tracer):
        note_view(x, result, "reshape", params)
    return result


def squeeze(x, axis=None):
    return reshape(x, np.squeeze(np.empty(np.shape(plain(x)), dtype=bool), axis).shape)


def _reshape_function(a, shape=None, order="C", newshape=None, copy=None):
    return reshape(a, shape if shape is not None else newshape, order)


def _expand_dims(a, axis):
    return reshape(a, np.expand_dims(np.empty(np.shape(plain(a)), dtype=bool), axis).shape)


def _atleast(ndim):
    """np.atleast_1d / np.atleast_2d: leading axes of length 1 (a vector becomes a row)."""

    def handler(*arrays):
        shaped = [
            reshape(a, (1,) * max(0, ndim - np.ndim(plain(a))) + np.shape(plain(a)))
            for a in arrays
        ]
        return shaped[0] if len(shaped) == 1 else shaped

    return handler


def _swapaxes(a, axis1, axis2):
    axes = list(range(np.ndim(plain(a))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(a, axes)


def concatenate(arrays, axis=0, dtype=None, casting=None):
    _refuse_options("np.concatenate", arrays, dtype=dtype, casting=casting)
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [reshape(a, -1) for a in arrays], 0
    ndim = np.ndim(plain(arrays[0]))
    return apply("concatenate", arrays, {"axis": _axis(axis, ndim, "concatenate", arrays)})


def stack(arrays, axis=0, dtype=None, casting=None):
    _refuse_options("np.stack", arrays, dtype=dtype, casting=casting)
    arrays = list(arrays)
    ndim = np.ndim(plain(arrays[0])) + 1
    return apply("stack", arrays, {"axis": _axis(axis, ndim, "stack", arrays)})


def _vstack(tup, dtype=None, casting=None):
    return concatenate([_atleast(2)(a) for a in tup], 0, dtype, casting)


def _hstack(tup, dtype=None, casting=None):
    arrays = [_atleast(1)(a) for a in tup]
    return concatenate(arrays, 0 if np.ndim(plain(arrays[0])) == 1 else 1, dtype, casting)


def where(condition, x=None, y=None):
    """np.where(c, x, y): x where c holds, else y; c is a plain mask (no derivative)."""
    if x is None and y is None:
        return np.where(plain(condition))
    condition = snapshot(np.asarray(plain(condition), dtype=bool))  # the caller may reuse it
    return apply("where", (x, y), {"condition": condition})


def clip(a, a_min=None, a_max=None, **extra):
    _refuse_options("np.clip", a, **extra)
    if a_min is not None:
        a = apply("maximum", (a, a_min))
    if a_max is not None:
        a = apply("minimum", (a, a_max))
    return a


# -- indexing ----------------------------------------------------------------------------


def index(x, key):
    """x[key] for ints, slices, None, ..., integer arrays and boolean masks.  A basic index
    (no arrays) is a view in numpy: it is remembered as one, so that writes carry over."""
    parts, text = index_parts(x, key)
    params = {"index": parts, "text": text}
    try:
        result = apply("index", (x,), params)
    except ShapeError:
        raise
    except IndexError as error:
        raise ShapeError(f"index {text} does not fit shape {np.shape(plain(x))} "
                         f"at {_where((x,))}: {error}") from None
    if not any(isinstance(part, np.ndarray) for part in parts):
        note_view(x, result, "index", params)
    return result


def index_parts(x, key) -> tuple[tuple, str]:
    """``key`` in a standard form (masks as integer arrays, ``...`` spelled out, index
    arrays as read-only snapshots) and as text for pictures."""
    parts = []
    for part in key if isinstance(key, tuple) else (key,):
        if isinstance(part, Tracer):
            raise TraceError(f"indexing with a traced value at {_where((x,))}: an index has no "
                             "derivative; index with .value if that is what you mean")
        if isinstance(part, (list, np.ndarray)):
            array = np.asarray(part)
            if isinstance(part, list) and not part:
                array = array.astype(np.intp)  # x[[]]: numpy reads an empty list as indices
            if array.dtype == bool:
                parts.extend(snapshot(where) for where in np.nonzero(array))
                continue
            if array.dtype.kind not in "iu":
                raise TraceError(f"index of dtype {array.dtype} at {_where((x,))}")
            parts.append(snapshot(array))
        else:
            parts.append(part)
    ndim = np.ndim(plain(x))
    used = sum(part is not None and part is not Ellipsis for part in parts)
    if Ellipsis in [p for p in parts if not isinstance(p, np.ndarray)]:
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        parts[at : at + 1] = [slice(None)] * (ndim - used)
    return tuple(parts), _index_text(parts)


def fit_value(x, parts, value):
    """The value of ``x[parts] = value`` without the leading axes of length 1 that numpy
    drops when it is longer than the selection (``a[0] = np.ones((1, 3))``)."""
    if isinstance(value, (list, tuple)) and _find_tracer(value) is not None:
        value = stack(value)  # x[:2] = [a, b] with traced a, b: numpy builds the array
    shape = np.shape(plain(value))
    if not shape or shape[0] != 1:  # the usual case, decided without indexing
        return value
    extra = len(shape) - np.ndim(plain(x)[parts])
    if extra > 0 and all(n == 1 for n in shape[:extra]):
        return reshape(value, shape[extra:]) if isinstance(value, Tracer) else \
            np.reshape(value, shape[extra:])
    return value


def _index_text(parts) -> str:
    def one(part):
        if isinstance(part, slice):
            text = ":".join("" if v is None else str(v) for v in (part.start, part.stop))
            return text + (f":{part.step}" if part.step is not None else "")
        if isinstance(part, np.ndarray):
            items = part.ravel().tolist()
            return str(items[:6])[:-1] + (", …]" if len(items) > 6 else "]")
        return "None" if part is None else str(part)

    return ", ".join(one(part) for part in parts)


# -- helpers -----------------------------------------------------------------------------


def _plain_deep(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_plain_deep(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain_deep(item) for key, item in value.items()}
    return plain(value)


def _find_tracer(values):
    for value in values:
        if isinstance(value, Tracer):
            return value
        if isinstance(value, (list, tuple)):
            found = _find_tracer(value)
            if found is not None:
                return found
    return None


def _where(values) -> str:
    """The user's file:line for an error message."""
    tracer = _find_tracer(values)
    return _location(tracer._tape.where()) if tracer is not None else "?"


def _unsupported(what: str, values) -> UnsupportedOperation:
    return UnsupportedOperation(
        f"{what} at {_where(values)} has no derivative rule in graphviz-ad. "
        f"Supported: {', '.join(supported())}"
    )


def _refuse_options(what: str, values, **options):
    given = sorted(key for key, value in options.items() if value is not None)
    if given:
        raise _unsupported(f"{what} with {', '.join(given)}=", (values,))


# -- products: einsum, tensordot, inner, vdot, kron, cross --------------------------------

# numpy's letters for einsum's interleaved form: 0–25 are A–Z, 26–51 are a–z
_SUBLIST_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def einsum(*operands, out=None, dtype=None, order="K", casting="safe", optimize=False):
    """np.einsum in either form, recorded with explicit output subscripts.

    ``einsum('ij,jk', A, B)`` is recorded as ``'ij,jk->ik'`` (implicit mode: the letters
    used once, in alphabetical order, after the broadcast axes ``...``).  ``optimize`` only
    changes the order of the sums, not the result.
    """
    _refuse_options("np.einsum", operands, dtype=dtype)
    if isinstance(operands[0], str):
        spec, arrays = operands[0].replace(" ", ""), list(operands[1:])
    else:
        spec, arrays = _einsum_from_sublists(operands)
    if "->" not in spec:
        letters = spec.replace("...", "").replace(",", "")
        once = sorted(c for c in set(letters) if letters.count(c) == 1)
        spec += "->" + ("..." if "..." in spec else "") + "".join(once)
    if len(spec.split("->")[0].split(",")) != len(arrays):
        raise ShapeError(f"einsum {spec!r} names {spec.count(',') + 1} operands but "
                         f"{len(arrays)} were given at {_where(arrays)}")
    return apply("einsum", arrays, {"subscripts": spec})


def _einsum_from_sublists(operands):
    """einsum(A, [0, 1], B, [1, 2], [0, 2]) → ('AB,BC->AC', [A, B])."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else _SUBLIST_LETTERS[s] for s in sublist)

    pairs = len(operands) // 2
    arrays = [operands[2 * k] for k in range(pairs)]
    spec = ",".join(letters(operands[2 * k + 1]) for k in range(pairs))
    if len(operands) % 2:
        spec += "->" + letters(operands[-1])
    return spec, arrays


def tensordot(a, b, axes=2):
    """np.tensordot: ``axes=n`` pairs a's last n axes with b's first n; a pair of lists
    names them."""
    ndim_a, ndim_b = np.ndim(plain(a)), np.ndim(plain(b))
    if isinstance(axes, (int, np.integer)):
        axes_a, axes_b = range(ndim_a - axes, ndim_a), range(axes)
    else:
        axes_a, axes_b = (np.atleast_1d(side).tolist() for side in axes)
    pair = (tuple(_axis(k, ndim_a, "tensordot", a) for k in axes_a),
            tuple(_axis(k, ndim_b, "tensordot", b) for k in axes_b))
    if len(pair[0]) != len(pair[1]):
        raise ShapeError(f"tensordot: axes {axes} pair {len(pair[0])} axes of a with "
                         f"{len(pair[1])} of b at {_where((a, b))}")
    return apply("tensordot", (a, b), {"axes": pair})


def _scalar_or(op):
    """inner, vdot and kron with a number are plain products, as in numpy."""

    def handler(a, b):
        if np.ndim(plain(a)) == 0 or np.ndim(plain(b)) == 0:
            return apply("multiply", (a, b))
        return apply(op, (a, b))

    return handler


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross of 3-vectors (or 2-vectors, read as z = 0) along ``axisa``/``axisb``,
    the result's vectors along ``axisc`` (``axis`` sets all three)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _move_axis(a, axisa, -1), _move_axis(b, axisb, -1)
    lengths = np.shape(plain(a))[-1], np.shape(plain(b))[-1]
    if not set(lengths) <= {2, 3}:
        raise ShapeError(f"cross: vectors of lengths {lengths[0]} and {lengths[1]} at "
                         f"{_where((a, b))}; the cross product needs 2- or 3-vectors")
    result = apply("cross", (a, b))
    return result if lengths == (2, 2) else _move_axis(result, -1, axisc)


def _move_axis(x, source, destination, op="cross"):
    """np.moveaxis as a transpose (nothing recorded when nothing moves, or for a plain
    array, which is moved by numpy)."""
    ndim = np.ndim(plain(x))
    if ndim == 0:
        raise ShapeError(f"{op}: a number has no vector axis at {_where((x,))}")
    order = list(range(ndim))
    order.insert(_axis(destination, ndim, op, x), order.pop(_axis(source, ndim, op, x)))
    return transpose(x, order) if isinstance(x, Tracer) else np.transpose(x, order)


def vecdot(x1, x2, axis=-1):
    """np.vecdot / np.linalg.vecdot: the dot product along ``axis``, the other axes
    broadcast; recorded as the einsum it is, '...i,...i->...'."""
    return einsum("...i,...i->...", _move_axis(x1, axis, -1, "vecdot"),
                  _move_axis(x2, axis, -1, "vecdot"))


def _matvec(x1, x2):
    """np.matvec(A, x) = A @ x for stacks: '...ij,...j->...i'."""
    return einsum("...ij,...j->...i", x1, x2)


def _vecmat(x1, x2):
    """np.vecmat(x, A) = xᵀ A for stacks: '...i,...ij->...j'."""
    return einsum("...i,...ij->...j", x1, x2)


def _linalg_outer(x1, x2):
    """np.linalg.outer: like np.outer, but only for vectors."""
    if np.ndim(plain(x1)) != 1 or np.ndim(plain(x2)) != 1:
        raise ShapeError(f"np.linalg.outer of shapes {np.shape(plain(x1))} and "
                         f"{np.shape(plain(x2))} at {_where((x1, x2))}: needs two vectors")
    return outer(x1, x2)


def multi_dot(arrays, *, out=None):
    """np.linalg.multi_dot: a chain of matrix products, drawn as one matmul node per
    product.  The first array may be a vector (a row), the last one too (a column)."""
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ShapeError(f"np.linalg.multi_dot needs at least two arrays at {_where(arrays)}")
    result = arrays[0]
    for array in arrays[1:]:
        traced = isinstance(result, Tracer) or isinstance(array, Tracer)
        result = matmul(result, array) if traced else np.matmul(result, array)
    return result


def matrix_power(a, n):
    """np.linalg.matrix_power: products of a (of a⁻¹ for n < 0) by binary decomposition, as
    numpy computes them; a⁰ is the identity, a constant."""
    _matrices("matrix_power", a)
    if n == 0:
        return np.broadcast_to(np.eye(np.shape(plain(a))[-1]), np.shape(plain(a))).copy()
    if n < 0:
        a, n = apply("inv", (a,)), -n
    if n <= 3:
        result = a
        for _ in range(n - 1):
            result = matmul(result, a)
        return result
    square, result = None, None
    while n > 0:
        square = a if square is None else matmul(square, square)
        n, bit = divmod(n, 2)
        if bit:
            result = square if result is None else matmul(result, square)
    return result


# -- linear algebra ------------------------------------------------------------------------
# Several outputs come back as numpy's named tuples: each differentiable output is its own
# node of the input, a piecewise-constant one (slogdet's sign) is a plain array.

SlogdetResult = namedtuple("SlogdetResult", "sign logabsdet")
EighResult = namedtuple("EighResult", "eigenvalues eigenvectors")
EigResult = namedtuple("EigResult", "eigenvalues eigenvectors")
SVDResult = namedtuple("SVDResult", "U S Vh")


def _matrices(name: str, a, square: bool = True):
    """Refuse anything but a (stack of) matrices, square when ``square``."""
    shape = np.shape(plain(a))
    if len(shape) < 2 or (square and shape[-1] != shape[-2]):
        kind = "square matrix" if square else "matrix"
        raise ShapeError(f"np.linalg.{name} of shape {shape} at {_where((a,))}: needs a {kind} "
                         "(or a stack of them in the leading axes)")


def _square_matrix_function(op):
    """np.linalg.inv and det: one primitive of a (stack of) square matrices."""

    def handler(a):
        _matrices(op, a)
        return apply(op, (a,))

    return handler


def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """np.linalg.pinv; ``hermitian`` only picks numpy's algorithm, the result is the same."""
    _refuse_options("np.linalg.pinv", a, rtol=rtol)
    _matrices("pinv", a, square=False)
    return apply("pinv", (a,), None if rcond is None else {"rcond": rcond})


def slogdet(a):
    """(sign, log|det a|): the sign is piecewise constant, so it is a plain array."""
    _matrices("slogdet", a)
    return SlogdetResult(np.linalg.slogdet(plain(a))[0], apply("logabsdet", (a,)))


def solve(a, b):
    """solve(a, b) = a⁻¹ b; b is a vector or a (stack of) matrices, read as numpy does."""
    _matrices("solve", a)
    return apply("solve", (a, b))


def cholesky(a, upper=False):
    """The lower factor L (a = L Lᵀ) from a's lower triangle; ``upper=True`` reads the upper
    triangle and returns Lᵀ, which is the lower factor of aᵀ, transposed."""
    _matrices("cholesky", a)
    if upper:
        return _swapaxes(apply("cholesky", (_swapaxes(a, -1, -2),)), -1, -2)
    return apply("cholesky", (a,))


def _uplo(name, a, UPLO):
    _matrices(name, a)
    if str(UPLO).upper() not in ("L", "U"):
        raise ValueError(f"np.linalg.{name} at {_where((a,))}: UPLO must be 'L' or 'U', not "
                         f"{UPLO!r}")
    return {"UPLO": str(UPLO).upper()}


def eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, from one triangle."""
    params = _uplo("eigh", a, UPLO)
    return EighResult(apply("eigh_values", (a,), params), apply("eigh_vectors", (a,), params))


def eigvalsh(a, UPLO="L"):
    """The eigenvalues alone: the same node as eigh's first output."""
    return apply("eigh_values", (a,), _uplo("eigvalsh", a, UPLO))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """U, S, Vh with numpy's defaults; U and Vh need the reduced SVD unless a is square
    (the extra columns of the full one are not unique, so they have no derivative)."""
    _matrices("svd", a, square=False)
    if not compute_uv:
        return apply("svd_values", (a,))
    if hermitian:
        raise UnsupportedOperation(
            f"np.linalg.svd(..., hermitian=True) at {_where((a,))}: numpy then takes U and Vh "
            "from an eigendecomposition, with other signs than the SVD graphviz-ad "
            "differentiates; drop hermitian=True (compute_uv=False is fine with it)"
        )
    m, n = np.shape(plain(a))[-2:]
    if full_matrices and m != n:
        raise UnsupportedOperation(
            f"np.linalg.svd of a {m}×{n} matrix with full_matrices=True at {_where((a,))}: the "
            "extra columns of U or V are not unique, so they have no derivative; pass "
            "full_matrices=False (or compute_uv=False for the singular values alone)"
        )
    return SVDResult(apply("svd_u", (a,)), apply("svd_values", (a,)), apply("svd_vh", (a,)))


def _real_spectrum(name, a):
    _matrices(name, a)
    if np.iscomplexobj(np.linalg.eigvals(plain(a))):
        raise UnsupportedOperation(
            f"np.linalg.{name} at {_where((a,))}: the matrix has complex eigenvalues, and "
            "graphviz-ad differentiates real values only; a symmetric matrix has a real "
            "spectrum (np.linalg.eigh)"
        )


def eig(a):
    """Eigenvalues and unit eigenvectors of a matrix whose eigenvalues are all real."""
    _real_spectrum("eig", a)
    return EigResult(apply("eig_values", (a,)), apply("eig_vectors", (a,)))


def eigvals(a):
    """The eigenvalues alone: the same node as eig's first output."""
    _real_spectrum("eigvals", a)
    return apply("eig_values", (a,))


_FUNCTIONS = {
    np.sum: reduce_sum,
    np.mean: reduce_mean,
    np.max: reduce_max,
    np.min: reduce_min,
    np.dot: dot,
    np.outer: outer,
    np.transpose: transpose,
    np.swapaxes: _swapaxes,
    np.reshape: _reshape_function,
    np.ravel: lambda a, order="C": reshape(a, -1, order),
    np.squeeze: squeeze,
    np.expand_dims: _expand_dims,
    np.atleast_1d: _atleast(1),
    np.atleast_2d: _atleast(2),
    np.concatenate: concatenate,
    np.stack: stack,
    np.vstack: _vstack,
    np.hstack: _hstack,
    np.where: where,
    np.clip: clip,
    # -- products
    np.einsum: einsum,
    np.tensordot: tensordot,
    np.inner: _scalar_or("inner"),
    np.vdot: _scalar_or("vdot"),
    np.kron: _scalar_or("kron"),
    np.cross: cross,
    # -- linear algebra
    np.linalg.inv: _square_matrix_function("inv"),
    np.linalg.pinv: pinv,
    np.linalg.det: _square_matrix_function("det"),
    np.linalg.slogdet: slogdet,
    np.linalg.solve: solve,
    np.linalg.cholesky: cholesky,
    np.linalg.eigh: eigh,
    np.linalg.eigvalsh: eigvalsh,
    np.linalg.svd: svd,
    np.linalg.eig: eig,
    np.linalg.eigvals: eigvals,
    np.linalg.multi_dot: multi_dot,
    np.linalg.matrix_power: matrix_power,
    # -- element-wise (more)
    np.round: around,
    np.around: around,
    np.fix: fix,
    np.sinc: lambda x: apply("sinc", (x,)),
    np.nan_to_num: nan_to_num,
    np.real: lambda val: val,  # the real part of a real number is itself
    np.imag: lambda val: apply("imag", (val,)),
    np.angle: angle,
    # -- reductions and scans
    np.prod: reduce_prod,
    np.var: var,
    np.std: std,
    np.average: average,
    np.ptp: ptp,
    np.trace: matrix_trace,
    np.cumsum: cumsum,
    np.cumprod: cumprod,
    np.linalg.norm: norm,
}
if hasattr(np.linalg, "svdvals"):  # numpy ≥ 2: the array API's names in np.linalg
    _FUNCTIONS.update({
        np.linalg.svdvals: lambda x: svd(x, compute_uv=False),
        np.linalg.matmul: matmul,
        np.linalg.tensordot: lambda x1, x2, axes=2: tensordot(x1, x2, axes),
        np.linalg.outer: _linalg_outer,
        np.linalg.cross: lambda x1, x2, axis=-1: cross(x1, x2, axis=axis),
        np.linalg.vecdot: vecdot,
    })
# an einsum's contraction order and a matrix's rank carry no derivative
_PLAIN_FUNCTIONS |= {np.einsum_path, np.linalg.matrix_rank}
# numpy ≥ 2 ufuncs for products of stacks, recorded as einsum
_PRODUCT_UFUNCS = {getattr(np, name): handler for name, handler in (
    ("vecdot", vecdot), ("matvec", _matvec), ("vecmat", _vecmat)) if hasattr(np, name)}
# -- writes: copies are new arrays ("copy" nodes), never aliases of the original
_FUNCTIONS[np.copy] = lambda a, order="K", subok=False: apply("copy", (a,))

for _alias in ("amax", "amin"):  # older numpy spells max and min this way
    if hasattr(np, _alias) and getattr(np, _alias) not in _FUNCTIONS:
        _FUNCTIONS[getattr(np, _alias)] = _FUNCTIONS[np.max if _alias == "amax" else np.min]
