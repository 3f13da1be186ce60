"""How numpy's calls on traced values become primitives.

numpy hands a traced value back to us three ways: ufuncs (``np.exp(x)``, ``a + x``) through
``__array_ufunc__``, functions (``np.sum``, ``np.concatenate``) through
``__array_function__``, and the methods and operators of :class:`~.tracer.Tracer`.  Each
lands here, where its arguments are put in a standard form (axes normalised, shapes
resolved) and the primitive is recorded.  A few conveniences are spelled with primitives
(``np.square(x)`` is ``x ** 2``, ``np.outer`` is a broadcast product, ``np.clip`` is
``min(max(x, lo), hi)``).  Non-differentiable operations (comparisons, ``np.argmax``,
``np.sign``) run on the plain values and return plain arrays.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, TraceError, UnsupportedOperation
from .tracer import Tracer, _location, apply, note_view, plain, snapshot

# ufuncs recorded as the primitive of that name
_UFUNCS = {
    np.add: "add", np.subtract: "subtract", np.multiply: "multiply", np.divide: "divide",
    np.power: "power", np.maximum: "maximum", np.minimum: "minimum", np.negative: "negative",
    np.exp: "exp", np.log: "log", np.sqrt: "sqrt", np.sin: "sin", np.cos: "cos", np.tan: "tan",
    np.tanh: "tanh", np.sinh: "sinh", np.cosh: "cosh", np.arctan: "arctan",
    np.arcsin: "arcsin", np.arccos: "arccos", np.log1p: "log1p", np.expm1: "expm1",
    np.absolute: "abs",
}

# ufuncs that are piecewise constant or boolean: computed on the values, not recorded
_PLAIN_UFUNCS = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.isnan, np.isinf,
    np.isfinite, np.signbit, np.sign, np.floor, np.ceil, np.trunc, np.rint, np.floor_divide,
}

# numpy functions whose results carry no derivative: computed on the values
_PLAIN_FUNCTIONS = {
    np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.isclose, np.allclose,
    np.array_equal, np.any, np.all, np.nonzero, np.count_nonzero, np.zeros_like, np.ones_like,
    np.empty_like, np.full_like, np.round, np.around, np.result_type, np.iscomplexobj,
    np.isrealobj,
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
    if function is np.positive:
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
    names = {f"np.{f.__name__}" for f in (*_UFUNCS, *_FUNCTIONS, np.matmul, np.square,
                                          np.reciprocal)}
    return [*sorted(names), "operators + - * / ** @ and unary -", "x[index]", ".T",
            "x[index] = v", "in-place += -= *= /= **= @="]


# -- reductions --------------------------------------------------------------------------


def reduction(op, x, axis=None, keepdims=False):
    """sum, mean, max or min over ``axis`` (None: all axes)."""
    ndim = np.ndim(plain(x))
    if axis is None:
        axes = tuple(range(ndim))
    else:
        axes = tuple(sorted(_axis(a, ndim, op, x) for a in np.atleast_1d(axis).tolist()))
    if op in ("max", "min") and 0 in [np.shape(plain(x))[a] for a in axes]:
        raise ShapeError(f"{op} of an empty array at {_where((x,))}")
    return apply(op, (x,), {"axis": axes, "keepdims": bool(keepdims)})


def _reduction_function(op):
    def handler(a, axis=None, dtype=None, keepdims=False, **extra):
        _refuse_options(f"np.{op}", a, dtype=dtype, **extra)
        return reduction(op, a, axis, keepdims)

    return handler


def _axis(axis: int, ndim: int, op: str, x) -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise ShapeError(f"{op}: axis {axis} is out of range for shape {np.shape(plain(x))} "
                         f"at {_where((x,))}")
    return axis % max(ndim, 1)


# -- products ----------------------------------------------------------------------------


def matmul(x, y):
    """x @ y for vectors and matrices (numpy's rules: a vector on the left is a row)."""
    shapes = np.shape(plain(x)), np.shape(plain(y))
    if 0 in (len(shapes[0]), len(shapes[1])):
        raise ShapeError(f"matmul: a scalar operand (shapes {shapes[0]} and {shapes[1]}) at "
                         f"{_where((x, y))}; use * to scale")
    if max(len(shapes[0]), len(shapes[1])) > 2:
        raise UnsupportedOperation(
            f"matmul of shapes {shapes[0]} and {shapes[1]} at {_where((x, y))}: only vectors "
            "and matrices are supported; loop over the batch or reshape to a matrix"
        )
    return apply("matmul", (x, y))


def dot(a, b):
    """np.dot: a product with a scalar, otherwise matmul."""
    if np.ndim(plain(a)) == 0 or np.ndim(plain(b)) == 0:
        return apply("multiply", (a, b))
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


_FUNCTIONS = {
    np.sum: _reduction_function("sum"),
    np.mean: _reduction_function("mean"),
    np.max: _reduction_function("max"),
    np.min: _reduction_function("min"),
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
}
# -- writes: copies are new arrays ("copy" nodes), never aliases of the original
_FUNCTIONS[np.copy] = lambda a, order="K", subok=False: apply("copy", (a,))

for _alias in ("amax", "amin"):  # older numpy spells max and min this way
    if hasattr(np, _alias) and getattr(np, _alias) not in _FUNCTIONS:
        _FUNCTIONS[getattr(np, _alias)] = _FUNCTIONS[np.max if _alias == "amax" else np.min]
