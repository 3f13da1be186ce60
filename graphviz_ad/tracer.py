"""Tracing: run an ordinary numpy function once and record every differentiable operation.

``trace(f, *args)`` wraps each input in a :class:`Tracer`, a stand-in for an array that
numpy hands back to us (``__array_ufunc__``, ``__array_function__``, operators, methods).
Each operation computes its value with numpy right away (define-by-run: ``if``, ``for``
and function calls simply run) and appends a :class:`Node` to the tape: the op's name, its
operand nodes in argument order, its value, its parameters and where in the user's code it
was called.  The tracer knows nothing about derivatives; those live in the primitive
table and are only looked up when someone asks for a Jacobian.

>>> import numpy as np
>>> g = trace(lambda x: np.sin(x ** 2), 1.5)
>>> [node.op for node in g.nodes]
['input', 'const', 'power', 'sin']
"""

from __future__ import annotations

import gc
import linecache
import os
import sys
from dataclasses import dataclass
from inspect import Parameter, signature

import numpy as np

from .errors import ShapeError, TraceError
from .primitives import PRIMITIVES

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(np.__file__)
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class Source:
    """Where a node was made: a line of the user's code."""

    filename: str
    lineno: int
    function: str

    @property
    def line(self) -> str:
        """The text of that line, stripped (empty when the file cannot be read)."""
        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self) -> str:
        return f"{os.path.basename(self.filename)}:{self.lineno}"


@dataclass(frozen=True)
class Call:
    """One call of a user's function during tracing: the nodes it made can be grouped.

    ``index`` numbers the calls in the order they started (0 is the traced function
    itself); ``parent`` is the index of the caller, None for the traced function.
    """

    index: int
    function: str
    filename: str
    lineno: int  # the line of the call in the caller (the def line for the traced function)
    parent: int | None


class Node:
    """One recorded value: an input, a constant or the result of a primitive.

    Nodes hold data only (no closures), so a large scalar graph costs the garbage collector
    nothing extra.  ``inputs`` lists the operands in argument order: ``x * x`` lists x twice.
    """

    __slots__ = (
        "_calls", "_code", "_label", "_lineno", "id", "inputs", "name", "op", "params", "value"
    )

    def __init__(self, id, op, inputs, value, params, name, code, lineno, calls):
        self.id = id
        self.op = op
        self.inputs = inputs
        self.value = value
        self.params = params
        self.name = name
        self._code = code
        self._lineno = lineno
        self._calls = calls
        self._label = None  # made on first use: pictures ask for every label many times

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def source(self) -> Source:
        return Source(self._code.co_filename, self._lineno, self._code.co_name)

    @property
    def call_path(self) -> tuple[int, ...]:
        """Indices of the user calls this node was made in, outermost first (see ``Call``)."""
        return self._calls

    @property
    def label(self) -> str:
        """The name rules and pictures use: the input's name, a constant's value when it is a
        number, ``c₅`` for other constants, ``u₇`` for intermediate results (as in the paper's
        u₁ = x², y = x + u₁)."""
        if self._label is None:
            if self.name is not None:
                self._label = self.name
            elif self.op == "const" and np.ndim(self.value) == 0:
                self._label = _format_number(self.value)
            else:
                self._label = _sub("c" if self.op == "const" else "u", self.id)
        return self._label

    def labels(self) -> dict[str, str]:
        """Operand names for rule templates: x, y by position, out for this node."""
        names = {"out": self.label}
        for key, operand in zip("xy", self.inputs):
            names[key] = operand.label
        return names

    @property
    def call_text(self) -> str:
        """The operation as code, with its parameters: ``sum(u₃, axis=0)``, ``u₅[1:3]``."""
        operands = [operand.label for operand in self.inputs]
        params = self.params or {}
        if self.op == "index":
            return f"{operands[0]}[{params['text']}]"
        if self.op == "where":
            operands.insert(0, "c")
        if "axis" in params and (self.op in ("concatenate", "stack") or
                                 len(params["axis"]) < len(self.inputs[0].shape)):
            axis = params["axis"]
            operands.append(f"axis={axis if isinstance(axis, int) else ','.join(map(str, axis))}")
        if params.get("keepdims"):
            operands.append("keepdims")
        if "axes" in params and len(params["axes"]) > 2:
            operands.append(f"axes={params['axes']}")
        if "shape" in params:
            operands.append(str(params["shape"]))
        return f"{self.op}({', '.join(operands)})"

    def describe(self) -> str:
        """The node and where it was made: ``u₁ = sqrt(x) at f.py:4 (`return np.sqrt(x)`)``."""
        text = f"{self.label} = {self.call_text}" if self.inputs else self.label
        line = self.source.line
        return f"{text} at {self.source}" + (f" (`{line}`)" if line else "")

    def jacobian(self, i: int):
        """The local Jacobian ∂self/∂self.inputs[i], a structured operator.

        >>> import numpy as np
        >>> g = trace(lambda w, x: w @ x, np.ones(3), np.arange(3.0))
        >>> g.output.jacobian(0).rule, g.output.jacobian(0).kind
        ('xᵀ', 'matmul')
        """
        if not 0 <= i < len(self.inputs):
            if not self.inputs:
                raise ValueError(f"{self.op} node {self.label} has no inputs, so no local "
                                 "Jacobian")
            raise IndexError(
                f"{self.op} node {self.label} has {len(self.inputs)} inputs, not {i + 1}"
            )
        return PRIMITIVES[self.op].partial(i)(self, i)

    def __repr__(self) -> str:
        call = self.call_text if self.inputs else self.op
        return f"<Node {self.id} {self.label} = {call} shape={self.shape}>"


def _sub(letter: str, number: int) -> str:
    return letter + str(number).translate(_SUBSCRIPT)


def _format_number(value) -> str:
    return f"{float(value):g}" if np.isrealobj(value) else str(value)


class _Tape:
    """The nodes of one trace in the order they were made, and where each came from."""

    def __init__(self, root_code):
        self.nodes: list[Node] = []
        self.calls: list[Call] = []
        self.root_code = root_code
        self.open = True
        self._frames: dict[int, tuple] = {}  # id(frame) -> (frame, call index): live frames only
        self._last_frame = None
        self._last_where = (None, 0, ())
        self._constants: dict[int, tuple] = {}  # id(array) -> (array, node): one node per array

    def add(self, op, inputs, value, params=None, name=None, where=None) -> Node:
        code, lineno, calls = where if where is not None else self.where()
        nodes = self.nodes
        node = Node(len(nodes), op, inputs, value, params, name, code, lineno, calls)
        nodes.append(node)
        return node

    def where(self):
        """The innermost frame of the user's code that is running, and its call path."""
        frame = sys._getframe(2)  # the caller (1) is graphviz-ad itself: start above it
        internal = _INTERNAL  # inlined _is_internal: this runs once per recorded operation
        while True:
            filename = frame.f_code.co_filename
            known = internal.get(filename)
            if known is None:
                known = _is_internal(filename)
            if not known:
                break
            frame = frame.f_back
        if frame is self._last_frame:  # the usual case: the same function as the last op
            code, _, calls = self._last_where
            where = (code, frame.f_lineno, calls)
        else:
            where = (frame.f_code, frame.f_lineno, self._call_path(frame))
            self._last_frame = frame
        self._last_where = where
        return where

    def _call_path(self, frame) -> tuple[int, ...]:
        """The calls from the traced function down to ``frame``, as indices into ``calls``."""
        frames = []
        while frame is not None and frame.f_code is not self.root_code:
            # comprehensions are frames on some Python versions, not calls of the user's
            if frame.f_code.co_name not in _COMPREHENSIONS:
                frames.append(frame)
            frame = frame.f_back
        path: list[int] = []
        for frame in reversed(frames):
            entry = self._frames.get(id(frame))
            if entry is None or entry[0] is not frame:
                entry = (frame, self._new_call(frame, path[-1] if path else None))
                self._frames[id(frame)] = entry
            path.append(entry[1])
        return tuple(path)

    def _new_call(self, frame, parent: int | None) -> int:
        code = frame.f_code
        # the traced function is located by its def line, a nested call by its call site
        caller = frame.f_back
        lineno = code.co_firstlineno if parent is None else caller.f_lineno
        self.calls.append(Call(len(self.calls), code.co_name, code.co_filename, lineno, parent))
        return len(self.calls) - 1

    def constant(self, value, where) -> Node:
        """A node for a plain operand; the same array object used twice is one node.

        Python numbers stay Python numbers, so that numpy treats them as weak scalars
        (``float32_array * 2.0`` stays float32, as it would without tracing)."""
        if type(value) in (int, float):
            return self.add("const", (), value, where=where)
        if isinstance(value, np.ndarray):
            known = self._constants.get(id(value))
            if known is not None and known[0] is value:
                return known[1]
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TraceError(
                f"an operand of dtype {array.dtype} at {_location(where)} cannot be traced: "
                "graphviz-ad differentiates real floating-point arrays only"
            )
        node = self.add("const", (), array if array.ndim else array[()], where=where)
        if isinstance(value, np.ndarray):
            self._constants[id(value)] = (value, node)
        return node

    def close(self) -> None:
        self.open = False
        self._frames.clear()  # release the user's frames (and their locals)
        self._constants.clear()
        self._last_frame = None


_INTERNAL: dict[str, bool] = {}
_COMPREHENSIONS = frozenset({"<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>"})

# Callables that receive every Graph that trace() returns: graphviz_ad.collect listens here
# to find the graphs a user's script built.
listeners: list = []


def _is_internal(filename: str) -> bool:
    """Frames of graphviz-ad itself and of numpy are skipped when looking for the user's line."""
    known = _INTERNAL.get(filename)
    if known is None:
        folder = os.path.dirname(os.path.abspath(filename))
        known = folder == _PACKAGE_DIR or folder.startswith(_NUMPY_DIR)
        _INTERNAL[filename] = known
    return known


def _location(where) -> str:
    code, lineno, _ = where
    return f"{os.path.basename(code.co_filename)}:{lineno}"


class Tracer:
    """What the traced function sees instead of an array: numpy routes every operation on it
    back to graphviz-ad, which computes the value and records a node.

    It behaves like a read-only float array: operators, ufuncs, numpy functions, ``.T``,
    ``.sum()``, ``.reshape()``, indexing.  Comparisons give plain boolean arrays (they have
    no derivative), so ``if x > 0:`` just runs.  Turning it into a plain number or array
    (``float(x)``, ``np.asarray(x)``) is refused, since the result would silently fall out of
    the graph; ``x.value`` is the explicit way to peek at the number.
    """

    __slots__ = ("_tape", "node")
    __array_priority__ = 1000  # ndarray ⊕ Tracer defers to the Tracer

    def __init__(self, node: Node, tape: _Tape):
        self.node = node
        self._tape = tape

    # -- array-like attributes -----------------------------------------------------------
    @property
    def value(self):
        return self.node.value

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.node.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.node.value)

    @property
    def size(self) -> int:
        return np.size(self.node.value)

    @property
    def dtype(self):
        return np.result_type(self.node.value)

    @property
    def T(self):
        return dispatch.transpose(self)

    def __len__(self) -> int:
        return len(self.node.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self.node.value)

    def __format__(self, spec: str) -> str:
        return format(self.node.value, spec)

    def __repr__(self) -> str:
        return f"Tracer({self.node.label}, value={self.node.value!r})"

    # -- numpy protocols -------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return dispatch.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return dispatch.function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        raise _escape(self, "np.asarray() / np.array()", "build arrays with np.stack or "
                      "np.concatenate, or read .value on purpose")

    def __float__(self):
        raise _escape(self, "float()", "use numpy functions (np.exp, not math.exp)")

    def __int__(self):
        raise _escape(self, "int()", "read .value on purpose if the number is wanted")

    __index__ = __int__
    __complex__ = __float__

    def item(self, *args):
        raise _escape(self, ".item()", "read .value on purpose if the number is wanted")

    def tolist(self):
        raise _escape(self, ".tolist()", "read .value on purpose if the numbers are wanted")

    def __setitem__(self, key, value):
        raise TraceError(
            f"in-place assignment x[...] = ... at {_location(self._tape.where())} would change a "
            "recorded value; build a new array instead (np.where, np.concatenate, np.stack)"
        )

    # -- operators ---------------------------------------------------------------------------
    def __add__(self, other):
        return apply("add", (self, other))

    def __radd__(self, other):
        return apply("add", (other, self))

    def __sub__(self, other):
        return apply("subtract", (self, other))

    def __rsub__(self, other):
        return apply("subtract", (other, self))

    def __mul__(self, other):
        return apply("multiply", (self, other))

    def __rmul__(self, other):
        return apply("multiply", (other, self))

    def __truediv__(self, other):
        return apply("divide", (self, other))

    def __rtruediv__(self, other):
        return apply("divide", (other, self))

    def __pow__(self, other):
        return apply("power", (self, other))

    def __rpow__(self, other):
        return apply("power", (other, self))

    def __matmul__(self, other):
        return dispatch.matmul(self, other)

    def __rmatmul__(self, other):
        return dispatch.matmul(other, self)

    def __neg__(self):
        return apply("negative", (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return apply("abs", (self,))

    def __floordiv__(self, other):
        return np.floor_divide(self.node.value, plain(other))  # piecewise constant: no slope

    def __rfloordiv__(self, other):
        return np.floor_divide(plain(other), self.node.value)

    def __mod__(self, other):
        return dispatch.ufunc(np.remainder, "__call__", (self, other), {})

    def __rmod__(self, other):
        return dispatch.ufunc(np.remainder, "__call__", (other, self), {})

    def __getitem__(self, key):
        return dispatch.index(self, key)

    def __lt__(self, other):
        return np.less(self.node.value, plain(other))

    def __le__(self, other):
        return np.less_equal(self.node.value, plain(other))

    def __gt__(self, other):
        return np.greater(self.node.value, plain(other))

    def __ge__(self, other):
        return np.greater_equal(self.node.value, plain(other))

    def __eq__(self, other):
        return np.equal(self.node.value, plain(other))

    def __ne__(self, other):
        return np.not_equal(self.node.value, plain(other))

    __hash__ = None  # like an ndarray

    # -- methods -----------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return dispatch.reduction("sum", self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return dispatch.reduction("mean", self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return dispatch.reduction("max", self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return dispatch.reduction("min", self, axis, keepdims)

    def reshape(self, *shape, order="C"):
        return dispatch.reshape(self, shape[0] if len(shape) == 1 else shape, order)

    def transpose(self, *axes):
        return dispatch.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def ravel(self):
        return dispatch.reshape(self, -1)

    flatten = ravel

    def squeeze(self, axis=None):
        return dispatch.squeeze(self, axis)

    def dot(self, other):
        return dispatch.dot(self, other)

    def astype(self, dtype, copy=True):
        """The same value: a change of dtype is refused rather than silently ignored."""
        if np.dtype(dtype) != self.dtype:
            raise TraceError(
                f"astype({np.dtype(dtype)}) at {_location(self._tape.where())}: graphviz-ad "
                f"keeps a traced value in its own dtype ({self.dtype}); cast the inputs "
                "before tracing instead"
            )
        return self

    def copy(self):
        return self  # recorded values are never mutated, so a copy is the same value


def _escape(tracer: Tracer, what: str, hint: str) -> TraceError:
    return TraceError(
        f"{what} of the traced value {tracer.node.label} at {_location(tracer._tape.where())} "
        f"would cut it out of the graph and lose its derivative; {hint}"
    )


def plain(value):
    """The numbers behind a traced value (for comparisons and other non-differentiable ops)."""
    return value.node.value if isinstance(value, Tracer) else value


def apply(op: str, operands, params=None) -> Tracer:
    """Compute ``op`` on the operands' values and record the node; plain operands become
    constants.  Shape errors name the op, the shapes and the user's line."""
    tape = _tape_of(operands)
    where = tape.where()
    nodes = tuple([
        operand.node if isinstance(operand, Tracer) else tape.constant(operand, where)
        for operand in operands
    ])
    forward = PRIMITIVES[op].forward
    values = [node.value for node in nodes]
    try:
        value = forward(*values, **params) if params else forward(*values)
    except ValueError as error:
        shapes = " and ".join(str(np.shape(node.value)) for node in nodes)
        raise ShapeError(
            f"{op}: operands of shapes {shapes} do not fit together at {_location(where)} "
            f"({_line(where)}): {error}"
        ) from None
    return Tracer(tape.add(op, nodes, value, params, where=where), tape)


def _line(where) -> str:
    code, lineno, _ = where
    return linecache.getline(code.co_filename, lineno).strip()


def _tape_of(operands) -> _Tape:
    tape = None
    for operand in operands:
        if isinstance(operand, Tracer):
            if tape is None:
                tape = operand._tape
            elif operand._tape is not tape:
                raise TraceError("values from two different traces were combined; trace one "
                                 "function that computes everything instead of nesting traces")
    if not tape.open:
        raise TraceError("a traced value was used after its trace() finished; use graph.nodes "
                         "and their .value instead")
    return tape


def trace(f, *args, **kwargs):
    """Run ``f(*args, **kwargs)`` once and return its computation :class:`Graph`.

    Every float-valued argument becomes a named input (its parameter's name; the items of a
    list, tuple or dict of arrays become ``params[0]``, ``params['W']``…).  Integers are
    promoted to float; other arguments (strings, flags, callables) are passed through.
    ``f`` must return one array: the output to differentiate.

    >>> import numpy as np
    >>> g = trace(lambda w, x, b: np.maximum(0, w @ x + b),
    ...           np.array([1., -2., .5]), np.array([3., 1., 2.]), 0.25)
    >>> float(g.value), g.grad("b")
    (2.25, 1.0)
    """
    from .graph import Graph

    bound = signature(f).bind(*args, **kwargs)
    tape = _Tape(sys._getframe(0).f_code)
    code = getattr(f, "__code__", tape.root_code)
    origin = (code, code.co_firstlineno, ())
    inputs: dict = {}

    def make_input(name, value):
        array = _as_float(name, value)
        node = tape.add("input", (), array, name=name, where=origin)
        inputs[name] = node
        return Tracer(node, tape)

    kinds = {name: parameter.kind for name, parameter in bound.signature.parameters.items()}
    for name, value in list(bound.arguments.items()):
        if kinds[name] is Parameter.VAR_POSITIONAL:  # *args: args[0], args[1], …
            value = tuple(_wrap_argument(f"{name}[{i}]", item, make_input)
                          for i, item in enumerate(value))
        elif kinds[name] is Parameter.VAR_KEYWORD:  # **kwargs: each by its keyword
            value = {key: _wrap_argument(key, item, make_input) for key, item in value.items()}
        else:
            value = _wrap_argument(name, value, make_input)
        bound.arguments[name] = value
    collecting = gc.isenabled()  # paused while recording: see graphviz_ad.gc_pause
    gc.disable()
    try:
        result = f(*bound.args, **bound.kwargs)
        if isinstance(result, Tracer):
            if result._tape is not tape:
                raise TraceError(f"{_name(f)} returned a value traced by another trace()")
            output = result.node
        elif isinstance(result, (tuple, list, dict)):
            raise TraceError(f"{_name(f)} returned a {type(result).__name__}; return one array, "
                             "the output to differentiate")
        elif result is None:
            raise TraceError(f"{_name(f)} returned None; return one array, the output to "
                             "differentiate")
        else:
            output = tape.constant(result, origin)
    finally:
        tape.close()
        if collecting:
            gc.enable()
    graph = Graph(tape.nodes, inputs, output, tape.calls, _name(f))
    for listener in tuple(listeners):
        listener(graph)
    return graph


def _name(f) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _traceable(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (int, float, np.number, np.ndarray))


def _wrap_argument(name, value, make_input):
    if _traceable(value):
        return make_input(name, value)
    if isinstance(value, (list, tuple)) and value:
        if all(_traceable(item) and np.ndim(item) == 0 for item in value):
            return make_input(name, np.asarray(value))
        if all(_traceable(item) for item in value):
            items = [make_input(f"{name}[{i}]", item) for i, item in enumerate(value)]
            return type(value)(items) if isinstance(value, list) else tuple(items)
    if isinstance(value, dict) and value and all(_traceable(v) for v in value.values()):
        return {key: make_input(f"{name}[{key!r}]", item) for key, item in value.items()}
    return value


def _as_float(name, value):
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TraceError(f"input {name!r} has dtype {array.dtype}; graphviz-ad traces real "
                         "floating-point values (integers are promoted to float)")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    return array if array.ndim else array[()]


from . import dispatch  # noqa: E402  (dispatch builds on Tracer and apply above)
